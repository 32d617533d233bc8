import BSONSocket
import Foundation
import Synchronization
import Testing

extension InteropTests {
    /// Our client (BSONSocket.connect, sendObj, recvObj) against the Python echo servers.
    @Suite("Swift client, Python echo server")
    struct SwiftClient {
        @Test("Every type of the flavour's suite comes back exactly", arguments: Flavour.allCases, Transport.allCases)
        func typesEcho(_ flavour: Flavour, _ transport: Transport) throws {
            try withPythonServer(flavour, transport) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                for (name, document) in Suites.types(flavour) {
                    try socket.sendObj(document)
                    let reply = try #require(try socket.recvObj(), "\(name): the server hung up")
                    #expect(reply == document, "\(name): sent \(document), got \(reply)")
                }
                #expect(socket.isClosed == false)
            }
        }

        @Test("Documents from 5 bytes to 8 MiB come back exactly", arguments: Flavour.allCases, Transport.allCases)
        func sizesEcho(_ flavour: Flavour, _ transport: Transport) throws {
            try withPythonServer(flavour, transport) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                for (name, document) in Suites.sizesSuite() {
                    let bytes = try document.encoded()
                    #expect(bytes.count == Int(name.split(separator: "-")[1])!, "\(name) has \(bytes.count) bytes")
                    try socket.sendObj(document)
                    let reply = try #require(try socket.recvFrame(), "\(name): the server hung up")
                    #expect(reply.count == bytes.count, "\(name)")
                    #expect(reply == bytes, "\(name): the echo differs")
                }
            }
        }

        @Test("100 documents sent before any reply is read come back in order",
              arguments: Flavour.allCases, Transport.allCases)
        func pipelined(_ flavour: Flavour, _ transport: Transport) throws {
            try withPythonServer(flavour, transport) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                for index in 0..<100 { try socket.sendObj(Suites.pipeline(index)) }
                for index in 0..<100 {
                    let reply = try #require(try socket.recvObj(), "reply \(index) missing")
                    #expect(reply == Suites.pipeline(index), "reply \(index)")
                }
                // Then the server closes nothing on its own: one more exchange works.
                try socket.sendObj(["after": true])
                #expect(try socket.recvObj() == ["after": true])
            }
        }

        @Test("100 documents of mixed sizes (0 to 146 KiB) sent from one thread while another reads the echoes",
              arguments: Flavour.allCases)
        func pipelinedMixedSizes(_ flavour: Flavour) throws {
            try withPythonServer(flavour, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                let documents = (0..<100).map { Suites.pipeline($0, vary: true) }
                // Megabytes in flight: sending on its own thread keeps both sides' buffers
                // moving (BSONSocket allows one receiver alongside senders).
                let sendError = PackageMutex<BSONError?>(nil)
                let sent = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    do throws(BSONError) {
                        for document in documents { try socket.sendObj(document) }
                    } catch {
                        sendError.withLock { $0 = error }
                    }
                    sent.signal()
                }
                for (index, document) in documents.enumerated() {
                    let reply = try #require(try socket.recvObj(), "reply \(index) missing")
                    if reply != document { Issue.record("reply \(index) differs") }
                }
                #expect(sent.wait(timeout: .now() + 60) == .success)
                #expect(sendError.withLock { $0 } == nil)
            }
        }

        @Test("A server that closes inside its reply: our recvObj throws .truncated",
              arguments: Flavour.allCases, [2, 12])
        func serverClosesMidReply(_ flavour: Flavour, _ cut: Int) throws {
            let server = try PeerServer(flavour, reply: ["--reply", "cut", "--cut", String(cut)])
            defer { server.stop() }
            let socket = try connect(to: server)
            defer { socket.close() }
            try socket.sendObj(["type": "greeting", "message": "Hello server!"])
            #expect {
                _ = try socket.recvObj()
            } throws: { error in
                (error as? BSONError)?.code == .truncated
            }
            // Whatever comes next, it is not a document read from the middle of a frame.
            #expect(throws: BSONError.self) { _ = try socket.recvObj() }
        }

        @Test("recvBytes reads py-bson's frame raw: exactly the bytes asked for, then the rest")
        func recvBytesAgainstPyBSON() throws {
            try withPythonServer(.pybson, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                let seed: BSONDocument = ["type": "greeting", "message": "Hello server!"]
                let bytes = try seed.encoded()
                try socket.sendObj(seed)
                var buffer: [UInt8] = []
                #expect(try socket.recvBytes(4, into: &buffer))
                #expect(buffer == Array(bytes[0..<4]))
                let length = Int(UInt32(buffer[0]) | UInt32(buffer[1]) << 8 | UInt32(buffer[2]) << 16 | UInt32(buffer[3]) << 24)
                #expect(try socket.recvBytes(length - 4, into: &buffer))
                #expect(buffer == bytes)
                // A clean close by us ends the server's connection; its next accept still works.
            }
        }

        @Test("swift-system's FileDescriptor exchanges documents with both flavours", arguments: Flavour.allCases)
        func fileDescriptorPath(_ flavour: Flavour) throws {
            try withPythonServer(flavour, .unix) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                let documents = Suites.basic
                try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) in
                    for (_, document) in documents {
                        try descriptor.sendObj(document)
                    }
                }
                for (name, document) in documents {
                    let reply = try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) in
                        try descriptor.recvObj()
                    }
                    #expect(reply == document, "\(name)")
                }
            }
        }

        // MARK: py-bson

        @Test("py-bson narrows what it can hold: what our values look like after a py-bson echo")
        func pybsonNarrows() throws {
            let objectID = Suites.objectID
            let sent: BSONDocument = [
                "int64-small": .int64(5), "int64-negative": .int64(-7),
                "timestamp-small": .timestamp(BSONTimestamp(timestamp: 1, increment: 2)),
                "timestamp-zero": .timestamp(BSONTimestamp(timestamp: 0, increment: 0)),
                "timestamp-high": .timestamp(BSONTimestamp(timestamp: 0x8000_0000, increment: 9)),
                "objectid": .objectID(objectID),
                "binary-user": Suites.binary(Array("ab".utf8), 0x80),
                "binary-function": Suites.binary([1], 1),
                "binary-old": Suites.binary(Array("old".utf8), 2),
                "uuid-legacy": Suites.binary(Array(0..<16), 3),
                "nan-payload": .double(Double(bitPattern: 0x7FF8_0000_0000_0123)),
                "datetime-negative": Suites.datetime(-1_234_567),
            ]
            let expected: BSONDocument = [
                // Python has one int type: back as the narrowest of int32/int64/uint64.
                "int64-small": .int32(5), "int64-negative": .int32(-7),
                "timestamp-small": .int64(4_294_967_298),
                "timestamp-zero": .int32(0),
                "timestamp-high": .timestamp(BSONTimestamp(timestamp: 0x8000_0000, increment: 9)),
                // An ObjectID is decoded to its 24 hex digits as bytes, re-sent as binary.
                "objectid": Suites.binary(Array(objectID.hexString.utf8), 0),
                // The subtype is dropped (old binary keeps its inner length in the data)...
                "binary-user": Suites.binary(Array("ab".utf8), 0),
                "binary-function": Suites.binary([1], 0),
                "binary-old": Suites.binary([3, 0, 0, 0] + Array("old".utf8), 0),
                // ...except 3, read as a UUID and written as subtype 4.
                "uuid-legacy": Suites.binary(Array(0..<16), 4),
                "nan-payload": .double(Double(bitPattern: 0x7FF8_0000_0000_0123)),
                "datetime-negative": Suites.datetime(-1_234_567),
            ]
            try withPythonServer(.pybson, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                try socket.sendObj(sent)
                let reply = try #require(try socket.recvObj())
                #expect(reply == expected)
                for (key, value) in expected where reply[key] != value {
                    Issue.record("\(key): expected \(value), got \(String(describing: reply[key]))")
                }
                // Repeated keys: a Python dict keeps one, the last value at the first position.
                let repeated = BSONDocument([("a", .int32(1)), ("b", .int32(2)), ("a", .int32(3))])
                try socket.sendObj(repeated)
                #expect(try socket.recvObj() == BSONDocument([("a", .int32(3)), ("b", .int32(2))]))
            }
        }

        @Test("A py-bson-style [String: Any] goes through py-bson unchanged")
        func anyDictionaryThroughPyBSON() throws {
            let dictionary: [String: Any] = [
                "int": 5, "int64": Int64(1) << 40, "uint64": UInt64.max, "uint64-low": UInt64(1) << 63,
                "small-unsigned": UInt32(7), "double": 2.5, "string": "text", "bool": true, "null": NSNull(),
                "uuid": Suites.fixedUUID, "data": Data([1, 2, 3]),
                "date": Date(timeIntervalSince1970: 1_709_210_096.789),
                "nested": ["list": [1, "two", 3.0] as [Any]] as [String: Any],
            ]
            let document = try BSONDocument(dictionary)
            // What the conversion promises, in py-bson's terms.
            #expect(document["uint64"] == Suites.uint64(.max))
            #expect(document["uint64-low"] == Suites.uint64(1 << 63))
            #expect(document["small-unsigned"] == .int32(7))
            #expect(document["uuid"] == .binary(BSONBinary(uuid: Suites.fixedUUID)))
            #expect(document["date"] == Suites.datetime(Suites.leapMillis))
            try withPythonServer(.pybson, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                try socket.sendObj(dictionary)
                let reply = try #require(try socket.recvObj())
                // py-bson decoded every value to a Python value and wrote it back the same.
                #expect(reply == document)
            }
        }

        @Test("py-bson silently corrupts types it has no branch for when they follow another element")
        func pybsonCorruptsLaterElements() throws {
            try withPythonServer(.pybson, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                // Types with no value bytes: the key gets the previous element's value.
                try socket.sendObj(["first": .int32(1), "min": .minKey, "max": .maxKey, "undefined": .undefined])
                #expect(try socket.recvObj() == ["first": .int32(1), "min": .int32(1), "max": .int32(1), "undefined": .int32(1)])
                // A regex: the key gets the previous value, then the pattern and options bytes
                // ("ab\0i\0") are parsed as if they were elements: type 'a' named "b", type 'i'
                // named "" -- each again with the stale value.
                try socket.sendObj(["first": .int32(1), "re": .regex(BSONRegex(pattern: "ab", options: "i"))])
                #expect(try socket.recvObj() == ["first": .int32(1), "re": .int32(1), "b": .int32(1), "": .int32(1)])
                // The connection is still in step: a plain document goes through unchanged.
                try socket.sendObj(["plain": "yes"])
                #expect(try socket.recvObj() == ["plain": "yes"])
            }
        }

        @Test(
            "py-bson hangs up on a document that starts with a type it cannot read",
            arguments: [
                BSONValue.undefined, .regex(BSONRegex(pattern: "a", options: "")),
                .dbPointer(BSONDBPointer(ref: "db.c", id: Suites.objectID)), .javascript("1"), .symbol("s"),
                .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["x": .int32(1)])),
                .decimal128(try! BSONDecimal128("1.5")), .minKey, .maxKey,
            ])
        func pybsonRejectsLeadingUnsupported(_ value: BSONValue) throws {
            try withPythonServer(.pybson, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                try socket.sendObj(["k": value, "after": .int32(2)])
                // py-bson's decoder raises UnboundLocalError; the peer logs it and closes the
                // connection, which our side sees as a clean close between documents.
                #expect(try socket.recvObj() == nil, "\(value.type)")
                #expect(waitForStderr(server.peer, containing: "UnboundLocalError"), "\(server.peer.diagnostics)")
                // The server is still there for the next connection.
                let next = try connect(to: server)
                defer { next.close() }
                try next.sendObj(["again": .int32(1)])
                #expect(try next.recvObj() == ["again": .int32(1)])
            }
        }

        @Test("py-bson cannot decode datetimes outside years 1...9999: it hangs up")
        func pybsonDatetimeRange() throws {
            try withPythonServer(.pybson, .tcp) { server in
                for milliseconds in [Int64.max, 253_402_300_800_000, -62_135_596_800_001] {
                    let socket = try connect(to: server)
                    defer { socket.close() }
                    try socket.sendObj(["when": Suites.datetime(milliseconds)])
                    #expect(try socket.recvObj() == nil, "\(milliseconds) ms")
                }
                #expect(waitForStderr(server.peer, containing: "out of range"), "\(server.peer.diagnostics)")
            }
        }

        // MARK: pymongo

        @Test("pymongo's echo rewrites the deprecated types and normalizes regex flags and DBRefs")
        func pymongoNormalizes() throws {
            let objectID = Suites.objectID
            let sent: BSONDocument = [
                "undefined": .undefined,
                "symbol": .symbol("sym"),
                "pointer": .dbPointer(BSONDBPointer(ref: "db.coll", id: objectID)),
                "regex": .regex(BSONRegex(pattern: "ab", options: "mix")),
                "regex-unknown": .regex(BSONRegex(pattern: "ab", options: "ua")),
                "dbref": ["$id": .int32(1), "extra": true, "$ref": "coll"],
                "timestamp": .timestamp(BSONTimestamp(timestamp: 1, increment: 2)),
            ]
            let expected: BSONDocument = [
                "undefined": .null,
                "symbol": .string("sym"),
                "pointer": ["$ref": "db.coll", "$id": .objectID(objectID)],
                "regex": .regex(BSONRegex(pattern: "ab", options: "imx")),
                "regex-unknown": .regex(BSONRegex(pattern: "ab", options: "u")),
                "dbref": ["$ref": "coll", "$id": .int32(1), "extra": true],
                "timestamp": .timestamp(BSONTimestamp(timestamp: 1, increment: 2)),
            ]
            try withPythonServer(.pymongo, .tcp) { server in
                let socket = try connect(to: server)
                defer { socket.close() }
                try socket.sendObj(sent)
                let reply = try #require(try socket.recvObj())
                #expect(reply == expected)
                for (key, value) in expected where reply[key] != value {
                    Issue.record("\(key): expected \(value), got \(String(describing: reply[key]))")
                }
                let repeated = BSONDocument([("a", .int32(1)), ("b", .int32(2)), ("a", .int32(3))])
                try socket.sendObj(repeated)
                #expect(try socket.recvObj() == BSONDocument([("a", .int32(3)), ("b", .int32(2))]))
            }
        }
    }
}
