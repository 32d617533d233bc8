import BSONSocket
import Foundation
import Testing

/// Interoperability with Python programs: py-bson (PyPI `bson` 0.5.10, the library whose
/// `patch_socket()` this package models) and pymongo's `bson`, each run from its own virtual
/// environment by the peers in Tests/Interop/.
///
/// The interpreters come from BSON_SOCKET_PYBSON and BSON_SOCKET_PYMONGO, which `make test`
/// sets; without them every test here fails with a message saying so.
///
/// Serialized: the peers are whole Python processes, and the 8 MiB cases are heavy on two
/// cores. Every wait inside is bounded as well (timeouts on sockets, pipes and processes).
@Suite("Python peers", .serialized, .timeLimit(.minutes(3)))
struct InteropTests {
    @Suite("Test harness")
    struct Harness {
        @Test("A missing interpreter variable fails the test and names `make test`")
        func missingInterpreterVariable() {
            #expect {
                _ = try Flavour.pybson.interpreter(environment: [:])
            } throws: { error in
                let text = String(describing: error)
                return text.contains("BSON_SOCKET_PYBSON") && text.contains("make test")
            }
        }

        @Test("An interpreter path that is not executable fails the test and names `make test`")
        func missingInterpreterFile() {
            #expect {
                _ = try Flavour.pymongo.interpreter(environment: ["BSON_SOCKET_PYMONGO": "/nonexistent/bin/python"])
            } throws: { error in
                let text = String(describing: error)
                return text.contains("/nonexistent/bin/python") && text.contains("make test")
            }
        }

        @Test("The interpreters of `make test` are present", arguments: Flavour.allCases)
        func interpretersPresent(_ flavour: Flavour) throws {
            let path = try flavour.interpreter()
            #expect(FileManager.default.isExecutableFile(atPath: path))
        }
    }

    /// What the Python libraries write, compared offline (no sockets) with the Swift side's
    /// independent expectations: decoding their bytes gives exactly our documents, and
    /// encoding our documents gives exactly their bytes.
    @Suite("Python encodings")
    struct PythonEncodings {
        @Test("Every document of a suite decodes to the Swift expectation and re-encodes to the same bytes",
              arguments: Flavour.allCases, ["basic", "types"])
        func suiteBytes(_ flavour: Flavour, _ suite: String) throws {
            let run = try runPeer(flavour, ["print-suite", suite])
            try #require(run.status == 0, "print-suite failed: \(run.stderr)")
            let expected = suite == "basic" ? Suites.basic : Suites.types(flavour)
            try #require(run.records.map(\.name) == expected.map(\.name))
            for (record, (name, document)) in zip(run.records, expected) {
                let bytes = try record.sentBytes()
                let decoded = try BSONDocument(bytes: bytes)
                #expect(decoded == document, "\(flavour) \(suite) \(name): decoded \(decoded)")
                #expect(try document.encoded() == bytes, "\(flavour) \(suite) \(name): our encoding differs")
            }
        }

        @Test("py-bson's values, as the Swift side sees them")
        func pybsonValues() throws {
            let run = try runPeer(.pybson, ["print-suite", "types"])
            try #require(run.status == 0, "print-suite failed: \(run.stderr)")
            var documents: [String: BSONDocument] = [:]
            for record in run.records {
                documents[record.name ?? ""] = try BSONDocument(bytes: record.sentBytes())
            }
            // Python ints from 2^63 to 2^64-1: type 0x11, read through the uint64 view.
            let uint64 = try #require(documents["uint64"])
            guard case .timestamp(let max)? = uint64["max"], case .timestamp(let low)? = uint64["low"] else {
                Issue.record("uint64 values are not timestamps: \(uint64)")
                return
            }
            #expect(max.uint64 == UInt64.max)
            #expect(low.uint64 == 1 << 63)
            #expect(uint64["mid"] == .timestamp(BSONTimestamp(uint64: 9_223_372_041_741_494_153)))
            // Smaller ints: int32 when they fit, else int64.
            #expect(documents["int64"]?["above"] == .int64(2_147_483_648))
            #expect(documents["int32"]?["max"] == .int32(.max))
            // uuid.UUID: binary subtype 4 in RFC 4122 order.
            guard case .binary(let uuid)? = documents["uuid"]?["u"] else {
                Issue.record("uuid is not binary")
                return
            }
            #expect(uuid.subtype == .uuid)
            #expect(uuid.uuid == Suites.fixedUUID)
            #expect(uuid.data == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
            // datetime: milliseconds, naive taken as UTC, rounding half to even.
            guard case .datetime(let naive)? = documents["datetime-naive"]?["naive"] else {
                Issue.record("naive datetime is not a datetime")
                return
            }
            #expect(naive.millisecondsSinceEpoch == Suites.leapMillis)
            #expect(naive.iso8601String == "2024-02-29T12:34:56.789Z")
            let rounding = try #require(documents["datetime-rounding"])
            #expect(rounding["half-odd"] == Suites.datetime(1_709_210_096_124))
            #expect(rounding["half-even"] == Suites.datetime(1_709_210_096_124))
            #expect(rounding["carry"] == Suites.datetime(1_709_210_097_000))
            // Decimal: a double, not a Decimal128.
            #expect(documents["decimal"]?["short"] == .double(1.1))
            // bytes: binary subtype 0.
            #expect(documents["binary"]?["all"] == Suites.binary(Array(0...255), 0))
        }
    }
}

// MARK: - Shared helpers

/// Runs `body` with a Python echo server of `flavour` on `transport`; the server is always
/// stopped and its temporary directory removed.
func withPythonServer<R>(
    _ flavour: Flavour, _ transport: Transport, _ body: (PeerServer) throws -> R
) throws -> R {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let server = try PeerServer(flavour, unixPath: transport == .unix ? directory.file("\(flavour).sock") : nil)
    defer { server.stop() }
    return try body(server)
}

/// Connects to a Python server with our socket type, with timeouts so nothing hangs.
func connect(to server: PeerServer) throws -> BSONSocket {
    let socket: BSONSocket
    if let port = server.port {
        socket = try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(10))
    } else {
        socket = try BSONSocket.connect(unixPath: try #require(server.unixPath))
    }
    try socket.setReceiveTimeout(.seconds(60))
    try socket.setSendTimeout(.seconds(60))
    return socket
}

/// Runs `body` with our echo server on `transport`; the server is always stopped.
func withSwiftServer<R>(_ transport: Transport, _ body: (SwiftEchoServer) throws -> R) throws -> R {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let server = try SwiftEchoServer(transport, directory: directory)
    defer { server.stop() }
    return try body(server)
}

/// Waits (bounded) until the peer's stderr contains `text`.
func waitForStderr(_ peer: PeerProcess, containing text: String, timeout: Double = 10) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if peer.stderr.text.contains(text) { return true }
        usleep(20_000)
    }
    return peer.stderr.text.contains(text)
}
