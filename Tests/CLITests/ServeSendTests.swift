import BSONCodec
import Foundation
import Testing

/// A `bson-socket serve` process for one test, stopped with SIGTERM when done.
final class ServerProcess {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    private(set) var address = ""

    init(_ arguments: [String]) throws {
        process.executableURL = ToolRunner.executable
        process.arguments = ["serve"] + arguments
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // The first line names the address; wait for it, bounded.
        var line = [UInt8]()
        let deadline = ContinuousClock.now + .seconds(10)
        let handle = stdout.fileHandleForReading
        while ContinuousClock.now < deadline {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            if byte.first == 0x0A { break }
            line.append(contentsOf: byte)
        }
        address = String(decoding: line, as: UTF8.self)
    }

    var port: String { String(address.split(separator: ":").last ?? "") }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    func stop() -> Int32? {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    var errorOutput: String {
        String(decoding: stderr.fileHandleForReading.availableData, as: UTF8.self)
    }
}

@Suite("bson-socket serve, send and demo", .serialized)
struct ServeSendTests {
    @Test("serve prints its address first; send prints each echoed reply as canonical Extended JSON")
    func echoOverTCP() throws {
        let server = try ServerProcess(["--port", "0", "--reply", "echo"])
        defer { _ = server.stop() }
        #expect(server.address.hasPrefix("listening on 127.0.0.1:"))
        let input = "{\"a\": 1}\n\n{\"b\": {\"$numberLong\": \"7\"}, \"c\": [true, null]}\n"
        let result = try ToolRunner.run(["send", "--port", server.port], input: Array(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "{\"a\":{\"$numberInt\":\"1\"}}\n{\"b\":{\"$numberLong\":\"7\"},\"c\":[true,null]}\n")
    }

    @Test("the seed reply wraps the document with the server's time and a status")
    func seedReplyOverUnixSocket() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.sock").path
        let server = try ServerProcess(["--unix", path, "--reply", "seed"])
        #expect(server.address == "listening on \(path)")
        let result = try ToolRunner.run(["send", "--unix", path], input: Array("{\"type\": \"greeting\"}\n".utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let reply = try BSONDocument(extendedJSON: result.stdoutText.trimmingCharacters(in: .newlines))
        #expect(reply["echo"] == ["type": "greeting"])
        #expect(reply["status"] == "received")
        #expect(reply["server_time"]?.type == .datetime)
        #expect(server.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on SIGTERM")
    }

    @Test("SIGTERM stops the server with status 0")
    func stopsOnSignal() throws {
        let server = try ServerProcess(["--port", "0"])
        #expect(server.address.hasPrefix("listening on"))
        #expect(server.stop() == 0)
    }

    @Test("an idle connection is closed after --idle-timeout; the server keeps serving")
    func idleTimeout() throws {
        // 1 second, not less: the `send` below is itself a client the timeout applies to, and
        // under a sanitizer on a loaded machine it once took over 0.3 s between connecting and
        // sending its document (it reads standard input after connecting).
        let server = try ServerProcess(["--port", "0", "--idle-timeout", "1"])
        defer { _ = server.stop() }
        // A client that connects and says nothing: the server must close it.
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port)!).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        // A header promising 100 bytes, then silence.
        var header: [UInt8] = [100, 0, 0, 0]
        _ = send(socket, &header, 4, 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = ContinuousClock.now
        var byte: UInt8 = 0
        let received = recv(socket, &byte, 1, 0)
        #expect(received == 0, "the server closes the stalled connection")
        #expect(ContinuousClock.now - started < .seconds(4))
        // Others are still served.
        let result = try ToolRunner.run(["send", "--port", server.port], input: Array("{\"ok\": true}\n".utf8))
        #expect(result.stdoutText == "{\"ok\":true}\n", "status \(result.status), stderr: \(result.stderr)")
    }

    @Test("send reports a server that is not there")
    func connectionRefused() throws {
        let result = try ToolRunner.run(["send", "--port", "1"], input: Array("{}\n".utf8))
        #expect(result.status != 0)
        #expect(result.stderr.contains("connectionRefused") || result.stderr.contains("refused"))
    }

    @Test("send stops at an invalid input line with its number")
    func invalidInput() throws {
        let server = try ServerProcess(["--port", "0"])
        defer { _ = server.stop() }
        let result = try ToolRunner.run(["send", "--port", server.port], input: Array("{\"a\": 1}\n{oops}\n".utf8))
        #expect(result.status == 1)
        #expect(result.stdoutText == "{\"a\":{\"$numberInt\":\"1\"}}\n")
        #expect(result.stderr.contains("line 2"))
    }

    @Test("demo runs the seed exchange and ends by itself")
    func demo() throws {
        let result = try ToolRunner.run(["demo"], timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        let received = result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("client received:") }
        #expect(received.count == 3)
        #expect(result.stdoutText.contains("\"status\":\"received\""))
        #expect(result.stdoutText.contains("demo finished"))
    }
}
