import BSONSocket
import Testing

/// The pure framing rules (`BSONFraming`) and the incremental reader (`BSONFrameReader`),
/// with no I/O.
@Suite("Framing")
struct FramingTests {
    @Test("defaults: frames of 5 bytes to 16 MiB + 16 KiB")
    func defaults() {
        #expect(BSONFrameLimits.minimumFrameLength == 5)
        #expect(BSONFrameLimits.defaultMaximumFrameLength == 16_793_600)
        #expect(BSONFrameLimits.default.maximumFrameLength == 16_793_600)
        #expect(BSONFraming.headerLength == 4)
    }

    @Test("inspect asks for the rest of the header, then the rest of the frame, at every split point")
    func inspectEverySplit() throws {
        let bytes = try multiTypeDocument().encoded()
        #expect(bytes.count > 200)
        for prefix in 0...bytes.count {
            let status = try BSONFraming.inspect(Array(bytes[..<prefix]))
            if prefix < 4 {
                #expect(status == .needMoreBytes(4 - prefix))
            } else if prefix < bytes.count {
                #expect(status == .needMoreBytes(bytes.count - prefix))
            } else {
                #expect(status == .frame(length: bytes.count))
            }
        }
    }

    @Test("inspect looks only at the first frame")
    func inspectIgnoresWhatFollows() throws {
        let first = try BSONDocument(["a": 1]).encoded()
        let second = try BSONDocument(["b": "two"]).encoded()
        #expect(try BSONFraming.inspect(first + second) == .frame(length: first.count))
        // Garbage after a whole frame is the next frame's problem.
        #expect(try BSONFraming.inspect(first + [0xFF, 0xFF, 0xFF, 0xFF]) == .frame(length: first.count))
    }

    @Test(
        "hostile headers are rejected as soon as their 4 bytes are in, at offset 0",
        arguments: [
            (Int32(0), BSONError.Code.frameTooSmall),
            (Int32(4), .frameTooSmall),
            (Int32(-1), .frameTooSmall),
            (Int32.min, .frameTooSmall),
            (Int32(BSONFrameLimits.defaultMaximumFrameLength + 1), .frameTooLarge),
            (Int32.max, .frameTooLarge),
        ])
    func hostileHeaders(announced: Int32, code: BSONError.Code) {
        // Only the header: a length check that waited for the body would say needMoreBytes.
        let error = #expect(throws: BSONError.self) { try BSONFraming.inspect(littleEndianBytes(announced)) }
        #expect(error?.code == code)
        #expect(error?.offset == 0)
        #expect(error?.message.contains("\(announced)") == true)
    }

