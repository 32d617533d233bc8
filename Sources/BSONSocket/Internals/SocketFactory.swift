import Glibc

/// Creating connected and listening sockets: the sequences of calls behind
/// `BSONSocket.connect`, `BSONListener.listen` and `accept`. Every descriptor created here
/// is closed again on every failure path.
enum SocketFactory {
    // MARK: Connecting

    /// Resolves `host` and connects to the first address that accepts, trying each in the
    /// resolver's order; `timeout` applies to each attempt.
    ///
    /// - Returns: A connected, blocking TCP socket with `TCP_NODELAY` set.
    static func connect(host: String, port: Int, timeout: Duration?) throws(BSONError) -> Int32 {
        let addresses = try SocketAddress.resolve(host: host, port: port, passive: false)
        var failures: [BSONError] = []
        for address in addresses {
            do {
                return try connect(to: address, timeout: timeout)
            } catch {
                failures.append(error)
            }
        }
        let last = failures.last!
        guard failures.count > 1 else { throw last }
        throw BSONError(
            last.code,
            "could not connect to \(host) port \(port) at any of its \(failures.count) addresses: "
                + failures.map(\.message).joined(separator: "; "),
            errno: last.errno)
    }

    /// One attempt: a non-blocking `connect`, then `poll` for completion (which also makes
    /// EINTR harmless: the connection goes on in the background while we wait again).
    private static func connect(to address: SocketAddress, timeout: Duration?) throws(BSONError) -> Int32 {
        let target = address.publicAddress.description
        let descriptor: Int32
        do throws(SystemErrno) {
            descriptor = try Syscalls.streamSocket(family: address.family)
        } catch {
            throw error.bsonError("socket", while: "creating a socket to connect to \(target)")
        }
        var keep = false
        defer { if !keep { Syscalls.close(descriptor) } }

        var call = "fcntl"
        do throws(SystemErrno) {
            try Syscalls.setNonBlocking(descriptor, true)
            call = "connect"
            do throws(SystemErrno) {
                try Syscalls.connect(descriptor, to: address)
            } catch where error.isInProgress || error.isInterrupted {
                call = "poll"
                let events = try Syscalls.poll(descriptor, events: Syscalls.pollOut, timeout: timeout)
                call = "connect"
                // No answer within the timeout: reported as the kernel would, ETIMEDOUT.
                if events == 0 { throw SystemErrno(ETIMEDOUT) }
                let pending = try Syscalls.option(descriptor, level: Syscalls.levelSocket, name: Syscalls.optionError)
                if pending != 0 { throw SystemErrno(pending) }
            }
            call = "fcntl"
            try Syscalls.setNonBlocking(descriptor, false)
            call = "setsockopt"
            if address.isIP {
                try Syscalls.setOption(descriptor, level: Syscalls.levelTCP, name: Syscalls.optionNoDelay, value: 1)
            }
        } catch {
            throw error.bsonError(call, while: "connecting to \(target)")
        }
        keep = true
        return descriptor
    }

    /// Connects to the Unix domain socket at `path`.
    ///
    /// - Returns: A connected, blocking socket.
    static func connect(unixPath path: String) throws(BSONError) -> Int32 {
        let address: SocketAddress
        do throws(SystemErrno) {
            address = try SocketAddress(unixPath: path)
        } catch {
            throw error.bsonError("connect", while: "connecting to the Unix socket \"\(path)\"")
        }
        let descriptor: Int32
        do throws(SystemErrno) {
            descriptor = try Syscalls.streamSocket(family: Syscalls.familyUnix)
        } catch {
            throw error.bsonError("socket", while: "creating a socket to connect to \"\(path)\"")
        }
        var keep = false
        defer { if !keep { Syscalls.close(descriptor) } }
        while true {
            do throws(SystemErrno) {
                // A Unix connect completes at once or fails; interrupted, it did nothing and
                // can simply be made again.
                try Syscalls.connect(descriptor, to: address)
                break
            } catch where error.isInterrupted {
                continue
            } catch {
                throw error.bsonError("connect", while: "connecting to the Unix socket \"\(path)\"", missingPathIsRefused: true)
            }
        }
        keep = true
        return descriptor
    }

    // MARK: Listening

    /// A TCP socket bound to the first address `host` resolves to, listening.
    ///
    /// `SO_REUSEADDR` is set, so a server can restart on a port whose old connections are
    /// still in TIME_WAIT.
    static func listen(host: String, port: Int, backlog: Int) throws(BSONError) -> Int32 {
        let addresses = try SocketAddress.resolve(host: host, port: port, passive: true)
        let address = addresses[0]
        let target = address.publicAddress.description
        let descriptor: Int32
        do throws(SystemErrno) {
            descriptor = try Syscalls.streamSocket(family: address.family)
        } catch {
            throw error.bsonError("socket", while: "creating a socket to listen on \(target)")
        }
        var keep = false
        defer { if !keep { Syscalls.close(descriptor) } }
        var call = "setsockopt"
        do throws(SystemErrno) {
            try Syscalls.setOption(descriptor, level: Syscalls.levelSocket, name: Syscalls.optionReuseAddress, value: 1)
            call = "bind"
            try Syscalls.bind(descriptor, to: address)
            call = "listen"
            try Syscalls.listen(descriptor, backlog: Int32(clamping: backlog))
        } catch {
            throw error.bsonError(call, while: "listening on \(target)")
        }
        keep = true
        return descriptor
    }

