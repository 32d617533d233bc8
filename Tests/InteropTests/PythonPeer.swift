import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Launching the Python peers of Tests/Interop/ as child processes, with every wait bounded.

/// Which Python BSON library a peer runs on.
enum Flavour: String, CaseIterable, Sendable, CustomStringConvertible {
    /// PyPI `bson` 0.5.10 (`bson.patch_socket()`, `sendobj`/`recvobj`).
    case pybson
    /// pymongo 4.20.1's `bson` (`bson.encode`/`bson.decode`, our own Python framing).
    case pymongo

    /// The environment variable `make test` sets to the flavour's interpreter.
    var environmentVariable: String {
        switch self {
        case .pybson: "BSON_SOCKET_PYBSON"
        case .pymongo: "BSON_SOCKET_PYMONGO"
        }
    }

    var script: URL {
        Self.interopFolder.appendingPathComponent("\(rawValue)_peer.py")
    }

    var description: String { rawValue }

    /// Tests/Interop, found from this file's own path.
    static let interopFolder: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // InteropTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Interop")

    /// The interpreter to run the peer with. A missing variable or interpreter is an error
    /// (the test fails), never a reason to skip.
    func interpreter(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let path = environment[environmentVariable], !path.isEmpty else {
            throw PeerFailure(
                "\(environmentVariable) is not set. The interop tests need the Python interpreter of the "
                    + "\(rawValue) virtual environment: run `make test`, which creates the environments and "
                    + "sets BSON_SOCKET_PYBSON and BSON_SOCKET_PYMONGO.")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PeerFailure(
                "\(environmentVariable)=\(path) is not an executable file. Run `make test` (it creates "
                    + "the virtual environments .venv-pybson and .venv-pymongo).")
        }
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw PeerFailure("the peer script \(script.path) is missing")
        }
        return path
    }
}

/// A failure of the test machinery itself (a peer that would not start, a timeout).
struct PeerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Collects everything a child writes to one pipe, on a thread of its own, so that the
/// child never blocks on a full pipe; lines can be awaited with a timeout.
final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    private var finished = false

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty {
                    finished = true
                } else {
                    data.append(chunk)
                }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
        thread.start()
    }

    /// The first line, once it is complete; `nil` when none arrives within `timeout`.
    func firstLine(timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let newline = data.firstIndex(of: UInt8(ascii: "\n")) {
                return String(decoding: data[data.startIndex..<newline], as: UTF8.self)
            }
            if finished || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Waits (bounded) for the end of the stream and returns everything written.
    func all(timeout: Double) -> Data {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if !condition.wait(until: deadline) { break }
        }
        return data
    }

    /// What has arrived so far.
    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A running peer process. `stop()` ends it (SIGTERM, then SIGKILL) and is safe to call
/// more than once; every test calls it in a `defer`.
final class PeerProcess {
    let flavour: Flavour
    let arguments: [String]
    private let process = Process()
    let stdout: OutputCollector
    let stderr: OutputCollector

    init(_ flavour: Flavour, _ arguments: [String]) throws {
        self.flavour = flavour
        self.arguments = arguments
        process.executableURL = URL(fileURLWithPath: try flavour.interpreter())
        // -B: no __pycache__ in the source tree.
        process.arguments = ["-B", flavour.script.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        stdout = OutputCollector(out.fileHandleForReading)
        stderr = OutputCollector(err.fileHandleForReading)
    }

    var isRunning: Bool { process.isRunning }

    /// Waits up to `timeout` seconds for the process to exit; returns its status, or `nil`
    /// when it was still running (it is then stopped).
    func wait(timeout: Double) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline {
            usleep(10_000)
        }
        if process.isRunning {
            stop()
            return nil
        }
        return process.terminationStatus
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            let hardDeadline = Date(timeIntervalSinceNow: 5)
            while process.isRunning && Date() < hardDeadline { usleep(10_000) }
        }
    }

    deinit { stop() }

    /// A description for failure messages: the command and what the peer wrote to stderr.
    var diagnostics: String {
        "\(flavour) peer \(arguments.joined(separator: " ")); stderr:\n\(stderr.text)"
    }
}

/// An echo server peer: started, its `listening on …` line read within a timeout.
final class PeerServer {
    let peer: PeerProcess
    /// The TCP port, for a TCP server.
    let port: Int?
    /// The socket path, for a Unix-domain server.
    let unixPath: String?

