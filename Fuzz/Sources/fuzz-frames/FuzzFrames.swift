// fuzz-frames: a byte stream cut into frames by the incremental `BSONFrameReader`, fed in
// random pieces, must give what the stream taken whole gives.
//
// The input is one configuration byte (the frame limits), one seed byte (with the length,
// it seeds the split points), then the stream. The reference is the stream taken whole
// with `BSONFraming.inspect` (FramesModel). The reader is driven through both of its entry
// points: `consume` (with and without in-place frames, as a buffered socket uses it) and
// `receiveBody` (as a receive call writing straight into the frame's storage uses it).
// Besides agreeing, it may not crash, leak or hang on any input.
import BSONCodec
import BSONSocket
import FramesModel
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard input.count >= 2 else { return 0 }
    let limits = limitChoices[Int(input[0] & 0x7) % limitChoices.count]
    let stream = Array(input[2...])
    var random = SplitMix64(seed: UInt64(input[1]) | UInt64(input.count) << 8)

    let reference = wholeStream(stream, limits: limits)
    let incremental = readerInPieces(stream, limits: limits, random: &random)
    if incremental != reference {
        propertyFailed("BSONFrameReader in pieces gives \(incremental), whole gives \(reference)", input: input)
    }
    return 0
}

/// The incremental reader fed the stream in pieces.
func readerInPieces(_ stream: [UInt8], limits: BSONFrameLimits, random: inout SplitMix64) -> [Event] {
    var reader = BSONFrameReader()
    var events: [Event] = []
    for piece in pieces(stream.count, random: &random) {
        var position = piece.lowerBound
        while position < piece.upperBound {
            // A socket lets the reader receive a body straight into the frame's storage.
            if reader.announcedLength != nil, random.next(below: 2) == 0 {
                let offered = 1 + random.next(below: 80)
                let available = piece.upperBound - position
                let start = position
                let received: Int
                do {
                    received = try reader.receiveBody(maximum: offered) { (buffer) throws(BSONError) -> Int in
                        let count = min(buffer.count, available)
                        stream.withUnsafeBytes { raw in
                            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)]))
                        }
                        return count
                    }
                } catch {
                    propertyFailed("receiveBody threw \(error) from a receive that does not throw", input: stream)
                }
                position += received
                switch reader.completedFrame() {
                case nil: break
                case .frame(let frame, _): events.append(.frame(frame))
                case .rejectedFrame(let error, _): events.append(.badFrame(error.code))
                case let other?: propertyFailed("completedFrame returned \(other)", input: stream)
                }
                continue
            }
            let step = stream.withUnsafeBytes { raw in
                reader.consume(
                    UnsafeRawBufferPointer(rebasing: raw[position..<piece.upperBound]),
                    limits: limits, allowInPlace: random.next(below: 2) == 0)
            }
            let available = piece.upperBound - position
            switch step {
            case .needMore(let consumed):
                if consumed != available { propertyFailed("needMore took \(consumed) of \(available)", input: stream) }
                position += consumed
            case .frame(let frame, let consumed):
                if consumed <= 0 || consumed > available { propertyFailed("frame took \(consumed) of \(available)", input: stream) }
                events.append(.frame(frame))
                position += consumed
            case .frameInPlace(let length):
                if length > available { propertyFailed("in-place frame of \(length), \(available) given", input: stream) }
                events.append(.frame(Array(stream[position..<(position + length)])))
                position += length
            case .rejectedFrame(let error, let consumed):
                if consumed <= 0 || consumed > available { propertyFailed("rejectedFrame took \(consumed)", input: stream) }
                events.append(.badFrame(error.code))
                position += consumed
            case .rejectedHeader(let error, _):
                events.append(.badHeader(error.code))
                return events
            }
            if !reader.isAtFrameBoundary, case .frame = step { propertyFailed("not at a boundary after a frame", input: stream) }
        }
    }
    if !reader.isAtFrameBoundary { events.append(.truncated(held: reader.receivedCount)) }
    return events
}

@main
enum Main {
    static func main() {
        runFuzzer(fuzzFrames)
    }
}
