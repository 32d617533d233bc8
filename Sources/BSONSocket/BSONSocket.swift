public import SystemPackage
import Synchronization

/// A blocking stream socket (TCP over IPv4 or IPv6, or Unix domain) that exchanges BSON
/// documents.
///
/// ```swift
/// let socket = try BSONSocket.connect(host: "127.0.0.1", port: 8080)
/// defer { socket.close() }
/// try socket.sendObj(["type": "greeting", "message": "Hello server!"])
/// if let reply = try socket.recvObj() { print(reply) }
/// ```
///
/// Get one from ``connect(host:port:timeout:)``, ``connect(unixPath:)``,
/// ``BSONListener/accept(timeout:)``, ``pair()`` or ``init(adopting:)``. The seed API
/// (``BSONStreamIO/recvObj(options:limits:)``, ``BSONStreamIO/sendObj(_:options:)-(BSONDocument,_)``,
/// ``recvBytes(_:into:)``) comes from ``BSONStreamIO``.
///
/// **Ownership.** The socket owns its descriptor and closes it exactly once: in ``close()``,
/// or in `deinit` if ``close()`` was never called (no operation can be running then, since
/// each holds a reference to the socket). Call ``close()`` to release the connection at a
/// known time. ``close()`` may be called from any thread and any number of times; an
/// operation blocked in another thread is woken (the socket is shut down first) and the
/// descriptor is closed when the last such operation returns.
///
/// **Threads.** The class is `Sendable`. Receives are serialized by one lock and sends by
/// another, so one thread may receive while others send, and concurrent
/// ``BSONStreamIO/sendObj(_:options:)-(BSONDocument,_)`` calls never interleave their frames.
///
/// **Reading ahead.** One `recv` may bring many small frames: they are kept in a 64 KiB
/// read-ahead buffer (``readAheadCapacity``) and served from it. Large frames are read
/// straight into their own storage. ``recvBytes(_:into:)`` returns buffered bytes first, so
/// framed and raw reads can be mixed and see the stream in order.
///
/// **Timeouts.** With ``setReceiveTimeout(_:)``, a receive that times out inside a frame
/// keeps what arrived: it throws ``BSONError/Code/timedOut`` and the next receive resumes the
/// same frame. A send that times out part-way through a frame cannot be taken back: it throws
/// ``BSONError/Code/unusable`` and so does every later send.
///
/// **Options on new sockets.** TCP sockets from ``connect(host:port:timeout:)`` and
/// ``BSONListener/accept(timeout:)`` have `TCP_NODELAY` on (small frames go out at once;
/// see ``setNoDelay(_:)``). Every descriptor is created close-on-exec.
public final class BSONSocket: Sendable {
    /// The size of the read-ahead buffer: 64 KiB. Frames whose remaining bytes are at least
    /// this many are received straight into their own storage instead.
    public static let readAheadCapacity = BufferedReceiver.capacity

    /// The most bytes one receive call asks for when writing into a caller's array
    /// (``recvBytes(_:into:)``) or into a large frame's storage: 32 KiB, as in py-bson.
    public static let maximumReceiveSize = DescriptorIO.maximumReceiveSize

    let owner: DescriptorOwner
    /// The descriptor's number, fixed at creation (for messages and tests).
    let descriptorNumber: Int32
    /// Whether the socket is TCP (IPv4 or IPv6), so that TCP options apply.
    let isTCP: Bool
    let receiveState = PackageMutex(BufferedReceiver())
    let sendState = PackageMutex(SendState())
    private let retriesOnInterrupt = Atomic<Bool>(true)
    /// The frame timeout in nanoseconds, 0 for none (see ``setFrameTimeout(_:)``).
    private let frameTimeoutNanoseconds = Atomic<Int64>(0)
    /// The receive timeout last set through ``setReceiveTimeout(_:)``, in nanoseconds (0 for
    /// none), so that a wait for the rest of a frame honours it too.
    private let receiveTimeoutNanoseconds = Atomic<Int64>(0)

    struct SendState {
        /// Set when a send stopped part-way through its bytes.
        var failure: BSONError?
    }

    /// Takes ownership of a connected stream-socket descriptor.
    init(descriptor: Int32, isTCP: Bool) {
        owner = DescriptorOwner(descriptor: descriptor, noun: "socket")
        descriptorNumber = descriptor
        self.isTCP = isTCP
    }

    /// "socket 7", for messages.
    var label: String { "socket \(descriptorNumber)" }

