import BSONSocket
import Foundation

/// The example exchange of the py-bson socket demo that this project started from: a client
/// sends three messages, the server answers each with what it received, its own time and a
/// status.
enum SeedExample {
    /// The three messages the demo client sends.
    static func messages(now: Date = Date()) -> [BSONDocument] {
        [
            ["type": "greeting", "message": "Hello server!"],
            [
                "type": "data",
                "values": [1, 2, 3, 4, 5],
                "average": 3.0,
                "sent_at": .datetime(BSONDatetime(now)),
            ],
            [
                "type": "complex",
                "nested": ["list": [1, "two", 3.0, nil], "flag": true, "big": .int64(1 << 40)],
                "id": .objectID(BSONObjectID()),
                "payload": .binary(BSONBinary(data: Array("raw bytes".utf8))),
            ],
        ]
    }

    /// The server's answer: `{echo: <the message>, server_time: <now>, status: "received"}`.
    static func reply(to message: BSONDocument, now: Date = Date()) -> BSONDocument {
        ["echo": .document(message), "server_time": .datetime(BSONDatetime(now)), "status": "received"]
    }
}
