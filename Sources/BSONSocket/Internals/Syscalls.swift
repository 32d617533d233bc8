import Glibc

// The one place in the package that calls the C library's I/O functions.
//
// Rules kept here, once, for every call:
// - `errno` is read in the same closure that made the call, before anything else runs;
// - EINTR is retried unless the caller asks otherwise (`retryOnInterrupt: false`);
//   `close` is never retried (on Linux the descriptor is gone even when it reports EINTR);
// - EBADF and EFAULT mean this process passed a descriptor or pointer it does not own: a
//   programming error, so they trap instead of being thrown;
// - `send` always passes MSG_NOSIGNAL, so a vanished peer is an EPIPE error instead of a
//   SIGPIPE that kills the process; `write` (for pipes, which cannot take MSG_NOSIGNAL) is
//   wrapped in `suppressingSIGPIPE`;
// - in DEBUG builds the data calls (recv, read, send, write) go through `SyscallHooks`, so a
//   test can record what each call asked for and make a chosen call fail or come up short.
//
// Failures are returned as `SystemErrno`; callers turn them into `BSONError` with words
// about what they were doing (`SystemErrno.bsonError(_:while:)`).

/// A failed system call: the `errno` value read right after it.
struct SystemErrno: Error, Hashable {
    let code: Int32
    init(_ code: Int32) { self.code = code }

    var isInterrupted: Bool { code == EINTR }
    var isWouldBlock: Bool { code == EAGAIN || code == EWOULDBLOCK }
    var isNotSocket: Bool { code == ENOTSOCK }
    var isInProgress: Bool { code == EINPROGRESS }
}

/// Identifies an open file independently of the descriptor number: the same pair means the
/// same socket, pipe or file.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}

/// The data calls that DEBUG builds let tests observe and fault (see `SyscallHooks`).
package enum DataSyscall: String, Sendable {
    case recv, read, send, write
}

enum Syscalls {
    // MARK: - The retry rule

    /// Runs `call` until it succeeds or fails with something other than a retried EINTR.
    ///
    /// `call` returns the C function's result and, when that is negative, the `errno` it read
    /// immediately afterwards.
    @inline(__always)
    private static func retrying(
        _ name: StaticString, retryOnInterrupt: Bool = true, _ call: () -> (result: Int, errno: Int32)
    ) throws(SystemErrno) -> Int {
        while true {
            let (result, code) = call()
            if result >= 0 { return result }
            if code == EINTR && retryOnInterrupt { continue }
            trapOnProgrammingError(code, in: name)
            throw SystemErrno(code)
        }
    }

    private static func trapOnProgrammingError(_ code: Int32, in name: StaticString) {
        precondition(
            code != EBADF && code != EFAULT,
            "\(name) failed with \(code == EBADF ? "EBADF" : "EFAULT") (\(SystemErrno(code).explanation)): "
                + "this process used a descriptor or buffer it does not own")
    }

    /// Runs one data call, through the DEBUG hooks when a probe watches `descriptor`.
    @inline(__always)
    private static func dataCall(
        _ kind: DataSyscall, _ descriptor: Int32, requested: Int, _ call: (Int) -> (result: Int, errno: Int32)
    ) -> (result: Int, errno: Int32) {
        #if DEBUG
        if let probe = SyscallHooks.probe(for: descriptor) {
            return probe.run(kind, requested: requested, call)
        }
        #endif
        return call(requested)
    }

    // MARK: - Data

    /// `recv(2)` with no flags: at most `buffer.count` bytes; 0 means the peer closed.
    static func recv(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, retryOnInterrupt: Bool
    ) throws(SystemErrno) -> Int {
        try retrying("recv", retryOnInterrupt: retryOnInterrupt) {
            dataCall(.recv, descriptor, requested: buffer.count) { count in
                let result = Glibc.recv(descriptor, buffer.baseAddress, count, 0)
                return (result, result < 0 ? errno : 0)
            }
        }
    }

