public import SystemPackage

/// swift-system's descriptor gets the seed API: a socket from `socketpair`, a descriptor
/// accepted elsewhere, or a pipe can exchange documents without being wrapped.
///
/// A `FileDescriptor` is a bare number with nowhere to keep bytes, so:
/// - it never reads past the current frame: the header is read exactly (up to 4 bytes), then
///   the body in receive calls of at most 32 KiB straight into the frame's storage;
/// - a receive that stops inside a frame (a timeout from `SO_RCVTIMEO`, a reset, the peer
///   closing) cannot be resumed: it throws, and the descriptor is marked in a process-wide
///   table so that every later frame receive on it throws ``BSONError/Code/unusable``
///   instead of reading from the middle of a frame. A timeout between frames is a plain,
///   retryable ``BSONError/Code/timedOut``. ``recvBytes(_:into:)`` reads raw bytes and is
///   not affected by the mark.
/// - a send that stops part-way through its bytes marks the send side the same way;
/// - concurrent sends on one descriptor number are serialized by a process-wide lock keyed
///   by that number.
///
/// Whether the descriptor is a socket is found out on first use: `recv`/`send` (with
/// `MSG_NOSIGNAL`) for sockets, `read`/`write` otherwise, the latter with SIGPIPE blocked for
/// the calling thread and a SIGPIPE it raised discarded, so writing to a pipe whose reader
/// is gone throws ``BSONError/Code/brokenPipe`` and never kills the process (a SIGPIPE
/// handler the program installed is not called for such a write). EINTR is always retried.
/// The descriptor must be open and in blocking mode: a descriptor that is not open
/// (`EBADF`) is a programming error and traps.
extension FileDescriptor: BSONStreamIO {
    /// Receives exactly `count` bytes and appends them to `buffer` (see
    /// ``BSONStreamIO/recvBytes(_:into:)``).
    ///
    /// - Parameters:
    ///   - count: How many bytes; 0 receives nothing. Must not be negative.
    ///   - buffer: Grows by the bytes received.
    /// - Returns: `true` when all `count` bytes arrived, `false` when the peer closed first
    ///   (what arrived is appended).
    /// - Throws: ``BSONError`` for a failed receive; what arrived before it is appended. The
    ///   corresponding C function is `recv` (`read` if the descriptor is not a socket).
    public func recvBytes(_ count: Int, into buffer: inout [UInt8]) throws(BSONError) -> Bool {
        precondition(count >= 0, "recvBytes needs a count of 0 or more, got \(count)")
        var io = streamIO
        return try io.receive(count, appendingTo: &buffer)
    }

    /// Receives the next frame without decoding it (see ``BSONStreamIO/recvFrame(limits:)``),
    /// never reading past it.
    ///
    /// - Parameter limits: The accepted frame lengths.
    /// - Returns: The frame, or `nil` when the peer closed cleanly between frames.
    /// - Throws: ``BSONError``: ``BSONError/Code/truncated`` (peer closed inside a frame),
    ///   ``BSONError/Code/frameTooSmall``/``BSONError/Code/frameTooLarge`` (bad header),
    ///   ``BSONError/Code/malformed`` (no `0x00` terminator; the frame was consumed whole),
    ///   ``BSONError/Code/unusable`` (a timeout inside this frame, or an earlier failure
    ///   that lost the stream's place), ``BSONError/Code/timedOut`` (a timeout between
    ///   frames; retryable) or another transport code. The corresponding C function is
    ///   `recv` (`read` if the descriptor is not a socket).
    public func recvFrame(limits: BSONFrameLimits) throws(BSONError) -> [UInt8]? {
        try receiveWholeFrame(limits: limits)
    }

    /// Receives the next frame and lends it to `body` (see
    /// ``BSONStreamIO/withReceivedFrame(limits:_:)``).
    ///
    /// - Parameters:
    ///   - limits: The accepted frame lengths.
    ///   - body: Receives exactly one frame; the pointer must not escape.
    /// - Returns: What `body` returned, or `nil` when the peer closed cleanly between frames.
    /// - Throws: What ``recvFrame(limits:)`` throws, or what `body` throws.
    public func withReceivedFrame<R>(
        limits: BSONFrameLimits, _ body: (UnsafeRawBufferPointer) throws(BSONError) -> R
    ) throws(BSONError) -> R? {
        guard let frame = try receiveWholeFrame(limits: limits) else { return nil }
        return try frame.withBytes(body)
    }

