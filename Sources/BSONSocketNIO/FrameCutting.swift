import NIOCore

// The one place where this module applies the BSON framing rules: every decoder here asks
// `BSONFraming` (in BSONSocket) about the readable bytes of its cumulation buffer, and
// consumes a frame only when it is told the frame is whole and valid.

extension ByteBuffer {
    /// ``BSONFraming/inspect(_:limits:)`` on the readable bytes, which are lent, not copied.
    /// Nothing is consumed.
    func bsonFrameStatus(limits: BSONFrameLimits) throws(BSONError) -> BSONFraming.Status {
        try withUnsafeReadableBytes { raw in
            Result { () throws(BSONError) -> BSONFraming.Status in try BSONFraming.inspect(raw, limits: limits) }
        }.get()
    }

    /// Lends the first `length` readable bytes (one frame) to `body`, without copying them.
    func withBSONFrame<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(BSONError) -> R
    ) throws(BSONError) -> R {
        try withUnsafeReadableBytes { raw in
            Result { () throws(BSONError) -> R in try body(UnsafeRawBufferPointer(rebasing: raw[..<length])) }
        }.get()
    }
}

/// What the decoder of a connection tells that connection's stall timer: since when part of
/// a frame has been waiting for the rest. Confined to the channel's event loop.
final class FrameProgress {
    /// When the unfinished frame now held began to wait; `nil` at a frame boundary.
    var partialFrameSince: NIODeadline?

    init() {}
}

/// The state the frame decoders share: the limits, where the stream stands, and whether a
/// hostile or broken frame has already ended the stream.
struct FrameCutter {
    let limits: BSONFrameLimits
    /// Set by the pipeline setup of the async client and server; `nil` otherwise.
    var progress: FrameProgress?
    /// Frames taken so far, for messages.
    private(set) var frameCount = 0
    /// Bytes taken so far, for messages.
    private(set) var streamOffset = 0
    /// Whether an error has been fired: from then on every byte is dropped.
    private(set) var hasFailed = false

    init(limits: BSONFrameLimits) {
        self.limits = limits
    }

    /// The length of the whole, valid frame at the start of `buffer`'s readable bytes, or
    /// `nil` while it is incomplete. Consumes nothing.
    ///
    /// - Throws: The framing rules' ``BSONError`` (a header outside the limits, a missing
    ///   terminator), with the frame's position in the stream added to the message.
    mutating func nextFrameLength(in buffer: ByteBuffer, context: ChannelHandlerContext) throws(BSONError) -> Int? {
        let status: BSONFraming.Status
        do {
            status = try buffer.bsonFrameStatus(limits: limits)
        } catch {
            throw located(error)
        }
        switch status {
        case .needMoreBytes:
            if buffer.readableBytes > 0, let progress, progress.partialFrameSince == nil {
                progress.partialFrameSince = context.eventLoop.now
            }
            return nil
        case .frame(let length):
            return length
        }
    }

    /// Records that a frame of `length` bytes was taken.
    mutating func didTake(_ length: Int) {
        frameCount += 1
        streamOffset += length
        progress?.partialFrameSince = nil
    }

    /// The error with the position of the current frame in the stream.
    func located(_ error: BSONError) -> BSONError {
        BSONError(
            error.code,
            error.message + " (frame \(frameCount + 1) of the stream, starting at stream byte \(streamOffset))",
            offset: error.offset, keyPath: error.keyPath, errno: error.errno)
    }

    /// Ends the stream: fires `error` down the pipeline, closes the channel, and drops every
    /// byte held (the memory of a hostile frame goes at once).
    mutating func fail(_ error: BSONError, context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        hasFailed = true
        progress?.partialFrameSince = nil
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    /// After the last frame (end of input, or the decoder being removed): bytes left over
    /// are an unfinished frame, reported as ``BSONError/Code/truncated``.
    mutating func finish(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) {
        guard !hasFailed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return
        }
        let left = buffer.readableBytes
        guard left > 0 else { return }
        var message = seenEOF
            ? "the peer closed the connection inside a frame: "
            : "the decoder was removed inside a frame: "
        if let announced = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: Int32.self) {
            message += "\(left) of the \(announced) bytes its header announced had arrived"
        } else {
            message += "\(left) of the 4 header bytes had arrived"
        }
        let error = BSONError(
            .truncated, message + " (frame \(frameCount + 1), starting at stream byte \(streamOffset))",
            offset: streamOffset + left)
        fail(error, context: context, buffer: &buffer)
    }
}
