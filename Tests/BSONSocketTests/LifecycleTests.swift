import BSONSocket
import Glibc
import SystemPackage
import Testing

/// Ownership of the descriptor: close is idempotent, wakes blocked operations, and makes
/// later ones throw `.closed`; deinit closes; adopting a descriptor; shutdown.
@Suite("Lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("close is idempotent; every operation after it throws closed")
    func closeIdempotent() throws {
        let (a, b) = try BSONSocket.pair()
        defer { b.close() }
        #expect(!a.isClosed)
        a.close()
        a.close()
        #expect(a.isClosed)
        var buffer: [UInt8] = []
        let operations: [(String, () throws -> Void)] = [
            ("recvObj", { _ = try a.recvObj() }),
            ("recvFrame", { _ = try a.recvFrame() }),
            ("recvBytes", { _ = try a.recvBytes(1, into: &buffer) }),
            ("sendObj", { try a.sendObj(["x": 1]) }),
            ("shutdown", { try a.shutdown(.both) }),
            ("setReceiveTimeout", { try a.setReceiveTimeout(.seconds(1)) }),
            ("localAddress", { _ = try a.localAddress }),
        ]
        for (name, operation) in operations {
            let error = #expect(throws: BSONError.self, "\(name)") { try operation() }
            #expect(error?.code == .closed, "\(name)")
        }
        // The peer sees the close.
        try b.setReceiveTimeout(socketSafetyTimeout)
        #expect(try b.recvObj() == nil)
    }

    @Test("close from another thread wakes a blocked recvObj", arguments: Transport.allCases)
    func closeWakesReceiver(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let receiver = Peer { () throws -> BSONDocument? in try pair.server.recvObj() }
        usleep(100_000)
        pair.server.close()
        let outcome = Result { try receiver.value(within: .seconds(10)) }
        switch outcome {
        case .success(let document):
            #expect(document == nil)  // woken by the shutdown: end of stream
        case .failure(let error):
            #expect((error as? BSONError)?.code == .closed, "\(error)")
        }
    }

    @Test("a socket that is never closed is closed by deinit")
    func deinitCloses() throws {
        let (a, b) = try BSONSocket.pair()
        defer { a.close() }
        try a.setReceiveTimeout(socketSafetyTimeout)
        do {
            let dropped = b
            try dropped.sendObj(["last": "words"])
        }
        // `b` is still referenced by the tuple binding until here; end its lifetime.
        _ = consume b
        #expect(try a.recvObj() == ["last": "words"])
        #expect(try a.recvObj() == nil)
    }

    @Test("shutdown(.write) ends the stream for the peer, the other direction keeps working")
    func shutdownWrite() throws {
        let pair = try connectedPair(.tcp)
        defer { pair.close() }
        try pair.client.sendObj(["before": 1])
        try pair.client.shutdown(.write)
        #expect(try pair.server.recvObj() == ["before": 1])
        #expect(try pair.server.recvObj() == nil)
        try pair.server.sendObj(["reply": 2])
        #expect(try pair.client.recvObj() == ["reply": 2])
        let error = #expect(throws: BSONError.self) { try pair.client.sendObj(["after": 3]) }
        #expect(error?.code == .brokenPipe)
    }

    @Test("a descriptor from elsewhere can be adopted; a pipe cannot")
    func adopting() throws {
        let (left, right) = try descriptorPair()
        let socket = try BSONSocket(adopting: left)
        defer {
            socket.close()
            try? right.close()
        }
        try socket.sendObj(["from": "socket"])
        #expect(try right.recvObj() == ["from": "socket"])
        try right.sendObj(["from": "descriptor"])
        #expect(try socket.recvObj() == ["from": "descriptor"])

        let (reader, writer) = try FileDescriptor.pipe()
        defer {
            try? reader.close()
            try? writer.close()
        }
        let error = #expect(throws: BSONError.self) { try BSONSocket(adopting: reader) }
        #expect(error?.code == .systemCallFailed)
        #expect(error?.errno == ENOTSOCK)
        #expect(fcntl(reader.rawValue, F_GETFD) >= 0, "a refused descriptor stays open")
    }

    @Test("TCP sockets have TCP_NODELAY on")
    func noDelay() throws {
        let pair = try connectedPair(.tcp)
        defer { pair.close() }
        for socket in [pair.client, pair.server] {
            let value = try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) -> Int32 in
                var value: Int32 = 0
                var length = socklen_t(4)
                getsockopt(descriptor.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
                return value
            }
            #expect(value != 0)
        }
        try pair.client.setNoDelay(false)
        try pair.client.sendObj(["still": "works"])
        #expect(try pair.server.recvObj() == ["still": "works"])
    }
}
