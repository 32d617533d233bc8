import Synchronization

/// A listening socket that accepts ``BSONSocket`` connections, over TCP or a Unix domain
/// socket.
///
/// ```swift
/// let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
/// print("listening on \(listener.localAddress)")
/// while let connection = try? listener.accept() {
///     Thread.detachNewThread { … connection.recvObj() … }
/// }
/// ```
///
/// Like ``BSONSocket``, the listener owns its descriptor and closes it exactly once, in
/// ``close()`` or in `deinit`. ``close()`` from another thread wakes a blocked
/// ``accept(timeout:)``, which then throws ``BSONError/Code/closed``.
///
/// **Unix socket files.** ``listen(unixPath:backlog:)`` creates the socket file. If a socket
/// file is already at the path and nobody accepts connections on it (a server that did not
/// clean up), it is removed first; any other file there, or a live server, is an
/// ``BSONError/Code/addressInUse`` error. ``close()`` removes the socket file, but only if
/// the path still names the file this listener created.
public final class BSONListener: Sendable {
    let owner: DescriptorOwner
    private let descriptorNumber: Int32
    private let unixSocketFile: (path: String, identity: FileIdentity)?
    private let retriesOnInterrupt = Atomic<Bool>(true)

    /// The address the listener is bound to; for TCP, the port is the one the system chose
    /// when `port` was 0.
    public let localAddress: BSONSocketAddress

    private init(descriptor: Int32, unixSocketFile: (path: String, identity: FileIdentity)?) throws(BSONError) {
        owner = DescriptorOwner(descriptor: descriptor, noun: "listener")
        descriptorNumber = descriptor
        self.unixSocketFile = unixSocketFile
        do throws(SystemErrno) {
            localAddress = try Syscalls.localAddress(of: descriptor).publicAddress
        } catch {
            // `owner` closes the descriptor when this half-made object goes away; the socket
            // file it may have created goes now.
            if let (path, identity) = unixSocketFile, Syscalls.pathStatus(path)?.identity == identity {
                Syscalls.unlinkIgnoringErrors(path)
            }
            throw error.bsonError("getsockname", while: "reading the address of listener \(descriptor)")
        }
    }

    /// Listens for TCP connections.
    ///
    /// The address is the first that `host` resolves to. `SO_REUSEADDR` is set, so a
    /// restarted server can bind a port whose old connections are still closing.
    ///
    /// - Parameters:
    ///   - host: The local address to bind; default `"127.0.0.1"` (loopback only). Use
    ///     `"::1"` for IPv6 loopback, `"0.0.0.0"` or `"::"` for every interface.
    ///   - port: The TCP port; default 0, which lets the system choose a free one (read it
    ///     from ``localPort``).
    ///   - backlog: How many connections may wait to be accepted; default 128.
    /// - Returns: The listening socket.
    /// - Throws: ``BSONError`` with ``BSONError/Code/addressInUse`` when the port is taken,
    ///   ``BSONError/Code/hostNotFound`` when `host` does not resolve, or
    ///   ``BSONError/Code/systemCallFailed``. The corresponding C functions are
    ///   `getaddrinfo`, `socket`, `setsockopt`, `bind` and `listen`.
    public static func listen(host: String = "127.0.0.1", port: Int = 0, backlog: Int = 128) throws(BSONError)
        -> BSONListener
    {
        precondition((0...65535).contains(port), "port must be between 0 and 65535, got \(port)")
        precondition(backlog > 0, "backlog must be positive")
        let descriptor = try SocketFactory.listen(host: host, port: port, backlog: backlog)
        return try BSONListener(descriptor: descriptor, unixSocketFile: nil)
    }

    /// Listens for connections on a Unix domain socket, creating the socket file at
    /// `unixPath` (see the type's discussion for how an existing file is treated).
    ///
    /// - Parameters:
    ///   - unixPath: Where to create the socket file (at most 107 bytes of UTF-8).
    ///   - backlog: How many connections may wait to be accepted; default 128.
    /// - Returns: The listening socket.
    /// - Throws: ``BSONError`` with ``BSONError/Code/addressInUse`` when a server listens
    ///   there already or a file that is not a socket is in the way;
    ///   ``BSONError/Code/systemCallFailed`` for a missing directory, a path that is too
    ///   long, or no permission. The corresponding C functions are `socket`, `bind` and
    ///   `listen` (and `lstat`, `connect` and `unlink` for a stale file).
    public static func listen(unixPath: String, backlog: Int = 128) throws(BSONError) -> BSONListener {
        precondition(backlog > 0, "backlog must be positive")
        let (descriptor, identity) = try SocketFactory.listen(unixPath: unixPath, backlog: backlog)
        return try BSONListener(descriptor: descriptor, unixSocketFile: identity.map { (unixPath, $0) })
    }

    /// The TCP port the listener is bound to; `nil` for a Unix domain listener.
    public var localPort: Int? { localAddress.port }

    /// Whether a system call interrupted by a signal is made again. Default `true`; with
    /// `false`, a signal makes a blocked ``accept(timeout:)`` throw
    /// ``BSONError/Code/interrupted`` (`EINTR` in ``BSONError/errno``).
    public var retryOnInterrupt: Bool {
        get { retriesOnInterrupt.load(ordering: .relaxed) }
        set { retriesOnInterrupt.store(newValue, ordering: .relaxed) }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { owner.isClosed }

    /// Waits for the next connection and accepts it.
    ///
    /// - Parameter timeout: How long to wait; `nil` (the default) waits without limit.
    ///   Must be positive.
    /// - Returns: The connected socket (with `TCP_NODELAY` set for TCP).
    /// - Throws: ``BSONError`` with ``BSONError/Code/timedOut`` when no connection arrived in
    ///   time, ``BSONError/Code/closed`` when the listener is or gets closed,
    ///   ``BSONError/Code/connectionAborted`` when a connection was reset before it was
    ///   accepted (accepting again is fine), or ``BSONError/Code/systemCallFailed`` (for
    ///   example `EMFILE`, out of descriptors). The corresponding C functions are `poll` and
    ///   `accept4`.
    public func accept(timeout: Duration? = nil) throws(BSONError) -> BSONSocket {
        if let timeout { precondition(timeout > .zero, "a timeout must be positive; use nil for none") }
        let (descriptor, isTCP) = try owner.withDescriptor { (listening) throws(BSONError) -> (Int32, Bool) in
            try SocketFactory.accept(
                on: listening, timeout: timeout, retryOnInterrupt: retryOnInterrupt, label: "listener \(descriptorNumber)")
        }
        return BSONSocket(descriptor: descriptor, isTCP: isTCP)
    }

    /// Stops listening and closes the descriptor; removes the Unix socket file this listener
    /// created, if the path still names it. Idempotent; never throws. A blocked
    /// ``accept(timeout:)`` in another thread is woken and throws ``BSONError/Code/closed``.
    /// The corresponding C functions are `shutdown`, `close` and `unlink`.
    public func close() {
        guard !owner.isClosed else { return }
        owner.close()
        removeSocketFile()
    }

    private func removeSocketFile() {
        guard let (path, identity) = unixSocketFile else { return }
        if Syscalls.pathStatus(path)?.identity == identity {
            Syscalls.unlinkIgnoringErrors(path)
        }
    }

    deinit {
        if !owner.isClosed { removeSocketFile() }
        // `owner` closes the descriptor in its own deinit.
    }
}
