// The Unix socket file rules of BSONListener, offered at package level to listeners this
// module does not create itself: BSONSocketNIO binds through SwiftNIO and makes no system
// calls of its own, so it asks here before binding and when it closes.

/// A Unix domain socket file that a listener created, remembered by identity so that it is
/// removed only while the path still names that same file.
package struct UnixSocketFile: Sendable, Hashable {
    /// Where the socket file is.
    package let path: String
    private let identity: FileIdentity

    /// Prepares `path` for a new listener the way ``BSONListener/listen(unixPath:backlog:)``
    /// does: a socket file there that refuses connections (left by a server that did not
    /// clean up) is removed; a socket someone listens on is an error. Any other kind of file
    /// is left for `bind` to refuse.
    ///
    /// - Throws: ``BSONError`` with ``BSONError/Code/addressInUse`` when a server is already
    ///   listening at `path`. The corresponding C functions are `lstat`, `socket`,
    ///   `connect` and `unlink`.
    package static func removeStaleSocket(at path: String) throws(BSONError) {
        guard let existing = Syscalls.pathStatus(path), existing.isSocket else { return }
        if SocketFactory.isStale(unixPath: path) {
            Syscalls.unlinkIgnoringErrors(path)
        } else {
            throw BSONError(
                .addressInUse, "a server is already listening on the Unix socket \"\(path)\"",
                errno: ErrnoValue.addressInUse)
        }
    }

    /// Remembers the socket file now at `path` (call right after binding); `nil` when there
    /// is none. The corresponding C function is `lstat`.
    package init?(boundAt path: String) {
        guard let status = Syscalls.pathStatus(path), status.isSocket else { return nil }
        self.path = path
        self.identity = status.identity
    }

    /// Removes the file, but only if `path` still names the file remembered (another server
    /// may have replaced it since). Never throws. The corresponding C functions are `lstat`
    /// and `unlink`.
    package func remove() {
        if Syscalls.pathStatus(path)?.identity == identity {
            Syscalls.unlinkIgnoringErrors(path)
        }
    }
}

extension BSONError {
    /// A ``BSONError`` for a system call that failed elsewhere (SwiftNIO reports `errno`
    /// values in its own `IOError`), with the same codes and wording the transport uses.
    ///
    /// - Parameters:
    ///   - call: The C function, e.g. `"connect"`.
    ///   - errno: The error number it failed with.
    ///   - activity: What was being done, e.g. `"connecting to 127.0.0.1:8080"`.
    ///   - missingPathIsRefused: Whether `ENOENT` means nobody listens (a Unix socket path).
    package static func systemCall(
        _ call: String, errno: Int32, while activity: String, missingPathIsRefused: Bool = false,
        file: String = #fileID, line: Int = #line
    ) -> BSONError {
        SystemErrno(errno).bsonError(
            call, while: activity, missingPathIsRefused: missingPathIsRefused, file: file, line: line)
    }
}
