import BSONSocket
import Dispatch
import Foundation
import Glibc
import Synchronization
import SystemPackage
import Testing

// Shared helpers: connected pairs over each transport, peer threads that always finish
// within a deadline, sample documents of exact sizes, and raw descriptor utilities.

/// How long a peer thread or a blocking call in a test may take before the test fails.
let testDeadline: Duration = .seconds(30)

/// A safety net on every test socket: a receive or send that blocks this long fails the test
/// with `.timedOut` instead of hanging it.
let socketSafetyTimeout: Duration = .seconds(20)

// MARK: - Transports

/// The three ways two sockets get connected in these tests.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case socketPair
    case tcp
    case unix

    var testDescription: String { rawValue }
}

/// Two connected ``BSONSocket``s and what to clean up after them.
struct ConnectedPair: Sendable {
    let client: BSONSocket
    let server: BSONSocket

    func close() {
        client.close()
        server.close()
    }
}

/// A connected pair over `transport`, each end with the safety timeouts set. TCP goes to
/// 127.0.0.1 only; Unix sockets live in a fresh temporary directory that is removed again.
func connectedPair(_ transport: Transport) throws -> ConnectedPair {
    let pair: ConnectedPair
    switch transport {
    case .socketPair:
        let (a, b) = try BSONSocket.pair()
        pair = ConnectedPair(client: a, server: b)
    case .tcp:
        let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let client = try BSONSocket.connect(host: "127.0.0.1", port: listener.localPort!, timeout: .seconds(10))
        let server = try listener.accept(timeout: .seconds(10))
        pair = ConnectedPair(client: client, server: server)
    case .unix:
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/peer.sock"
        let listener = try BSONListener.listen(unixPath: path)
        defer { listener.close() }
        let client = try BSONSocket.connect(unixPath: path)
        let server = try listener.accept(timeout: .seconds(10))
        pair = ConnectedPair(client: client, server: server)
    }
    for socket in [pair.client, pair.server] {
        try socket.setReceiveTimeout(socketSafetyTimeout)
        try socket.setSendTimeout(socketSafetyTimeout)
    }
    return pair
}

/// A fresh directory under the system's temporary directory.
struct TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/bson-socket-tests.XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        path = String(cString: created)
    }

    /// Removes the directory and whatever is left in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Descriptors

/// Two connected Unix stream sockets as bare swift-system descriptors (not wrapped in
/// ``BSONSocket``), with the safety timeouts set.
func descriptorPair() throws -> (FileDescriptor, FileDescriptor) {
    var descriptors: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
        throw TestFailure("socketpair failed: errno \(errno)")
    }
    for descriptor in descriptors {
        setTimeout(descriptor, SO_RCVTIMEO, seconds: 20)
        setTimeout(descriptor, SO_SNDTIMEO, seconds: 20)
    }
    return (FileDescriptor(rawValue: descriptors[0]), FileDescriptor(rawValue: descriptors[1]))
}

/// Sets `SO_RCVTIMEO` or `SO_SNDTIMEO` on a raw descriptor.
func setTimeout(_ descriptor: Int32, _ option: Int32, seconds: Int = 0, microseconds: Int = 0) {
    var value = timeval(tv_sec: seconds, tv_usec: microseconds)
    let result = setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    precondition(result == 0, "setsockopt failed: errno \(errno)")
}

/// How many bytes wait to be read on a socket (`FIONREAD`).
func pendingByteCount(_ descriptor: Int32) -> Int {
    var count: Int32 = 0
    let result = ioctl(descriptor, UInt(FIONREAD), &count)
    precondition(result == 0, "ioctl(FIONREAD) failed: errno \(errno)")
    return Int(count)
}

/// Whether bytes arrive on `descriptor` within `milliseconds`.
func bytesArrive(on descriptor: Int32, within milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) > 0 && pendingByteCount(descriptor) > 0
}

extension BSONSocket {
    /// The descriptor number (for debug probes and raw checks).
    var number: Int32 {
        (try? withUnsafeDescriptor { $0.rawValue }) ?? -1
    }
}