    /// Whether a system call interrupted by a signal (EINTR) is made again. Default `true`.
    ///
    /// With `false`, a signal that interrupts a blocking receive or send makes it throw
    /// ``BSONError/Code/interrupted`` with ``BSONError/errno`` set to `EINTR` (4);
    /// a receive keeps any partial frame, as after a timeout, so the call can be repeated.
    public var retryOnInterrupt: Bool {
        get { retriesOnInterrupt.load(ordering: .relaxed) }
        set { retriesOnInterrupt.store(newValue, ordering: .relaxed) }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { owner.isClosed }

    /// Closes the socket. Idempotent; never throws.
    ///
    /// **Nothing sent is lost.** Every document a send returned for reaches the peer before
    /// the end of the stream, unless the peer resets the connection: when the peer has sent
    /// bytes this side never read (which would make the kernel reset the connection and drop
    /// what it still holds for the peer), `close()` first ends the output (`SHUT_WR`), then
    /// reads and drops the peer's bytes until the peer closes, no byte came for 2 seconds, or
    /// 30 seconds passed. With no unread input it closes at once, and so it does after a
    /// send failed part-way through a frame (nothing whole can reach the peer any more).
    ///
    /// If another thread is inside an operation on this socket, the socket is shut down in
    /// both directions to wake it (the operation returns or throws ``BSONError/Code/closed``)
    /// and the descriptor is closed when it leaves. Operations started after `close()` throw
    /// ``BSONError/Code/closed``. The corresponding C functions are `close` (never retried)
    /// and `shutdown`.
    public func close() {
        close(lingering: true)
    }

    /// Closes, waiting for unread input to drain first only when `lingering` and the send
    /// side is intact: after a send stopped part-way through a frame the peer can never
    /// get a whole document again, so there is nothing left to deliver.
    func close(lingering: Bool) {
        guard lingering, sendState.withLock({ $0.failure == nil }) else {
            owner.close()
            return
        }
        owner.close { descriptor in
            Syscalls.finishOutput(descriptor, quiet: BSONServerDefaults.lingerQuiet, limit: BSONServerDefaults.lingerLimit)
        }
    }

    /// Turns TCP keepalive on with `keepalive`'s timing, or off with `nil`; see
    /// ``BSONKeepalive``. Does nothing on a Unix domain socket. ``BSONThreadedServer`` sets
    /// it on every TCP connection it serves (default ``BSONKeepalive/default``).
    ///
    /// - Throws: ``BSONError/Code/closed`` after ``close()``, or
    ///   ``BSONError/Code/systemCallFailed``. The corresponding C function is `setsockopt`
    ///   with `SO_KEEPALIVE`, `TCP_KEEPIDLE`, `TCP_KEEPINTVL` and `TCP_KEEPCNT`.
    public func setKeepalive(_ keepalive: BSONKeepalive?) throws(BSONError) {
        guard isTCP else { return }
        try owner.withDescriptor { (descriptor) throws(BSONError) in
            do throws(SystemErrno) {
                for option in BSONKeepalive.socketOptions(keepalive) {
                    try Syscalls.setOption(descriptor, level: option.level, name: option.name, value: option.value)
                }
            } catch {
                throw error.bsonError("setsockopt", while: "setting TCP keepalive on \(label)")
            }
        }
    }

    /// Which direction(s) of a connection ``shutdown(_:)`` ends.
    public enum ShutdownDirection: Sendable, Hashable {
        /// No more receiving (`SHUT_RD`).
        case read
        /// No more sending (`SHUT_WR`): the peer's next receive at a frame boundary sees a
        /// clean close (`nil`).
        case write
        /// Both (`SHUT_RDWR`).
        case both
    }

    /// Ends one or both directions of the connection without closing the descriptor.
    ///
    /// - Parameter direction: ``ShutdownDirection/read``, ``ShutdownDirection/write`` or
    ///   ``ShutdownDirection/both``.
    /// - Throws: ``BSONError/Code/closed`` after ``close()``; ``BSONError/Code/systemCallFailed``
    ///   (for example `ENOTCONN`). The corresponding C function is `shutdown`.
    public func shutdown(_ direction: ShutdownDirection) throws(BSONError) {
        let how =
            switch direction {
            case .read: Syscalls.shutdownRead
            case .write: Syscalls.shutdownWrite
            case .both: Syscalls.shutdownBoth
            }
        try owner.withDescriptor { (descriptor) throws(BSONError) in
            do throws(SystemErrno) {
                try Syscalls.shutdown(descriptor, how)
            } catch {
                throw error.bsonError("shutdown", while: "shutting down \(direction) on \(label)")
            }
        }
    }

    /// Sets how long a receive may block before it throws ``BSONError/Code/timedOut``.
    ///
    /// A timeout inside a frame loses nothing: the bytes that arrived are kept and the next
    /// receive resumes the frame.
    ///
    /// - Parameter timeout: The limit for each blocking receive call; `nil` (the default
    ///   for new sockets) blocks without limit. Must be positive. The kernel keeps it in
    ///   clock ticks, so it is rounded up to a multiple of the tick (a few milliseconds).
    /// - Throws: ``BSONError/Code/closed`` after ``close()``, or
    ///   ``BSONError/Code/systemCallFailed``. The corresponding C function is `setsockopt`
    ///   with `SO_RCVTIMEO`.
    public func setReceiveTimeout(_ timeout: Duration?) throws(BSONError) {
        try setTimeout(timeout, receive: true)
        receiveTimeoutNanoseconds.store(timeout.map(Self.nanoseconds) ?? 0, ordering: .relaxed)
    }

    /// Sets how long one frame may take to arrive, counted from the moment its first byte is
    /// here; `nil` (the default for new sockets) sets no limit.
    ///
    /// The receive timeout (``setReceiveTimeout(_:)``) limits each wait for bytes, so a peer
    /// that sends a header and then one byte a second never trips it. The frame timeout
    /// limits the whole frame: once it has passed, the frame receive throws
    /// ``BSONError/Code/timedOut`` (saying that the frame timeout expired), the partial
    /// frame is dropped, and the receive side is ``BSONError/Code/unusable`` from then on
    /// (the stream's place is lost; close the connection). Time between frames does not
    /// count. ``BSONThreadedServer`` sets it on every connection it serves.
    ///
    /// While a frame timeout is set, each wait inside a frame is one `poll` (for at most
    /// the time left) before the `recv`.
    ///
    /// - Parameter timeout: The limit for one frame; must be positive, or `nil` for none.
    public func setFrameTimeout(_ timeout: Duration?) {
        if let timeout { precondition(timeout > .zero, "a timeout must be positive; use nil for none") }
        frameTimeoutNanoseconds.store(timeout.map(Self.nanoseconds) ?? 0, ordering: .relaxed)
    }

    /// The frame timeout, or `nil` for none (see ``setFrameTimeout(_:)``).
    public var frameTimeout: Duration? {
        let nanoseconds = frameTimeoutNanoseconds.load(ordering: .relaxed)
        return nanoseconds > 0 ? .nanoseconds(nanoseconds) : nil
    }

    /// What a frame receive needs to know about the frame timeout; `nil` when none is set.
    var frameDeadline: FrameDeadline? {
        let frame = frameTimeoutNanoseconds.load(ordering: .relaxed)
        guard frame > 0 else { return nil }
        let receive = receiveTimeoutNanoseconds.load(ordering: .relaxed)
        return FrameDeadline(frameTimeout: .nanoseconds(frame), receiveTimeout: receive > 0 ? .nanoseconds(receive) : nil)
    }

    /// A duration in whole nanoseconds, at least 1, saturating.
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflowed) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowed ? .max : Swift.max(1, sum)
    }

    /// Sets how long a send may block before it throws.
    ///
    /// A send that times out before any byte of its buffer went out throws
    /// ``BSONError/Code/timedOut`` and may be repeated; one that times out part-way throws
    /// ``BSONError/Code/unusable`` (the peer holds a partial frame), as does every later
    /// send.
    ///
    /// - Parameter timeout: The limit for each blocking send call; `nil` (the default)
    ///   blocks without limit. Must be positive. Rounded up to the kernel's clock tick.
    /// - Throws: ``BSONError/Code/closed`` after ``close()``, or
    ///   ``BSONError/Code/systemCallFailed``. The corresponding C function is `setsockopt`
    ///   with `SO_SNDTIMEO`.
    public func setSendTimeout(_ timeout: Duration?) throws(BSONError) {
        try setTimeout(timeout, receive: false)
    }

    /// The receive timeout, or `nil` for none (see ``setReceiveTimeout(_:)``).
    ///
    /// - Throws: ``BSONError/Code/closed`` after ``close()``. The corresponding C function
    ///   is `getsockopt` with `SO_RCVTIMEO`.
    public var receiveTimeout: Duration? {
        get throws(BSONError) { try timeout(receive: true) }
    }

    /// The send timeout, or `nil` for none (see ``setSendTimeout(_:)``).
    ///
    /// - Throws: ``BSONError/Code/closed`` after ``close()``. The corresponding C function
    ///   is `getsockopt` with `SO_SNDTIMEO`.
    public var sendTimeout: Duration? {
        get throws(BSONError) { try timeout(receive: false) }
    }

    private func setTimeout(_ timeout: Duration?, receive: Bool) throws(BSONError) {
        if let timeout { precondition(timeout > .zero, "a timeout must be positive; use nil for none") }
        try owner.withDescriptor { (descriptor) throws(BSONError) in
            do throws(SystemErrno) {
                try Syscalls.setTimeout(descriptor, receive: receive, timeout)
            } catch {
                throw error.bsonError("setsockopt", while: "setting the \(receive ? "receive" : "send") timeout of \(label)")
            }
        }
    }

    private func timeout(receive: Bool) throws(BSONError) -> Duration? {
        try owner.withDescriptor { (descriptor) throws(BSONError) -> Duration? in
            do throws(SystemErrno) {
                return try Syscalls.timeout(descriptor, receive: receive)
            } catch {
                throw error.bsonError("getsockopt", while: "reading the \(receive ? "receive" : "send") timeout of \(label)")
            }
        }
    }

    /// Turns Nagle's algorithm off (`true`, the default for TCP sockets of this package) or
    /// on. Does nothing on a Unix domain socket.
    ///
    /// - Parameter enabled: Whether `TCP_NODELAY` is set.
    /// - Throws: ``BSONError/Code/closed`` after ``close()``, or
    ///   ``BSONError/Code/systemCallFailed``. The corresponding C function is `setsockopt`
    ///   with `TCP_NODELAY`.
    public func setNoDelay(_ enabled: Bool) throws(BSONError) {
        guard isTCP else { return }
        try owner.withDescriptor { (descriptor) throws(BSONError) in
            do throws(SystemErrno) {
                try Syscalls.setOption(
                    descriptor, level: Syscalls.levelTCP, name: Syscalls.optionNoDelay, value: enabled ? 1 : 0)
            } catch {
                throw error.bsonError("setsockopt", while: "setting TCP_NODELAY on \(label)")
            }
        }
    }

    /// This end's address.
    ///
    /// - Throws: ``BSONError/Code/closed`` after ``close()``. The corresponding C function
    ///   is `getsockname`.
    public var localAddress: BSONSocketAddress {
        get throws(BSONError) {
            try owner.withDescriptor { (descriptor) throws(BSONError) -> BSONSocketAddress in
                do throws(SystemErrno) {
                    return try Syscalls.localAddress(of: descriptor).publicAddress
                } catch {
                    throw error.bsonError("getsockname", while: "reading the local address of \(label)")
                }
            }
        }
    }

    /// The peer's address.
    ///
    /// - Throws: ``BSONError/Code/closed`` after ``close()``;
    ///   ``BSONError/Code/systemCallFailed`` with `ENOTCONN` when not connected. The
    ///   corresponding C function is `getpeername`.
    public var remoteAddress: BSONSocketAddress {
        get throws(BSONError) {
            try owner.withDescriptor { (descriptor) throws(BSONError) -> BSONSocketAddress in
                do throws(SystemErrno) {
                    return try Syscalls.remoteAddress(of: descriptor).publicAddress
                } catch {
                    throw error.bsonError("getpeername", while: "reading the remote address of \(label)")
                }
            }
        }
    }

    /// Lends the descriptor to `body`, for options this type does not cover or for `poll`.
    ///
    /// The descriptor stays open until `body` returns. Reading from or writing to it
    /// directly bypasses the read-ahead buffer and the send lock; closing it is a programming
    /// error (the socket closes it).
    ///
    /// - Parameter body: Uses the descriptor; must not keep or close it.
    /// - Returns: What `body` returns.
    /// - Throws: ``BSONError/Code/closed`` after ``close()``, or what `body` throws.
    public func withUnsafeDescriptor<R>(_ body: (FileDescriptor) throws(BSONError) -> R) throws(BSONError) -> R {
        try owner.withDescriptor { (descriptor) throws(BSONError) -> R in
            try body(FileDescriptor(rawValue: descriptor))
        }
    }
}
