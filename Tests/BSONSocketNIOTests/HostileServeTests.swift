import BSONSocketNIO
import Foundation
import Glibc
import Testing
import TestSupport

/// Hostile peers against `bson-socket serve` (a child process, so that its own memory can be
/// read), for both engines: slow-loris frames, idle connections, a flood of minimal
/// documents, random garbage, each phase followed by a checked round trip and a reading of
/// the server's resident memory.
///
/// The default sizes suit `make test`; `BSON_SOCKET_HOSTILE=full` (or `make hostile-test`)
/// runs 1,000 slow-loris frames, 10,000 idle connections, 1,000,000 minimal documents and
/// 200 garbage connections, and prints the figures.
@Suite("Hostile peers against bson-socket serve", .serialized)
struct HostileServeTests {
    struct Size {
        let loris: Int, idle: Int, flood: Int, garbage: Int
    }

    static var size: Size {
        ProcessInfo.processInfo.environment["BSON_SOCKET_HOSTILE"] == "full"
            ? Size(loris: 1_000, idle: 10_000, flood: 1_000_000, garbage: 200)
            : Size(loris: 20, idle: 200, flood: 20_000, garbage: 20)
    }

    static let frameTimeout = 2.0

    static func connect(_ port: Int) throws -> BSONSocket {
        let socket = try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(20))
        try socket.setReceiveTimeout(.seconds(20))
        try socket.setSendTimeout(.seconds(20))
        return socket
    }

    /// Round trips on a fresh connection; throws on a wrong or missing reply.
    static func roundTrips(_ port: Int, _ rounds: Int) throws {
        let socket = try connect(port)
        defer { socket.close() }
        for n in 0..<rounds {
            let document: BSONDocument = ["n": .int32(Int32(n)), "probe": "served"]
            try socket.sendObj(document)
            guard try socket.recvObj() == document else { throw BSONError(.malformed, "wrong reply at \(n)") }
        }
    }

    /// Whether the server has closed `socket` (end of stream or reset), waiting at most 200 ms.
    static func isClosedByServer(_ socket: BSONSocket) -> Bool {
        try? socket.setReceiveTimeout(.milliseconds(200))
        do throws(BSONError) {
            return try socket.recvObj() == nil
        } catch {
            return error.code != .timedOut
        }
    }

    /// VmRSS and VmHWM of a process, in KiB.
    static func memory(of pid: Int32) -> (current: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(name) {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
            }
            return 0
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    @Test("each hostile phase leaves the server serving, with bounded memory", arguments: ["threads", "nio"])
    func phases(_ engine: String) async throws {
        // The idle phase holds 11,000 descriptors here: one hungry phase at a time (see Support).
        try await offThePool { () async throws -> Void in try await withDescriptorHeavyPhase {
            let size = Self.size
            let limit = raiseDescriptorLimit()  // the child inherits it
            try #require(limit >= size.idle + size.loris + 200, "the descriptor limit (\(limit)) is too low")
            let server = try await ToolServer.start([
                "--engine", engine, "--port", "0", "--quiet", "--reply", "echo",
                "--max-connections", "\(size.idle + size.loris + 100)",
                "--frame-timeout", "\(Self.frameTimeout)",
            ])
            defer { server.child.stop() }
            let port = server.port
            let pid = server.child.pid
            var lines: [String] = []
            func note(_ phase: String) {
                let (current, peak) = Self.memory(of: pid)
                lines.append("\(phase): server RSS \(current) KiB, peak \(peak) KiB")
            }
            try await onThread { try Self.roundTrips(port, 10) }
            note("baseline")

            // 1. Slow loris: headers promising 16 MiB, then a byte a second; all cut at the frame timeout.
            let lorisOutcome = try await onThread { () -> (closed: Int, served: Bool) in
                let sockets = try (0..<size.loris).map { _ in try Self.connect(port) }
                defer { sockets.forEach { $0.close() } }
                let header = withUnsafeBytes(of: Int32(BSONFrameLimits.defaultMaximumFrameLength).littleEndian) { Array($0) }
                for socket in sockets { try socket.sendBytes(header) }
                let began = ContinuousClock.now
                var served = true
                for _ in 0..<3 {  // a byte a second for 3 s, while another client is served
                    do { try Self.roundTrips(port, 20) } catch { served = false }
                    Thread.sleep(until: Date(timeIntervalSinceNow: 1))
                    for socket in sockets { try? socket.sendBytes([0x41]) }
                }
                // Frame timeout + 1.5 s at most.
                let left = began + .seconds(Self.frameTimeout + 1.5) - ContinuousClock.now
                if left > .zero { Thread.sleep(forTimeInterval: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18) }
                return (sockets.count { Self.isClosedByServer($0) }, served)
            }
            #expect(lorisOutcome.closed == size.loris, "\(lorisOutcome.closed) of \(size.loris) slow frames were cut")
            #expect(lorisOutcome.served)
            note("after \(size.loris) slow-loris frames (16 MiB headers)")

            // 2. Idle connections, held open while another client is served.
            let idleOutcome = try await onThread { () -> Int in
                let sockets = try (0..<size.idle).map { _ in try Self.connect(port) }
                defer { sockets.forEach { $0.close() } }
                try Self.roundTrips(port, 50)
                Thread.sleep(forTimeInterval: 0.5)
                return Self.memory(of: pid).current
            }
            note("with \(size.idle) idle connections open (RSS then \(idleOutcome) KiB)")

            // 3. A flood of minimal documents on one connection, every echo counted.
            let began = ContinuousClock.now
            let echoed = try await onThread { () -> Int in
                let socket = try Self.connect(port)
                defer { socket.close() }
                let batch = Array((0..<1000).map { _ in [UInt8]([5, 0, 0, 0, 0]) }.joined())
                let total = size.flood / 1000 * 1000
                let sender = Thread {
                    for _ in 0..<(total / 1000) { if (try? socket.sendBytes(batch)) == nil { return } }
                }
                sender.start()
                var replies = 0
                while replies < total, let reply = try socket.recvObj() {
                    guard reply == [:] else { throw BSONError(.malformed, "reply \(reply)") }
                    replies += 1
                }
                try Self.roundTrips(port, 10)
                return replies
            }
            let floodSeconds = Double((ContinuousClock.now - began).components.seconds)
                + Double((ContinuousClock.now - began).components.attoseconds) / 1e18
            #expect(echoed == size.flood / 1000 * 1000)
            note("after a flood of \(echoed) minimal documents (\(Int(Double(echoed) / floodSeconds)) documents/s)")

            // 4. Random garbage: each connection is closed; others are served.
            let garbageClosed = try await onThread { () -> Int in
                var generator = SplitMix64(seed: 0xBAD)
                var closed = 0
                for index in 0..<size.garbage {
                    let garbage = (0..<(16 + (index % 50) * 41)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let socket = try Self.connect(port)
                    defer { socket.close() }
                    try? socket.sendBytes(garbage)
                    try? socket.shutdown(.write)
                    try socket.setReceiveTimeout(.seconds(Self.frameTimeout + 3))
                    do throws(BSONError) {
                        if try socket.recvObj() == nil { closed += 1 }
                    } catch {
                        if error.code == .connectionReset || error.code == .truncated { closed += 1 }
                    }
                    if index % 20 == 0 { try Self.roundTrips(port, 5) }
                }
                return closed
            }
            #expect(garbageClosed == size.garbage)
            try await onThread { try Self.roundTrips(port, 10) }
            note("after \(size.garbage) garbage connections")

            #expect(await server.stop() == 0)
            print("HOSTILE RESULT (--engine \(engine)):\n  " + lines.joined(separator: "\n  "))
        } }
    }
}