// MARK: - Peer threads

/// Work done on a real thread (not a task), with a result collected within a deadline.
///
/// The body's error or value is handed back by ``value(within:)``; a peer that does not
/// finish in time fails the test instead of hanging it.
final class Peer<Value: Sendable>: Sendable {
    private struct State {
        var thread: pthread_t?
        var outcome: Result<Value, any Error>?
    }

    private let state = PackageMutex<State>(State())
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            state.withLock { $0.thread = pthread_self() }
            started.signal()
            let outcome = Result { try body() }
            state.withLock { $0.outcome = outcome }
            finished.signal()
        }
        thread.stackSize = 4 << 20
        thread.start()
        _ = started.wait(timeout: .now() + .seconds(10))
    }

    /// Whether the body has returned or thrown.
    var isFinished: Bool { state.withLock { $0.outcome != nil } }

    /// The thread, for `pthread_kill`.
    var thread: pthread_t { state.withLock { $0.thread! } }

    /// Waits for the body and returns its value or rethrows its error.
    func value(within deadline: Duration = testDeadline) throws -> Value {
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) * 1e-18
        guard finished.wait(timeout: .now() + seconds) == .success else {
            throw TestFailure("peer thread did not finish within \(deadline)")
        }
        finished.signal()  // later calls return at once
        return try state.withLock { $0.outcome! }.get()
    }
}

// MARK: - Documents

/// A document with one element of every BSON type, 20+ keys, nested values.
func multiTypeDocument() throws -> BSONDocument {
    let oid = BSONObjectID(hex: "5f1d7c3e9a8b7c6d5e4f3a2b")!
    return [
        "double": 3.25,
        "string": "héllo, wörld ✓",
        "document": ["nested": 1, "deeper": ["x": "y"]],
        "array": [1, "two", 3.0, ["four": 4]],
        "binary": .binary(BSONBinary(data: [0, 1, 2, 254, 255], subtype: .generic)),
        "undefined": .undefined,
        "objectID": .objectID(oid),
        "bool": true,
        "datetime": .datetime(BSONDatetime(millisecondsSinceEpoch: 1_700_000_000_123)),
        "null": nil,
        "regex": .regex(BSONRegex(pattern: "^a+b?$", options: "im")),
        "dbPointer": .dbPointer(BSONDBPointer(ref: "db.collection", id: oid)),
        "javascript": .javascript("function() { return 1; }"),
        "symbol": .symbol("a symbol"),
        "codeWithScope": .javascriptWithScope(BSONCodeWithScope(code: "x + y", scope: ["x": 1, "y": 2])),
        "int32": .int32(-42),
        "timestamp": .timestamp(BSONTimestamp(timestamp: 1_700_000_000, increment: 7)),
        "int64": .int64(1 << 40),
        "decimal128": .decimal128(try BSONDecimal128("1234.5678")),
        "minKey": .minKey,
        "maxKey": .maxKey,
    ]
}

/// A document `{"i": index, "b": <binary>}` whose encoding is exactly `length` bytes, with
/// binary content derived from `index` so that each is distinct.
func documentOfLength(_ length: Int, index: Int32 = 0) -> BSONDocument {
    // 4 (length) + 7 ("i" int32 element) + 1 + 2 + 4 + 1 (binary element header) + n + 1 (terminator)
    let payload = length - 20
    precondition(payload >= 0, "documents shorter than 20 bytes are not made here")
    let seed = UInt8(truncatingIfNeeded: index &* 31 &+ 7)
    var bytes = [UInt8](repeating: 0, count: payload)
    for offset in stride(from: 0, to: payload, by: 4096) { bytes[offset] = seed &+ UInt8(truncatingIfNeeded: offset >> 12) }
    return ["i": .int32(index), "b": .binary(BSONBinary(data: bytes))]
}

/// The little-endian bytes of a 32-bit integer.
func littleEndianBytes(_ value: Int32) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Whether `IPv6` loopback (`::1`) is configured here: a socket can be bound to it.
let hasIPv6Loopback: Bool = {
    let descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
        }
    }
}()

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
