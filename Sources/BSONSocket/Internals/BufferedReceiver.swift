import Glibc

/// The frame timeout of a receive (see `BSONSocket.setFrameTimeout`), with the receive
/// timeout that still limits each wait.
struct FrameDeadline {
    let frameTimeout: Duration
    let receiveTimeout: Duration?
}

/// The receive state of a ``BSONSocket``: a read-ahead buffer, the frame being collected,
/// and whether the stream has lost its place. Lives inside the socket's receive lock.
///
/// Reading ahead: small frames should not cost a system call each. When nothing is
/// buffered, one `recv` of up to ``capacity`` bytes refills the buffer, and frames are
/// served from it, passed to the caller in place when a whole frame is buffered. A frame
/// that still needs at least ``capacity`` bytes is read straight into its own storage
/// (which grows as the bytes arrive, see `BSONFrameReader`) in calls of at most 32 KiB,
/// never through the buffer. `recvBytes` drains the buffer first, then receives straight
/// into the caller's array.
///
/// Timeouts: a receive that fails with a resumable error (a timeout, or EINTR when not
/// retried) leaves every byte where it was: in the buffer, or in the partial frame held by
/// the reader. The next call resumes. Other failures inside a frame (reset, the peer
/// closing, a bad header) set ``failure``; from then on frame receives throw
/// ``BSONError/Code/unusable``.
struct BufferedReceiver {
    /// The read-ahead buffer's size: 64 KiB.
    static let capacity = 64 * 1024

    private var reader = BSONFrameReader()
    /// Storage for read-ahead bytes, allocated on the first refill; `start..<end` is unread.
    private var storage: [UInt8] = []
    private var start = 0
    private var end = 0
    /// Bytes taken from the stream so far (for messages: where a frame starts).
    private var streamPosition = 0
    /// Set when the stream lost its place; frame receives throw `.unusable` from then on.
    private(set) var failure: BSONError?
    /// When the frame being collected was first seen waiting for more bytes (kept only while
    /// a frame timeout applies; a resumed receive keeps the frame's original start).
    private var frameBegan: ContinuousClock.Instant?

    /// The number of read-ahead bytes not yet handed out.
    var bufferedCount: Int { end - start }

    /// Receives the next frame and hands it over: to `borrowed` when it lies whole in the
    /// read-ahead buffer (the pointer is valid during the call only), to `owned` when it was
    /// assembled in its own storage (no copy is made).
    ///
    /// - Returns: `true` when one of the two was called; `false` when the peer closed cleanly
    ///   between frames.
    mutating func nextFrame(
        io: inout DescriptorIO,
        limits: BSONFrameLimits,
        deadline: FrameDeadline? = nil,
        borrowed: (UnsafeRawBufferPointer) throws(BSONError) -> Void,
        owned: ([UInt8]) throws(BSONError) -> Void
    ) throws(BSONError) -> Bool {
        if let failure {
            throw BSONError(
                .unusable,
                "the receive side of \(io.label) lost its place in the stream earlier (\(failure.code): "
                    + "\(failure.message)); close the connection",
                errno: failure.errno)
        }
        while true {
            if bufferedCount > 0 {
                let frameStart = streamPosition - reader.receivedCount
                let step = storage.withUnsafeBytes { raw in
                    reader.consume(UnsafeRawBufferPointer(rebasing: raw[start..<end]), limits: limits, allowInPlace: true)
                }
                switch step {
                case .needMore(let consumed):
                    take(consumed)
                case .frameInPlace(let length):
                    let frameOffset = start
                    take(length)
                    // `take` only moved the indexes: the bytes are still in the storage.
                    // (`withUnsafeBytes` rethrows untyped errors, so the typed one is carried out.)
                    var bodyError: BSONError?
                    storage.withUnsafeBytes { raw in
                        do throws(BSONError) {
                            try borrowed(UnsafeRawBufferPointer(rebasing: raw[frameOffset..<(frameOffset + length)]))
                        } catch {
                            bodyError = error
                        }
                    }
                    if let bodyError { throw bodyError }
                    return true
                case .frame(let frame, let consumed):
                    take(consumed)
                    try owned(frame)
                    return true
                case .rejectedFrame(let error, let consumed):
                    take(consumed)
                    throw error.appending(
                        "frame at stream byte \(frameStart) of \(io.label); it was consumed whole and the next "
                            + "receive reads the next frame")
                case .rejectedHeader(let error, let consumed):
                    take(consumed)
                    let lost = error.appending(
                        "frame at stream byte \(frameStart) of \(io.label); its body was not read, so the stream "
                            + "has lost its place")
                    failure = lost
                    throw lost
                }
                continue
            }

            // Nothing buffered: receive.
            if reader.isAtFrameBoundary {
                frameBegan = nil
            } else if let deadline {
                try waitInsideFrame(io: io, deadline: deadline)
            }
            if reader.announcedLength != nil, reader.bytesNeeded >= Self.capacity {
                // A large remainder goes straight into the frame's own storage.
                let received: Int
                do {
                    received = try reader.receiveBody(maximum: DescriptorIO.maximumReceiveSize) {
                        (buffer) throws(BSONError) -> Int in
                        try io.receiveSome(into: buffer, for: "receiving a frame body")
                    }
                } catch {
                    throw failedInsideFrame(error, io: io)
                }
                if received == 0 { throw truncated(io: io) }
                streamPosition += received
                switch reader.completedFrame() {
                case nil:
                    continue
                case .frame(let frame, _)?:
                    try owned(frame)
                    return true
                case .rejectedFrame(let error, _)?:
                    throw error.appending("the frame was consumed whole; the next receive reads the next frame")
                default:
                    preconditionFailure("a completed frame is a frame or a rejected frame")
                }
            }

            let received: Int
            do {
                received = try refill(io: &io)
            } catch {
                throw reader.isAtFrameBoundary ? error : failedInsideFrame(error, io: io)
            }
            if received == 0 {
                if reader.isAtFrameBoundary { return false }
                throw truncated(io: io)
            }
        }
    }

