import BSONSocketNIO
import Foundation
import Testing

/// The SwiftNIO and Codable examples of README.md, as written there, so that the README
/// cannot drift from the API without a failing test.
@Suite("README examples", .timeLimit(.minutes(1)))
struct ReadmeExampleTests {
    @Test("the SwiftNIO example: an echo server and a request from a client")
    func nioExample() async throws {
        let server = try await BSONServer.bind(host: "127.0.0.1", port: 0)
        async let serving: Void = server.run { connection in
            for try await document in connection.inbound {
                try await connection.send(["echo": .document(document)])
            }
        }
        let reply = try await BSONClient.withConnection(port: server.localAddress.port!) { connection in
            try await connection.request(["type": "greeting"])
        }
        server.shutdown(gracePeriod: .seconds(5))
        try await serving
        #expect(reply == ["echo": .document(["type": "greeting"])])
    }

    struct Order: Codable, Equatable {
        var id: UUID
        var items: [String]
        var placed: Date
        var note: String?
    }

    @Test("the Codable example: defaults give a UUID as binary subtype 4 and a Date as a datetime")
    func codableExample() throws {
        let order = Order(
            id: UUID(), items: ["tea", "cake"], placed: Date(timeIntervalSince1970: 1_700_000_000.123), note: nil)
        let bytes = try BSONEncoder().encode(order)
        let again = try BSONDecoder().decode(Order.self, from: bytes)
        #expect(again == order)
        let document = try BSONDocument(bytes: bytes)
        #expect(document["placed"] == .datetime(BSONDatetime(millisecondsSinceEpoch: 1_700_000_000_123)))
        guard case .binary(let id)? = document["id"] else {
            Issue.record("id is not binary: \(String(describing: document["id"]))")
            return
        }
        #expect(id.subtype.rawValue == 4)
        #expect(document["note"] == nil)
    }
}
