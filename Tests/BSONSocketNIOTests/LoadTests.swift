import BSONSocketNIO
import Foundation
import Synchronization
import Testing
import TestSupport

/// Many concurrent clients through the NIO echo server (`bson-socket serve --engine nio`, a
/// child process, so that its own peak memory can be read), every reply checked.
///
/// The default size suits `make test` on 2 cores; `BSON_SOCKET_LOAD=full` (or
/// `make load-test`) runs 1,000 clients × 1,000 documents.
@Suite("Load: concurrent clients through the NIO echo server", .serialized)
struct LoadTests {
    static var size: (clients: Int, documents: Int) {
        ProcessInfo.processInfo.environment["BSON_SOCKET_LOAD"] == "full" ? (1_000, 1_000) : (100, 100)
    }

    @Test("Every client gets every document back, in order, once; the server's peak memory is reported")
    func concurrentClients() async throws {
        try await offThePool { () async throws -> Void in
            let (clients, documents) = Self.size
            let limit = raiseDescriptorLimit()
            try #require(limit >= 2 * clients + 100, "the descriptor limit (\(limit)) is too low for \(clients) clients")
            let server = try await ToolServer.start(["--engine", "nio", "--port", "0", "--quiet", "--max-connections", "100000"])
            defer { server.child.stop() }
            let port = server.port
            let connected = Counter()
            let checked = Counter()
            let began = ContinuousClock.now
            try await withDeadline(clients >= 1_000 ? .seconds(900) : .seconds(180), "the load run") {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<clients {
                        group.addTask {
                            // Connect in waves, so the listen backlog is not overrun; then wait until
                            // every client is connected, so all of them are active at once.
                            try await Task.sleep(for: .milliseconds(client / 100 * 20))
                            try await BSONClient.withConnection(port: port, connectTimeout: .seconds(60)) { connection in
                                connected.add(1)
                                while connected.value < clients { try await Task.sleep(for: .milliseconds(10)) }
                                try await Self.exchange(connection, client: client, documents: documents)
                                checked.add(documents)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let elapsed = ContinuousClock.now - began
            let peak = server.child.peakResidentKiB()
            #expect(checked.value == clients * documents)
            #expect(await server.stop() == 0)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "LOAD RESULT: \(clients) clients x \(documents) documents = \(clients * documents) round trips "
                    + "in \(String(format: "%.1f", seconds)) s (\(Int(Double(clients * documents) / seconds)) documents/s); "
                    + "server peak RSS (VmHWM) \(peak.map { "\($0) KiB" } ?? "unknown")")
        }
    }

    /// Sends `documents` documents in batches while the replies are checked: each must be the
    /// next one this client sent, so a lost, duplicated or misrouted reply fails.
    static func exchange(_ connection: BSONConnection, client: Int, documents: Int) async throws {
        let batch = 50
        async let sending: Void = {
            var next = 0
            while next < documents {
                let end = min(documents, next + batch)
                try await connection.send(contentsOf: (next..<end).map { Self.document(client: client, sequence: $0) })
                next = end
            }
        }()
        var expected = 0
        while expected < documents {
            guard let reply = try await connection.receive() else {
                throw BSONError(.closed, "client \(client): the server closed after \(expected) replies")
            }
            guard reply == Self.document(client: client, sequence: expected) else {
                throw BSONError(.malformed, "client \(client): reply \(expected) was \(reply)")
            }
            expected += 1
        }
        try await sending
    }

    static func document(client: Int, sequence: Int) -> BSONDocument {
        ["client": .int32(Int32(client)), "sequence": .int32(Int32(sequence)), "payload": "0123456789abcdef"]
    }
}
