/// The one error type of swift-bson-socket, thrown by the codec and by the transport.
///
/// A `BSONError` says *what* went wrong (``code``), *where* (``offset`` into the bytes
/// being decoded and ``keyPath`` of the element, when known), the operating-system error
/// number for failed system calls (``errno``), and a human-readable ``message``.
///
/// The value is one pointer wide: its fields live in a shared, immutable box, so throwing
/// it costs no more than throwing a class reference.
public struct BSONError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Compare with the static members, for example
    /// `error.code == .invalidUTF8`.
    ///
    /// New codes may be added in later versions, so `switch` statements over codes need a
    /// `default` case.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformed, invalidUTF8, unknownType, invalidBoolean, nestingTooDeep
            case invalidKey, invalidValue, unknownSerializer, invalidExtendedJSON, unknownClass
            case closed, truncated, frameTooSmall, frameTooLarge
            case connectionReset, connectionAborted, connectionRefused, brokenPipe
            case timedOut, interrupted, hostNotFound, addressInUse, unusable, systemCallFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The bytes are not a well-formed BSON document: a length that disagrees with the
        /// bytes, a missing terminator, an element that runs past its document.
        public static let malformed = Code(.malformed)
        /// A key or string-bearing value is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// An element's type byte is not one of the 21 BSON types.
        public static let unknownType = Code(.unknownType)
        /// A boolean element holds a byte other than 0 or 1.
        public static let invalidBoolean = Code(.invalidBoolean)
        /// Documents and arrays are nested deeper than the configured limit.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// A key cannot be written as BSON (it contains a NUL byte).
        public static let invalidKey = Code(.invalidKey)
        /// A value cannot be written as BSON (a regular expression containing NUL, a
        /// document larger than 2 GiB, a malformed ObjectID or Decimal128 string).
        public static let invalidValue = Code(.invalidValue)
        /// A Swift value has no BSON representation (from `[String: Any]` conversion).
        public static let unknownSerializer = Code(.unknownSerializer)
        /// Extended JSON text that is not valid JSON or not valid Extended JSON.
        public static let invalidExtendedJSON = Code(.invalidExtendedJSON)
        /// A document's py-bson class name (its `"$$__CLASS_NAME__$$"` field) has no
        /// registered Swift type, or is not a string (see ``BSONClassRegistry``).
        public static let unknownClass = Code(.unknownClass)
        /// The connection is closed (by this side, or cleanly by the peer where a whole
        /// message was required).
        public static let closed = Code(.closed)
        /// The peer closed the connection in the middle of a frame.
        public static let truncated = Code(.truncated)
        /// A frame header announced fewer than 5 bytes.
        public static let frameTooSmall = Code(.frameTooSmall)
        /// A frame header announced more bytes than the configured maximum.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// The peer reset the connection (`ECONNRESET`).
        public static let connectionReset = Code(.connectionReset)
        /// The connection was aborted (`ECONNABORTED`).
        public static let connectionAborted = Code(.connectionAborted)
        /// Nobody listens at the address (`ECONNREFUSED`, or `ENOENT` for a Unix path).
        public static let connectionRefused = Code(.connectionRefused)
        /// Writing to a connection the peer has closed (`EPIPE`).
        public static let brokenPipe = Code(.brokenPipe)
        /// A send or receive timeout expired (`EAGAIN`/`EWOULDBLOCK` on a blocking socket,
        /// or `ETIMEDOUT`).
        public static let timedOut = Code(.timedOut)
        /// A signal interrupted a system call (`EINTR`) and the caller asked for no retry
        /// (`retryOnInterrupt = false`); the operation can be called again.
        public static let interrupted = Code(.interrupted)
        /// A host name could not be resolved.
        public static let hostNotFound = Code(.hostNotFound)
        /// The address to listen on is taken (`EADDRINUSE`).
        public static let addressInUse = Code(.addressInUse)
        /// An earlier failure left the stream at an unknown position; the connection must be
        /// closed.
        public static let unusable = Code(.unusable)
        /// Any other failed system call; ``BSONError/errno`` holds the number.
        public static let systemCallFailed = Code(.systemCallFailed)

        public var description: String { base.rawValue }
    }

    private final class Storage: Sendable {
        let code: Code
        let message: String
        let offset: Int?
        let keyPath: [String]
        let errno: Int32?
        let file: String
        let line: Int

        init(code: Code, message: String, offset: Int?, keyPath: [String], errno: Int32?, file: String, line: Int) {
            self.code = code
            self.message = message
            self.offset = offset
            self.keyPath = keyPath
            self.errno = errno
            self.file = file
            self.line = line
        }
    }

    private var storage: Storage

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure.
    ///   - message: What went wrong, in words.
    ///   - offset: The byte offset into the decoded bytes, when the failure has a position.
    ///   - keyPath: The keys from the outermost document down to the element at fault.
    ///   - errno: The operating-system error number, for failed system calls.
    public init(
        _ code: Code,
        _ message: String,
        offset: Int? = nil,
        keyPath: [String] = [],
        errno: Int32? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        storage = Storage(
            code: code, message: message, offset: offset, keyPath: keyPath, errno: errno, file: file, line: line)
    }

    /// What kind of failure this is.
    public var code: Code { storage.code }
    /// What went wrong, in words.
    public var message: String { storage.message }
    /// The byte offset, from the start of the outermost document or stream, where the fault
    /// was found; `nil` when the failure has no position.
    public var offset: Int? { storage.offset }
    /// The keys from the outermost document down to the element at fault (array indexes
    /// appear as their decimal keys); empty when the fault is not inside an element.
    public var keyPath: [String] { storage.keyPath }
    /// The operating-system error number, for failed system calls.
    public var errno: Int32? { storage.errno }
    /// The source file that raised the error (`#fileID`).
    public var file: String { storage.file }
    /// The source line that raised the error.
    public var line: Int { storage.line }

    /// ``keyPath`` joined with dots, for messages.
    public var dottedKeyPath: String { keyPath.joined(separator: ".") }

    /// This error with `key` put in front of its key path (used as an error travels out of
    /// nested documents).
    package func prefixingKeyPath(with key: String) -> BSONError {
        var copy = self
        copy.storage = Storage(
            code: code, message: message, offset: offset, keyPath: [key] + keyPath, errno: errno,
            file: file, line: line)
        return copy
    }

    /// This error with its offset moved by `delta` (used when the failing bytes were part
    /// of a larger stream).
    package func shiftingOffset(by delta: Int) -> BSONError {
        guard let offset, delta != 0 else { return self }
        var copy = self
        copy.storage = Storage(
            code: code, message: message, offset: offset + delta, keyPath: keyPath, errno: errno,
            file: file, line: line)
        return copy
    }

    public var description: String {
        var text = "BSONError.\(code): \(message)"
        if let offset { text += " (at byte \(offset)" + (keyPath.isEmpty ? ")" : ", key \"\(dottedKeyPath)\")") }
        else if !keyPath.isEmpty { text += " (key \"\(dottedKeyPath)\")" }
        if let errno { text += " [errno \(errno)]" }
        return text
    }
}
