import BSONSocketNIO
import Foundation
import Synchronization
import Testing
import TestSupport

/// Hostile peers against the SwiftNIO `BSONServer`, on loopback, bounded: a frame trickled a
/// byte at a time, many idle connections, connections beyond the limit, a flood of minimal
/// documents, random garbage. Another client is served throughout.
@Suite("Hostile peers: BSONServer (NIO)", .serialized, .timeLimit(.minutes(5)))
struct HostilePeerNIOTests {
    static var idleCount: Int {
        ProcessInfo.processInfo.environment["BSON_SOCKET_HOSTILE"] == "full" ? 5_000 : 500
    }

    /// `rounds` request/reply exchanges on a fresh connection, each reply checked.
    static func roundTrips(_ port: Int, _ rounds: Int) async throws {
        try await BSONClient.withConnection(port: port, connectTimeout: .seconds(10)) { connection in
            for n in 0..<rounds {
                let document: BSONDocument = ["n": .int32(Int32(n)), "tag": "other"]
                let reply = try await connection.request(document)
                guard reply == document else { throw BSONError(.malformed, "wrong reply \(reply) at \(n)") }
            }
        }
    }

    /// A blocking client socket to the server (run on its own thread).
    static func blockingClient(_ port: Int) throws -> BSONSocket {
        let socket = try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(10))
        try socket.setReceiveTimeout(.seconds(10))
        try socket.setSendTimeout(.seconds(10))
        return socket
    }

    @Test("slow loris: a 16 MiB header then a byte every 200 ms is cut at the read timeout; another client is served meanwhile")
    func slowLoris() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(
                configuration: .init(connection: .init(idleTimeout: .seconds(5), frameTimeout: .seconds(1))))
            let port = running.port
            async let loris: Int = onThread {
                let socket = try Self.blockingClient(port)
                defer { socket.close() }
                var sent = 0
                do {
                    try socket.sendBytes(Samples.header(Int32(BSONFrameLimits.defaultMaximumFrameLength)))
                    while sent < 40 {  // at most 8 s
                        Thread.sleep(forTimeInterval: 0.2)
                        try socket.sendBytes([0x41])
                        sent += 1
                    }
                } catch {}
                return sent
            }
            try await Self.roundTrips(port, 300)
            let sent = try await loris
            #expect(sent < 20, "the loris went on for \(sent) bytes")
            #expect(running.failures.contains { $0.code == .timedOut }, "\(running.failures)")
            try await Self.roundTrips(port, 10)
            try await running.stop()
        }
    }

    @Test("many idle connections are held while another client is served; virtual memory stays bounded")
    func manyIdleConnections() async throws {
        try await offThePool { () async throws -> Void in try await withDescriptorHeavyPhase {
            let count = Self.idleCount
            let limit = raiseDescriptorLimit()
            try #require(limit >= 2 * count + 100, "the descriptor limit (\(limit)) is too low for \(count) connections")
            let running = try await RunningServer(configuration: .init(backlog: 1024))
            let port = running.port
            let before = virtualMemorySize()
            let sockets = try await onThread { try (0..<count).map { _ in try Self.blockingClient(port) } }
            defer { sockets.forEach { $0.close() } }
            #expect(await eventually(timeout: .seconds(60)) { running.server.activeConnections == count })
            try await Self.roundTrips(port, 50)
            let grown = virtualMemorySize() - before
            print("HOSTILE: \(count) idle connections held by BSONServer; virtual memory grew \(grown / 1024) KiB")
            #expect(grown < count * 256 * 1024, "\(grown) bytes of address space for \(count) idle connections")
            try await running.stop()
        } }
    }

    @Test("beyond maxConnections a connection is refused at once; a freed slot serves again")
    func refusedWhenFull() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(configuration: .init(maxConnections: 3))
            let port = running.port
            let held = try await onThread { () -> [BSONSocket] in
                let sockets = try (0..<3).map { _ in try Self.blockingClient(port) }
                for socket in sockets {
                    try socket.sendObj(["held": true])
                    guard try socket.recvObj() == ["held": true] else { throw BSONError(.malformed, "no echo") }
                }
                return sockets
            }
            defer { held.forEach { $0.close() } }
            let waits = try await onThread { () -> [Duration] in
                try (0..<5).map { _ in
                    let extra = try Self.blockingClient(port)
                    defer { extra.close() }
                    let began = ContinuousClock.now
                    let outcome = Result { () throws(BSONError) in try extra.recvObj() }
                    if case .success(let document?) = outcome { throw BSONError(.malformed, "a refused peer got \(document)") }
                    if case .failure(let error) = outcome, ![.connectionReset, .closed].contains(error.code) { throw error }
                    return ContinuousClock.now - began
                }
            }
            #expect(waits.allSatisfy { $0 < .seconds(2) }, "\(waits)")
            let refusals = running.log.events.count { if case .refused = $0 { true } else { false } }
            #expect(refusals == 5)
            held[0].close()
            #expect(await eventually { running.server.activeConnections <= 2 })
            try await Self.roundTrips(port, 5)
            try await running.stop()
        }
    }

    @Test("a flood of minimal documents is answered one for one while another client is served")
    func minimalDocumentFlood() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer()
            let port = running.port
            let count = 50_000
            async let flood: Int = onThread {
                let socket = try Self.blockingClient(port)
                defer { socket.close() }
                let batch = Array((0..<1000).map { _ in [UInt8]([5, 0, 0, 0, 0]) }.joined())
                let sender = Thread {
                    for _ in 0..<(count / 1000) { if (try? socket.sendBytes(batch)) == nil { return } }
                }
                sender.start()
                var replies = 0
                while replies < count, let reply = try socket.recvObj() {
                    guard reply == [:] else { throw BSONError(.malformed, "reply \(reply)") }
                    replies += 1
                }
                return replies
            }
            try await Self.roundTrips(port, 200)
            #expect(try await flood == count)
            try await running.stop()
        }
    }

    @Test("random garbage gets each connection closed with a typed error; others keep being served")
    func randomGarbage() async throws {
        try await offThePool { () async throws -> Void in
            let running = try await RunningServer(configuration: .init(connection: .init(frameTimeout: .seconds(1))))
            let port = running.port
            let connections = 40
            try await onThread {
                var generator = SplitMix64(seed: 0x5EED)
                for index in 0..<connections {
                    let garbage = (0..<(16 + index * 37)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let socket = try Self.blockingClient(port)
                    defer { socket.close() }
                    try? socket.sendBytes(garbage)
                    try? socket.shutdown(.write)
                    let outcome = Result { () throws(BSONError) in try socket.recvObj() }
                    if case .success(let document?) = outcome { throw BSONError(.malformed, "a reply to garbage: \(document)") }
                    if case .failure(let error) = outcome, ![.connectionReset, .truncated].contains(error.code) { throw error }
                }
            }
            try await Self.roundTrips(port, 20)
            #expect(await eventually { running.failures.count == connections }, "\(running.log.events)")
            let typed: Set<BSONError.Code> = [
                .frameTooSmall, .frameTooLarge, .malformed, .truncated, .invalidUTF8, .unknownType, .invalidBoolean,
                .nestingTooDeep, .timedOut,
            ]
            #expect(running.failures.allSatisfy { typed.contains($0.code) }, "\(running.failures.map(\.code))")
            try await running.stop()
        }
    }
}
