import BSONSocketNIO
import Foundation
import Testing

/// `bson-socket serve --engine` and `send --engine`: both engines, in every pairing, give
/// the same output.
@Suite("bson-socket --engine nio|threads", .serialized)
struct CLIEngineTests {
    static let input = "{\"a\": 1}\n\n{\"b\": {\"$numberLong\": \"7\"}, \"c\": [true, null]}\n"
    static let expected = "{\"a\":{\"$numberInt\":\"1\"}}\n{\"b\":{\"$numberLong\":\"7\"},\"c\":[true,null]}\n"

    /// Runs `bson-socket send` with `input` on standard input (bounded).
    func send(_ arguments: [String], input: String) async throws -> (status: Int32?, stdout: String, stderr: String) {
        try await onThread { try Self.sendBlocking(arguments, input: input) }
    }

    static func sendBlocking(_ arguments: [String], input: String) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = toolExecutable
        process.arguments = ["send"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date(timeIntervalSinceNow: 30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("Every pairing of engines echoes with the same output", arguments: ["nio", "threads"], ["nio", "threads"])
    func pairings(_ serverEngine: String, _ clientEngine: String) async throws {
        try await offThePool { () async throws -> Void in
            let server = try await ToolServer.start(["--engine", serverEngine, "--port", "0", "--reply", "echo"])
            defer { server.child.stop() }
            #expect(server.address.hasPrefix("127.0.0.1:"))
            let result = try await send(["--engine", clientEngine, "--port", "\(server.port)"], input: Self.input)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == Self.expected)
            #expect(await server.stop() == 0)
        }
    }

    @Test("The NIO server over a Unix socket: seed replies, SIGTERM exits 0 and removes the socket file")
    func nioUnixSeed() async throws {
        try await offThePool { () async throws -> Void in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("cli.sock")
            let server = try await ToolServer.start(["--engine", "nio", "--unix", path, "--reply", "seed"])
            #expect(server.address == path)
            let result = try await send(["--engine", "nio", "--unix", path], input: "{\"type\": \"greeting\"}\n")
            #expect(result.status == 0, "\(result.stderr)")
            let reply = try BSONDocument(extendedJSON: result.stdout.trimmingCharacters(in: .newlines))
            #expect(reply["echo"] == ["type": "greeting"])
            #expect(reply["status"] == "received")
            #expect(await server.stop() == 0)
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(server.child.errorText.contains("connection 1 from"), "events are logged like the threads engine's")
            #expect(server.child.errorText.contains("connection 1 closed after 1 document"))
            #expect(!server.child.errorText.contains("1 documents"))
        }
    }

    @Test("Errors read the same from both send engines")
    func sameErrors() async throws {
        try await offThePool { () async throws -> Void in
            let server = try await ToolServer.start(["--engine", "nio", "--port", "0"])
            defer { server.child.stop() }
            let bad = "{\"a\": 1}\n{oops}\n"
            let threads = try await send(["--engine", "threads", "--port", "\(server.port)"], input: bad)
            let nio = try await send(["--engine", "nio", "--port", "\(server.port)"], input: bad)
            #expect(threads.status == 1 && nio.status == 1)
            #expect(threads.stdout == nio.stdout)
            #expect(threads.stderr == nio.stderr)
            let refused = try await send(["--engine", "nio", "--port", "1"], input: "{}\n")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("connectionRefused"))
        }
    }

    @Test("--idle-timeout closes a silent connection on the NIO engine too; others are still served")
    func idleTimeout() async throws {
        try await offThePool { () async throws -> Void in
            let server = try await ToolServer.start(["--engine", "nio", "--port", "0", "--idle-timeout", "0.3"])
            defer { server.child.stop() }
            let port = server.port
            let waited = try await onThread { () -> Duration in
                let socket = try BSONSocket.connect(host: "127.0.0.1", port: port)
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(10))
                try socket.sendBytes(Samples.header(100))
                let began = ContinuousClock.now
                _ = try? socket.recvObj()
                return ContinuousClock.now - began
            }
            #expect(waited < .seconds(4))
            let result = try await send(["--engine", "nio", "--port", "\(port)"], input: "{\"ok\": true}\n")
            #expect(result.stdout == "{\"ok\":true}\n")
        }
    }

    @Test("--when-full refuse closes a connection beyond --max-connections at once; wait holds it until a slot frees",
          arguments: ["threads", "nio"], ["refuse", "wait"])
    func whenFull(_ engine: String, _ policy: String) async throws {
        try await offThePool { () async throws -> Void in
            let server = try await ToolServer.start([
                "--engine", engine, "--port", "0", "--max-connections", "1", "--when-full", policy,
            ])
            defer { server.child.stop() }
            let port = server.port
            try await onThread {
                let first = try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(10))
                defer { first.close() }
                try first.setReceiveTimeout(.seconds(10))
                try first.sendObj(["first": 1])
                #expect(try first.recvObj() == ["first": 1])

                let second = try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(10))
                defer { second.close() }
                try second.sendObj(["second": 1])
                try second.setReceiveTimeout(.milliseconds(800))
                let outcome = Result { () throws(BSONError) in try second.recvObj() }
                if policy == "refuse" {
                    switch outcome {
                    case .success(let document): #expect(document == nil, "refused, not served")
                    case .failure(let error): #expect(error.code == .connectionReset, "\(error)")
                    }
                } else {
                    guard case .failure(let error) = outcome else {
                        Issue.record("waiting, not refused or served: \(outcome)")
                        return
                    }
                    #expect(error.code == .timedOut, "\(error)")
                    first.close()
                    try second.setReceiveTimeout(.seconds(10))
                    #expect(try second.recvObj() == ["second": 1])
                }
            }
            #expect(await server.stop() == 0)
        }
    }
}
