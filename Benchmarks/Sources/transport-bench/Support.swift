// Timing, output and small helpers shared by the commands of transport-bench.

import BSONSocket

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps `value` alive and opaque to the optimizer, like ordo-one's `blackHole`.
@inline(never) @_optimize(none)
func sink<T>(_ value: T) {}

struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// Nanoseconds of wall-clock time and of this thread's CPU time (user and system: the
/// kernel's work in `recv` counts too).
struct Timing {
    var wall: Int64
    var cpu: Int64

    static func now() -> Timing {
        var wall = timespec()
        var cpu = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
        return Timing(
            wall: Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec),
            cpu: Int64(cpu.tv_sec) * 1_000_000_000 + Int64(cpu.tv_nsec))
    }

    static func - (lhs: Timing, rhs: Timing) -> Timing {
        Timing(wall: lhs.wall - rhs.wall, cpu: lhs.cpu - rhs.cpu)
    }
}

/// Monotonic nanoseconds, for one round trip.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Writes straight to the file descriptor, so that a driver reading the pipe sees each line
/// at once.
func emitLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The answer to a timed request: `task` received `count` documents in `time`.
func timingLine(task: String, count: Int, time: Timing) -> String {
    "{\"side\": \"swift\", \"task\": \"\(task)\", \"docs\": \(count), \"ns\": \(time.wall), \"cpu_ns\": \(time.cpu)}"
}

/// The answer to a ping-pong request: each round trip in nanoseconds.
func pingLine(_ samples: [UInt64]) -> String {
    "{\"side\": \"swift\", \"task\": \"ping\", \"samples_ns\": [" + samples.map(String.init).joined(separator: ",") + "]}"
}

/// A string safe to put between JSON quotes.
func jsonSafe(_ text: String) -> String {
    String(text.map { $0 == "\"" || $0 == "\\" || $0.isNewline ? " " : $0 })
}

/// A connection address as the driver writes it: `tcp:HOST:PORT` or `unix:PATH`.
enum Address {
    case tcp(host: String, port: Int)
    case unix(path: String)

    init(_ text: String) throws {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
            return
        }
        let parts = text.split(separator: ":")
        guard parts.count == 3, parts[0] == "tcp", let port = Int(parts[2]), (1...65535).contains(port) else {
            throw UsageError(description: "bad address \(text) (tcp:HOST:PORT or unix:PATH)")
        }
        self = .tcp(host: String(parts[1]), port: port)
    }

    func connect() throws(BSONError) -> BSONSocket {
        switch self {
        case .tcp(let host, let port): try BSONSocket.connect(host: host, port: port, timeout: .seconds(10))
        case .unix(let path): try BSONSocket.connect(unixPath: path)
        }
    }
}

/// The 8-byte request the sender reads after accepting: which set (0 small, 1 large) and
/// how many documents, both little-endian 32-bit.
func request(set: Int, count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt32(set).littleEndian) { bytes.append(contentsOf: $0) }
    withUnsafeBytes(of: UInt32(count).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes
}
