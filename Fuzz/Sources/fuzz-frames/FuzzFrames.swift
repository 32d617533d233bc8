// fuzz-frames: a byte stream cut into frames three ways, which must agree.
//
// The input is one configuration byte (limits and validation), one seed byte (with the
// length, it seeds the split points), then the stream. The reference is the stream taken
// whole with `BSONFraming.inspect`; it is compared with
// - the incremental `BSONFrameReader` fed the stream in random pieces, through both of its
//   entry points (`consume` with and without in-place frames, and `receiveBody` as a socket
//   uses it), and
// - SwiftNIO's `BSONFrameDecoder` in an `EmbeddedChannel`, fed random pieces, which must
//   pass on the same frames and fail with the same error code where the stream goes bad.
// Besides agreeing, no path may crash, leak or hang on any input.
import BSONCodec
import BSONSocket
import BSONSocketNIO
import FuzzSupport
import NIOCore
import NIOEmbedded

/// What a framer made of the stream, in order.
enum Event: Equatable, CustomStringConvertible {
    case frame([UInt8])
    /// A frame whose last byte is not 0x00 (consumed whole) or, in NIO, one that failed
    /// strict validation.
    case badFrame(BSONError.Code)
    /// A header outside the limits: the stream position is lost, nothing follows.
    case badHeader(BSONError.Code)
    /// The stream ended inside a frame, holding this many of its bytes.
    case truncated(held: Int)

    var description: String {
        switch self {
        case .frame(let bytes): "frame(\(bytes.count))"
        case .badFrame(let code): "badFrame(\(code))"
        case .badHeader(let code): "badHeader(\(code))"
        case .truncated(let held): "truncated(\(held))"
        }
    }
}

// The reader reserves a frame's storage at its announced length, so the default limit
// (16 MiB) would make most random headers cost a large allocation; 64 KiB stands in for it.
let limitChoices = [
    BSONFrameLimits(maximumFrameLength: 1 << 16), BSONFrameLimits(maximumFrameLength: 5), BSONFrameLimits(maximumFrameLength: 16),
    BSONFrameLimits(maximumFrameLength: 64), BSONFrameLimits(maximumFrameLength: 300),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard input.count >= 2 else { return 0 }
    let configuration = input[0]
    let limits = limitChoices[Int(configuration & 0x7) % limitChoices.count]
    let strictNIO = configuration & 0x8 != 0
    let stream = Array(input[2...])
    var random = SplitMix64(seed: UInt64(input[1]) | UInt64(input.count) << 8)

    let reference = wholeStream(stream, limits: limits)
    let incremental = readerInPieces(stream, limits: limits, random: &random)
    if incremental != reference {
        propertyFailed("BSONFrameReader in pieces gives \(incremental), whole gives \(reference)", input: input)
    }
    // The NIO pipeline costs much more per input than the reader: half of the inputs
    // (configuration bit 0x10) go through it too.
    guard configuration & 0x10 != 0 else { return 0 }
    let viaNIO = nioInPieces(stream, limits: limits, strict: strictNIO, random: &random)
    let expectedNIO = nioExpectation(reference, strict: strictNIO)
    if viaNIO != expectedNIO {
        propertyFailed("BSONFrameDecoder gives \(viaNIO), expected \(expectedNIO)", input: input)
    }
    return 0
}