    /// A Unix domain socket bound to `path`, listening; and the identity of the socket file
    /// it created.
    ///
    /// If `path` holds a socket file that refuses connections (left by a server that did
    /// not clean up), it is removed first. Any other file at `path`, or a socket someone is
    /// listening on, makes this fail with ``BSONError/Code/addressInUse``.
    static func listen(unixPath path: String, backlog: Int) throws(BSONError) -> (Int32, FileIdentity?) {
        let address: SocketAddress
        do throws(SystemErrno) {
            address = try SocketAddress(unixPath: path)
        } catch {
            throw error.bsonError("bind", while: "listening on the Unix socket \"\(path)\"")
        }
        if let existing = Syscalls.pathStatus(path), existing.isSocket {
            if isStale(unixPath: path) {
                Syscalls.unlinkIgnoringErrors(path)
            } else {
                throw BSONError(
                    .addressInUse, "a server is already listening on the Unix socket \"\(path)\"", errno: EADDRINUSE)
            }
        }
        let descriptor: Int32
        do throws(SystemErrno) {
            descriptor = try Syscalls.streamSocket(family: Syscalls.familyUnix)
        } catch {
            throw error.bsonError("socket", while: "creating a socket to listen on \"\(path)\"")
        }
        var keep = false
        defer { if !keep { Syscalls.close(descriptor) } }
        var call = "bind"
        do throws(SystemErrno) {
            try Syscalls.bind(descriptor, to: address)
            call = "listen"
            try Syscalls.listen(descriptor, backlog: Int32(clamping: backlog))
        } catch {
            if call == "listen" { Syscalls.unlinkIgnoringErrors(path) }
            throw error.bsonError(call, while: "listening on the Unix socket \"\(path)\"")
        }
        keep = true
        return (descriptor, Syscalls.pathStatus(path)?.identity)
    }

    /// Whether the socket file at `path` is left over: connecting to it is refused.
    static func isStale(unixPath path: String) -> Bool {
        guard let address = try? SocketAddress(unixPath: path),
            let probe = try? Syscalls.streamSocket(family: Syscalls.familyUnix)
        else { return false }
        defer { Syscalls.close(probe) }
        do throws(SystemErrno) {
            try Syscalls.connect(probe, to: address)
            return false
        } catch {
            return error.code == ECONNREFUSED
        }
    }

    // MARK: Accepting

    /// Waits up to `timeout` for a connection and accepts it.
    ///
    /// - Returns: The new descriptor and whether it is TCP (then `TCP_NODELAY` is set).
    static func accept(
        on descriptor: Int32, timeout: Duration?, retryOnInterrupt: Bool, label: String
    ) throws(BSONError) -> (Int32, Bool) {
        if let timeout {
            let events: Int16
            do throws(SystemErrno) {
                events = try Syscalls.poll(descriptor, events: Syscalls.pollIn, timeout: timeout)
            } catch {
                throw error.bsonError("poll", while: "waiting for a connection on \(label)")
            }
            if events == 0 {
                throw BSONError(.timedOut, "no connection arrived on \(label) within \(timeout)", errno: ETIMEDOUT)
            }
        }
        let connection: Int32
        do throws(SystemErrno) {
            connection = try Syscalls.accept(descriptor, retryOnInterrupt: retryOnInterrupt)
        } catch {
            throw error.bsonError("accept", while: "accepting a connection on \(label)")
        }
        let family = try? Syscalls.option(connection, level: Syscalls.levelSocket, name: Syscalls.optionDomain)
        let isTCP = family == Syscalls.familyIPv4 || family == Syscalls.familyIPv6
        if isTCP {
            do throws(SystemErrno) {
                try Syscalls.setOption(connection, level: Syscalls.levelTCP, name: Syscalls.optionNoDelay, value: 1)
            } catch {
                Syscalls.close(connection)
                throw error.bsonError("setsockopt", while: "setting TCP_NODELAY on a connection accepted on \(label)")
            }
        }
        return (connection, isTCP)
    }

    // MARK: Adopting

    /// Checks that `descriptor` is a stream socket and says whether it is TCP.
    static func checkStreamSocket(_ descriptor: Int32) throws(BSONError) -> Bool {
        let type: Int32
        let family: Int32
        do throws(SystemErrno) {
            type = try Syscalls.option(descriptor, level: Syscalls.levelSocket, name: Syscalls.optionType)
            family = try Syscalls.option(descriptor, level: Syscalls.levelSocket, name: Syscalls.optionDomain)
        } catch {
            throw error.bsonError("getsockopt", while: "checking that descriptor \(descriptor) is a stream socket")
        }
        guard type == Syscalls.typeStream else {
            throw BSONError(
                .systemCallFailed, "descriptor \(descriptor) is a socket but not a stream socket (type \(type))",
                errno: EPROTOTYPE)
        }
        return family == Syscalls.familyIPv4 || family == Syscalls.familyIPv6
    }

    /// Two connected Unix stream sockets.
    static func pair() throws(BSONError) -> (Int32, Int32) {
        do throws(SystemErrno) {
            return try Syscalls.streamSocketPair()
        } catch {
            throw error.bsonError("socketpair", while: "creating a connected pair of Unix sockets")
        }
    }
}
