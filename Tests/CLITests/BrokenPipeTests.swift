import Foundation
import Testing

/// A pipe whose read end the test can close while the tool still writes into it.
private struct ClosablePipe {
    let read: Int32
    let write: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
        // Not inherited as they are: the child gets only the ends set as its output.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        read = ends[0]
        write = ends[1]
    }

    /// Reads one line (bounded in bytes and time).
    func line() -> String {
        var bytes: [UInt8] = []
        var poller = pollfd(fd: read, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + .seconds(10)
        while bytes.count < 4096, ContinuousClock.now < deadline {
            guard poll(&poller, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            guard Glibc.read(read, &byte, 1) == 1, byte != 0x0A else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// No closed pipe ends the tool: SIGPIPE is ignored, and the broken pipe is handled where
/// the write fails.
@Suite("bson-socket and closed pipes", .serialized)
struct BrokenPipeTests {
    @Test("serve keeps answering after the reader of its output and log has gone", arguments: ["threads", "nio"])
    func serveOutlivesItsLogReader(engine: String) throws {
        let output = try ClosablePipe()
        let process = Process()
        process.executableURL = ToolRunner.executable
        process.arguments = ["serve", "--port", "0", "--engine", engine]
        process.standardOutput = FileHandle(fileDescriptor: output.write, closeOnDealloc: false)
        process.standardError = FileHandle(fileDescriptor: output.write, closeOnDealloc: false)
        try process.run()
        close(output.write)
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let address = output.line()
        #expect(address.hasPrefix("listening on 127.0.0.1:"))
        let port = String(address.split(separator: ":").last ?? "")
        // Nobody reads the log from now on: every connection's events meet a closed pipe.
        close(output.read)
        for round in 0..<5 {
            let result = try ToolRunner.run(["send", "--port", port], input: Array("{\"round\": \(round)}\n".utf8))
            #expect(result.status == 0, "round \(round): status \(result.status); \(result.stderr)")
            #expect(result.stdoutText == "{\"round\":{\"$numberInt\":\"\(round)\"}}\n")
        }
        #expect(process.isRunning, "serve is still running")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test("convert into a closed pipe ends quietly with status 141")
    func convertIntoClosedPipe() throws {
        let output = try ClosablePipe()
        close(output.read)
        // Enough documents that the output is written (and fails) long before the input ends;
        // from a file, so that no write of this process meets the child's closed input.
        let input = try inputFile(String(repeating: "{\"a\": [1, 2, 3], \"b\": \"text\"}\n", count: 20_000))
        defer { try? FileManager.default.removeItem(at: input) }
        let errors = Pipe()
        let process = Process()
        process.executableURL = ToolRunner.executable
        process.arguments = ["convert", "--from", "ejson", "--to", "relaxed", input.path]
        process.standardOutput = FileHandle(fileDescriptor: output.write, closeOnDealloc: false)
        process.standardError = errors
        try process.run()
        close(output.write)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "not ended by a signal")
        #expect(process.terminationStatus == 141)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.isEmpty, "quietly: \(text)")
    }

    @Test("send into a closed pipe ends quietly with status 141", arguments: ["threads", "nio"])
    func sendIntoClosedPipe(engine: String) throws {
        let server = try ServerProcess(["--port", "0"])
        defer { _ = server.stop() }
        let output = try ClosablePipe()
        close(output.read)
        let errors = Pipe()
        let input = try inputFile("{\"a\": 1}\n{\"b\": 2}\n")
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = ToolRunner.executable
        process.arguments = ["send", "--port", server.port, "--engine", engine, input.path]
        process.standardOutput = FileHandle(fileDescriptor: output.write, closeOnDealloc: false)
        process.standardError = errors
        try process.run()
        close(output.write)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "not ended by a signal")
        #expect(process.terminationStatus == 141)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.isEmpty, "quietly: \(text)")
    }
}

/// A temporary file holding `text`, for a child's input.
private func inputFile(_ text: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-input-\(UUID().uuidString.prefix(8))")
    try Data(text.utf8).write(to: url)
    return url
}