    @Test("the limit is inclusive and configurable")
    func configurableLimit() throws {
        let limits = BSONFrameLimits(maximumFrameLength: 1024)
        #expect(try BSONFraming.frameLength(announced: 1024, limits: limits) == 1024)
        #expect(try BSONFraming.frameLength(announced: 5, limits: limits) == 5)
        let error = #expect(throws: BSONError.self) { try BSONFraming.frameLength(announced: 1025, limits: limits) }
        #expect(error?.code == .frameTooLarge)
        #expect(error?.message.contains("1024") == true)
        #expect(
            try BSONFraming.frameLength(announced: Int32(BSONFrameLimits.defaultMaximumFrameLength))
                == BSONFrameLimits.defaultMaximumFrameLength)
    }

    @Test("a limit outside 5...Int32.max is a programming error")
    func limitPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = BSONFrameLimits(maximumFrameLength: 4)
        }
    }

    @Test("a whole frame without its 0x00 terminator is malformed, at the offset of its last byte")
    func missingTerminator() throws {
        let error = #expect(throws: BSONError.self) { try BSONFraming.inspect([5, 0, 0, 0, 1]) }
        #expect(error?.code == .malformed)
        #expect(error?.offset == 4)
        // Incomplete, the same frame is simply waiting for its last byte.
        #expect(try BSONFraming.inspect([5, 0, 0, 0]) == .needMoreBytes(1))
    }

    // MARK: - The incremental reader

    @Test("the reader assembles a stream of frames fed in chunks of every size")
    func readerChunked() throws {
        let documents: [BSONDocument] = [try multiTypeDocument(), [:], ["k": "v"], documentOfLength(300, index: 3)]
        let stream = try documents.flatMap { try $0.encoded() }
        for chunkSize in [1, 2, 3, 4, 5, 7, 13, 64, 255, stream.count] {
            var reader = BSONFrameReader()
            var frames: [[UInt8]] = []
            var offset = 0
            var iterations = 0
            while offset < stream.count {
                iterations += 1
                try #require(iterations < 10_000)
                let end = min(offset + chunkSize, stream.count)
                let step = stream[offset..<end].withUnsafeBytes {
                    reader.consume($0, limits: .default, allowInPlace: chunkSize.isMultiple(of: 2))
                }
                switch step {
                case .needMore(let consumed):
                    #expect(consumed == end - offset)
                    offset += consumed
                case .frame(let frame, let consumed):
                    frames.append(frame)
                    offset += consumed
                case .frameInPlace(let length):
                    frames.append(Array(stream[offset..<(offset + length)]))
                    offset += length
                case .rejectedFrame(let error, _), .rejectedHeader(let error, _):
                    Issue.record(error)
                    return
                }
            }
            #expect(reader.isAtFrameBoundary)
            #expect(try frames.map { try BSONDocument(bytes: $0) } == documents, "chunk size \(chunkSize)")
        }
    }

    @Test("the reader splits a frame at every offset and never takes bytes of the next frame")
    func readerEverySplit() throws {
        let frame = try multiTypeDocument().encoded()
        let next = try BSONDocument(["next": true]).encoded()
        for split in 1..<frame.count {
            var reader = BSONFrameReader()
            let first = frame[..<split].withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: true) }
            guard case .needMore(let consumed) = first, consumed == split else {
                Issue.record("split \(split): \(first)")
                continue
            }
            #expect(reader.receivedCount == split)
            #expect(reader.bytesNeeded == (split < 4 ? 4 - split : frame.count - split))
            let rest = Array(frame[split...]) + next
            let second = rest.withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: true) }
            guard case .frame(let whole, let taken) = second else {
                Issue.record("split \(split): \(second)")
                continue
            }
            #expect(whole == frame)
            #expect(taken == frame.count - split, "bytes of the next frame were taken")
            #expect(reader.isAtFrameBoundary)
        }
    }

    @Test("header rejections say how far they consumed; a bad terminator consumes the whole frame")
    func readerRejections() throws {
        var reader = BSONFrameReader()
        let huge = littleEndianBytes(Int32.max) + [1, 2, 3]
        let step = huge.withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
        guard case .rejectedHeader(let error, let consumed) = step else {
            Issue.record("\(step)")
            return
        }
        #expect(error.code == .frameTooLarge)
        #expect(consumed == 4)
        #expect(reader.isAtFrameBoundary)

        // A frame with a bad terminator, then a good one: the stream stays in step.
        let good = try BSONDocument(["ok": 1]).encoded()
        let stream: [UInt8] = [6, 0, 0, 0, 8, 7] + good
        var offset = 0
        var seen: [String] = []
        while offset < stream.count {
            let step = stream[offset...].withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
            switch step {
            case .rejectedFrame(let error, let consumed):
                seen.append("rejected \(error.code) at \(error.offset ?? -1)")
                offset += consumed
            case .frame(let frame, let consumed):
                seen.append("frame \(frame.count)")
                offset += consumed
            default:
                Issue.record("\(step)")
                return
            }
        }
        #expect(seen == ["rejected malformed at 5", "frame \(good.count)"])
    }

    @Test("receiveBody writes straight into the frame and never past it")
    func readerReceiveBody() throws {
        let frame = try documentOfLength(100_000, index: 9).encoded()
        var reader = BSONFrameReader()
        _ = frame[..<4].withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
        var offset = 4
        var offered: [Int] = []
        var result: [UInt8]?
        while result == nil {
            let received = try reader.receiveBody(maximum: 32 * 1024) { (buffer) throws(BSONError) -> Int in
                offered.append(buffer.count)
                let take = min(buffer.count, 10_000)
                buffer.copyBytes(from: frame[offset..<(offset + take)])
                offset += take
                return take
            }
            #expect(received > 0)
            if case .frame(let whole, _)? = reader.completedFrame() { result = whole }
            try #require(offered.count < 100)
        }
        #expect(result == frame)
        #expect(offered.allSatisfy { $0 <= 32 * 1024 })
        #expect(offered.last == (frame.count - 4) % 10_000)
    }

    @Test("abandoning a partial frame hands back its bytes in order")
    func readerAbandon() throws {
        let frame = try multiTypeDocument().encoded()
        var reader = BSONFrameReader()
        _ = frame[..<2].withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
        #expect(reader.abandonPartialFrame() == Array(frame[..<2]))
        #expect(reader.isAtFrameBoundary)
        _ = frame[..<50].withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
        #expect(reader.abandonPartialFrame() == Array(frame[..<50]))
    }
}
