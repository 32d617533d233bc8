/// The seed API on ``BSONSocket``: receives go through the socket's read-ahead buffer and
/// keep a partial frame across a timeout; sends hold the socket's send lock.
extension BSONSocket: BSONStreamIO {
    /// Receives exactly `count` bytes and appends them to `buffer` (see
    /// ``BSONStreamIO/recvBytes(_:into:)``).
    ///
    /// Bytes already read ahead (and those of a frame that a timeout interrupted) come
    /// first, in stream order; the rest is received in calls of at most 32 KiB
    /// (``maximumReceiveSize``) straight into `buffer`'s storage. Raw reads are not refused
    /// after a frame failure made frame receives ``BSONError/Code/unusable``: they return the
    /// stream's bytes from wherever it stands.
    ///
    /// - Parameters:
    ///   - count: How many bytes; 0 receives nothing. Must not be negative.
    ///   - buffer: Grows by the bytes received.
    /// - Returns: `true` when all `count` bytes arrived, `false` when the peer closed first
    ///   (what arrived is appended).
    /// - Throws: ``BSONError``: ``BSONError/Code/closed`` after ``close()``, or a failed
    ///   receive (what arrived before it is appended). The corresponding C function is
    ///   `recv`.
    public func recvBytes(_ count: Int, into buffer: inout [UInt8]) throws(BSONError) -> Bool {
        precondition(count >= 0, "recvBytes needs a count of 0 or more, got \(count)")
        return try receiveState.withLock { (state) throws(BSONError) -> Bool in
            try owner.withDescriptor { (descriptor) throws(BSONError) -> Bool in
                var io = makeIO(descriptor)
                return try state.receiveBytes(count, into: &buffer, io: &io)
            }
        }
    }

    /// Receives the next frame without decoding it (see ``BSONStreamIO/recvFrame(limits:)``).
    ///
    /// - Parameter limits: The accepted frame lengths.
    /// - Returns: The frame, or `nil` when the peer closed cleanly between frames.
    /// - Throws: ``BSONError``: ``BSONError/Code/truncated``, ``BSONError/Code/frameTooSmall``,
    ///   ``BSONError/Code/frameTooLarge``, ``BSONError/Code/malformed`` (see
    ///   ``BSONStreamIO/recvFrame(limits:)``); ``BSONError/Code/timedOut`` with the partial
    ///   frame kept for the next call; ``BSONError/Code/unusable`` after a failure that lost
    ///   the stream's place; ``BSONError/Code/closed`` after ``close()``. The corresponding C
    ///   function is `recv`.
    public func recvFrame(limits: BSONFrameLimits) throws(BSONError) -> [UInt8]? {
        try receiveFrame(limits: limits, borrowed: { (frame) throws(BSONError) in Array(frame) }, owned: { $0 })
    }

    /// Receives the next frame and lends it to `body`, straight from the read-ahead buffer
    /// when the frame is there whole (see ``BSONStreamIO/withReceivedFrame(limits:_:)``).
    ///
    /// - Parameters:
    ///   - limits: The accepted frame lengths.
    ///   - body: Receives exactly one frame. The pointer must not escape, and `body` must not
    ///     receive from this socket (the receive lock is held).
    /// - Returns: What `body` returned, or `nil` when the peer closed cleanly between frames.
    /// - Throws: What ``recvFrame(limits:)`` throws, or what `body` throws.
    public func withReceivedFrame<R>(
        limits: BSONFrameLimits, _ body: (UnsafeRawBufferPointer) throws(BSONError) -> R
    ) throws(BSONError) -> R? {
        try receiveFrame(limits: limits, borrowed: body, owned: { (frame) throws(BSONError) in try frame.withBytes(body) })
    }

    /// The frame receive behind both: a frame that lies whole in the read-ahead buffer goes
    /// to `borrowed`, one assembled in its own storage goes to `owned` without a copy.
    private func receiveFrame<R>(
        limits: BSONFrameLimits,
        borrowed: (UnsafeRawBufferPointer) throws(BSONError) -> R,
        owned: ([UInt8]) throws(BSONError) -> R
    ) throws(BSONError) -> R? {
        // The result leaves the lock through a local the closures write, rather than as the
        // lock's return value, which would have to be `sending`. The receiver itself is not
        // generic over the result: unspecialized generic code that wraps `R` in `Result` or
        // `Optional` looks their metadata up at run time on every frame.
        var result: R?
        let deadline = frameDeadline
        try receiveState.withLock { (state) throws(BSONError) in
            try owner.withDescriptor { (descriptor) throws(BSONError) in
                var io = makeIO(descriptor)
                _ = try state.nextFrame(
                    io: &io, limits: limits, deadline: deadline,
                    borrowed: { (frame) throws(BSONError) in result = try borrowed(frame) },
                    owned: { (frame) throws(BSONError) in result = try owned(frame) })
            }
        }
        return result
    }

    /// Sends every byte of `bytes` while holding the socket's send lock (see
    /// ``BSONStreamIO/sendBytes(_:)-(UnsafeRawBufferPointer)``).
    ///
    /// - Parameter bytes: What to send.
    /// - Throws: ``BSONError``: ``BSONError/Code/brokenPipe`` or
    ///   ``BSONError/Code/connectionReset`` when the peer is gone; ``BSONError/Code/timedOut``
    ///   when the send timeout expired before any byte went out; ``BSONError/Code/unusable``
    ///   when it expired part-way, and for every send after that (any other failure after
    ///   part of the bytes went out also makes later sends throw it); ``BSONError/Code/closed``
    ///   after ``close()``. The corresponding C function is `send` with `MSG_NOSIGNAL`.
    public func sendBytes(_ bytes: UnsafeRawBufferPointer) throws(BSONError) {
        guard !bytes.isEmpty else { return }
        try sendState.withLock { (state) throws(BSONError) in
            if let failure = state.failure {
                throw BSONError(
                    .unusable,
                    "the send side of \(label) is unusable since an earlier send stopped part-way (\(failure.message))",
                    errno: failure.errno)
            }
            try owner.withDescriptor { (descriptor) throws(BSONError) in
                var io = makeIO(descriptor)
                var sent = 0
                do throws(BSONError) {
                    try io.sendAll(bytes, sent: &sent, for: "sending \(bytes.count) bytes")
                } catch where sent > 0 {
                    // Part of the bytes went out: no later send may go through.
                    let lost = BSONError.partialSend(error, sent: sent, of: bytes.count, on: label)
                    state.failure = lost
                    throw lost
                }
            }
        }
    }

    private func makeIO(_ descriptor: Int32) -> DescriptorIO {
        DescriptorIO(descriptor: descriptor, retryOnInterrupt: retryOnInterrupt, isSocket: true, noun: "socket")
    }
}
