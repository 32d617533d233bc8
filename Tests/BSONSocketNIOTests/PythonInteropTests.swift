import BSONSocketNIO
import Foundation
import Testing

/// The NIO client and server against the Python peers of Tests/Interop (py-bson 0.5.10 and
/// pymongo's bson), the same scripts Tests/InteropTests runs against the blocking side.
@Suite("SwiftNIO against the Python peers")
struct PythonInteropTests {
    enum Flavour: String, CaseIterable, CustomTestStringConvertible {
        case pybson, pymongo
        var testDescription: String { rawValue }

        var variable: String { self == .pybson ? "BSON_SOCKET_PYBSON" : "BSON_SOCKET_PYMONGO" }

        static let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop")

        /// The interpreter `make test` provides; a missing one fails the test, never skips it.
        func interpreter() throws -> URL {
            guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else {
                throw BSONError(
                    .closed,
                    "\(variable) is not set. These tests need the Python interpreter of the \(rawValue) virtual "
                        + "environment: run `make test`, which creates the environments and sets "
                        + "BSON_SOCKET_PYBSON and BSON_SOCKET_PYMONGO.")
            }
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw BSONError(.closed, "\(variable)=\(path) is not an executable file. Run `make test`.")
            }
            return URL(fileURLWithPath: path)
        }

        func peer(_ arguments: [String]) throws -> ChildProcess {
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONUNBUFFERED"] = "1"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
            let script = Self.folder.appendingPathComponent("\(rawValue)_peer.py").path
            return try ChildProcess(executable: interpreter(), arguments: ["-B", script] + arguments, environment: environment)
        }
    }

    @Test("Python clients against the NIO echo server, every reply byte-exact",
          arguments: Flavour.allCases, LoopbackTests.Transport.allCases)
    func pythonClientNIOServer(_ flavour: Flavour, _ transport: LoopbackTests.Transport) async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("p.sock")
            let running = try await RunningServer(unixPath: transport == .unix ? path : nil)
            let target = transport == .unix ? ["--unix", path] : ["--host", "127.0.0.1", "--port", "\(running.port)"]
            let (output, status, errors) = try await onThread {
                let client = try flavour.peer(["client", "--suite", "basic", "--exact"] + target)
                let output = client.allOutput(timeout: 90)
                return (output, client.wait(timeout: 30), client.errorText)
            }
            #expect(status == 0, "\(errors)")
            let lines = output.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(line.contains("\"ok\": true") || line.contains("\"ok\":true"), "\(line)")
            }
            try await running.stop()
            #expect(running.failures.isEmpty, "\(running.failures)")
        }
    }

    @Test("The NIO client against the Python echo servers", arguments: Flavour.allCases, LoopbackTests.Transport.allCases)
    func nioClientPythonServer(_ flavour: Flavour, _ transport: LoopbackTests.Transport) async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("py.sock")
            var arguments = ["server", "--idle-timeout", "60", "--lifetime", "300", "--reply", "echo"]
            arguments += transport == .unix ? ["--unix", path] : ["--host", "127.0.0.1", "--port", "0"]
            let server = try flavour.peer(arguments)
            defer { server.stop() }
            let first = try await onThread { server.firstLine() }
            let line = try #require(first, "no address from the \(flavour) server: \(server.errorText)")
            let address = String(line.dropFirst("listening on ".count))
            // Documents both libraries echo unchanged, byte for byte.
            let documents: [BSONDocument] = [
                [:],
                ["type": "greeting", "message": "Hello server!"],
                ["int32": .int32(-7), "int64": .int64(1 << 40), "double": 2.5, "bool": true, "null": nil],
                ["nested": ["list": [1, "two", 3.0], "flag": false], "utf8": "\u{E9}\u{20AC}\u{1D11E}"],
                ["big": .string(String(repeating: "b", count: 300_000))],
            ]
            let body: @Sendable (BSONConnection) async throws -> Void = { connection in
                for document in documents {
                    let reply = try await connection.request(document)
                    #expect(try reply.encoded() == document.encoded(), "\(flavour): \(document.keys)")
                }
                // Pipelined: 200 documents before any reply is read.
                let many = (0..<200).map { i -> BSONDocument in ["i": .int32(Int32(i))] }
                try await connection.send(contentsOf: many)
                for expected in many {
                    let reply = try await connection.receive()
                    #expect(reply == expected)
                }
            }
            try await withDeadline(.seconds(90)) {
                if transport == .unix {
                    try await BSONClient.withConnection(unixPath: path, body)
                } else {
                    let port = Int(address.split(separator: ":").last ?? "") ?? 0
                    try await BSONClient.withConnection(port: port, body)
                }
            }
        }
    }
}
