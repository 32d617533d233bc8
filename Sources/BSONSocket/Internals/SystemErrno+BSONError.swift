import Glibc

// Turning an errno value into the package's one public error, with the C library's words
// for it and ours for what was being done.

extension SystemErrno {
    /// The C library's description of the error (`strerror_r`), e.g. "Connection reset by peer".
    var explanation: String {
        var buffer = [CChar](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBufferPointer { strerror_r(code, $0.baseAddress!, $0.count) }
        guard result == 0 else { return "errno \(code)" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The ``BSONError/Code`` for this errno.
    ///
    /// - Parameter missingPathIsRefused: Whether ENOENT means nobody listens (connecting to
    ///   a Unix socket path that does not exist).
    func bsonCode(missingPathIsRefused: Bool = false) -> BSONError.Code {
        switch code {
        case ECONNRESET: .connectionReset
        case ECONNABORTED: .connectionAborted
        case ECONNREFUSED: .connectionRefused
        case ENOENT where missingPathIsRefused: .connectionRefused
        case EPIPE: .brokenPipe
        case EAGAIN, EWOULDBLOCK, ETIMEDOUT: .timedOut
        case EADDRINUSE: .addressInUse
        case EINTR: .interrupted
        default: .systemCallFailed
        }
    }

    /// A ``BSONError`` saying which call failed, while doing what, and why.
    ///
    /// - Parameters:
    ///   - call: The C function, e.g. `"recv"`.
    ///   - activity: What the package was doing, e.g. `"receiving a frame body on socket 7"`.
    ///   - missingPathIsRefused: See ``bsonCode(missingPathIsRefused:)``.
    func bsonError(
        _ call: String,
        while activity: String,
        missingPathIsRefused: Bool = false,
        file: String = #fileID,
        line: Int = #line
    ) -> BSONError {
        let code = bsonCode(missingPathIsRefused: missingPathIsRefused)
        var message = "\(call) failed while \(activity): \(explanation)"
        if code == .timedOut && isWouldBlock {
            message += " (the \(call == "send" || call == "write" ? "send" : "receive") timeout expired)"
        }
        return BSONError(code, message, errno: self.code, file: file, line: line)
    }
}

/// Names for errno values the rest of the package tests for, so that only this folder
/// spells C constants.
enum ErrnoValue {
    static let interrupted = EINTR
    static let notSocket = ENOTSOCK
    static let addressInUse = EADDRINUSE
}
