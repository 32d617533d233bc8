import BSONSocket
import BSONSocketNIO
import Foundation
import NIOCore
import Synchronization
import Testing

/// Real sockets on loopback and Unix paths: the NIO side against the blocking side of this
/// package, in both directions, and the server's limits.
@Suite("SwiftNIO client and server over real sockets")
struct LoopbackTests {
    enum Transport: String, CaseIterable, CustomTestStringConvertible {
        case tcp, unix
        var testDescription: String { rawValue }
    }

    @Test("NIO server, blocking BSONSocket client: every document echoes, one at a time and pipelined",
          arguments: Transport.allCases)
    func nioServerBlockingClient(_ transport: Transport) async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("s.sock")
            let running = try await RunningServer(unixPath: transport == .unix ? path : nil)
            let port = running.port
            try await onThread {
                let socket = try transport == .unix ? BSONSocket.connect(unixPath: path) : BSONSocket.connect(host: "127.0.0.1", port: port)
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(20))
                for document in Samples.documents {
                    try socket.sendObj(document)
                    #expect(try socket.recvObj() == document)
                }
                let many = (0..<500).map { i -> BSONDocument in ["i": .int32(Int32(i)), "pad": .string(String(repeating: "p", count: i))] }
                try socket.sendBytes(many.flatMap { try! $0.encoded() })
                for document in many { #expect(try socket.recvObj() == document) }
            }
            try await running.stop()
            #expect(running.failures.isEmpty, "\(running.failures)")
            if transport == .unix { #expect(!FileManager.default.fileExists(atPath: path), "socket file removed") }
        }
    }

    @Test("Blocking BSONThreadedServer, NIO client: request, and pipelined send + inbound",
          arguments: Transport.allCases)
    func threadedServerNIOClient(_ transport: Transport) async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("t.sock")
            let listener = try transport == .unix ? BSONListener.listen(unixPath: path) : BSONListener.listen(port: 0)
            let server = BSONThreadedServer(listener: listener) { $0 }
            server.start()
            let body: @Sendable (BSONConnection) async throws -> Void = { connection in
                for document in Samples.documents {
                    #expect(try await connection.request(document) == document)
                }
                let many = (0..<1_000).map { i -> BSONDocument in ["i": .int32(Int32(i))] }
                async let sent: Void = connection.send(contentsOf: many)
                var received = 0
                for try await document in connection.inbound {
                    #expect(document == many[received])
                    received += 1
                    if received == many.count { break }
                }
                try await sent
                #expect(received == many.count)
                #expect(connection.documentsReceived == many.count + Samples.documents.count)
            }
            try await withDeadline(.seconds(60)) {
                if transport == .unix {
                    try await BSONClient.withConnection(unixPath: path, body)
                } else {
                    try await BSONClient.withConnection(port: listener.localPort!, body)
                }
            }
            #expect(try await onThread { server.stop() })
        }
    }

    @Test("Concurrent requests on one connection each get their own reply")
    func concurrentRequests() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer()
            try await BSONClient.withConnection(port: running.port) { connection in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<20 {
                        group.addTask {
                            for n in 0..<50 {
                                let request: BSONDocument = ["task": .int32(Int32(task)), "n": .int32(Int32(n))]
                                let reply = try await connection.request(request)
                                #expect(reply == request)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await running.stop()
        }
    }

    @Test("A hostile header closes only its own connection, with a typed error", arguments: [
        Int32(0), 4, -1, Int32(BSONFrameLimits.defaultMaximumFrameLength + 1), .max,
    ])
    func hostileClient(_ announced: Int32) async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer()
            let port = running.port
            try await BSONClient.withConnection(port: port) { good in
                #expect(try await good.request(["before": true]) == ["before": true])
                let outcome = try await onThread { () -> Bool in
                    let bad = try BSONSocket.connect(host: "127.0.0.1", port: port)
                    defer { bad.close() }
                    try bad.setReceiveTimeout(.seconds(10))
                    try bad.sendBytes(Samples.header(announced) + [UInt8](repeating: 1, count: 16))
                    // The server closes: a clean end of stream (or a reset).
                    do throws(BSONError) {
                        return try bad.recvObj() == nil
                    } catch {
                        return error.code == .connectionReset || error.code == .closed
                    }
                }
                #expect(outcome, "the server closed the hostile connection")
                #expect(try await good.request(["after": true]) == ["after": true], "the other connection is unaffected")
            }
            let failed = await eventually { !running.failures.isEmpty }
            #expect(failed)
            #expect(running.failures.allSatisfy { [.frameTooSmall, .frameTooLarge].contains($0.code) }, "\(running.failures)")
            try await running.stop()
        }
    }

    @Test("A client that sends a header and stalls is closed after the read timeout; others are served meanwhile")
    func headerThenStall() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(
                configuration: .init(connection: .init(idleTimeout: .seconds(5), frameTimeout: .milliseconds(400))))
            let port = running.port
            async let stalled: Duration = onThread {
                let socket = try BSONSocket.connect(host: "127.0.0.1", port: port)
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(10))
                // A header promising 1 MiB, then silence.
                try socket.sendBytes(Samples.header(1 << 20))
                let began = ContinuousClock.now
                _ = try? socket.recvObj()
                return ContinuousClock.now - began
            }
            // While it stalls, 200 round trips on another connection go through.
            try await BSONClient.withConnection(port: port) { connection in
                for n in 0..<200 {
                    let reply = try await connection.request(["n": .int32(Int32(n))])
                    #expect(reply == ["n": .int32(Int32(n))])
                }
            }
            let waited = try await stalled
            #expect(waited < .seconds(3), "closed after \(waited)")
            // The server reports the failure once the connection's task has ended, which can be
            // just after the client saw the close: waited for, bounded.
            #expect(await eventually { running.failures.contains { $0.code == .timedOut } }, "\(running.failures)")
            try await running.stop()
        }
    }

    @Test("A silent client is closed after the idle timeout")
    func idleClient() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(configuration: .init(connection: .init(idleTimeout: .milliseconds(300))))
            let port = running.port
            let waited = try await onThread { () -> Duration in
                let socket = try BSONSocket.connect(host: "127.0.0.1", port: port)
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(10))
                let began = ContinuousClock.now
                #expect(try socket.recvObj() == nil)
                return ContinuousClock.now - began
            }
            #expect(waited < .seconds(3))
            try await running.stop()
        }
    }

    @Test("A handler that stops reading makes the server stop reading: the flooding peer's sends block")
    func backpressure() async throws {
        try await offThePool { () async throws -> Void in
            let release = Flag()
            let running = try await RunningServer { connection in
                _ = try await connection.receive()
                // Never read again until told (bounded).
                let deadline = ContinuousClock.now + .seconds(30)
                while !release.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            }
            let port = running.port
            let sent = try await onThread { () -> Int in
                let socket = try BSONSocket.connect(host: "127.0.0.1", port: port)
                defer { socket.close() }
                try socket.setSendTimeout(.seconds(2))
                let pad: BSONDocument = ["pad": .string(String(repeating: "z", count: 1000))]
                let frame = try pad.encoded()
                var sent = 0
                while sent < 256 << 20 {
                    do { try socket.sendBytes(frame) } catch { break }
                    sent += frame.count
                }
                return sent
            }
            release.set()
            // Kernel socket buffers on loopback take a few MiB; the server itself holds at most
            // its high watermark of documents and a few reads of 64 KiB.
            #expect(sent < 64 << 20, "the peer could send \(sent) bytes to a server that does not read")
            try await running.stop()
        }
    }

    @Test("Graceful shutdown: stop accepting, let a request in progress finish, close idle connections after the grace period")
    func gracefulShutdown() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer { connection in
                for try await document in connection.inbound {
                    try await Task.sleep(for: .milliseconds(300))
                    try await connection.send(document)
                }
            }
            let port = running.port
            try await BSONClient.withConnection(port: port) { connection in
                // Served first (an accepted connection), so that closing the listener cannot
                // reset it as one still waiting in the backlog.
                let warm = try await connection.request(["warm": true])
                #expect(warm == ["warm": true])
                try await connection.send(["slow": true])
                running.server.shutdown(gracePeriod: .seconds(3))
                #expect(try await connection.receive() == ["slow": true], "the request in progress finished")
                // The idle connection is closed when the grace period ends.
                let began = ContinuousClock.now
                // Closed at the end of the grace period: a clean end, or a reset when the close
                // races with the socket's last exchange; either way, the connection ends.
                do {
                    #expect(try await connection.receive() == nil)
                } catch let error as BSONError {
                    #expect([.connectionReset, .closed].contains(error.code), "\(error)")
                }
                #expect(ContinuousClock.now - began < .seconds(6))
            }
            try await withDeadline(.seconds(10)) { [task = running.task] in try await task.value }
            await #expect(throws: BSONError.self) {
                try await BSONClient.withConnection(port: port) { _ in }
            }
        }
    }

    @Test("Cancelling run() closes every connection and returns promptly")
    func cancellation() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer()
            let port = running.port
            try await BSONClient.withConnection(port: port) { connection in
                #expect(try await connection.request(["a": 1]) == ["a": 1])
                running.task.cancel()
                let ended = try await withDeadline(.seconds(10)) { () -> Bool in
                    do { return try await connection.receive() == nil } catch { return true }
                }
                #expect(ended)
            }
            let result = await running.task.result
            if case .failure(let error) = result { #expect(error is CancellationError, "\(error)") }
        }
    }

    @Test("maxConnections with whenFull .wait: a second client waits until the first leaves")
    func maxConnections() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(configuration: .init(maxConnections: 1, whenFull: .wait))
            let port = running.port
            let order = Lines()
            try await BSONClient.withConnection(port: port) { first in
                #expect(try await first.request(["who": "first"]) == ["who": "first"])
                async let second: Void = BSONClient.withConnection(port: port) { second in
                    _ = try await second.request(["who": "second"])
                    order.append("second served")
                }
                try await Task.sleep(for: .milliseconds(300))
                order.append("first leaves")
                await first.close()
                try await second
            }
            #expect(order.lines == ["first leaves", "second served"])
            try await running.stop()
        }
    }

    @Test("A request with no reply times out with a typed error")
    func requestTimeout() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer { connection in
                for try await _ in connection.inbound {}
            }
            let began = ContinuousClock.now
            await #expect(throws: BSONError.self) {
                try await BSONClient.withConnection(
                    port: running.port, configuration: .init(requestTimeout: .milliseconds(300))
                ) { connection in
                    do {
                        _ = try await connection.request(["hello": 1])
                    } catch let error as BSONError {
                        #expect(error.code == .timedOut)
                        throw error
                    }
                }
            }
            #expect(ContinuousClock.now - began < .seconds(5))
            try await running.stop()
        }
    }

    @Test("Connecting where nobody listens is connectionRefused, over TCP and Unix")
    func refused() async throws {
        try await offThePool { () async throws -> Void in
            do {
                try await BSONClient.withConnection(port: 1) { _ in }
                Issue.record("connected to port 1")
            } catch let error as BSONError {
                #expect(error.code == .connectionRefused, "\(error)")
            }
            do {
                try await BSONClient.withConnection(unixPath: "/tmp/bson-nio-no-such-dir/x.sock") { _ in }
                Issue.record("connected to a missing path")
            } catch let error as BSONError {
                #expect(error.code == .connectionRefused, "\(error)")
            }
        }
    }

    @Test("Unix socket files: a stale one is replaced, a live server is addressInUse, the file goes at the end")
    func unixSocketFiles() async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("u.sock")
            // A stale socket file, as a server that died leaves it: bound, then closed, not removed.
            try makeStaleSocketFile(at: path)
            #expect(FileManager.default.fileExists(atPath: path))
            let first = try await RunningServer(unixPath: path)
            await #expect(throws: BSONError.self) { _ = try await BSONServer.bind(unixPath: path) }
            do {
                _ = try await BSONServer.bind(unixPath: path)
            } catch let error as BSONError {
                #expect(error.code == .addressInUse)
            }
            try await first.stop()
            #expect(!FileManager.default.fileExists(atPath: path))
            // Something that is not a socket is never removed.
            #expect(FileManager.default.createFile(atPath: path, contents: Data("keep".utf8)))
            await #expect(throws: BSONError.self) { _ = try await BSONServer.bind(unixPath: path) }
            #expect(FileManager.default.contents(atPath: path) == Data("keep".utf8))
        }
    }

    @Test("An encoding error costs only that send; the connection stays usable")
    func encodingErrorKeepsConnection() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer()
            try await BSONClient.withConnection(port: running.port) { connection in
                await #expect(throws: BSONError.self) { try await connection.send(["bad\u{0}key": 1]) }
                #expect(try await connection.request(["ok": true]) == ["ok": true])
                await #expect(throws: BSONError.self) { try await connection.sendFrame(ByteBuffer(bytes: [5, 0, 0, 0, 1])) }
                try await connection.sendFrame(ByteBuffer(bytes: Samples.frame(["raw": 1])))
                #expect(try await connection.receive() == ["raw": 1])
            }
            try await running.stop()
        }
    }
}
