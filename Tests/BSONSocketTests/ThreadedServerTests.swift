import BSONSocket
import Foundation
import Synchronization
import Testing

@Suite("BSONThreadedServer")
struct ThreadedServerTests {
    /// Collects the server's events for assertions.
    final class EventLog: Sendable {
        private let events = PackageMutex<[BSONThreadedServer.Event]>([])
        func record(_ event: BSONThreadedServer.Event) { events.withLock { $0.append(event) } }
        var all: [BSONThreadedServer.Event] { events.withLock { $0 } }
        var failures: [BSONError] {
            all.compactMap { if case .failed(_, let error) = $0 { error } else { nil } }
        }
    }

    private func client(_ server: BSONThreadedServer) throws -> BSONSocket {
        let socket = try BSONSocket.connect(host: "127.0.0.1", port: server.listener.localPort!, timeout: .seconds(5))
        try socket.setReceiveTimeout(.seconds(10))
        return socket
    }

    @Test("several clients at once each get their own documents back, in order")
    func concurrentEcho() throws {
        let server = BSONThreadedServer(listener: try .listen(port: 0)) { $0 }
        server.start()
        defer { server.stop() }
        let peers = (0..<8).map { clientNumber in
            Peer<Int> {
                let socket = try client(server)
                defer { socket.close() }
                for index in 0..<50 {
                    let document: BSONDocument = ["client": .int32(Int32(clientNumber)), "index": .int32(Int32(index)),
                                                  "pad": .string(String(repeating: "x", count: index * 97))]
                    try socket.sendObj(document)
                    guard try socket.recvObj() == document else { throw TestFailure("wrong echo") }
                }
                return 50
            }
        }
        for peer in peers { #expect(try peer.value() == 50) }
    }

    @Test("the handler's reply is sent; nil sends nothing")
    func handlerReplies() throws {
        let server = BSONThreadedServer(listener: try .listen(port: 0)) { document in
            document["quiet"] == true ? nil : ["seen": .document(document)]
        }
        server.start()
        defer { server.stop() }
        let socket = try client(server)
        defer { socket.close() }
        try socket.sendObj(["quiet": true])
        try socket.sendObj(["n": 1])
        #expect(try socket.recvObj() == ["seen": ["n": 1]])
    }

    @Test("stop(gracePeriod: .zero) ends connections blocked in a receive cleanly and returns promptly")
    func stopWakesConnections() throws {
        let server = BSONThreadedServer(listener: try .listen(port: 0)) { $0 }
        server.start()
        let sockets = try (0..<3).map { _ in try client(server) }
        defer { sockets.forEach { $0.close() } }
        // Make sure every connection is being served (an echo came back).
        for socket in sockets {
            try socket.sendObj(["hello": 1])
            #expect(try socket.recvObj() == ["hello": 1])
        }
        #expect(server.activeConnections == 3)
        let started = ContinuousClock.now
        #expect(server.stop(gracePeriod: .zero, timeout: .seconds(5)))
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(server.activeConnections == 0)
        for socket in sockets { #expect(try socket.recvObj() == nil) }
    }

    @Test("with whenFull .wait, connections over maxConnections wait until one ends")
    func maxConnections() throws {
        let server = BSONThreadedServer(
            listener: try .listen(port: 0), configuration: .init(maxConnections: 1, whenFull: .wait)) { $0 }
        server.start()
        defer { server.stop() }
        let first = try client(server)
        try first.sendObj(["first": 1])
        #expect(try first.recvObj() == ["first": 1])
        let second = try client(server)
        defer { second.close() }
        try second.sendObj(["second": 1])
        try second.setReceiveTimeout(.milliseconds(300))
        #expect(throws: BSONError.self) { try second.recvObj() }
        first.close()
        try second.setReceiveTimeout(.seconds(10))
        #expect(try second.recvObj() == ["second": 1])
    }

    @Test("a stalled frame is cut off after the idle timeout; others are served")
    func idleTimeout() throws {
        let log = EventLog()
        let server = BSONThreadedServer(
            listener: try .listen(port: 0),
            configuration: .init(idleTimeout: .milliseconds(200), onEvent: log.record)
        ) { $0 }
        server.start()
        defer { server.stop() }
        let stalled = try client(server)
        defer { stalled.close() }
        try stalled.sendBytes([0x00, 0x00, 0x10, 0x00])  // promises 1 MiB, sends nothing more
        let started = ContinuousClock.now
        #expect(try stalled.recvObj() == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(log.failures.contains { $0.code == .timedOut })
        let other = try client(server)
        defer { other.close() }
        try other.sendObj(["ok": true])
        #expect(try other.recvObj() == ["ok": true])
    }

    @Test("a malformed document ends that connection with its error; the server keeps serving")
    func malformedDocument() throws {
        let log = EventLog()
        let server = BSONThreadedServer(listener: try .listen(port: 0), configuration: .init(onEvent: log.record)) { $0 }
        server.start()
        defer { server.stop() }
        let bad = try client(server)
        defer { bad.close() }
        // A string whose only byte is not UTF-8.
        try bad.sendBytes([0x0E, 0, 0, 0, 0x02, 0x61, 0, 0x02, 0, 0, 0, 0x80, 0, 0])
        #expect(try bad.recvObj() == nil)
        #expect(log.failures.contains { $0.code == .invalidUTF8 })
        let good = try client(server)
        defer { good.close() }
        try good.sendObj(["fine": 1])
        #expect(try good.recvObj() == ["fine": 1])
    }
}
