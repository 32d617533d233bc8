import BSONSocket
import Foundation
import Testing

extension InteropTests {
    /// The Python clients against our in-process echo server (BSONListener, accept, recvObj,
    /// sendObj).
    @Suite("Python client, Swift echo server")
    struct SwiftServer {
        @Test("Every document a Python client sends arrives exactly as the Swift side expects",
              arguments: Flavour.allCases, Transport.allCases)
        func typesArrive(_ flavour: Flavour, _ transport: Transport) throws {
            try withSwiftServer(transport) { server in
                let run = try runPeer(flavour, ["emit", "types", "--exact"] + server.target)
                let expected = Suites.types(flavour)
                #expect(run.status == 0, "\(run.stderr)")
                try #require(run.records.map(\.name) == expected.map(\.name), "\(run.stderr)")
                for record in run.records {
                    #expect(record.ok == true && record.bytesEqual == true, "\(record.name ?? "?"): \(record.error ?? "")")
                }
                let logs = server.connections(ended: 1)
                try #require(logs.count == 1)
                let log = logs[0]
                #expect(log.error == nil, "\(String(describing: log.error))")
                try #require(log.documents.count == expected.count)
                for (index, (name, document)) in expected.enumerated() {
                    let received = log.documents[index]
                    // What arrived is what we expected, type for type...
                    #expect(received == document, "\(flavour) \(name): received \(received)")
                    // ...and what the peer says it sent, byte for byte.
                    let sent = try run.records[index].sentBytes()
                    #expect(try received.encoded() == sent, "\(flavour) \(name): bytes differ")
                }
            }
        }

        @Test("py-bson's own values arrive as the Swift types the design names")
        func pybsonValuesArrive() throws {
            try withSwiftServer(.tcp) { server in
                let run = try runPeer(.pybson, ["emit", "types", "--exact"] + server.target)
                #expect(run.status == 0, "\(run.stderr)")
                let log = try #require(server.connections(ended: 1).first)
                var byName: [String: BSONDocument] = [:]
                for (record, document) in zip(run.records, log.documents) { byName[record.name ?? ""] = document }
                // uint64 (2^63 ... 2^64-1) arrives as .timestamp with the same 64-bit word.
                guard case .timestamp(let max)? = byName["uint64"]?["max"] else {
                    Issue.record("uint64 did not arrive as a timestamp")
                    return
                }
                #expect(max.uint64 == .max)
                #expect(byName["uint64-array"]?["values"]?[0] == Suites.uint64(1 << 63))
                // UUID: binary subtype 4 with the RFC 4122 bytes.
                guard case .binary(let uuid)? = byName["uuid"]?["u"] else {
                    Issue.record("uuid did not arrive as binary")
                    return
                }
                #expect(uuid.subtype.rawValue == 4)
                #expect(uuid.uuid == Suites.fixedUUID)
                // Datetimes: milliseconds since the epoch.
                guard case .datetime(let leap)? = byName["datetime"]?["leap"] else {
                    Issue.record("datetime did not arrive as datetime")
                    return
                }
                #expect(leap.millisecondsSinceEpoch == 1_709_210_096_789)
                #expect(byName["datetime-offset"]?["minus"] == Suites.datetime(1_709_210_096_789))
                #expect(byName["datetime-rounding"]?["pre-epoch"] == Suites.datetime(0))
                #expect(byName["string"]?["nul"] == .string("a\u{0}b"))
                #expect(byName["double"]?["nzero"] == .double(-0.0))
                #expect(byName["double"]?["nzero"] != .double(0.0))
            }
        }

        @Test("Documents from 5 bytes to 8 MiB arrive and echo exactly", arguments: Flavour.allCases, Transport.allCases)
        func sizesArrive(_ flavour: Flavour, _ transport: Transport) throws {
            try withSwiftServer(transport) { server in
                let run = try runPeer(flavour, ["client", "--suite", "sizes", "--exact"] + server.target, timeout: 150)
                #expect(run.status == 0, "\(run.stderr)")
                let expected = Suites.sizesSuite()
                #expect(run.records.map(\.name) == expected.map(\.name))
                #expect(run.records.allSatisfy { $0.ok == true && $0.bytesEqual == true })
                let log = try #require(server.connections(ended: 1).first)
                #expect(log.error == nil, "\(String(describing: log.error))")
                try #require(log.documents.count == expected.count)
                for (received, (name, document)) in zip(log.documents, expected) {
                    #expect(received == document, "\(name)")
                }
                #expect(run.records.last?.sentLen == 8 * 1024 * 1024)
            }
        }

