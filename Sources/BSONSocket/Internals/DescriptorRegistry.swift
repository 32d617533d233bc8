import Synchronization

/// Process-wide state for streams that have nowhere to keep their own: swift-system's
/// `FileDescriptor` is a bare number, so its send lock and its "this stream lost its place"
/// marks live here, keyed by descriptor number.
///
/// - Send locks: one `Mutex` per descriptor number, created on first use and dropped when
///   no sender holds or waits for it, so two descriptors never wait on each other and the
///   table does not grow with closed descriptors.
/// - Lost streams: when a receive or send on a `FileDescriptor` stops inside a frame, the
///   open file is marked with the reason. The mark records the file's identity (device and
///   inode from `fstat`) so that a later descriptor that reuses the number for another file
///   is not mistaken for the lost one; a mark whose identity no longer matches is dropped.
///   A `dup` of a lost descriptor has another number and is not covered.
enum DescriptorRegistry {
    private final class SendLock: Sendable {
        let mutex = PackageMutex(())
    }

    private struct SendLockEntry {
        let lock: SendLock
        var users: Int
    }

    private static let sendLocks = PackageMutex<[Int32: SendLockEntry]>([:])

    /// Runs `body` holding the send lock of `descriptor`.
    static func withSendLock<R>(_ descriptor: Int32, _ body: () throws(BSONError) -> R) throws(BSONError) -> R {
        let lock = sendLocks.withLock { table -> SendLock in
            if var entry = table[descriptor] {
                entry.users += 1
                table[descriptor] = entry
                return entry.lock
            }
            let lock = SendLock()
            table[descriptor] = SendLockEntry(lock: lock, users: 1)
            return lock
        }
        defer {
            sendLocks.withLock { table in
                if let entry = table[descriptor] {
                    if entry.users <= 1 {
                        table[descriptor] = nil
                    } else {
                        table[descriptor] = SendLockEntry(lock: entry.lock, users: entry.users - 1)
                    }
                }
            }
        }
        return try lock.mutex.withLock { (_) throws(BSONError) -> R in try body() }
    }

    /// Which direction of a stream a mark is about.
    enum Direction: Hashable, Sendable {
        case receive, send
    }

    private struct LostStream {
        let identity: FileIdentity
        var reasons: [Direction: BSONError]
    }

    private static let lostStreams = PackageMutex<[Int32: LostStream]>([:])

    /// Marks the stream open on `descriptor` as lost in one direction.
    static func markLost(_ descriptor: Int32, _ direction: Direction, reason: BSONError) {
        // Without an identity the mark could hit an unrelated file later; better no mark.
        guard let identity = try? Syscalls.identity(of: descriptor) else { return }
        lostStreams.withLock { table in
            if var entry = table[descriptor], entry.identity == identity {
                entry.reasons[direction] = reason
                table[descriptor] = entry
            } else {
                table[descriptor] = LostStream(identity: identity, reasons: [direction: reason])
            }
        }
    }

    /// Throws ``BSONError/Code/unusable`` when the stream open on `descriptor` was marked lost
    /// in `direction`.
    static func checkUsable(_ descriptor: Int32, _ direction: Direction) throws(BSONError) {
        guard let entry = lostStreams.withLock({ $0[descriptor] }), let reason = entry.reasons[direction] else { return }
        let identity = try? Syscalls.identity(of: descriptor)
        guard identity == entry.identity else {
            // The number now belongs to another file: the mark is stale.
            lostStreams.withLock { table in
                if table[descriptor]?.identity == entry.identity { table[descriptor] = nil }
            }
            return
        }
        throw BSONError(
            .unusable,
            "the \(direction == .receive ? "receive" : "send") side of descriptor \(descriptor) lost its place "
                + "in the stream earlier (\(reason.code): \(reason.message)); close it",
            errno: reason.errno)
    }
}
