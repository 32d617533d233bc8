import BSONSocket
import SystemPackage
import Testing

/// recvBytes: exactly `count` bytes appended, `false` with the partial bytes kept when the
/// peer closes first, nothing for a count of 0.
@Suite("recvBytes", .timeLimit(.minutes(1)))
struct RecvBytesTests {
    @Test("count 0 reads nothing and returns true", arguments: Transport.allCases)
    func countZero(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(["kept": true])
        var buffer: [UInt8] = [9, 9]
        #expect(try pair.server.recvBytes(0, into: &buffer))
        #expect(buffer == [9, 9])
        #expect(try pair.server.recvObj() == ["kept": true])
    }

    @Test("count 0 on a bare FileDescriptor does not block")
    func countZeroDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        var buffer: [UInt8] = []
        #expect(try right.recvBytes(0, into: &buffer))
        #expect(buffer.isEmpty)
    }

    @Test("one byte at a time reassembles the stream", arguments: Transport.allCases)
    func oneByteAtATime(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let frame = try multiTypeDocument().encoded()
        try pair.client.sendBytes(frame)
        var buffer: [UInt8] = []
        for index in 0..<frame.count {
            #expect(try pair.server.recvBytes(1, into: &buffer))
            #expect(buffer.count == index + 1)
        }
        #expect(buffer == frame)
    }

    @Test("exact counts across many sends, appended after existing contents", arguments: Transport.allCases)
    func exactCounts(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let sender = Peer { () throws -> Void in
            var offset = 0
            var size = 1
            while offset < payload.count {
                let end = min(payload.count, offset + size)
                try pair.client.sendBytes(Array(payload[offset..<end]))
                offset = end
                size = size * 3 % 40_000 + 1
            }
        }
        var buffer: [UInt8] = [1, 2, 3]
        #expect(try pair.server.recvBytes(100_000, into: &buffer))
        #expect(buffer.count == 100_003)
        #expect(try pair.server.recvBytes(100_000, into: &buffer))
        #expect(buffer == [1, 2, 3] + payload)
        try sender.value()
    }

    @Test("a clean close before the count returns false and keeps what arrived", arguments: Transport.allCases)
    func closeMidCount(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendBytes(Array(1...10))
        pair.client.close()
        var buffer: [UInt8] = [0]
        #expect(try pair.server.recvBytes(100, into: &buffer) == false)
        #expect(buffer == [0] + Array(1...10))
        // At the end of the stream, every further call is false with nothing added.
        #expect(try pair.server.recvBytes(1, into: &buffer) == false)
        #expect(buffer.count == 11)
    }

    @Test("a clean close before the count on a bare FileDescriptor")
    func closeMidCountDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer { try? right.close() }
        try left.sendBytes(Array(1...10))
        try left.close()
        var buffer: [UInt8] = []
        #expect(try right.recvBytes(64 * 1024, into: &buffer) == false)
        #expect(buffer == Array(1...10))
    }

    @Test("recvBytes and recvObj mix on one stream in order", arguments: Transport.allCases)
    func mixed(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let first = try BSONDocument(["first": 1]).encoded()
        let raw: [UInt8] = Array(repeating: 0xAB, count: 1000)
        let last = try BSONDocument(["last": 2]).encoded()
        try pair.client.sendBytes(first + raw + last)
        #expect(try pair.server.recvObj() == ["first": 1])
        var buffer: [UInt8] = []
        #expect(try pair.server.recvBytes(raw.count, into: &buffer))
        #expect(buffer == raw)
        #expect(try pair.server.recvObj() == ["last": 2])
    }
}
