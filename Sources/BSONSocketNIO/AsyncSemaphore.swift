import Synchronization

/// A counting semaphore for tasks: `acquire` waits (first come, first served) without
/// blocking a thread, and gives up with `CancellationError` when its task is cancelled.
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var nextTicket = 0
        var waiters: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state: PackageMutex<State>

    init(permits: Int) {
        precondition(permits >= 0, "permits must not be negative")
        state = PackageMutex(State(permits: permits))
    }

    /// Takes a permit, waiting for one if none is free.
    ///
    /// - Throws: `CancellationError` when the task is cancelled before a permit is taken
    ///   (no permit is held then).
    func acquire() async throws {
        let ticket = state.withLock { state -> Int? in
            if state.permits > 0, state.waiters.isEmpty {
                state.permits -= 1
                return nil
            }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if state.permits > 0, state.waiters.isEmpty {
                        state.permits -= 1
                        continuation.resume()
                        return false
                    }
                    state.waiters.append((ticket, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Takes a permit if one is free and nobody waits for one; never waits.
    ///
    /// - Returns: Whether a permit was taken.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.permits > 0, state.waiters.isEmpty else { return false }
            state.permits -= 1
            return true
        }
    }

    /// Returns a permit, handing it to the longest waiter if there is one.
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume()
    }
}
