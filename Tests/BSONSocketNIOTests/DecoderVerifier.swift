import BSONSocketNIO
import NIOCore
import NIOEmbedded
import Testing
import TestSupport

/// Our own verifier for byte-to-message decoders, in the manner of NIOTestUtils'
/// `ByteToMessageDecoderVerifier`: the same input fed whole, one byte at a time (each byte
/// in a buffer whose storage has other bytes before and after the readable one), one frame
/// per read, and in random splits from a seeded generator must give the same messages, with
/// nothing produced early, nothing late, and nothing left at the end.
enum DecoderVerifier {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The ways the input is cut into reads.
    enum Feeding: CustomStringConvertible {
        case wholeAtOnce
        case byteByByte
        case framePerRead
        case randomSplits(seed: UInt64)

        var description: String {
            switch self {
            case .wholeAtOnce: "whole at once"
            case .byteByByte: "one byte at a time"
            case .framePerRead: "one frame per read"
            case .randomSplits(let seed): "random splits (seed \(seed))"
            }
        }
    }

    /// Checks `makeDecoder`'s decoders against `frames` → `expected`, fed every way.
    static func verify<Decoder: ByteToMessageDecoder>(
        frames: [[UInt8]],
        expected: [Decoder.InboundOut],
        randomRounds: Int = 10,
        seed: UInt64 = 0x5EED,
        _ makeDecoder: () -> Decoder
    ) throws where Decoder.InboundOut: Equatable {
        var feedings: [Feeding] = [.wholeAtOnce, .byteByByte, .framePerRead]
        for round in 0..<UInt64(randomRounds) { feedings.append(.randomSplits(seed: seed &+ round)) }
        for feeding in feedings {
            let output = try run(makeDecoder(), frames: frames, expected: expected, feeding: feeding)
            guard output == expected else {
                throw Failure(description: "\(feeding): \(output.count) messages, expected \(expected.count), or they differ")
            }
        }
    }

    /// Feeds the frames one way and checks, after every read, that exactly the messages of the
    /// frames completed so far have come out.
    static func run<Decoder: ByteToMessageDecoder>(
        _ decoder: Decoder, frames: [[UInt8]], expected: [Decoder.InboundOut], feeding: Feeding
    ) throws -> [Decoder.InboundOut] where Decoder.InboundOut: Equatable {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
        let stream = frames.flatMap { $0 }
        // The stream offsets at which each frame ends.
        var ends: [Int] = []
        var position = 0
        for frame in frames {
            position += frame.count
            ends.append(position)
        }
        var cuts: [Int]
        switch feeding {
        case .wholeAtOnce: cuts = [stream.count]
        case .byteByByte: cuts = Array(stream.indices.map { $0 + 1 })
        case .framePerRead: cuts = ends
        case .randomSplits(let seed):
            var generator = SplitMix64(seed: seed)
            cuts = []
            var at = 0
            while at < stream.count {
                // Mostly small pieces, sometimes large ones.
                let bound = Bool.random(using: &generator) ? 16 : 4096
                at = min(stream.count, at + Int.random(in: 1...bound, using: &generator))
                cuts.append(at)
            }
        }
        var output: [Decoder.InboundOut] = []
        var start = 0
        for cut in cuts where cut > start {
            try channel.writeInbound(padded(Array(stream[start..<cut]), allocator: channel.allocator))
            start = cut
            while let message: Decoder.InboundOut = try channel.readInbound() { output.append(message) }
            let complete = ends.prefix { $0 <= cut }.count
            guard output.count == complete else {
                throw Failure(
                    description: "\(feeding): after \(cut) bytes, \(output.count) messages instead of \(complete)")
            }
            guard output == Array(expected.prefix(complete)) else {
                throw Failure(description: "\(feeding): wrong message after \(cut) bytes")
            }
        }
        let leftovers = try channel.finish()
        guard leftovers.isClean else {
            throw Failure(description: "\(feeding): leftovers at the end: \(leftovers)")
        }
        return output
    }

    /// `bytes` in a buffer whose storage holds other bytes before and after them (outside
    /// the readable region), so a decoder that reads past its indices would be caught.
    static func padded(_ bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: bytes.count + 12)
        buffer.writeString("BEFORE")
        buffer.writeBytes(bytes)
        buffer.writeString("AFTER!")
        buffer.moveReaderIndex(forwardBy: 6)
        buffer.moveWriterIndex(to: buffer.readerIndex + bytes.count)
        return buffer
    }
}
