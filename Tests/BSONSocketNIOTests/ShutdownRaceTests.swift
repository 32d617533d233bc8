import BSONSocket
import BSONSocketNIO
import Foundation
import Testing

/// Stopping a server while connections are still arriving, on both engines.
///
/// SwiftNIO wraps an accepted connection and hands it to the accept loop before the connection
/// is registered with its event loop. A `BSONServer` shutdown in between used to drop the
/// wrapped connection unfinished, and SwiftNIO then trapped when it became active ("Deinited
/// NIOAsyncWriter without calling finish()"), killing the test process; had it not trapped,
/// the peer would have been left connected to nobody. `BSONThreadedServer.stop` must close
/// every connection it accepted in the same race.
@Suite("Servers stopped while connections arrive")
struct ShutdownRaceTests {
    enum Engine: String, CaseIterable, Sendable { case nio, threads }

    /// A running server of either engine: where to connect, how many it serves, how to stop it.
    struct Running: Sendable {
        let port: Int
        let active: @Sendable () -> Int
        let stop: @Sendable () async throws -> Void
    }

    static func start(_ engine: Engine, unixPath: String?) async throws -> Running {
        switch engine {
        case .nio:
            let running = try await RunningServer(unixPath: unixPath)
            return Running(port: running.port, active: { running.server.activeConnections }) {
                try await running.stop(gracePeriod: .zero)
            }
        case .threads:
            let listener = try unixPath.map { try BSONListener.listen(unixPath: $0) } ?? BSONListener.listen(port: 0)
            let server = BSONThreadedServer(listener: listener) { $0 }
            server.start()
            return Running(port: listener.localPort ?? 0, active: { server.activeConnections }) {
                let stopped = try await onThread { server.stop() }
                #expect(stopped, "every thread of the threaded server finished")
            }
        }
    }

    @Test("every connection around a stop ends; none traps, none is left open",
          arguments: Engine.allCases, LoopbackTests.Transport.allCases)
    func stopWhileAccepting(_ engine: Engine, _ transport: LoopbackTests.Transport) async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var total = 0
            for round in 0..<20 {
                let path = directory.file("r\(round).sock")
                let running = try await Self.start(engine, unixPath: transport == .unix ? path : nil)
                let port = running.port
                // One thread connects as fast as it can (at most 150 times) until the listener
                // is gone; the shutdown below lands while it does.
                let opening = Task {
                    try await onThread { () -> [BSONSocket] in
                        var sockets: [BSONSocket] = []
                        for _ in 0..<150 {
                            let socket = try? transport == .unix
                                ? BSONSocket.connect(unixPath: path)
                                : BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
                            guard let socket else { break }
                            sockets.append(socket)
                        }
                        return sockets
                    }
                }
                // Shut down after a varying number of connections have been taken up.
                let served = 1 + round % 6
                _ = await eventually(timeout: .seconds(5)) { running.active() >= served }
                try await running.stop()
                let sockets = try await opening.value
                defer { for socket in sockets { socket.close() } }
                total += sockets.count
                try await onThread {
                    for (index, socket) in sockets.enumerated() {
                        try socket.setReceiveTimeout(.seconds(5))
                        // A TCP connection whose handshake raced with closing the listener can
                        // be left known only to the client (seen here: the kernel kept no socket
                        // for it and sent no reset; an overflowing accept queue does the same).
                        // A byte sent on it draws the reset; a connection the server accepted
                        // and left open would just take the byte in, and time out below.
                        try? socket.sendBytes([0])
                        let which = "\(engine), \(transport) round \(round), connection \(index) of \(sockets.count)"
                        do {
                            let document = try socket.recvObj()
                            #expect(document == nil, "\(which) got \(String(describing: document))")
                        } catch let error as BSONError {
                            // A reset (closed while still in the backlog) also ends it; a
                            // timeout means the connection was left open.
                            let ends = (try? "\(socket.localAddress) → \(socket.remoteAddress)") ?? "?"
                            #expect([.connectionReset, .closed].contains(error.code), "\(which), \(ends): \(error)")
                        }
                    }
                }
            }
            #expect(total > 20, "connections were opened (\(total))")
        }
    }
}
