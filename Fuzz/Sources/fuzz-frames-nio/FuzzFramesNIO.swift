// fuzz-frames-nio: SwiftNIO's `BSONFrameDecoder` in an `EmbeddedChannel`, fed a stream in
// random pieces, must pass on the frames the stream taken whole holds and fail with the
// same error code where the stream goes bad (the first failure ends a NIO stream); with
// strict validation, a frame whose contents are invalid is such a failure. It may not
// crash, leak or hang on any input.
//
// The input is laid out as for fuzz-frames; configuration bit 0x8 chooses strict
// validation. A separate target from fuzz-frames because linking NIO makes every
// execution several times dearer (libFuzzer scans the coverage counters of the whole
// binary after each one).
import BSONCodec
import BSONSocket
import BSONSocketNIO
import FramesModel
import FuzzSupport
import NIOCore
import NIOEmbedded

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFramesNIO(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard input.count >= 2 else { return 0 }
    let configuration = input[0]
    let limits = limitChoices[Int(configuration & 0x7) % limitChoices.count]
    let strict = configuration & 0x8 != 0
    let stream = Array(input[2...])
    var random = SplitMix64(seed: UInt64(input[1]) | UInt64(input.count) << 8)

    let expected = nioExpectation(wholeStream(stream, limits: limits), strict: strict)
    let viaNIO = nioInPieces(stream, limits: limits, strict: strict, random: &random)
    if viaNIO != expected {
        propertyFailed("BSONFrameDecoder gives \(viaNIO), expected \(expected)", input: input)
    }
    return 0
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
        runFuzzer(fuzzFramesNIO)
    }
}