        @Test("100 documents sent before any reply: all arrive in order and echo",
              arguments: Flavour.allCases, [[], ["--one-write"], ["--vary"], ["--vary", "--one-write"]])
        func pipelined(_ flavour: Flavour, _ options: [String]) throws {
            try withSwiftServer(.tcp) { server in
                let run = try runPeer(flavour, ["pipeline", "100", "--exact"] + options + server.target)
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.records.count == 100)
                #expect(run.records.allSatisfy { $0.ok == true && $0.bytesEqual == true })
                let log = try #require(server.connections(ended: 1).first)
                let vary = options.contains("--vary")
                #expect(log.documents.count == 100)
                for (index, received) in log.documents.enumerated() where received != Suites.pipeline(index, vary: vary) {
                    Issue.record("document \(index) differs (\(received.count) keys)")
                }
                #expect(log.error == nil)
            }
        }

        @Test("A peer that closes inside a frame: recvObj throws .truncated, the server serves the next connection",
              arguments: Flavour.allCases, [2, 30])
        func closeMidFrame(_ flavour: Flavour, _ cut: Int) throws {
            try withSwiftServer(.tcp) { server in
                let cutRun = try runPeer(flavour, ["close-mid-frame", "--before", "1", "--cut", String(cut)] + server.target)
                #expect(cutRun.status == 0, "\(cutRun.stderr)")
                #expect(cutRun.records.last?.sent == cut)
                let first = try #require(server.connections(ended: 1).first)
                // The whole document before the cut arrived and was echoed.
                #expect(first.documents == [Suites.pipeline(0)])
                #expect(first.error?.code == .truncated, "\(String(describing: first.error))")

                let next = try runPeer(flavour, ["client", "--suite", "basic", "--exact"] + server.target)
                #expect(next.status == 0, "\(next.stderr)")
                let logs = server.connections(ended: 2)
                try #require(logs.count == 2)
                #expect(logs[1].documents == Suites.basic.map(\.document))
                #expect(logs[1].error == nil)
            }
        }

        @Test("Invalid BSON from py-bson (a key that is not UTF-8): a typed error, and the stream stays in step")
        func pybsonInvalidKey() throws {
            try withSwiftServer(.tcp) { server in
                let run = try runPeer(.pybson, ["emit", "invalid"] + server.target)
                // py-bson wrote the bytes of the key as they were.
                try #require(run.records.count == 2, "\(run.stderr)")
                #expect(try run.records[0].sentBytes() == [0x0D, 0, 0, 0, 0x10, 0xFF, 0xFE, 0, 1, 0, 0, 0, 0])
                // Our server answered the bad frame with {"error": …}, so that exchange fails
                // on the Python side; the next document is served normally.
                #expect(run.status == 1)
                #expect(run.records[0].ok == false)
                #expect(run.records[1].ok == true && run.records[1].bytesEqual == true)
                let log = try #require(server.connections(ended: 1).first)
                #expect(log.rejected.map(\.code) == [.invalidUTF8], "\(log.rejected)")
                #expect(log.documents == [["ok": true]])
                #expect(log.error == nil, "\(String(describing: log.error))")
            }
        }

        @Test("A peer that closes inside a frame over a Unix socket", arguments: Flavour.allCases)
        func closeMidFrameUnix(_ flavour: Flavour) throws {
            try withSwiftServer(.unix) { server in
                let cutRun = try runPeer(flavour, ["close-mid-frame", "--cut", "20"] + server.target)
                #expect(cutRun.status == 0, "\(cutRun.stderr)")
                let first = try #require(server.connections(ended: 1).first)
                #expect(first.documents.isEmpty)
                #expect(first.error?.code == .truncated, "\(String(describing: first.error))")
                let next = try runPeer(flavour, ["client", "--suite", "basic", "--exact"] + server.target)
                #expect(next.status == 0, "\(next.stderr)")
                #expect(server.connections(ended: 2).count == 2)
            }
        }
    }
}
