import BSONSocket
import Foundation
import Glibc
import Synchronization
import Testing
import TestSupport

/// Hostile peers against `BSONThreadedServer` and `BSONSocket`, on loopback, each bounded in
/// count and time: a frame trickled a byte at a time, a header promising 16 MiB, many idle
/// connections, a flood of minimal documents, random garbage. Each must leave the server
/// serving another client, within its limits.
///
/// `BSON_SOCKET_HOSTILE=full` raises the idle-connection count from 500 to 5,000 (this
/// process holds both ends, two descriptors each; the 10,000-connection run is
/// `make hostile-test`, against `bson-socket serve`).
@Suite("Hostile peers: BSONThreadedServer and BSONSocket", .serialized, .timeLimit(.minutes(5)))
struct HostilePeerTests {
    static var idleCount: Int {
        ProcessInfo.processInfo.environment["BSON_SOCKET_HOSTILE"] == "full" ? 5_000 : 500
    }

    final class EventLog: Sendable {
        private let events = PackageMutex<[BSONThreadedServer.Event]>([])
        func record(_ event: BSONThreadedServer.Event) { events.withLock { $0.append(event) } }
        var all: [BSONThreadedServer.Event] { events.withLock { $0 } }
        var failures: [BSONError] { all.compactMap { if case .failed(_, let error) = $0 { error } else { nil } } }
        var refusals: Int { all.count { if case .refused = $0 { true } else { false } } }
    }

    private func client(_ server: BSONThreadedServer) throws -> BSONSocket {
        let socket = try BSONSocket.connect(host: "127.0.0.1", port: server.listener.localPort!, timeout: .seconds(10))
        try socket.setReceiveTimeout(.seconds(10))
        try socket.setSendTimeout(.seconds(10))
        return socket
    }

    /// `rounds` echo round trips on a fresh connection; throws on any wrong reply.
    private func roundTrips(_ server: BSONThreadedServer, _ rounds: Int, tag: String = "other") throws {
        let socket = try client(server)
        defer { socket.close() }
        for index in 0..<rounds {
            let document: BSONDocument = ["tag": .string(tag), "n": .int32(Int32(index))]
            try socket.sendObj(document)
            guard try socket.recvObj() == document else { throw TestFailure("wrong echo at \(index)") }
        }
    }

    // MARK: The frame reader does not reserve what a header announces

    @Test("a header promising 16 MiB sets aside 64 KiB; storage grows with the bytes that arrive")
    func storageFollowsArrivals() throws {
        var reader = BSONFrameReader()
        let length = BSONFrameLimits.defaultMaximumFrameLength
        let header = littleEndianBytes(Int32(length))
        _ = header.withUnsafeBytes { reader.consume($0, limits: .default, allowInPlace: false) }
        guard case .body(let frame, let announced) = reader.state else { throw TestFailure("no body state") }
        #expect(announced == length)
        #expect(frame.capacity <= 2 * BSONFrameReader.initialReservation, "reserved \(frame.capacity) bytes for a bare header")

        // One MiB arrives in 32 KiB receives: storage stays within twice what arrived.
        let chunk = [UInt8](repeating: 7, count: 32 * 1024)
        for _ in 0..<32 {
            let received = try reader.receiveBody(maximum: chunk.count) { (buffer) throws(BSONError) -> Int in
                chunk.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return chunk.count
            }
            #expect(received == chunk.count)
            guard case .body(let frame, _) = reader.state else { throw TestFailure("no body state") }
            #expect(frame.capacity <= 2 * frame.count + BSONFrameReader.initialReservation)
        }
        #expect(reader.receivedCount == 4 + 32 * chunk.count)
    }

