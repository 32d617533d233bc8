import BSONSocket
import Glibc
import SystemPackage
import Testing

/// recvObj/recvFrame over real connections: every transport, every way bytes can arrive,
/// every size edge, and the peer closing at and inside frames.
@Suite("recvObj", .timeLimit(.minutes(2)))
struct RecvObjTests {
    @Test("documents written one byte per send arrive whole", arguments: Transport.allCases)
    func oneByteWrites(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let documents: [BSONDocument] = [try multiTypeDocument(), [:], ["small": "doc"]]
        let stream = try documents.flatMap { try $0.encoded() }
        let sender = Peer { () throws -> Void in
            for byte in stream { try pair.client.sendBytes([byte]) }
            pair.client.close()
        }
        for document in documents {
            #expect(try pair.server.recvObj() == document)
        }
        #expect(try pair.server.recvObj() == nil)
        try sender.value()
    }

    @Test("a frame split at every offset arrives whole, and the stream stays in step", arguments: Transport.allCases)
    func everySplitPoint(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let document = try multiTypeDocument()
        let frame = try document.encoded()
        let sender = Peer { () throws -> Void in
            for split in 1..<frame.count {
                try pair.client.sendBytes(Array(frame[..<split]))
                usleep(300)  // give the receiver a chance to see the first part alone
                try pair.client.sendBytes(Array(frame[split...]))
            }
        }
        for split in 1..<frame.count {
            let received = try pair.server.recvObj()
            #expect(received == document, "split at \(split)")
            if received != document { break }
        }
        try sender.value()
    }