/// The reference: `BSONFraming.inspect` applied to the rest of the whole stream, again and again.
func wholeStream(_ stream: [UInt8], limits: BSONFrameLimits) -> [Event] {
    var events: [Event] = []
    var offset = 0
    while offset < stream.count {
        let rest = stream[offset...]
        do throws(BSONError) {
            let status = try stream.withBytes { (raw) throws(BSONError) in
                try BSONFraming.inspect(UnsafeRawBufferPointer(rebasing: raw[offset...]), limits: limits)
            }
            switch status {
            case .needMoreBytes(let more):
                if more <= 0 { propertyFailed("inspect asks for \(more) more bytes", input: stream) }
                events.append(.truncated(held: rest.count))
                return events
            case .frame(let length):
                if length < 5 || length > rest.count { propertyFailed("inspect reports a frame of \(length)", input: stream) }
                events.append(.frame(Array(rest.prefix(length))))
                offset += length
            }
        } catch {
            if error.code == .malformed {
                // The header was valid: the frame is consumed whole.
                let announced = rest.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }
                guard let length = try? BSONFraming.frameLength(announced: announced, limits: limits) else {
                    propertyFailed("inspect reports a bad terminator for a bad header", input: stream)
                }
                events.append(.badFrame(error.code))
                offset += length
            } else {
                events.append(.badHeader(error.code))
                return events
            }
        }
    }
    return events
}

/// Cuts `count` bytes into pieces of random sizes (small ones most often).
func pieces(_ count: Int, random: inout SplitMix64) -> [Range<Int>] {
    var result: [Range<Int>] = []
    var start = 0
    while start < count {
        let size: Int
        switch random.next(below: 4) {
        case 0: size = 1
        case 1: size = 1 + random.next(below: 8)
        case 2: size = 1 + random.next(below: 64)
        default: size = count - start
        }
        let end = min(count, start + size)
        result.append(start..<end)
        start = end
    }
    return result
}

/// Cuts `count` bytes into at most 8 pieces at random points: each piece costs the NIO
/// pipeline a full pass, so NIO gets fewer, larger pieces than the reader.
func fewPieces(_ count: Int, random: inout SplitMix64) -> [Range<Int>] {
    guard count > 0 else { return [] }
    let cuts = (0..<random.next(below: 8)).map { _ in random.next(below: count) }
    let bounds = Array(Set([0, count] + cuts)).sorted()
    return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
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

/// What the NIO decoder should report: the reference up to its first failure, which ends
/// the stream; with strict validation a frame whose contents are invalid is such a failure.
func nioExpectation(_ reference: [Event], strict: Bool) -> [Event] {
    var expected: [Event] = []
    for event in reference {
        switch event {
        case .frame(let bytes):
            if strict {
                do {
                    try BSONDocument.validate(bytes: bytes)
                } catch {
                    expected.append(.badFrame(error.code))
                    return expected
                }
            }
            expected.append(event)
        case .badFrame, .badHeader:
            expected.append(event)
            return expected
        case .truncated:
            expected.append(event)
        }
    }
    return expected
}

/// SwiftNIO's frame decoder in an embedded channel, fed the stream in pieces.
func nioInPieces(_ stream: [UInt8], limits: BSONFrameLimits, strict: Bool, random: inout SplitMix64) -> [Event] {
    let decoder = BSONFrameDecoder(limits: limits, validation: strict ? .strict : .framing)
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
    var events: [Event] = []
    var frameStarts = 0
    func drain() {
        while let frame = try? channel.readInbound(as: ByteBuffer.self) {
            events.append(.frame(Array(frame.readableBytesView)))
            frameStarts += frame.readableBytes
        }
    }
    func record(_ error: any Error) {
        guard let error = error as? BSONError else { propertyFailed("NIO threw \(error)", input: stream) }
        switch error.code {
        case .truncated: events.append(.truncated(held: stream.count - frameStarts))
        case .frameTooSmall, .frameTooLarge: events.append(.badHeader(error.code))
        default: events.append(.badFrame(error.code))
        }
    }
    for piece in fewPieces(stream.count, random: &random) {
        var buffer = channel.allocator.buffer(capacity: piece.count)
        buffer.writeBytes(stream[piece])
        do {
            try channel.writeInbound(buffer)
            drain()
        } catch {
            drain()
            record(error)
            _ = try? channel.finish(acceptAlreadyClosed: true)
            return events
        }
    }
    do {
        _ = try channel.finish(acceptAlreadyClosed: true)
        drain()
    } catch {
        drain()
        record(error)
    }
    return events
}

@main
enum Main {
    static func main() {
        runFuzzer(fuzzFrames)
    }
}