    @Test("a large frame arriving in pieces is still received whole and exact")
    func largeFrameStillExact() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let document = documentOfLength(5 << 20, index: 9)
        let sender = Peer { () throws -> Void in try pair.client.sendObj(document) }
        #expect(try pair.server.recvObj() == document)
        try sender.value()
    }

    // MARK: The frame timeout on a socket

    @Test("a frame trickled a byte at a time is cut at the frame timeout; the side is unusable after")
    func frameTimeoutOnSocket() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        pair.server.setFrameTimeout(.milliseconds(600))
        #expect(pair.server.frameTimeout == .milliseconds(600))
        let stop = Atomic<Bool>(false)
        let trickle = Peer { () throws -> Int in
            try pair.client.sendBytes(littleEndianBytes(Int32(BSONFrameLimits.defaultMaximumFrameLength)))
            var sent = 0
            while sent < 50, !stop.load(ordering: .relaxed) {  // at most 50 × 100 ms
                Thread.sleep(forTimeInterval: 0.1)
                do { try pair.client.sendBytes([0x41]) } catch { break }
                sent += 1
            }
            return sent
        }
        let began = ContinuousClock.now
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        let waited = ContinuousClock.now - began
        stop.store(true, ordering: .relaxed)
        #expect(error?.code == .timedOut)
        #expect(error?.message.contains("frame timeout") == true, "\(String(describing: error))")
        #expect(waited >= .milliseconds(500) && waited < .seconds(3), "cut after \(waited)")
        let next = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(next?.code == .unusable)
        _ = try trickle.value()
    }

    @Test("time between frames does not count against the frame timeout")
    func frameTimeoutBetweenFrames() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        pair.server.setFrameTimeout(.milliseconds(300))
        let sender = Peer { () throws -> Void in
            for index in 0..<3 {
                Thread.sleep(forTimeInterval: 0.4)  // longer than the frame timeout, between frames
                try pair.client.sendObj(["n": .int32(Int32(index))])
            }
        }
        for index in 0..<3 { #expect(try pair.server.recvObj() == ["n": .int32(Int32(index))]) }
        try sender.value()
    }

    @Test("a receive timeout shorter than the frame timeout is still a resumable timeout")
    func receiveTimeoutInsideFrameTimeout() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        pair.server.setFrameTimeout(.seconds(20))
        try pair.server.setReceiveTimeout(.milliseconds(200))
        let frame = try BSONDocument(["resumed": true]).encoded()
        try pair.client.sendBytes(Array(frame.prefix(6)))
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .timedOut)
        #expect(error?.message.contains("kept") == true, "\(String(describing: error))")
        try pair.client.sendBytes(Array(frame.dropFirst(6)))
        #expect(try pair.server.recvObj() == ["resumed": true])
    }

    // MARK: The threaded server

    @Test("slow loris: a 16 MiB header then a byte every 200 ms is cut at the frame deadline; another client is served meanwhile")
    func slowLoris() throws {
        let log = EventLog()
        let server = BSONThreadedServer(
            listener: try .listen(port: 0),
            configuration: .init(idleTimeout: .seconds(5), frameTimeout: .seconds(1), onEvent: log.record)
        ) { $0 }
        server.start()
        defer { server.stop() }
        let loris = try client(server)
        defer { loris.close() }
        let trickle = Peer { () -> (bytes: Int, lasted: Duration) in
            let began = ContinuousClock.now
            var sent = 0
            do {
                try loris.sendBytes(littleEndianBytes(Int32(BSONFrameLimits.defaultMaximumFrameLength)))
                while sent < 40 {  // at most 8 s
                    Thread.sleep(forTimeInterval: 0.2)
                    try loris.sendBytes([0x41])
                    sent += 1
                }
            } catch {}
            return (sent, ContinuousClock.now - began)
        }
        // Meanwhile another client is served, for longer than the loris lasts.
        try roundTrips(server, 300)
        let cut = try trickle.value()
        #expect(cut.bytes < 20, "the loris went on for \(cut.bytes) bytes (\(cut.lasted))")
        #expect(log.failures.contains { $0.code == .timedOut && $0.message.contains("frame timeout") }, "\(log.failures)")
        try roundTrips(server, 10)
    }

    @Test("many idle connections are held within maxConnections while another client is served")
    func manyIdleConnections() throws {
        try withDescriptorHeavyPhase {
            let count = Self.idleCount
            let limit = raiseDescriptorLimit()
            try #require(limit >= 2 * count + 100, "the descriptor limit (\(limit)) is too low for \(count) connections")
            let server = BSONThreadedServer(
                listener: try .listen(port: 0, backlog: 1024), configuration: .init(maxConnections: count + 8)) { $0 }
            server.start()
            defer { server.stop() }
            var idle: [BSONSocket] = []
            defer { idle.forEach { $0.close() } }
            for _ in 0..<count { idle.append(try client(server)) }
            let deadline = ContinuousClock.now + .seconds(60)
            while server.activeConnections < count, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(server.activeConnections == count)
            try roundTrips(server, 50)
            print("HOSTILE: \(count) idle connections held by BSONThreadedServer; peak RSS of the test process \(peakResidentKiB()) KiB")
        }
    }

    @Test("beyond maxConnections a connection is refused at once, not left waiting; a freed slot serves again")
    func refusedWhenFull() throws {
        let log = EventLog()
        let server = BSONThreadedServer(
            listener: try .listen(port: 0), configuration: .init(maxConnections: 3, onEvent: log.record)) { $0 }
        server.start()
        defer { server.stop() }
        let held = try (0..<3).map { _ in try client(server) }
        defer { held.forEach { $0.close() } }
        for socket in held {  // each is being served
            try socket.sendObj(["held": true])
            #expect(try socket.recvObj() == ["held": true])
        }
        for _ in 0..<5 {
            let extra = try client(server)
            defer { extra.close() }
            let began = ContinuousClock.now
            // A clean close (nil) or a reset: either way an answer, not a wait.
            let outcome = Result { () throws(BSONError) in try extra.recvObj() }
            #expect(ContinuousClock.now - began < .seconds(2))
            switch outcome {
            case .success(let document): #expect(document == nil)
            case .failure(let error): #expect([.connectionReset, .closed].contains(error.code), "\(error)")
            }
        }
        #expect(log.refusals == 5)
        held[0].close()
        let deadline = ContinuousClock.now + .seconds(10)
        while server.activeConnections > 2, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        try roundTrips(server, 5)
    }

    @Test("a flood of minimal documents is answered one for one while another client is served")
    func minimalDocumentFlood() throws {
        let server = BSONThreadedServer(listener: try .listen(port: 0)) { $0 }
        server.start()
        defer { server.stop() }
        let flooder = try client(server)
        defer { flooder.close() }
        let count = 50_000
        let empty: [UInt8] = [5, 0, 0, 0, 0]
        let batch = [UInt8](repeating: 0, count: 0) + Array((0..<1000).map { _ in empty }.joined())
        let sender = Peer { () throws -> Void in
            for _ in 0..<(count / 1000) { try flooder.sendBytes(batch) }
        }
        let other = Peer { () throws -> Void in try roundTrips(server, 200) }
        var replies = 0
        while replies < count {
            guard let reply = try flooder.recvObj() else { break }
            #expect(reply == [:])
            replies += 1
        }
        try sender.value()
        try other.value()
        #expect(replies == count)
    }

    @Test("random garbage gets each connection closed with a typed error; others keep being served")
    func randomGarbage() throws {
        let log = EventLog()
        let server = BSONThreadedServer(
            listener: try .listen(port: 0), configuration: .init(frameTimeout: .seconds(1), onEvent: log.record)
        ) { $0 }
        server.start()
        defer { server.stop() }
        var generator = SplitMix64(seed: 0x5EED)
        let connections = 40
        for index in 0..<connections {
            let garbage = (0..<(16 + index * 37)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let socket = try client(server)
            defer { socket.close() }
            try? socket.sendBytes(garbage)
            try? socket.shutdown(.write)
            // The server ends the connection: a clean close or a reset, never a reply or a hang.
            let outcome = Result { () throws(BSONError) in try socket.recvObj() }
            switch outcome {
            case .success(let document): #expect(document == nil, "a reply to garbage: \(String(describing: document))")
            case .failure(let error): #expect([.connectionReset, .truncated].contains(error.code), "\(error)")
            }
            if index % 10 == 0 { try roundTrips(server, 5) }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while log.failures.count < connections, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let typed: Set<BSONError.Code> = [
            .frameTooSmall, .frameTooLarge, .malformed, .truncated, .invalidUTF8, .unknownType, .invalidBoolean,
            .nestingTooDeep, .timedOut,
        ]
        #expect(log.failures.count == connections, "\(log.all)")
        #expect(log.failures.allSatisfy { typed.contains($0.code) }, "\(log.failures.map(\.code))")
        try roundTrips(server, 20)
    }
}

/// This process's peak resident set size (VmHWM) in KiB.
func peakResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}