    /// Sends every byte of `bytes`, holding this descriptor number's send lock (see
    /// ``BSONStreamIO/sendBytes(_:)-(UnsafeRawBufferPointer)``).
    ///
    /// - Parameter bytes: What to send.
    /// - Throws: ``BSONError``: ``BSONError/Code/brokenPipe`` or
    ///   ``BSONError/Code/connectionReset`` when the reader is gone,
    ///   ``BSONError/Code/timedOut`` when a send timeout expired before any byte went out,
    ///   ``BSONError/Code/unusable`` when it expired part-way (and for every later send on
    ///   this descriptor). Any other failure after part of the bytes went out also makes
    ///   every later send throw ``BSONError/Code/unusable``. The corresponding C function is `send` with `MSG_NOSIGNAL`
    ///   (`write` with SIGPIPE blocked if the descriptor is not a socket).
    public func sendBytes(_ bytes: UnsafeRawBufferPointer) throws(BSONError) {
        guard !bytes.isEmpty else { return }
        let descriptor = rawValue
        try DescriptorRegistry.withSendLock(descriptor) { () throws(BSONError) in
            try DescriptorRegistry.checkUsable(descriptor, .send)
            var io = streamIO
            var sent = 0
            do throws(BSONError) {
                try io.sendAll(bytes, sent: &sent, for: "sending \(bytes.count) bytes")
            } catch where sent > 0 {
                // The peer holds a partial frame: no later send may go through.
                let lost = BSONError.partialSend(error, sent: sent, of: bytes.count, on: "descriptor \(descriptor)")
                DescriptorRegistry.markLost(descriptor, .send, reason: lost)
                throw lost
            }
        }
    }

    private var streamIO: DescriptorIO {
        DescriptorIO(descriptor: rawValue, retryOnInterrupt: true, isSocket: nil, noun: "descriptor")
    }

    /// The unbuffered frame receive: exactly the header, then exactly the body.
    private func receiveWholeFrame(limits: BSONFrameLimits) throws(BSONError) -> [UInt8]? {
        let descriptor = rawValue
        try DescriptorRegistry.checkUsable(descriptor, .receive)
        var io = streamIO
        var reader = BSONFrameReader()

        /// Marks the stream lost and returns the error to throw, for a failure inside a frame.
        func lostInsideFrame(_ error: BSONError) -> BSONError {
            let held = reader.receivedCount
            let of = reader.announcedLength.map { "\($0)" } ?? "the 4 header"
            let lost =
                error.isResumable
                ? BSONError(
                    .unusable,
                    error.message + "; \(held) of \(of) bytes of a frame had arrived and cannot be kept on a bare "
                        + "descriptor, so descriptor \(descriptor) has lost its place in the stream (use BSONSocket "
                        + "to resume frames after a timeout)",
                    offset: held, errno: error.errno)
                : error.appending("\(held) bytes of a frame had arrived; descriptor \(descriptor) has lost its place")
            DescriptorRegistry.markLost(descriptor, .receive, reason: lost)
            return lost
        }

        func truncated() -> BSONError {
            let held = reader.receivedCount
            let message =
                if let length = reader.announcedLength {
                    "the peer closed the connection inside a frame, after \(held) of its \(length) bytes"
                } else {
                    "the peer closed the connection inside a frame header, after \(held) of its 4 bytes"
                }
            let error = BSONError(.truncated, message + " (descriptor \(descriptor))", offset: held)
            DescriptorRegistry.markLost(descriptor, .receive, reason: error)
            return error
        }

        while true {
            let step: BSONFrameReader.Step
            if reader.announcedLength == nil {
                // The header, exactly: never a byte of what follows.
                var scratch: UInt32 = 0
                let wanted = reader.bytesNeeded
                let outcome = withUnsafeMutableBytes(of: &scratch) { raw in
                    Result { () throws(BSONError) -> Int in
                        try io.receiveSome(
                            into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]), for: "receiving a frame header")
                    }
                }
                let received: Int
                do {
                    received = try outcome.get()
                } catch {
                    throw reader.isAtFrameBoundary ? error : lostInsideFrame(error)
                }
                if received == 0 {
                    if reader.isAtFrameBoundary { return nil }
                    throw truncated()
                }
                step = withUnsafeBytes(of: scratch) { raw in
                    reader.consume(UnsafeRawBufferPointer(rebasing: raw[0..<received]), limits: limits, allowInPlace: false)
                }
            } else {
                let received: Int
                do {
                    received = try reader.receiveBody(maximum: DescriptorIO.maximumReceiveSize) {
                        (buffer) throws(BSONError) -> Int in
                        try io.receiveSome(into: buffer, for: "receiving a frame body")
                    }
                } catch {
                    throw lostInsideFrame(error)
                }
                if received == 0 { throw truncated() }
                guard let completed = reader.completedFrame() else { continue }
                step = completed
            }

            switch step {
            case .needMore:
                continue
            case .frame(let frame, _):
                return frame
            case .frameInPlace:
                preconditionFailure("in-place frames were not allowed")
            case .rejectedFrame(let error, _):
                throw error.appending("the frame was consumed whole; the next receive reads the next frame")
            case .rejectedHeader(let error, _):
                let lost = error.appending(
                    "the body was not read, so descriptor \(descriptor) has lost its place in the stream")
                DescriptorRegistry.markLost(descriptor, .receive, reason: lost)
                throw lost
            }
        }
    }
}
