// The DEBUG syscall probe (SyscallHooks) exists in debug builds only.
#if DEBUG
@testable import BSONSocket
import Glibc
import Synchronization
import SystemPackage
import Testing

/// A signal that interrupts a blocking receive (EINTR): retried by default so the data still
/// arrives; reported (and resumable) when retrying is switched off.
///
/// SIGUSR1 gets a handler installed without `SA_RESTART`, so the kernel does not restart the
/// interrupted `recv` itself; the signal is sent with `pthread_kill` to the one thread that
/// is blocked. The DEBUG syscall probe shows that a `recv` really returned EINTR.
///
/// Threads started from the test runner's (Dispatch) threads inherit a mask that blocks
/// most signals, so each receiving thread unblocks SIGUSR1 first.
@Suite("Signals", .serialized, .timeLimit(.minutes(1)))
struct SignalTests {
    init() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART
        sigaction(SIGUSR1, &action, nil)
    }

    /// Lets SIGUSR1 reach the calling thread.
    private static func unblockSIGUSR1() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Signals `peer`'s thread until `probe` has seen an interrupted `recv`, at most 50 times.
    private func interrupt(_ thread: pthread_t, until probe: SyscallProbe) -> Bool {
        for _ in 0..<50 {
            usleep(50_000)
            if probe.records(of: .recv).contains(where: { $0.errno == EINTR }) { return true }
            pthread_kill(thread, SIGUSR1)
        }
        return probe.records(of: .recv).contains(where: { $0.errno == EINTR })
    }

    @Test("EINTR during a blocking recvObj is retried and the document arrives")
    func retriedOnSocket() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            let receiver = Peer { () throws -> BSONDocument? in
                Self.unblockSIGUSR1()
                return try pair.server.recvObj()
            }
            #expect(interrupt(receiver.thread, until: probe))
            try pair.client.sendObj(["after": "signal"])
            #expect(try receiver.value() == ["after": "signal"])
        }
        let interrupted = probe.records(of: .recv).filter { $0.errno == EINTR }
        #expect(!interrupted.isEmpty)
        #expect(interrupted.allSatisfy { !$0.injected })
    }

    @Test("EINTR inside a frame on a bare FileDescriptor is retried and the frame completes")
    func retriedOnDescriptorMidFrame() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let frame = try documentOfLength(5000, index: 3).encoded()
        try left.sendBytes(Array(frame[..<1000]))
        let probe = SyscallProbe()
        let reading = right.rawValue
        try SyscallHooks.withProbe(probe, on: reading) { () throws in
            let receiver = Peer { () throws -> [UInt8]? in
                Self.unblockSIGUSR1()
                return try FileDescriptor(rawValue: reading).recvFrame()
            }
            #expect(interrupt(receiver.thread, until: probe))
            try left.sendBytes(Array(frame[1000...]))
            #expect(try receiver.value() == frame)
        }
    }

    @Test("with retryOnInterrupt off, EINTR is thrown and the partial frame is kept for the next call")
    func reportedWhenNotRetried() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        pair.server.retryOnInterrupt = false
        #expect(pair.server.retryOnInterrupt == false)
        let frame = try multiTypeDocument().encoded()
        try pair.client.sendBytes(Array(frame[..<100]))
        let probe = SyscallProbe()
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            let receiver = Peer { () throws -> BSONDocument? in
                Self.unblockSIGUSR1()
                return try pair.server.recvObj()
            }
            #expect(interrupt(receiver.thread, until: probe))
            let outcome = Result { try receiver.value() }
            let error = try #require(outcome.failure as? BSONError, "\(outcome)")
            #expect(error.code == .interrupted)
            #expect(error.errno == EINTR)
            #expect(error.message.contains("kept"))
        }
        try pair.client.sendBytes(Array(frame[100...]))
        #expect(try pair.server.recvObj() == (try multiTypeDocument()))
    }
}
#endif
