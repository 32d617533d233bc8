import Foundation
import Testing

/// Runs the built `bson-socket` executable with arguments and standard input, bounded in time.
struct ToolRunner {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The executable sits next to the test bundle in SwiftPM's products directory.
    static var executable: URL {
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("bson-socket")
    }

    /// Runs the tool; kills it and records an issue if it runs longer than `timeout`.
    static func run(_ arguments: [String], input: [UInt8] = [], timeout: Duration = .seconds(30)) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()

        // Feed stdin and drain both outputs on their own threads so no pipe fills up.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let outBox = DataBox()
        let errBox = DataBox()
        let outReader = Thread { outBox.set(stdout.fileHandleForReading.readDataToEndOfFile()) }
        let errReader = Thread { errBox.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
        outReader.start()
        errReader.start()

        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("bson-socket \(arguments.joined(separator: " ")) did not finish within \(timeout)")
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        let collected = ContinuousClock.now + .seconds(5)
        while (outBox.get() == nil || errBox.get() == nil) && ContinuousClock.now < collected {
            Thread.sleep(forTimeInterval: 0.01)
        }
        return Result(
            status: process.terminationStatus,
            stdout: [UInt8](outBox.get() ?? Data()),
            stderr: String(decoding: errBox.get() ?? Data(), as: UTF8.self))
    }
}

/// A value handed from a reader thread to the test.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data? { lock.lock(); defer { lock.unlock() }; return data }
}
