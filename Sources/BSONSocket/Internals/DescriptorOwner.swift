import Synchronization

/// Owns one descriptor: lends it to operations, and closes it exactly once.
///
/// Closing while another thread is inside an operation must not free the descriptor number
/// under that thread's feet (the number could be reused by an unrelated `open` and the
/// operation's next call would hit the wrong file). So operations register as users while
/// they hold the number, and `close()`:
/// - with no users, closes at once;
/// - with users, shuts the socket down (`shutdown(SHUT_RDWR)`, which wakes a blocked
///   `recv`, `send` or `accept`) and leaves the `close` to the last user on its way out.
///
/// After `close()` no new operation starts (they throw ``BSONError/Code/closed``). An
/// operation that fails because the socket was closed under it reports `.closed` too.
final class DescriptorOwner: Sendable {
    private struct State {
        var descriptor: Int32
        var users = 0
        var closeRequested = false
        var released = false
    }

    private let state: PackageMutex<State>
    /// For messages: "socket" or "listener".
    let noun: String

    init(descriptor: Int32, noun: String) {
        state = PackageMutex(State(descriptor: descriptor))
        self.noun = noun
    }

    /// Whether ``close()`` has been called.
    var isClosed: Bool { state.withLock { $0.closeRequested } }

    /// The descriptor number, for messages only (it may be closed by the time it is read).
    var descriptorNumber: Int32 { state.withLock { $0.descriptor } }

    /// Runs `body` with the descriptor, which stays open until `body` returns.
    ///
    /// - Throws: ``BSONError/Code/closed`` when the descriptor is closed, or was closed by
    ///   another thread while `body` ran and `body` failed; otherwise what `body` throws.
    func withDescriptor<R>(_ body: (Int32) throws(BSONError) -> R) throws(BSONError) -> R {
        let descriptor = try state.withLock { (state) throws(BSONError) -> Int32 in
            guard !state.closeRequested else {
                throw BSONError(.closed, "the \(noun) is closed")
            }
            state.users += 1
            return state.descriptor
        }
        let result: R
        do {
            result = try body(descriptor)
        } catch {
            if leave() {
                throw BSONError(
                    .closed, "the \(noun) was closed by another thread during the operation (\(error.message))",
                    errno: error.errno)
            }
            throw error
        }
        _ = leave()
        return result
    }

    /// Ends one use; closes the descriptor if a close was waiting for it. Returns whether a
    /// close had been requested.
    private func leave() -> Bool {
        let (closeNow, requested) = state.withLock { state -> (Int32?, Bool) in
            state.users -= 1
            if state.closeRequested && state.users == 0 && !state.released {
                state.released = true
                return (state.descriptor, true)
            }
            return (nil, state.closeRequested)
        }
        if let closeNow { Syscalls.close(closeNow) }
        return requested
    }

    /// Closes the descriptor, or arranges for the last user to close it. Calling it again
    /// does nothing.
    ///
    /// - Parameter finishing: Runs with the descriptor just before it is closed, when no
    ///   other thread is using it (a close that wakes other users shuts the socket down
    ///   instead, and skips it).
    func close(finishing: ((Int32) -> Void)? = nil) {
        enum Action { case none, close(Int32), shutDown(Int32) }
        let action = state.withLock { state -> Action in
            guard !state.closeRequested else { return .none }
            state.closeRequested = true
            if state.users == 0 {
                state.released = true
                return .close(state.descriptor)
            }
            return .shutDown(state.descriptor)
        }
        switch action {
        case .none:
            break
        case .close(let descriptor):
            finishing?(descriptor)
            Syscalls.close(descriptor)
        case .shutDown(let descriptor):
            // Wakes the users; ENOTCONN and the like only mean there was nothing to wake.
            try? Syscalls.shutdown(descriptor, Syscalls.shutdownBoth)
        }
    }

    deinit {
        // No operation can be running: each holds a reference to the owner's object.
        let descriptor = state.withLock { state -> Int32? in
            state.released ? nil : state.descriptor
        }
        if let descriptor { Syscalls.close(descriptor) }
    }
}
