public import SystemPackage

extension BSONSocket {
    /// Connects to a TCP server.
    ///
    /// `host` is resolved with `getaddrinfo` (names, IPv4 and IPv6 literals; brackets around
    /// an IPv6 literal are accepted) and each address is tried in the resolver's order until
    /// one accepts, so `"localhost"` reaches a server listening on either `127.0.0.1` or
    /// `::1`. The connected socket has `TCP_NODELAY` set.
    ///
    /// - Parameters:
    ///   - host: A host name or numeric address, e.g. `"127.0.0.1"`, `"::1"`, `"localhost"`.
    ///   - port: The TCP port, 1–65535.
    ///   - timeout: How long each address may take to accept; `nil` (the default) waits as
    ///     long as the operating system does. Must be positive.
    /// - Returns: The connected socket.
    /// - Throws: ``BSONError`` with ``BSONError/Code/hostNotFound`` when `host` does not
    ///   resolve, ``BSONError/Code/connectionRefused`` when nobody listens,
    ///   ``BSONError/Code/timedOut`` when the timeout expires, or another transport code; when
    ///   several addresses fail, the code is the last one's and the message lists them all.
    ///   The corresponding C functions are `getaddrinfo`, `socket`, `connect` and `poll`.
    public static func connect(host: String, port: Int, timeout: Duration? = nil) throws(BSONError) -> BSONSocket {
        precondition((1...65535).contains(port), "port must be between 1 and 65535, got \(port)")
        if let timeout { precondition(timeout > .zero, "a timeout must be positive; use nil for none") }
        let descriptor = try SocketFactory.connect(host: host, port: port, timeout: timeout)
        return BSONSocket(descriptor: descriptor, isTCP: true)
    }

    /// Connects to a Unix domain socket.
    ///
    /// - Parameter unixPath: The socket file's path (at most 107 bytes of UTF-8).
    /// - Returns: The connected socket.
    /// - Throws: ``BSONError`` with ``BSONError/Code/connectionRefused`` when no file exists
    ///   at the path (`ENOENT`) or nobody listens on it (`ECONNREFUSED`);
    ///   ``BSONError/Code/systemCallFailed`` for a path that is too long (`ENAMETOOLONG`) or
    ///   otherwise unusable. The corresponding C functions are `socket` and `connect`.
    public static func connect(unixPath: String) throws(BSONError) -> BSONSocket {
        let descriptor = try SocketFactory.connect(unixPath: unixPath)
        return BSONSocket(descriptor: descriptor, isTCP: false)
    }

    /// Two connected sockets, for tests and for talking between threads of one process.
    ///
    /// - Returns: Both ends of a connected pair of Unix stream sockets; each is a full
    ///   ``BSONSocket`` and must be closed on its own.
    /// - Throws: ``BSONError/Code/systemCallFailed`` when descriptors run out. The
    ///   corresponding C function is `socketpair(AF_UNIX, SOCK_STREAM)`.
    public static func pair() throws(BSONError) -> (BSONSocket, BSONSocket) {
        let (first, second) = try SocketFactory.pair()
        return (BSONSocket(descriptor: first, isTCP: false), BSONSocket(descriptor: second, isTCP: false))
    }

    /// Takes ownership of a connected stream socket created elsewhere (accepted by other
    /// code, inherited, or from `socketpair`).
    ///
    /// From now on the socket closes the descriptor (in ``close()`` or `deinit`); the caller
    /// must not close it or use it directly. Its options are left as they are.
    ///
    /// - Parameter descriptor: A connected stream socket in blocking mode.
    /// - Throws: ``BSONError/Code/systemCallFailed`` when `descriptor` is not a socket
    ///   (`ENOTSOCK`) or not a stream socket (`EPROTOTYPE`); the descriptor is then left open
    ///   and still the caller's. The corresponding C function is `getsockopt`.
    public convenience init(adopting descriptor: FileDescriptor) throws(BSONError) {
        let isTCP = try SocketFactory.checkStreamSocket(descriptor.rawValue)
        self.init(descriptor: descriptor.rawValue, isTCP: isTCP)
    }
}
