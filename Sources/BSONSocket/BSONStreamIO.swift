/// A byte stream that exchanges BSON documents: the Swift form of py-bson's
/// `patch_socket()`, which adds `recvbytes`, `recvobj` and `sendobj` to sockets.
///
/// Importing `BSONSocket` is the patch: ``BSONSocket`` and swift-system's `FileDescriptor`
/// (a socket from `socketpair` or from an `accept` done elsewhere, or a pipe) both conform,
/// so both have ``recvObj(options:limits:)``, ``sendObj(_:options:)-(BSONDocument,_)`` and
/// ``recvBytes(_:into:)``.
///
/// ```swift
/// import BSONSocket
///
/// let socket = try BSONSocket.connect(host: "127.0.0.1", port: 8080)
/// try socket.sendObj(["type": "greeting", "message": "Hello server!"])
/// if let reply = try socket.recvObj() {      // nil: the peer closed between documents
///     print(reply["echo"] ?? "none")
/// }
/// ```
///
/// One message on the wire is one BSON document and nothing else, so peers written with
/// py-bson or pymongo's `bson` interoperate.
///
/// The four requirements are the primitives; everything else is built on them in an
/// extension. They are requirements (not extension methods) so that a stream with its own
/// buffering, like ``BSONSocket``, is reached through generic code too. The two conformances
/// differ in one way: a ``BSONSocket`` reads ahead (one receive call may bring many small
/// frames) and keeps a partial frame across a timeout, while a `FileDescriptor` has nowhere
/// to keep bytes, so it never reads past the current frame and reports a timeout inside a
/// frame as ``BSONError/Code/unusable``.
public protocol BSONStreamIO {
    /// Receives exactly `count` bytes and appends them to `buffer` (py-bson's `recvbytes`).
    ///
    /// Bytes are received in calls of at most 32 KiB, each writing straight into `buffer`'s
    /// storage (no intermediate copy). A ``BSONSocket`` first hands over bytes it has
    /// already read ahead (and those of a frame a timeout interrupted), in stream order.
    ///
    /// - Parameters:
    ///   - count: How many bytes; 0 receives nothing and returns `true`. Must not be
    ///     negative.
    ///   - buffer: Grows by the bytes received; its existing contents are kept.
    /// - Returns: `true` when all `count` bytes arrived; `false` when the peer closed the
    ///   connection cleanly before that (the bytes that did arrive are appended).
    /// - Throws: ``BSONError`` for a failed receive (``BSONError/Code/timedOut``,
    ///   ``BSONError/Code/connectionReset``, …); the bytes received before it are appended,
    ///   so the call can be repeated for the rest. The corresponding C function is `recv`
    ///   (`read` for a descriptor that is not a socket).
    func recvBytes(_ count: Int, into buffer: inout [UInt8]) throws(BSONError) -> Bool

    /// Receives the next frame, one whole BSON document's bytes, without decoding it.
    ///
    /// The frame's header was checked against `limits` before its storage was allocated,
    /// and its last byte is `0x00`; its elements are not checked (use ``BSONView`` or
    /// ``BSONDocument/validate(bytes:options:)-([UInt8],_)``).
    ///
    /// - Parameter limits: The accepted frame lengths.
    /// - Returns: The frame, or `nil` when the peer closed cleanly between frames.
    /// - Throws: ``BSONError`` with ``BSONError/Code/truncated`` when the peer closed inside
    ///   a frame; ``BSONError/Code/frameTooSmall`` or ``BSONError/Code/frameTooLarge`` for a
    ///   header outside `limits` (after which the stream's position is lost and further
    ///   frame receives throw ``BSONError/Code/unusable``); ``BSONError/Code/malformed`` for
    ///   a frame not ending in `0x00` (consumed whole: the next call reads the next frame);
    ///   ``BSONError/Code/timedOut`` and the other transport codes for a failed receive.
    func recvFrame(limits: BSONFrameLimits) throws(BSONError) -> [UInt8]?

    /// Receives the next frame and lends its bytes to `body`, without copying them where
    /// the stream can avoid it (a ``BSONSocket`` passes frames straight from its read-ahead
    /// buffer).
    ///
    /// The frame is consumed whether or not `body` throws.
    ///
    /// - Parameters:
    ///   - limits: The accepted frame lengths.
    ///   - body: Receives exactly one frame. The pointer is valid only during the call and
    ///     must not escape; `body` must not receive from the same stream.
    /// - Returns: What `body` returned, or `nil` when the peer closed cleanly between frames.
    /// - Throws: What ``recvFrame(limits:)`` throws, or what `body` throws.
    func withReceivedFrame<R>(
        limits: BSONFrameLimits, _ body: (UnsafeRawBufferPointer) throws(BSONError) -> R
    ) throws(BSONError) -> R?

    /// Sends every byte of `bytes`, looping over partial sends; concurrent calls on the same
    /// stream never interleave (each holds the stream's send lock for the whole buffer).
    ///
    /// - Parameter bytes: What to send, typically one or more whole frames.
    /// - Throws: ``BSONError``: ``BSONError/Code/brokenPipe`` or
    ///   ``BSONError/Code/connectionReset`` when the peer is gone (never a SIGPIPE);
    ///   ``BSONError/Code/timedOut`` when a send timeout expired before any byte went out
    ///   (nothing was sent; the call may be repeated); ``BSONError/Code/unusable`` when it
    ///   expired part-way (the peer holds a partial frame; the send side is unusable from
    ///   then on). The corresponding C function is `send` with `MSG_NOSIGNAL` (`write` with
    ///   SIGPIPE blocked for a descriptor that is not a socket).
    func sendBytes(_ bytes: UnsafeRawBufferPointer) throws(BSONError)
}