    /// `read(2)`: at most `buffer.count` bytes; 0 means end of file.
    static func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, retryOnInterrupt: Bool
    ) throws(SystemErrno) -> Int {
        try retrying("read", retryOnInterrupt: retryOnInterrupt) {
            dataCall(.read, descriptor, requested: buffer.count) { count in
                let result = Glibc.read(descriptor, buffer.baseAddress, count)
                return (result, result < 0 ? errno : 0)
            }
        }
    }

    /// `send(2)` with `MSG_NOSIGNAL`: some prefix of `bytes` (at least 1 byte when
    /// `bytes` is not empty).
    static func send(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, retryOnInterrupt: Bool
    ) throws(SystemErrno) -> Int {
        try retrying("send", retryOnInterrupt: retryOnInterrupt) {
            dataCall(.send, descriptor, requested: bytes.count) { count in
                let result = Glibc.send(descriptor, bytes.baseAddress, count, Int32(MSG_NOSIGNAL))
                return (result, result < 0 ? errno : 0)
            }
        }
    }

    /// `write(2)`: some prefix of `bytes`. On a pipe whose reader is gone this raises
    /// SIGPIPE; call it inside ``suppressingSIGPIPE(_:)``.
    static func write(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, retryOnInterrupt: Bool
    ) throws(SystemErrno) -> Int {
        try retrying("write", retryOnInterrupt: retryOnInterrupt) {
            dataCall(.write, descriptor, requested: bytes.count) { count in
                let result = Glibc.write(descriptor, bytes.baseAddress, count)
                return (result, result < 0 ? errno : 0)
            }
        }
    }

    /// Runs `body` (which writes to a descriptor that may be a pipe) so that a closed reader
    /// yields EPIPE and never kills the process with SIGPIPE.
    ///
    /// `write` on a pipe has no MSG_NOSIGNAL. Ignoring SIGPIPE for the whole process is not a
    /// library's choice to make, so instead, for the calling thread only:
    /// 1. SIGPIPE is blocked (`pthread_sigmask`), and whether one was already pending is
    ///    noted (`sigpending`);
    /// 2. `body` runs; a write to a pipe with no reader fails with EPIPE and its SIGPIPE,
    ///    which the kernel directs at this thread, stays pending instead of being delivered;
    /// 3. if `body` failed with EPIPE and no SIGPIPE was pending before, the one just raised
    ///    is taken off the queue (`sigtimedwait` with a zero timeout), so that unblocking
    ///    does not deliver it;
    /// 4. the thread's previous signal mask is restored.
    ///
    /// A SIGPIPE that was pending before the call is left alone, as is the disposition of
    /// SIGPIPE (handlers and `SIG_IGN` keep working as the program set them).
    static func suppressingSIGPIPE<R>(_ body: () throws(SystemErrno) -> R) throws(SystemErrno) -> R {
        var sigpipeOnly = sigset_t()
        sigemptyset(&sigpipeOnly)
        sigaddset(&sigpipeOnly, SIGPIPE)
        var previousMask = sigset_t()
        let maskResult = pthread_sigmask(SIG_BLOCK, &sigpipeOnly, &previousMask)
        precondition(maskResult == 0, "pthread_sigmask failed: \(SystemErrno(maskResult).explanation)")
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }

        var pendingBefore = sigset_t()
        sigpending(&pendingBefore)
        let alreadyPending = sigismember(&pendingBefore, SIGPIPE) == 1

        do {
            return try body()
        } catch {
            if error.code == EPIPE && !alreadyPending {
                var noWait = timespec(tv_sec: 0, tv_nsec: 0)
                while sigtimedwait(&sigpipeOnly, nil, &noWait) < 0 && errno == EINTR {}
            }
            throw error
        }
    }

    // MARK: - Descriptor lifetime

    /// `close(2)`, never retried. Errors other than EBADF (which traps: a double close) are
    /// returned for the record; the descriptor is released either way on Linux.
    @discardableResult
    static func close(_ descriptor: Int32) -> SystemErrno? {
        let result = Glibc.close(descriptor)
        guard result < 0 else { return nil }
        let code = errno
        precondition(code != EBADF, "close(\(descriptor)) failed with EBADF: the descriptor was already closed")
        return SystemErrno(code)
    }

    /// `shutdown(2)`. `how` is one of `SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`.
    static func shutdown(_ descriptor: Int32, _ how: Int32) throws(SystemErrno) {
        _ = try retrying("shutdown") {
            let result = Glibc.shutdown(descriptor, how)
            return (Int(result), result < 0 ? errno : 0)
        }
    }

    static let shutdownRead = Int32(SHUT_RD)
    static let shutdownWrite = Int32(SHUT_WR)
    static let shutdownBoth = Int32(SHUT_RDWR)

    /// `poll(2)` on one descriptor, retried on EINTR with the time that is left.
    ///
    /// - Parameters:
    ///   - events: `POLLIN` and/or `POLLOUT`.
    ///   - timeout: How long to wait; `nil` waits without limit.
    /// - Returns: The returned events (`revents`), or 0 when the timeout expired.
    static func poll(_ descriptor: Int32, events: Int16, timeout: Duration?) throws(SystemErrno) -> Int16 {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        while true {
            var milliseconds: Int32 = -1
            if let deadline {
                let left = clock.now.duration(to: deadline)
                milliseconds = left <= .zero ? 0 : Int32(clamping: Self.millisecondsRoundingUp(left))
            }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let result = Glibc.poll(&entry, 1, milliseconds)
            if result < 0 {
                let code = errno
                if code == EINTR { continue }
                trapOnProgrammingError(code, in: "poll")
                throw SystemErrno(code)
            }
            return result == 0 ? 0 : entry.revents
        }
    }

    static let pollIn = Int16(POLLIN)
    static let pollOut = Int16(POLLOUT)

    private static func millisecondsRoundingUp(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond
    }

    /// `fstat(2)`: what the descriptor refers to.
    static func identity(of descriptor: Int32) throws(SystemErrno) -> FileIdentity {
        var info = stat()
        _ = try retrying("fstat") {
            let result = fstat(descriptor, &info)
            return (Int(result), result < 0 ? errno : 0)
        }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// `lstat(2)` on a path: its identity and whether it is a socket, or `nil` when nothing
    /// is there.
    static func pathStatus(_ path: String) -> (identity: FileIdentity, isSocket: Bool)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)), info.st_mode & S_IFMT == S_IFSOCK)
    }

    /// `unlink(2)`; failures are ignored (the caller is tidying up).
    static func unlinkIgnoringErrors(_ path: String) {
        _ = Glibc.unlink(path)
    }

    // MARK: - Sockets

    static let familyIPv4 = Int32(AF_INET)
    static let familyIPv6 = Int32(AF_INET6)
    static let familyUnix = Int32(AF_UNIX)

    /// `socket(2)` for a stream socket, close-on-exec.
    static func streamSocket(family: Int32) throws(SystemErrno) -> Int32 {
        Int32(
            try retrying("socket") {
                let result = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                return (Int(result), result < 0 ? errno : 0)
            })
    }

    /// `socketpair(2)`: two connected Unix stream sockets, close-on-exec.
    static func streamSocketPair() throws(SystemErrno) -> (Int32, Int32) {
        var descriptors: (Int32, Int32) = (-1, -1)
        _ = try retrying("socketpair") {
            withUnsafeMutableBytes(of: &descriptors) { raw in
                let result = socketpair(
                    Int32(AF_UNIX), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0,
                    raw.baseAddress!.assumingMemoryBound(to: Int32.self))
                return (Int(result), result < 0 ? errno : 0)
            }
        }
        return descriptors
    }

    /// `connect(2)` once, no retry: after EINTR a TCP connection goes on in the background,
    /// so the caller waits for it with ``poll(_:events:timeout:)`` instead of calling again.
    static func connect(_ descriptor: Int32, to address: SocketAddress) throws(SystemErrno) {
        let (result, code) = address.withSockAddr { pointer, length in
            let result = Glibc.connect(descriptor, pointer, length)
            return (result, result < 0 ? errno : 0)
        }
        if result < 0 {
            trapOnProgrammingError(code, in: "connect")
            throw SystemErrno(code)
        }
    }

    /// `bind(2)`.
    static func bind(_ descriptor: Int32, to address: SocketAddress) throws(SystemErrno) {
        _ = try retrying("bind") {
            address.withSockAddr { pointer, length in
                let result = Glibc.bind(descriptor, pointer, length)
                return (Int(result), result < 0 ? errno : 0)
            }
        }
    }

    /// `listen(2)`.
    static func listen(_ descriptor: Int32, backlog: Int32) throws(SystemErrno) {
        _ = try retrying("listen") {
            let result = Glibc.listen(descriptor, backlog)
            return (Int(result), result < 0 ? errno : 0)
        }
    }

    /// `accept(2)`, then close-on-exec through `fcntl(2)`.
    ///
    /// `accept4`, which sets the flag atomically, is not visible from Swift's Glibc module
    /// (it needs `_GNU_SOURCE`); the gap means a `fork` + `exec` in another thread at that
    /// instant could leak the descriptor into the child.
    static func accept(_ descriptor: Int32, retryOnInterrupt: Bool) throws(SystemErrno) -> Int32 {
        let connection = Int32(
            try retrying("accept", retryOnInterrupt: retryOnInterrupt) {
                let result = Glibc.accept(descriptor, nil, nil)
                return (Int(result), result < 0 ? errno : 0)
            })
        do throws(SystemErrno) {
            _ = try retrying("fcntl") {
                let result = fcntl(connection, F_SETFD, FD_CLOEXEC)
                return (Int(result), result < 0 ? errno : 0)
            }
        } catch {
            close(connection)
            throw error
        }
        return connection
    }

    /// `getsockname(2)`.
    static func localAddress(of descriptor: Int32) throws(SystemErrno) -> SocketAddress {
        var address = SocketAddress()
        _ = try retrying("getsockname") {
            address.withMutableSockAddr { pointer, length in
                let result = getsockname(descriptor, pointer, length)
                return (Int(result), result < 0 ? errno : 0)
            }
        }
        return address
    }

    /// `getpeername(2)`.
    static func remoteAddress(of descriptor: Int32) throws(SystemErrno) -> SocketAddress {
        var address = SocketAddress()
        _ = try retrying("getpeername") {
            address.withMutableSockAddr { pointer, length in
                let result = getpeername(descriptor, pointer, length)
                return (Int(result), result < 0 ? errno : 0)
            }
        }
        return address
    }

    // MARK: - Socket options

    /// `setsockopt(2)` with an `int` value.
    static func setOption(_ descriptor: Int32, level: Int32, name: Int32, value: Int32) throws(SystemErrno) {
        var value = value
        _ = try retrying("setsockopt") {
            let result = setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
            return (Int(result), result < 0 ? errno : 0)
        }
    }

    /// `getsockopt(2)` for an `int` value.
    static func option(_ descriptor: Int32, level: Int32, name: Int32) throws(SystemErrno) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retrying("getsockopt") {
            let result = getsockopt(descriptor, level, name, &value, &length)
            return (Int(result), result < 0 ? errno : 0)
        }
        return value
    }

    /// `SO_RCVTIMEO` or `SO_SNDTIMEO` through `setsockopt(2)`; `nil` (or zero) means none.
    static func setTimeout(_ descriptor: Int32, receive: Bool, _ timeout: Duration?) throws(SystemErrno) {
        var value = timeval(tv_sec: 0, tv_usec: 0)
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let perMicrosecond: Int64 = 1_000_000_000_000
            var microseconds = (attoseconds + perMicrosecond - 1) / perMicrosecond
            var wholeSeconds = seconds
            if microseconds >= 1_000_000 {
                wholeSeconds += 1
                microseconds -= 1_000_000
            }
            // Zero would mean "no timeout" to the kernel; the shortest real one is 1 µs.
            if wholeSeconds == 0 && microseconds == 0 { microseconds = 1 }
            value = timeval(tv_sec: Int(wholeSeconds), tv_usec: Int(microseconds))
        }
        let name = receive ? SO_RCVTIMEO : SO_SNDTIMEO
        _ = try retrying("setsockopt") {
            let result = setsockopt(descriptor, SOL_SOCKET, name, &value, socklen_t(MemoryLayout<timeval>.size))
            return (Int(result), result < 0 ? errno : 0)
        }
    }

    /// `SO_RCVTIMEO` or `SO_SNDTIMEO` through `getsockopt(2)`; `nil` when none is set.
    static func timeout(_ descriptor: Int32, receive: Bool) throws(SystemErrno) -> Duration? {
        var value = timeval(tv_sec: 0, tv_usec: 0)
        var length = socklen_t(MemoryLayout<timeval>.size)
        let name = receive ? SO_RCVTIMEO : SO_SNDTIMEO
        _ = try retrying("getsockopt") {
            let result = getsockopt(descriptor, SOL_SOCKET, name, &value, &length)
            return (Int(result), result < 0 ? errno : 0)
        }
        if value.tv_sec == 0 && value.tv_usec == 0 { return nil }
        return .seconds(value.tv_sec) + .microseconds(value.tv_usec)
    }

    static let levelSocket = SOL_SOCKET
    static let levelTCP = Int32(IPPROTO_TCP)
    static let optionNoDelay = Int32(TCP_NODELAY)
    static let optionReuseAddress = SO_REUSEADDR
    static let optionType = SO_TYPE
    static let optionError = SO_ERROR
    static let optionDomain = SO_DOMAIN
    static let typeStream = Int32(SOCK_STREAM.rawValue)
    static let optionKeepalive = SO_KEEPALIVE
    static let optionKeepaliveIdle = Int32(TCP_KEEPIDLE)
    static let optionKeepaliveInterval = Int32(TCP_KEEPINTVL)
    static let optionKeepaliveCount = Int32(TCP_KEEPCNT)

    /// Whether the errno means the system ran out of descriptors or memory: a condition
    /// that lasts until something is freed, so retrying at once only spins.
    static func isResourceExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOMEM || code == ENOBUFS
    }

    /// Before a socket is closed: ends this side's output (the peer reads everything queued,
    /// then a clean end of stream) and, when the peer has sent bytes nobody read, reads and
    /// drops them until the peer closes, no byte came for `quiet`, or `limit` passed.
    ///
    /// Closing a TCP socket with unread input makes the kernel reset the connection and
    /// throw away whatever it still held for the peer — replies that a send already
    /// returned for. Draining first lets those reach the peer. With no unread input this
    /// returns at once (the kernel delivers the rest after `close`).
    static func finishOutput(_ descriptor: Int32, quiet: Duration, limit: Duration) {
        _ = try? shutdown(descriptor, shutdownWrite)
        guard let ready = try? poll(descriptor, events: pollIn, timeout: .zero), ready != 0 else { return }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: limit)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 15, alignment: 16)
        defer { scratch.deallocate() }
        while clock.now < end {
            let wait = min(quiet, clock.now.duration(to: end))
            guard let events = try? poll(descriptor, events: pollIn, timeout: wait), events != 0 else { return }
            // Readable, so this returns without waiting (bytes, 0 at the peer's end, or an error).
            guard let received = try? recv(descriptor, into: scratch, retryOnInterrupt: true), received > 0 else {
                return
            }
        }
    }

    /// Turns `O_NONBLOCK` on or off with `fcntl(2)`.
    static func setNonBlocking(_ descriptor: Int32, _ enabled: Bool) throws(SystemErrno) {
        let flags = try retrying("fcntl") {
            let result = fcntl(descriptor, F_GETFL)
            return (Int(result), result < 0 ? errno : 0)
        }
        let wanted = enabled ? Int32(flags) | O_NONBLOCK : Int32(flags) & ~O_NONBLOCK
        guard wanted != Int32(flags) else { return }
        _ = try retrying("fcntl") {
            let result = fcntl(descriptor, F_SETFL, wanted)
            return (Int(result), result < 0 ? errno : 0)
        }
    }
}
