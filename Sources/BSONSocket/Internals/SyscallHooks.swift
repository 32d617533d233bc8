#if DEBUG
import Synchronization

// Observation and fault injection for the data system calls, in DEBUG builds only (release
// builds compile none of this, and `Syscalls` checks nothing).
//
// A probe is attached to one descriptor number for the duration of a closure. While it is
// attached, every recv/read/send/write on that descriptor, from any thread, is recorded
// (what was asked for, what came back), and a fault planned for the Nth call of a kind is
// applied to it: an errno instead of the call (EINTR, EAGAIN, ECONNRESET, EPIPE…) or a
// shorter length than asked (a short read or write). Scoping by descriptor lets tests run
// in parallel: a descriptor number cannot be reused while the test that holds it is open.

/// Records the data calls made on one descriptor and applies planned faults to them.
package final class SyscallProbe: Sendable {
    /// One data call as the layer made it.
    package struct Record: Sendable, Hashable, CustomStringConvertible {
        /// Which call.
        package let call: DataSyscall
        /// How many bytes the package asked for.
        package let requested: Int
        /// What the call returned (-1 for an error).
        package let result: Int
        /// The errno of a failed call, 0 otherwise.
        package let errno: Int32
        /// Whether a planned fault shaped this call.
        package let injected: Bool

        /// `recv(32768) = 100`, with the errno and whether a fault was injected.
        package var description: String {
            "\(call)(\(requested)) = \(result)" + (errno != 0 ? " errno \(errno)" : "") + (injected ? " [injected]" : "")
        }
    }

    /// What to do to a planned call.
    package enum Fault: Sendable, Hashable {
        /// Do not make the call; fail with this errno.
        case fail(errno: Int32)
        /// Make the call, but ask for at most this many bytes.
        case limit(Int)
        /// Make the call, but ask for this many bytes fewer than the package did (at least 1).
        case shorten(by: Int)
    }

    private struct State {
        var records: [Record] = []
        var counts: [DataSyscall: Int] = [:]
        var plan: [DataSyscall: [Int: Fault]] = [:]
    }

    private let state = PackageMutex(State())

    /// A probe with no records and no planned faults.
    package init() {}

    /// Plans `fault` for the `number`th call (1-based) of kind `call` made after the probe is
    /// attached.
    package func inject(_ fault: Fault, on call: DataSyscall, number: Int) {
        precondition(number >= 1, "calls are numbered from 1")
        state.withLock { $0.plan[call, default: [:]][number] = fault }
    }

    /// Every call recorded so far, in order.
    package var records: [Record] { state.withLock { $0.records } }

    /// The calls of one kind recorded so far, in order.
    package func records(of call: DataSyscall) -> [Record] {
        state.withLock { $0.records.filter { $0.call == call } }
    }

    /// Runs `body` as the call `kind`, applying a planned fault, and records it.
    func run(
        _ kind: DataSyscall, requested: Int, _ body: (Int) -> (result: Int, errno: Int32)
    ) -> (result: Int, errno: Int32) {
        let fault: Fault? = state.withLock { state in
            state.counts[kind, default: 0] += 1
            return state.plan[kind]?[state.counts[kind]!]
        }
        let outcome: (result: Int, errno: Int32)
        switch fault {
        case .fail(let code):
            outcome = (-1, code)
        case .limit(let most):
            outcome = body(min(requested, most))
        case .shorten(let fewer):
            outcome = body(max(1, requested - fewer))
        case nil:
            outcome = body(requested)
        }
        let record = Record(
            call: kind, requested: requested, result: outcome.result, errno: outcome.result < 0 ? outcome.errno : 0,
            injected: fault != nil)
        state.withLock { $0.records.append(record) }
        return outcome
    }
}

/// Where probes are attached.
package enum SyscallHooks {
    private static let probes = PackageMutex<[Int32: SyscallProbe]>([:])
    private static let attachedCount = Atomic<Int>(0)

    /// Attaches `probe` to `descriptor` while `body` runs.
    ///
    /// - Precondition: No other probe is attached to `descriptor`.
    package static func withProbe<R>(
        _ probe: SyscallProbe, on descriptor: Int32, _ body: () throws -> R
    ) rethrows -> R {
        probes.withLock { table in
            precondition(table[descriptor] == nil, "a probe is already attached to descriptor \(descriptor)")
            table[descriptor] = probe
        }
        attachedCount.add(1, ordering: .sequentiallyConsistent)
        defer {
            probes.withLock { table in table[descriptor] = nil }
            attachedCount.subtract(1, ordering: .sequentiallyConsistent)
        }
        return try body()
    }

    /// The probe attached to `descriptor`, if any.
    static func probe(for descriptor: Int32) -> SyscallProbe? {
        guard attachedCount.load(ordering: .relaxed) > 0 else { return nil }
        return probes.withLock { $0[descriptor] }
    }
}
#endif