    /// Receives exactly `count` raw bytes: first the bytes of an interrupted frame and the
    /// read-ahead buffer, then straight from the socket in calls of at most 32 KiB.
    mutating func receiveBytes(_ count: Int, into buffer: inout [UInt8], io: inout DescriptorIO) throws(BSONError) -> Bool {
        precondition(count >= 0, "recvBytes needs a count of 0 or more, got \(count)")
        guard count > 0 else { return true }
        if !reader.isAtFrameBoundary {
            // Raw bytes are wanted now: a frame that a timeout interrupted goes back in front
            // of the buffered bytes, in stream order.
            let partial = reader.abandonPartialFrame()
            streamPosition -= partial.count
            let unread = storage[start..<end]
            storage = partial + unread
            if storage.count < Self.capacity { storage += repeatElement(0, count: Self.capacity - storage.count) }
            start = 0
            end = partial.count + unread.count
        }
        let fromBuffer = min(count, bufferedCount)
        if fromBuffer > 0 {
            buffer.append(contentsOf: storage[start..<(start + fromBuffer)])
            take(fromBuffer)
        }
        let remaining = count - fromBuffer
        guard remaining > 0 else { return true }
        let before = buffer.count
        defer { streamPosition += buffer.count - before }
        return try io.receive(remaining, appendingTo: &buffer)
    }

    // MARK: Helpers

    private mutating func take(_ count: Int) {
        start += count
        streamPosition += count
        if start == end {
            start = 0
            end = 0
        }
    }

    /// One receive into the (empty) read-ahead buffer.
    private mutating func refill(io: inout DescriptorIO) throws(BSONError) -> Int {
        precondition(bufferedCount == 0, "refill with bytes still buffered")
        if storage.count < Self.capacity {
            // Not zero-filled: memory the system has not handed out yet stays unmapped until a
            // receive writes it, so an idle connection holds address space, not resident
            // pages. Only bytes a receive wrote (`start..<end`) are ever read.
            storage = [UInt8](unsafeUninitializedCapacity: Self.capacity) { _, initialized in
                initialized = Self.capacity
            }
        }
        let activity = reader.isAtFrameBoundary ? "receiving the next frame" : "receiving the rest of a frame"
        let outcome = storage.withUnsafeMutableBytes { raw in
            Result { () throws(BSONError) -> Int in try io.receiveSome(into: raw, for: activity) }
        }
        let received = try outcome.get()
        start = 0
        end = received
        return received
    }

    /// With part of a frame held and a frame timeout set: waits (`poll`) for more bytes, at
    /// most for the time the frame has left and for the receive timeout.
    ///
    /// - Throws: A resumable ``BSONError/Code/timedOut`` when the receive timeout expired
    ///   first (the partial frame is kept, as after a `recv` timeout); a
    ///   ``BSONError/Code/timedOut`` that loses the stream's place when the frame timeout
    ///   expired.
    private mutating func waitInsideFrame(io: DescriptorIO, deadline: FrameDeadline) throws(BSONError) {
        let clock = ContinuousClock()
        let now = clock.now
        let began = frameBegan ?? now
        frameBegan = began
        let left = began.advanced(by: deadline.frameTimeout) - now
        var wait = left
        if let receive = deadline.receiveTimeout, receive < wait { wait = receive }
        let ready: Bool
        if left <= .zero {
            ready = false
        } else {
            do throws(SystemErrno) {
                ready = try Syscalls.poll(io.descriptor, events: Syscalls.pollIn, timeout: wait) != 0
            } catch {
                throw failedInsideFrame(
                    error.bsonError("poll", while: "waiting for the rest of a frame on \(io.label)"), io: io)
            }
        }
        if ready { return }
        if wait < left {
            // The receive timeout, as a `recv` would have reported it.
            throw failedInsideFrame(
                SystemErrno(EAGAIN).bsonError("recv", while: "receiving the rest of a frame on \(io.label)"), io: io)
        }
        let held = reader.receivedCount
        let of = reader.announcedLength.map { "\($0)" } ?? "the 4 header"
        let lost = BSONError(
            .timedOut,
            "the frame timeout (\(deadline.frameTimeout)) expired on \(io.label) with \(held) of \(of) bytes of the "
                + "frame received; the partial frame was dropped and the stream has lost its place",
            offset: held)
        frameBegan = nil
        _ = reader.abandonPartialFrame()  // its memory goes now
        failure = lost
        throw lost
    }

    /// The error for a receive that failed with part of a frame held: resumable ones keep
    /// the bytes, others lose the stream's place.
    private mutating func failedInsideFrame(_ error: BSONError, io: DescriptorIO) -> BSONError {
        let held = reader.receivedCount
        let of = reader.announcedLength.map { "\($0)" } ?? "the 4 header"
        if error.isResumable {
            return error.appending(
                "\(held) of \(of) bytes of the current frame have arrived and are kept; the next receive resumes it")
        }
        let lost = error.appending("\(held) of \(of) bytes of a frame had arrived; the stream has lost its place")
        failure = lost
        return lost
    }

    private mutating func truncated(io: DescriptorIO) -> BSONError {
        let held = reader.receivedCount
        let message =
            if let length = reader.announcedLength {
                "the peer closed the connection inside a frame, after \(held) of its \(length) bytes"
            } else {
                "the peer closed the connection inside a frame header, after \(held) of its 4 bytes"
            }
        let error = BSONError(.truncated, message + " (\(io.label))", offset: held)
        failure = error
        return error
    }
}
