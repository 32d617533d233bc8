// The model the framing fuzz targets compare against: the stream taken whole with the
// public `BSONFraming.inspect`, and the random ways of cutting it into pieces.
public import BSONCodec
public import BSONSocket
import FuzzSupport

/// What a framer made of the stream, in order.
public enum Event: Equatable, CustomStringConvertible {
    case frame([UInt8])
    /// A frame whose last byte is not 0x00 (consumed whole) or, in NIO, one that failed
    /// strict validation.
    case badFrame(BSONError.Code)
    /// A header outside the limits: the stream position is lost, nothing follows.
    case badHeader(BSONError.Code)
    /// The stream ended inside a frame, holding this many of its bytes.
    case truncated(held: Int)

    public var description: String {
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
// The reader reserves a frame's storage at its announced length, so the default limit
// (16 MiB) would make most random headers cost a large allocation; 64 KiB stands in for it.
public let limitChoices = [
    BSONFrameLimits(maximumFrameLength: 1 << 16), BSONFrameLimits(maximumFrameLength: 5), BSONFrameLimits(maximumFrameLength: 16),
    BSONFrameLimits(maximumFrameLength: 64), BSONFrameLimits(maximumFrameLength: 300),
]

/// The reference: `BSONFraming.inspect` applied to the rest of the whole stream, again and again.
public func wholeStream(_ stream: [UInt8], limits: BSONFrameLimits) -> [Event] {
    var events: [Event] = []
    var offset = 0
    while offset < stream.count {
        let rest = stream[offset...]
        do throws(BSONError) {
            let status = try stream.withUnsafeBytes { raw in
                Result { () throws(BSONError) in
                    try BSONFraming.inspect(UnsafeRawBufferPointer(rebasing: raw[offset...]), limits: limits)
                }
            }.get()
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
public func pieces(_ count: Int, random: inout SplitMix64) -> [Range<Int>] {
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
public func fewPieces(_ count: Int, random: inout SplitMix64) -> [Range<Int>] {
    guard count > 0 else { return [] }
    let cuts = (0..<random.next(below: 8)).map { _ in random.next(below: count) }
    let bounds = Array(Set([0, count] + cuts)).sorted()
    return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
}

/// What the NIO decoder should report: the reference up to its first failure, which ends
/// the stream; with strict validation a frame whose contents are invalid is such a failure.
public func nioExpectation(_ reference: [Event], strict: Bool) -> [Event] {
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