    @Test("a frame split at every offset arrives whole on a bare FileDescriptor")
    func everySplitPointDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let document = try multiTypeDocument()
        let frame = try document.encoded()
        let writer = left.rawValue
        let sender = Peer { () throws -> Void in
            let descriptor = FileDescriptor(rawValue: writer)
            for split in 1..<frame.count {
                try descriptor.sendBytes(Array(frame[..<split]))
                usleep(300)
                try descriptor.sendBytes(Array(frame[split...]))
            }
        }
        for split in 1..<frame.count {
            #expect(try right.recvObj() == document, "split at \(split)")
        }
        try sender.value()
    }

    @Test("many frames in one write are all received", arguments: Transport.allCases)
    func manyFramesInOneWrite(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let documents: [BSONDocument] = (0..<200).map { index in
            index.isMultiple(of: 7) ? documentOfLength(20 + index * 37, index: Int32(index)) : ["index": .int32(Int32(index))]
        }
        try pair.client.sendBytes(try documents.flatMap { try $0.encoded() })
        for document in documents {
            #expect(try pair.server.recvObj() == document)
        }
    }

    static let edgeLengths = [
        32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1,
        32 * 1024 + 4,  // the bytes after the header are exactly 32 KiB
        64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1,
        16 * 1024 * 1024,
        BSONFrameLimits.defaultMaximumFrameLength,
    ]

    @Test("frames at the chunk and buffer edges, 16 MiB, and the exact maximum", arguments: Transport.allCases, edgeLengths)
    func sizes(_ transport: Transport, length: Int) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let before = try BSONDocument(["before": 1]).encoded()
        let frame = try documentOfLength(length, index: 5).encoded()
        #expect(frame.count == length)
        let after = try BSONDocument(["after": 2]).encoded()
        let sender = Peer { () throws -> Void in
            try pair.client.sendBytes(before)
            try pair.client.sendBytes(frame)
            try pair.client.sendBytes(after)
        }
        #expect(try pair.server.recvFrame() == before)
        let received = try #require(try pair.server.recvFrame())
        #expect(received.count == length)
        #expect(received == frame)
        #expect(try pair.server.recvFrame() == after)
        try sender.value()
    }

    @Test("frames at the edges on a bare FileDescriptor", arguments: edgeLengths)
    func sizesDescriptor(length: Int) throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let frame = try documentOfLength(length, index: 6).encoded()
        let writer = left.rawValue
        let sender = Peer { () throws -> Void in
            let descriptor = FileDescriptor(rawValue: writer)
            try descriptor.sendBytes(frame)
            try descriptor.sendObj(["after": 2])
        }
        #expect(try right.recvFrame() == frame)
        #expect(try right.recvObj() == ["after": 2])
        try sender.value()
    }

    @Test("a clean close between documents is nil, again and again", arguments: Transport.allCases)
    func closeAtBoundary(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(["last": true])
        pair.client.close()
        #expect(try pair.server.recvObj() == ["last": true])
        #expect(try pair.server.recvObj() == nil)
        #expect(try pair.server.recvObj() == nil)
    }

    @Test("a close inside the header is truncated; the receive side is unusable after", arguments: Transport.allCases)
    func closeMidHeader(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(["first": 1])
        try pair.client.sendBytes([0x10, 0x00])
        pair.client.close()
        #expect(try pair.server.recvObj() == ["first": 1])
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 2)
        #expect(error?.message.contains("2 of its 4 bytes") == true)
        let after = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(after?.code == .unusable)
    }

    @Test("a close inside the body is truncated", arguments: Transport.allCases)
    func closeMidBody(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let frame = try documentOfLength(100, index: 1).encoded()
        try pair.client.sendBytes(Array(frame[..<40]))
        pair.client.close()
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 40)
        #expect(error?.message.contains("40 of its 100 bytes") == true)
    }

    @Test("a close inside a large body (read straight into its storage) is truncated")
    func closeMidLargeBody() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let frame = try documentOfLength(1 << 20, index: 2).encoded()
        let sender = Peer { () throws -> Void in
            try pair.client.sendBytes(Array(frame[..<300_000]))
            pair.client.close()
        }
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 300_000)
        try sender.value()
    }

    @Test("close inside a frame on a bare FileDescriptor: truncated, then unusable")
    func closeMidFrameDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer { try? right.close() }
        try left.sendBytes([0x20, 0x00, 0x00, 0x00, 0x01])
        try left.close()
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 5)
        let after = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(after?.code == .unusable)
    }

    @Test("a malformed body is consumed whole and the next document is read", arguments: Transport.allCases)
    func malformedBodyKeepsStreamInStep(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        var bad = try BSONDocument(["s": "abcd"]).encoded()
        bad[bad.count - 3] = 0xFF  // inside the string: invalid UTF-8
        try pair.client.sendBytes(bad + (try BSONDocument(["good": 1]).encoded()))
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .invalidUTF8)
        #expect(error?.message.contains("consumed whole") == true)
        #expect(try pair.server.recvObj() == ["good": 1])
        // recvFrame checks the framing only, so the same bytes come through it undecoded.
        try pair.client.sendBytes(bad)
        #expect(try pair.server.recvFrame() == bad)
    }

    @Test("a malformed body on a bare FileDescriptor keeps the stream in step")
    func malformedBodyDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        var bad = try BSONDocument(["n": 1]).encoded()
        bad[4] = 0x42  // an unknown element type
        try left.sendBytes(bad)
        try left.sendObj(["good": 1])
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .unknownType)
        #expect(try right.recvObj() == ["good": 1])
    }

    @Test("recvView reads one key without decoding the rest")
    func recvView() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendObj(try multiTypeDocument())
        let view = try #require(try pair.server.recvView())
        #expect(try view["string"] == .string("héllo, wörld ✓"))
        #expect(try view.document() == (try multiTypeDocument()))
    }

    @Test("decoding options reach the decoder")
    func decodingOptions() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendObj(["a": ["b": ["c": 1]]])
        let error = #expect(throws: BSONError.self) {
            try pair.server.recvObj(options: BSONDecodingOptions(maxDepth: 1))
        }
        #expect(error?.code == .nestingTooDeep)
    }

    @Test("generic code reaches the socket's own (buffered) implementation")
    func genericDispatch() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        func roundTrip(_ sender: some BSONStreamIO, _ receiver: some BSONStreamIO) throws -> BSONDocument? {
            try sender.sendObj(["via": "generic"])
            return try receiver.recvObj()
        }
        try pair.client.sendBytes((try BSONDocument(["first": 1]).encoded()) + (try BSONDocument(["second": 2]).encoded()))
        #expect(try pair.server.recvObj() == ["first": 1])  // reads both frames ahead
        #expect(try roundTrip(pair.client, pair.server) == ["second": 2])  // served from the buffer
        #expect(try pair.server.recvObj() == ["via": "generic"])
    }
}
