// Helpers shared by the test targets (BSONCodecTests, BSONSocketTests, BSONSocketNIOTests).
// A plain target with `package` access, so that no test target keeps a copy of its own.

import BSONCodec
import Foundation
import Glibc

/// SplitMix64: a tiny, fast, deterministic generator, so that randomised tests (mutations,
/// garbage bytes, splits) run the same cases on every machine and every run.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Raises this process's descriptor limit to the hard limit (tests with many connections need
/// it); returns the soft limit now.
@discardableResult
package func raiseDescriptorLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}

/// Runs `body` as the only descriptor-hungry phase on this machine at the moment.
///
/// At full size (`make hostile-test`) the idle-connection phases of HostilePeerTests,
/// HostilePeerNIOTests and HostileServeTests each hold 10,000 or more descriptors in the test
/// process; together they pass the 20,000 allowed here and fail with EMFILE. They take turns
/// through a file lock (`flock`), which also excludes callers within one process because each
/// call opens the file anew. The waiting is bounded (15 minutes).
package func withDescriptorHeavyPhase<T>(_ body: () throws -> T) throws -> T {
    let lock = try DescriptorHeavyLock()
    defer { lock.release() }
    while try !lock.tryAcquire() { Thread.sleep(forTimeInterval: 0.05) }
    return try body()
}

/// ``withDescriptorHeavyPhase(_:)`` for async tests: waits with `Task.sleep`, not holding a
/// thread.
package func withDescriptorHeavyPhase<T>(_ body: () async throws -> T) async throws -> T {
    let lock = try DescriptorHeavyLock()
    defer { lock.release() }
    while try !lock.tryAcquire() { try await Task.sleep(for: .milliseconds(50)) }
    return try await body()
}

/// The open lock file behind ``withDescriptorHeavyPhase(_:)``.
private struct DescriptorHeavyLock {
    static let path = "/tmp/swift-bson-socket-descriptor-heavy.lock"
    let descriptor: Int32
    let deadline = ContinuousClock.now + .seconds(900)

    init() throws {
        descriptor = open(Self.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw BSONError(.systemCallFailed, "cannot open \(Self.path)", errno: errno) }
    }

    /// Whether the lock is held now; throws once the wait has lasted 15 minutes.
    func tryAcquire() throws -> Bool {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
        guard ContinuousClock.now < deadline else { throw BSONError(.timedOut, "\(Self.path) stayed locked for 15 minutes") }
        return false
    }

    /// Closing the file releases the lock.
    func release() { close(descriptor) }
}
