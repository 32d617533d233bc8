import BSONSocketNIO
import NIOCore
import NIOEmbedded
import Testing

@Suite("BSON frame decoders on EmbeddedChannel")
struct DecoderTests {
    static let frames = Samples.documents.map(Samples.frame)

    @Test("Documents come out the same however the bytes are split (verifier)")
    func documentsAnySplit() throws {
        try DecoderVerifier.verify(frames: Self.frames, expected: Samples.documents) { BSONDocumentDecoder() }
    }

    @Test("Raw frames come out as the exact bytes however the bytes are split", arguments: [
        BSONFrameDecoder.Validation.framing, .strict,
    ])
    func framesAnySplit(_ validation: BSONFrameDecoder.Validation) throws {
        let expected = Self.frames.map { ByteBuffer(bytes: $0) }
        try DecoderVerifier.verify(frames: Self.frames, expected: expected) { BSONFrameDecoder(validation: validation) }
    }

    @Test("Many small frames in one read, and a 1 MiB frame spread over 1,025 reads")
    func manyAndSpread() throws {
        let small = (0..<300).map { i -> BSONDocument in ["i": .int32(Int32(i))] }
        try DecoderVerifier.verify(frames: small.map(Samples.frame), expected: small, randomRounds: 3) {
            BSONDocumentDecoder()
        }
        let big: BSONDocument = ["blob": .binary(BSONBinary(data: [UInt8](repeating: 7, count: 1 << 20)))]
        let frame = Samples.frame(big)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BSONDocumentDecoder()))
        var offset = 0
        var reads = 0
        while offset < frame.count {
            let end = min(frame.count, offset + 1024)
            try channel.writeInbound(ByteBuffer(bytes: frame[offset..<end]))
            reads += 1
            if end < frame.count {
                #expect(try channel.readInbound(as: BSONDocument.self) == nil, "nothing before the last byte")
            }
            offset = end
        }
        #expect(reads == 1_025)
        #expect(try channel.readInbound(as: BSONDocument.self) == big)
        #expect(try channel.finish().isClean)
    }

    /// Hostile headers: rejected as soon as their 4 bytes arrive, the error fired, the
    /// channel closed.
    @Test("Hostile lengths: typed error after the 4 header bytes, channel closed", arguments: [
        (Int32(0), BSONError.Code.frameTooSmall),
        (4, .frameTooSmall),
        (-1, .frameTooSmall),
        (Int32.min, .frameTooSmall),
        (Int32(BSONFrameLimits.defaultMaximumFrameLength + 1), .frameTooLarge),
        (Int32.max, .frameTooLarge),
    ])
    func hostileLengths(_ announced: Int32, _ code: BSONError.Code) throws {
        for decoder in [AnyDecoder.documents, .frames] {
            let channel = decoder.channel()
            let header = Samples.header(announced)
            // The first 3 bytes are not enough to judge.
            try channel.writeInbound(ByteBuffer(bytes: header[0..<3]))
            #expect(channel.isActive)
            do {
                try channel.writeInbound(ByteBuffer(bytes: header[3...] + [1, 2, 3]))
                Issue.record("no error for a header announcing \(announced)")
            } catch let error as BSONError {
                #expect(error.code == code, "\(error)")
                #expect(error.offset == 0)
            }
            #expect(!channel.isActive, "the channel is closed")
            #expect(try channel.readInbound(as: BSONDocument.self) == nil)
            _ = try? channel.finish()
        }
    }

    @Test("A smaller configured limit is applied the same way")
    func configuredLimit() throws {
        let limits = BSONFrameLimits(maximumFrameLength: 64)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BSONDocumentDecoder(limits: limits)))
        activate(channel)
        let fits: BSONDocument = ["s": .string(String(repeating: "a", count: 40))]
        try channel.writeInbound(ByteBuffer(bytes: Samples.frame(fits)))
        #expect(try channel.readInbound(as: BSONDocument.self) == fits)
        let tooBig: BSONDocument = ["s": .string(String(repeating: "a", count: 60))]
        #expect(throws: BSONError.self) { try channel.writeInbound(ByteBuffer(bytes: Samples.frame(tooBig))) }
        #expect(!channel.isActive)
    }

    @Test("Headers that announce huge frames set nothing aside: 200 channels, each at the maximum")
    func noAllocationOfAnnouncedSize() throws {
        let before = virtualMemorySize()
        var channels: [EmbeddedChannel] = []
        for index in 0..<200 {
            let channel = (index % 2 == 0 ? AnyDecoder.documents : .frames).channel()
            // A valid header for the largest frame allowed, and a little of its body.
            let header = Samples.header(Int32(BSONFrameLimits.defaultMaximumFrameLength))
            try channel.writeInbound(ByteBuffer(bytes: header + [UInt8](repeating: 0x41, count: 100)))
            #expect(channel.isActive)
            channels.append(channel)
        }
        // 200 × 16 MiB would be 3.2 GB; what is held is the 104 bytes each that arrived (plus
        // the channels themselves, and whatever tests running alongside allocate: new
        // threads and malloc arenas count here, hence the wide margin).
        let grown = virtualMemorySize() - before
        #expect(grown < 1 << 30, "the address space grew by \(grown) bytes")
        for channel in channels { _ = try? channel.finish() }

        let hostileBefore = virtualMemorySize()
        for _ in 0..<200 {
            let channel = AnyDecoder.documents.channel()
            #expect(throws: BSONError.self) { try channel.writeInbound(ByteBuffer(bytes: Samples.header(.max))) }
            channels.append(channel)
        }
        #expect(virtualMemorySize() - hostileBefore < 1 << 30)
    }

    @Test("A frame without its 0x00 terminator is malformed, at the offset of its last byte")
    func missingTerminator() throws {
        var frame = Samples.frame(["a": "b"])
        frame[frame.count - 1] = 0x01
        for decoder in [AnyDecoder.documents, .frames, .framingOnly] {
            let channel = decoder.channel()
            do {
                try channel.writeInbound(ByteBuffer(bytes: frame))
                Issue.record("no error")
            } catch let error as BSONError {
                #expect(error.code == .malformed)
                #expect(error.offset == frame.count - 1)
            }
            #expect(!channel.isActive)
        }
    }

    @Test("A malformed body: strict decoders refuse it and close; framing-only passes it on")
    func malformedBody() throws {
        // {"a": "b"} with the element's type byte changed to 0x42 (no such type).
        var frame = Samples.frame(["a": "b"])
        frame[4] = 0x42
        for decoder in [AnyDecoder.documents, .frames] {
            let channel = decoder.channel()
            do {
                try channel.writeInbound(ByteBuffer(bytes: frame + Samples.frame([:])))
                Issue.record("no error")
            } catch let error as BSONError {
                #expect(error.code == .unknownType, "\(error)")
                #expect(error.message.contains("frame 1"))
            }
            #expect(!channel.isActive)
            #expect(try channel.readInbound(as: BSONDocument.self) == nil, "the document after it is dropped too")
        }
        let lenient = AnyDecoder.framingOnly.channel()
        try lenient.writeInbound(ByteBuffer(bytes: frame))
        #expect(try lenient.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: frame))
        #expect(try lenient.finish().isClean)
    }

    @Test("Documents before a hostile frame are delivered; the error follows them")
    func goodThenBad() throws {
        let channel = AnyDecoder.documents.channel()
        let good: [BSONDocument] = [["n": 1], ["n": 2]]
        let bytes = good.flatMap(Samples.frame) + Samples.header(2)
        #expect(throws: BSONError.self) { try channel.writeInbound(ByteBuffer(bytes: bytes)) }
        #expect(try channel.readInbound(as: BSONDocument.self) == good[0])
        #expect(try channel.readInbound(as: BSONDocument.self) == good[1])
        #expect(!channel.isActive)
    }

    @Test("End of input inside a frame is truncated; at a frame boundary it is clean", arguments: [1, 3, 4, 10])
    func leftoverAtEOF(_ cut: Int) throws {
        let frame = Samples.frame(["hello": "world", "n": 42])
        for decoder in [AnyDecoder.documents, .frames] {
            let channel = decoder.channel()
            try channel.writeInbound(ByteBuffer(bytes: Samples.frame([:]) + frame.prefix(cut)))
            if decoder == .documents {
                #expect(try channel.readInbound(as: BSONDocument.self) == [:])
            } else {
                #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: Samples.frame([:])))
            }
            do {
                _ = try channel.finish()
                Issue.record("no truncated error for \(cut) leftover bytes")
            } catch let error as BSONError {
                #expect(error.code == .truncated, "\(error)")
                #expect(error.message.contains("\(cut) of the"))
            }
        }
        let clean = AnyDecoder.documents.channel()
        try clean.writeInbound(ByteBuffer(bytes: frame))
        #expect(try clean.readInbound(as: BSONDocument.self) != nil)
        #expect(try clean.finish().isClean)
    }

    @Test("Half-closed input inside a frame is truncated too")
    func inputClosedMidFrame() throws {
        let channel = AnyDecoder.documents.channel()
        try channel.writeInbound(ByteBuffer(bytes: Samples.frame(["a": 1]).prefix(7)))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(throws: BSONError.self) { try channel.throwIfErrorCaught() }
        #expect(!channel.isActive)
    }

    @Test("Encoder and decoder end to end: documents and raw frames round-trip")
    func endToEnd() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(BSONDocumentDecoder()),
            MessageToByteHandler(BSONDocumentEncoder()),
        ])
        for document in Samples.documents {
            try channel.writeOutbound(document)
            let wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(Array(wire.readableBytesView) == Samples.frame(document))
            try channel.writeInbound(wire)
            #expect(try channel.readInbound(as: BSONDocument.self) == document)
        }
        #expect(try channel.finish().isClean)

        let relay = EmbeddedChannel()
        try relay.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(BSONFrameDecoder()),
            MessageToByteHandler(BSONFrameEncoder()),
        ])
        try relay.writeInbound(ByteBuffer(bytes: Self.frames.flatMap { $0 }))
        for frame in Self.frames {
            let received = try #require(try relay.readInbound(as: ByteBuffer.self))
            try relay.writeOutbound(received)
            #expect(try relay.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: frame))
        }
        #expect(try relay.finish().isClean)
    }

    @Test("The encoders refuse what is not a document's frame, writing nothing")
    func encoderErrors() throws {
        let frames = EmbeddedChannel(handler: MessageToByteHandler(BSONFrameEncoder()))
        let notAFrame = ByteBuffer(bytes: Samples.frame(["a": 1]) + [0])
        #expect(throws: BSONError.self) { try frames.writeOutbound(notAFrame) }
        #expect(try frames.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? frames.finish()

        let documents = EmbeddedChannel(handler: MessageToByteHandler(BSONDocumentEncoder()))
        let badKey: BSONDocument = ["a\u{0}b": 1]
        do {
            try documents.writeOutbound(badKey)
            Issue.record("no error")
        } catch let error as BSONError {
            #expect(error.code == .invalidKey)
        }
        #expect(try documents.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? documents.finish()
    }
}

/// The decoder variants under test.
enum AnyDecoder: Equatable {
    case documents, frames, framingOnly

    /// A connected (active) embedded channel with the decoder.
    func channel() -> EmbeddedChannel {
        let channel: EmbeddedChannel
        switch self {
        case .documents: channel = EmbeddedChannel(handler: ByteToMessageHandler(BSONDocumentDecoder()))
        case .frames: channel = EmbeddedChannel(handler: ByteToMessageHandler(BSONFrameDecoder()))
        case .framingOnly: channel = EmbeddedChannel(handler: ByteToMessageHandler(BSONFrameDecoder(validation: .framing)))
        }
        activate(channel)
        return channel
    }
}

/// Connects an embedded channel (to a made-up address), so that `isActive` tells whether a
/// handler closed it.
func activate(_ channel: EmbeddedChannel) {
    try! channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
}
