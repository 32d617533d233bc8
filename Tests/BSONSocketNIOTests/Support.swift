import BSONSocketNIO
import Foundation
import Glibc
import NIOCore
import Synchronization
import Testing

// Helpers shared by the SwiftNIO tests: sample documents, bounded waits, temporary folders
// for Unix sockets, child processes of our own tool (the seeded generator and the descriptor
// helpers are in Tests/TestSupport).

enum Samples {
    /// Documents of many shapes: empty, every common type, nested, long strings.
    static let documents: [BSONDocument] = [
        [:],
        ["type": "greeting", "message": "Hello server!"],
        ["int32": .int32(-7), "int64": .int64(1 << 40), "double": 2.5, "bool": true, "null": nil],
        ["nested": ["list": [1, "two", 3.0, nil], "flag": true], "id": .objectID(BSONObjectID())],
        ["binary": .binary(BSONBinary(data: Array(0..<200))), "utf8": "\u{E9}\u{20AC}\u{1D11E}"],
        ["long": .string(String(repeating: "x", count: 20_000))],
        ["deep": .document(deep(40))],
        ["datetime": .datetime(BSONDatetime(millisecondsSinceEpoch: 1_709_210_096_789)), "array": [[1, 2], [3]]],
    ]

    static func deep(_ levels: Int) -> BSONDocument {
        var document: BSONDocument = ["leaf": true]
        for _ in 0..<levels { document = ["d": .document(document)] }
        return document
    }

    static func frame(_ document: BSONDocument) -> [UInt8] {
        try! document.encoded()
    }

    /// A 4-byte little-endian header announcing `length`.
    static func header(_ length: Int32) -> [UInt8] {
        withUnsafeBytes(of: length.littleEndian) { Array($0) }
    }
}

/// Waits (polling, bounded) until `condition` holds; returns whether it did.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs `operation`, failing with `timedOut` if it takes longer than `limit`.
///
/// The deadline holds even when `operation` ignores cancellation (awaiting a `Task`'s value,
/// say): the operation runs in a task of its own, which is cancelled and left behind, rather
/// than in a task group, which would wait for it and hang the test. Cancelling the caller
/// cancels the operation.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String = "operation", _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let finish: @Sendable (Result<T, any Error>) -> Bool = { result in
        guard let continuation = outcome.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
    let work = Mutex<Task<Void, Never>?>(nil)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.withLock { $0 = continuation }
            let task = Task(executorPreference: testExecutor) {
                do { _ = finish(.success(try await operation())) } catch { _ = finish(.failure(error)) }
            }
            work.withLock { $0 = task }
            if Task.isCancelled { task.cancel() }  // cancelled before the handler could see `task`
            Task {
                try? await Task.sleep(for: limit)
                if finish(.failure(BSONError(.timedOut, "\(what) did not finish within \(limit)"))) { task.cancel() }
            }
        }
    } onCancel: {
        // The caller's cancellation reaches the operation, as it would a child task.
        work.withLock { $0 }?.cancel()
    }
}

/// A private temporary directory with a short path (a socket path must fit in 108 bytes).
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/bson-nio-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BSONError(.systemCallFailed, "mkdtemp failed", errno: errno)
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The process's virtual memory size in bytes (VmSize). Memory set aside with malloc counts
/// here at once, even before it is touched (unlike the resident size), so a decoder that
/// reserved what a hostile header announced would show up.
func virtualMemorySize() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmSize:") {
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
    }
    return 0
}

/// The `bson-socket` executable, next to the test bundle in SwiftPM's products folder.
var toolExecutable: URL {
    var directory = Bundle.main.bundleURL
    if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
    return directory.appendingPathComponent("bson-socket")
}