extension BSONStreamIO {
    /// Receives the next frame with the default limits (see ``recvFrame(limits:)``).
    public func recvFrame() throws(BSONError) -> [UInt8]? {
        try recvFrame(limits: .default)
    }

    /// Receives and decodes the next document (py-bson's `recvobj`).
    ///
    /// Reads the 4-byte length header, checks it against `limits` before allocating, reads
    /// the rest into storage that grows as the bytes arrive (never ahead of them by more than
    /// 64 KiB or the bytes already held), then decodes strictly with
    /// ``BSONDocument/init(bytes:options:)-(UnsafeRawBufferPointer,_)``.
    ///
    /// - Parameters:
    ///   - options: Decoding limits; default ``BSONDecodingOptions/default``.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``
    ///     (5 bytes to 16 MiB + 16 KiB).
    /// - Returns: The document, or `nil` when the peer closed cleanly between documents.
    /// - Throws: What ``recvFrame(limits:)`` throws; or, for a frame whose contents are not
    ///   valid BSON, the decoder's ``BSONError`` (offset relative to the document). The
    ///   frame was consumed whole, so the next call reads the next document.
    public func recvObj(
        options: BSONDecodingOptions = .default, limits: BSONFrameLimits = .default
    ) throws(BSONError) -> BSONDocument? {
        try withReceivedFrame(limits: limits) { (frame) throws(BSONError) -> BSONDocument in
            do throws(BSONError) {
                return try BSONDocument(bytes: frame, options: options)
            } catch {
                throw error.appending("the frame was consumed whole; the next recvObj reads the next document")
            }
        }
    }

    /// Receives the next frame as a ``BSONView``, for looking up a few keys without decoding
    /// the whole document.
    ///
    /// - Parameters:
    ///   - options: The limits the view uses when it decodes values.
    ///   - limits: The accepted frame lengths.
    /// - Returns: The view, or `nil` when the peer closed cleanly between frames.
    /// - Throws: What ``recvFrame(limits:)`` throws.
    public func recvView(
        options: BSONDecodingOptions = .default, limits: BSONFrameLimits = .default
    ) throws(BSONError) -> BSONView? {
        guard let frame = try recvFrame(limits: limits) else { return nil }
        return try BSONView(bytes: frame, options: options)
    }

    /// Encodes `document` and sends it as one frame (py-bson's `sendobj`).
    ///
    /// The whole document is encoded before anything is sent, so an encoding error writes
    /// nothing; then the bytes go out with ``sendBytes(_:)-(UnsafeRawBufferPointer)``, which
    /// never interleaves with another send on the same stream.
    ///
    /// - Parameters:
    ///   - document: The document; a dictionary literal works too
    ///     (`try socket.sendObj(["type": "ping"])`, keys in written order).
    ///   - options: Encoding limits; default ``BSONEncodingOptions/default``.
    /// - Throws: The encoder's ``BSONError`` (``BSONError/Code/invalidKey``,
    ///   ``BSONError/Code/invalidValue``, ``BSONError/Code/nestingTooDeep``) with nothing
    ///   sent, or what ``sendBytes(_:)-(UnsafeRawBufferPointer)`` throws.
    public func sendObj(_ document: BSONDocument, options: BSONEncodingOptions = .default) throws(BSONError) {
        let frame = try document.encoded(options: options)
        try sendBytes(frame)
    }

    /// Converts `dictionary` to a document and sends it (see
    /// ``sendObj(_:options:)-(BSONDocument,_)``).
    ///
    /// Keys go out in ascending order of their UTF-8 bytes (a Swift dictionary has no
    /// order); see ``BSONDocument/init(_:)-(Dictionary<String,Any>)`` for the Swift types
    /// that convert. This overload is disfavoured so that a dictionary literal becomes a
    /// ``BSONDocument`` and keeps its written order.
    ///
    /// - Throws: ``BSONError`` with ``BSONError/Code/unknownSerializer`` naming the key path
    ///   and type of the first value with no BSON form, with nothing sent; or what
    ///   ``sendObj(_:options:)-(BSONDocument,_)`` throws.
    @_disfavoredOverload
    public func sendObj(_ dictionary: [String: Any], options: BSONEncodingOptions = .default) throws(BSONError) {
        try sendObj(try BSONDocument(dictionary), options: options)
    }

    /// Sends every byte of `bytes` (see ``sendBytes(_:)-(UnsafeRawBufferPointer)``).
    public func sendBytes(_ bytes: [UInt8]) throws(BSONError) {
        try bytes.withBytes { (raw) throws(BSONError) in try sendBytes(raw) }
    }

    /// Sends an already-encoded document (one received with ``recvFrame(limits:)``, say)
    /// after checking that it is exactly one frame by the framing rules.
    ///
    /// - Parameters:
    ///   - frame: One whole frame: its header equals its length, it ends with `0x00`.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    /// - Throws: ``BSONError`` from ``BSONFraming/inspect(_:limits:)-([UInt8],_)``, or
    ///   ``BSONError/Code/malformed`` when the header disagrees with the byte count, with
    ///   nothing sent; or what ``sendBytes(_:)-(UnsafeRawBufferPointer)`` throws.
    public func sendFrame(_ frame: [UInt8], limits: BSONFrameLimits = .default) throws(BSONError) {
        let status = try BSONFraming.inspect(frame, limits: limits)
        guard status == .frame(length: frame.count) else {
            throw BSONError(
                .malformed,
                "sendFrame needs exactly one frame; the header and the \(frame.count) bytes given disagree (\(status))",
                offset: 0)
        }
        try sendBytes(frame)
    }
}
