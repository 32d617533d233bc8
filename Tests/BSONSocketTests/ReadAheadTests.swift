import BSONSocket
import Testing

/// The BSONSocket read-ahead buffer: many small frames per receive call, raw reads that see
/// buffered bytes first, large frames straight into their own storage; and the bare
/// FileDescriptor path, which never reads past the current frame.
@Suite("Read-ahead", .timeLimit(.minutes(1)))
struct ReadAheadTests {
    @Test("recvBytes after buffered frames returns the right bytes", arguments: Transport.allCases)
    func recvBytesAfterBufferedFrames(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let a = try BSONDocument(["a": 1]).encoded()
        let b = try BSONDocument(["b": "two"]).encoded()
        let raw = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        let c = try BSONDocument(["c": 3.0]).encoded()
        try pair.client.sendBytes(a + b + raw + c)
        #expect(try pair.server.recvObj() == ["a": 1])  // b, raw and c are buffered now
        var bytes: [UInt8] = []
        #expect(try pair.server.recvBytes(b.count + raw.count, into: &bytes))
        #expect(bytes == b + raw)
        #expect(try pair.server.recvObj() == ["c": 3.0])
    }

    // The tests below count system calls with the DEBUG syscall probe.
    #if DEBUG
    @Test("1,000 small frames sent in one write take a handful of recv calls", arguments: Transport.allCases)
    func thousandSmallFrames(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let documents: [BSONDocument] = (0..<1000).map { ["index": .int32(Int32($0)), "pad": "x"] }
        let stream = try documents.flatMap { try $0.encoded() }
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            try pair.client.sendBytes(stream)
            for document in documents {
                #expect(try pair.server.recvObj() == document)
            }
        }
        let calls = probe.records(of: .recv)
        #expect(calls.count <= 20, "\(calls.count) recv calls for 1,000 frames of \(stream.count) bytes")
        #expect(calls.allSatisfy { $0.requested <= BSONSocket.readAheadCapacity })
    }

    @Test("recvBytes larger than the buffer: buffered bytes first, the rest in calls of at most 32 KiB")
    func recvBytesPastTheBuffer() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let head = try BSONDocument(["head": 1]).encoded()
        let raw = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let sender = Peer { () throws -> Void in try pair.client.sendBytes(head + raw) }
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            #expect(try pair.server.recvObj() == ["head": 1])
            let afterFrame = probe.records(of: .recv).count
            var bytes: [UInt8] = []
            #expect(try pair.server.recvBytes(raw.count, into: &bytes))
            #expect(bytes == raw)
            let direct = probe.records(of: .recv).dropFirst(afterFrame)
            #expect(direct.allSatisfy { $0.requested <= 32 * 1024 })
        }
        try sender.value()
    }

    @Test("a frame larger than the buffer after small ones is read straight into its storage in ≤ 32 KiB calls")
    func largeFrameAfterSmallOnes() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let small: [BSONDocument] = (0..<10).map { ["i": .int32(Int32($0))] }
        let large = documentOfLength(2 << 20, index: 2)
        let stream = try small.flatMap { try $0.encoded() } + (try large.encoded()) + (try BSONDocument(["end": true]).encoded())
        let sender = Peer { () throws -> Void in try pair.client.sendBytes(stream) }
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            for document in small { #expect(try pair.server.recvObj() == document) }
            #expect(try pair.server.recvObj() == large)
            #expect(try pair.server.recvObj() == ["end": true])
        }
        let calls = probe.records(of: .recv)
        let direct = calls.filter { $0.requested < BSONSocket.readAheadCapacity }
        #expect(direct.count >= 50, "the large body should be read in direct calls, not through the buffer")
        #expect(direct.allSatisfy { $0.requested <= 32 * 1024 })
        #expect(calls.count < 1000, "no tiny reads: \(calls.count) recv calls for 2 MiB")
        try sender.value()
    }

    @Test("a bare FileDescriptor never reads past the current frame")
    func descriptorStopsAtFrameEnd() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let first = try multiTypeDocument().encoded()
        let second = try BSONDocument(["second": 2]).encoded()
        try left.sendBytes(first + second)
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: right.rawValue) { () throws in
            #expect(try right.recvFrame() == first)
        }
        // Exactly the second frame is still waiting in the socket.
        #expect(pendingByteCount(right.rawValue) == second.count)
        let calls = probe.records(of: .recv)
        #expect(calls.map(\.requested) == [4, first.count - 4])
        // So another reader of the same socket (here a BSONSocket adopting a dup) gets it.
        let adopted = try BSONSocket(adopting: right.duplicate())
        defer { adopted.close() }
        #expect(try adopted.recvObj() == ["second": 2])
    }
    #endif
}