    /// Starts `PEER server` on 127.0.0.1 with a free port, or on `unixPath`.
    init(_ flavour: Flavour, unixPath: String? = nil, reply: [String] = ["--reply", "echo"]) throws {
        var arguments = ["server", "--idle-timeout", "60", "--lifetime", "300"] + reply
        if let unixPath {
            arguments += ["--unix", unixPath]
        } else {
            arguments += ["--host", "127.0.0.1", "--port", "0"]
        }
        peer = try PeerProcess(flavour, arguments)
        guard let line = peer.stdout.firstLine(timeout: 20) else {
            peer.stop()
            throw PeerFailure("no 'listening on' line within 20 s from \(peer.diagnostics)")
        }
        let prefix = "listening on "
        guard line.hasPrefix(prefix) else {
            peer.stop()
            throw PeerFailure("unexpected first line \(line.debugDescription) from \(peer.diagnostics)")
        }
        let address = String(line.dropFirst(prefix.count))
        if let unixPath {
            guard address == unixPath else {
                peer.stop()
                throw PeerFailure("server listens on \(address), not \(unixPath)")
            }
            self.port = nil
            self.unixPath = unixPath
        } else {
            guard address.hasPrefix("127.0.0.1:"), let port = Int(address.dropFirst("127.0.0.1:".count)) else {
                peer.stop()
                throw PeerFailure("cannot read a port from \(line.debugDescription)")
            }
            self.port = port
            self.unixPath = nil
        }
    }

    func stop() { peer.stop() }
}

/// One JSON line a client-side peer mode prints.
struct PeerRecord: Decodable {
    var name: String?
    var index: Int?
    var ok: Bool?
    var bytesEqual: Bool?
    var equal: Bool?
    var closed: Bool?
    var error: String?
    var sentHex: String?
    var sentLen: Int?
    var replyLen: Int?
    var announced: Int?
    var sent: Int?
    /// classes-send: the Python class of the reply as py-bson loaded it.
    var replyClass: String?
    /// classes-recv: the Python class of what py-bson loaded.
    var loadedClass: String?

    enum CodingKeys: String, CodingKey {
        case name, index, ok, equal, closed, error, announced, sent
        case bytesEqual = "bytes_equal"
        case sentHex = "sent_hex"
        case sentLen = "sent_len"
        case replyLen = "reply_len"
        case replyClass = "reply_class"
        case loadedClass = "class"
    }

    /// The bytes the peer sent, from `sent_hex`.
    func sentBytes() throws -> [UInt8] {
        guard let sentHex else { throw PeerFailure("record \(name ?? "?") carries no sent_hex") }
        return try hexBytes(sentHex)
    }
}

/// The outcome of a client-side peer run.
struct PeerRun {
    var status: Int32?
    var records: [PeerRecord]
    var stderr: String
}

/// Runs a client-side mode of a peer to its end (bounded by `timeout` seconds).
func runPeer(_ flavour: Flavour, _ arguments: [String], timeout: Double = 90) throws -> PeerRun {
    let peer = try PeerProcess(flavour, arguments)
    defer { peer.stop() }
    let status = peer.wait(timeout: timeout)
    let output = peer.stdout.all(timeout: 10)
    let errors = String(decoding: peer.stderr.all(timeout: 10), as: UTF8.self)
    var records: [PeerRecord] = []
    for line in output.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        do {
            records.append(try JSONDecoder().decode(PeerRecord.self, from: Data(line)))
        } catch {
            throw PeerFailure("unreadable line from \(flavour) \(arguments): \(String(decoding: line, as: UTF8.self))")
        }
    }
    return PeerRun(status: status, records: records, stderr: errors)
}

/// Bytes from lowercase or uppercase hexadecimal text.
func hexBytes(_ text: String) throws -> [UInt8] {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { throw PeerFailure("odd-length hex") }
    func value(_ digit: UInt8) throws -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: throw PeerFailure("not a hex digit: \(digit)")
        }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        bytes.append(try value(digits[index]) << 4 | value(digits[index + 1]))
        index += 2
    }
    return bytes
}

/// A private temporary directory for Unix sockets, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        // Short, under /tmp: a socket path must fit in sun_path (108 bytes).
        var template = Array("/tmp/bson-interop-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PeerFailure("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