/// A child process of ours (the tool, or a Python peer) whose first stdout line is awaited
/// with a timeout; stopped with SIGTERM (then SIGKILL) by `stop()`.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSCondition()
    private var output = Data()
    private var errors = Data()
    private var outputDone = false

    init(executable: URL, arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Thread.detachNewThread { [self] in
            while true {
                let chunk = out.fileHandleForReading.availableData
                lock.lock()
                if chunk.isEmpty { outputDone = true } else { output.append(chunk) }
                lock.broadcast()
                lock.unlock()
                if chunk.isEmpty { return }
            }
        }
        Thread.detachNewThread { [self] in
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                lock.lock()
                errors.append(chunk)
                lock.unlock()
            }
        }
    }

    /// The first line of standard output, or `nil` if none arrives within `timeout`.
    func firstLine(timeout: TimeInterval = 20) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let newline = output.firstIndex(of: 0x0A) {
                return String(decoding: output[output.startIndex..<newline], as: UTF8.self)
            }
            if outputDone || !lock.wait(until: deadline) { return nil }
        }
    }

    /// Everything written to standard output once it is closed (bounded wait).
    func allOutput(timeout: TimeInterval = 60) -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        defer { lock.unlock() }
        while !outputDone, lock.wait(until: deadline) {}
        return String(decoding: output, as: UTF8.self)
    }

    var errorText: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errors, as: UTF8.self)
    }

    var pid: Int32 { process.processIdentifier }

    /// The child's peak resident set size (VmHWM) in KiB, from /proc.
    func peakResidentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Waits (bounded) for the exit status.
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after 10 s; returns the exit status when it ended.
    @discardableResult
    func stop() -> Int32? {
        if process.isRunning { process.terminate() }
        if let status = wait(timeout: 10) { return status }
        kill(pid, SIGKILL)
        return wait(timeout: 5)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// `bson-socket serve ARGUMENTS` as a child; its address is read from the first line.
final class ToolServer: @unchecked Sendable {
    let child: ChildProcess
    let address: String

    init(_ arguments: [String]) throws {
        child = try ChildProcess(executable: toolExecutable, arguments: ["serve"] + arguments)
        guard let line = child.firstLine(), line.hasPrefix("listening on ") else {
            child.stop()
            throw BSONError(.closed, "bson-socket serve \(arguments) printed no address; stderr: \(child.errorText)")
        }
        address = String(line.dropFirst("listening on ".count))
    }

    var port: Int { Int(address.split(separator: ":").last ?? "") ?? 0 }

    /// Starts the server from an async test without blocking a thread of the concurrency
    /// pool while its first line is awaited.
    static func start(_ arguments: [String]) async throws -> ToolServer {
        try await onThread { try ToolServer(arguments) }
    }

    /// `child.stop()` off the concurrency pool.
    func stop() async -> Int32? {
        try? await onThread { [child] in child.stop() } ?? nil
    }
}

/// Runs blocking code (a `BSONSocket` client, say) on a thread of its own, so that it never
/// occupies one of the few threads of the concurrency pool that the NIO side needs.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// A `BSONServer` running `handler` in a background task, for one test.
final class RunningServer: Sendable {
    let server: BSONServer
    let task: Task<Void, any Error>
    let log = EventLog()

    init(
        unixPath: String? = nil,
        configuration: BSONServer.Configuration = .init(),
        handler: @escaping BSONServer.Handler = RunningServer.echo
    ) async throws {
        var configuration = configuration
        let forward = configuration.onEvent
        configuration.onEvent = { [log] event in
            log.append(event)
            forward(event)
        }
        if let unixPath {
            server = try await BSONServer.bind(unixPath: unixPath, configuration: configuration)
        } else {
            server = try await BSONServer.bind(configuration: configuration)
        }
        let server = server
        task = Task(executorPreference: testExecutor) { try await server.run(handler) }
    }

    /// Sends back every document received.
    static let echo: BSONServer.Handler = { connection in
        for try await document in connection.inbound { try await connection.send(document) }
    }

    var port: Int { server.localAddress.port ?? 0 }

    /// Shuts down and waits (bounded) for `run` to return.
    func stop(gracePeriod: Duration = .seconds(1)) async throws {
        server.shutdown(gracePeriod: gracePeriod)
        try await withDeadline(.seconds(20), "server shutdown") { [task] in try await task.value }
    }

    var failures: [BSONError] {
        log.events.compactMap { event in
            if case .failed(_, let error) = event { return error }
            return nil
        }
    }
}

/// The events a server reported.
final class EventLog: Sendable {
    private let storage = PackageMutex<[BSONServer.Event]>([])
    func append(_ event: BSONServer.Event) { storage.withLock { $0.append(event) } }
    var events: [BSONServer.Event] { storage.withLock { $0 } }
}

/// Lines appended from several tasks, in order.
final class Lines: Sendable {
    private let storage = PackageMutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}

/// A flag set once, read from any task.
final class Flag: Sendable {
    private let storage = Atomic<Bool>(false)
    func set() { storage.store(true, ordering: .releasing) }
    var isSet: Bool { storage.load(ordering: .acquiring) }
}

/// Leaves a Unix socket file at `path` that nobody listens on (the test's own system calls;
/// the module under test makes none).
func makeStaleSocketFile(at path: String) throws {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw BSONError(.systemCallFailed, "socket", errno: errno) }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else { throw BSONError(.systemCallFailed, "bind", errno: errno) }
}

/// A counter shared by tasks.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    func add(_ amount: Int) { storage.add(amount, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}

/// A task executor with threads of its own. The real-socket tests run on it (their servers'
/// handler tasks included), so that tests elsewhere in the process that block the few
/// threads of the default concurrency pool (waiting on child processes, say) cannot starve
/// them.
final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in run() }
            thread.name = "nio-tests-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// The executor of the real-socket tests.
let testExecutor = DedicatedExecutor(threads: 4)

/// Runs `body` with ``testExecutor`` preferred (child tasks inherit the preference).
func offThePool<T>(_ body: () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(testExecutor, operation: body)
}
