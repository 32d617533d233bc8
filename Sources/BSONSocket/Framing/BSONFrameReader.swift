/// The incremental side of ``BSONFraming``: a state machine that collects one frame at a
/// time from bytes that arrive in pieces of any size, with no I/O of its own.
///
/// The owner of a byte stream feeds it either bytes it already holds (``consume(_:limits:allowInPlace:)``)
/// or lets a receive call write straight into the frame's storage
/// (``receiveBody(maximum:_:)``). The reader:
///
/// - keeps up to 3 header bytes in the state itself, allocates nothing until the 4th arrives,
///   then checks the announced length with ``BSONFraming/frameLength(announced:limits:)``;
/// - allocates the frame's storage as its bytes arrive, never ahead of them by more than
///   ``initialReservation`` or the bytes already held (storage doubles as it fills, up to the
///   announced length), so a header that promises 16 MiB costs 64 KiB until the peer sends
///   the rest;
/// - never takes more bytes than the current frame needs, so bytes after it stay with the
///   owner;
/// - checks the terminator with ``BSONFraming/checkTerminator(ofFrame:)`` when the frame is
///   whole, and returns to ``State/header(value:count:)`` whatever the outcome.
///
/// The reader does not decide what an error means for the stream: a rejected header
/// (``Step/rejectedHeader(_:consumed:)``) leaves the stream at an unknown position, a
/// rejected frame (``Step/rejectedFrame(_:consumed:)``) was consumed whole and the stream is
/// still in step. Its owner records which.
package struct BSONFrameReader: Sendable {
    /// Where the reader is within the current frame.
    package enum State: Sendable {
        /// Collecting the 4-byte header: `count` bytes (0...3) are held in `value`, least
        /// significant first.
        case header(value: UInt32, count: Int)
        /// Collecting the body of a frame of `length` bytes; `frame` holds the bytes received
        /// so far (header included), in storage that grows as they arrive.
        case body(frame: [UInt8], length: Int)
        /// Only while a mutating method holds the frame outside the enum, so that the array
        /// stays uniquely referenced and grows in place; never observed from outside.
        case transferring
    }

    /// What a call made of the bytes it was given.
    package enum Step: Sendable {
        /// The current frame is still incomplete; `consumed` bytes were taken (all of them).
        case needMore(consumed: Int)
        /// A frame was completed and checked; `consumed` bytes were taken to complete it.
        case frame([UInt8], consumed: Int)
        /// The input starts with a whole, valid frame of `length` bytes, and the reader was at
        /// a frame boundary: the owner may use the bytes where they are and consume `length`.
        /// The reader's state is unchanged.
        case frameInPlace(length: Int)
        /// A whole frame arrived but its last byte is not `0x00`; `consumed` bytes were taken
        /// (the frame is gone, the stream is in step at the next frame).
        case rejectedFrame(BSONError, consumed: Int)
        /// The header announced a length outside the limits; `consumed` bytes were taken (to
        /// the end of the header). Where the next frame starts is unknown.
        case rejectedHeader(BSONError, consumed: Int)
    }

    /// The current state.
    package private(set) var state: State = .header(value: 0, count: 0)

    /// The storage a frame gets when its header is complete: 64 KiB, or the announced length
    /// when that is smaller. A header alone never makes the reader set aside more.
    package static let initialReservation = 64 * 1024

    /// A reader at the start of a frame.
    package init() {}

    /// Whether no byte of a frame is held: the stream is between frames.
    package var isAtFrameBoundary: Bool {
        switch state {
        case .header(_, let count): count == 0
        case .body: false
        case .transferring: preconditionFailure("BSONFrameReader observed mid-transfer")
        }
    }

    /// How many bytes of the current frame are held (header included).
    package var receivedCount: Int {
        switch state {
        case .header(_, let count): count
        case .body(let frame, _): frame.count
        case .transferring: preconditionFailure("BSONFrameReader observed mid-transfer")
        }
    }

    /// The length the current frame's header announced, once the header is complete.
    package var announcedLength: Int? {
        switch state {
        case .header: nil
        case .body(_, let length): length
        case .transferring: preconditionFailure("BSONFrameReader observed mid-transfer")
        }
    }

    /// How many more bytes complete the current step: the rest of the header, or the rest of
    /// the frame.
    package var bytesNeeded: Int {
        switch state {
        case .header(_, let count): BSONFraming.headerLength - count
        case .body(let frame, let length): length - frame.count
        case .transferring: preconditionFailure("BSONFrameReader observed mid-transfer")
        }
    }

    /// Takes from the start of `input` what the current frame needs.
    ///
    /// - Parameters:
    ///   - input: Bytes that follow, in the stream, those already given to the reader.
    ///   - limits: The accepted frame lengths, applied when a header completes.
    ///   - allowInPlace: Whether a whole frame that starts at a boundary may be reported as
    ///     ``Step/frameInPlace(length:)`` instead of being copied.
    /// - Returns: What was made of the input; bytes beyond the returned `consumed` count (or
    ///   the in-place length) were not looked at.
    package mutating func consume(
        _ input: UnsafeRawBufferPointer, limits: BSONFrameLimits, allowInPlace: Bool
    ) -> Step {
        if allowInPlace, isAtFrameBoundary, input.count >= BSONFraming.headerLength {
            let announced = Int32(littleEndian: input.loadUnaligned(as: Int32.self))
            let length: Int
            do {
                length = try BSONFraming.frameLength(announced: announced, limits: limits)
            } catch {
                return .rejectedHeader(error, consumed: BSONFraming.headerLength)
            }
            if input.count >= length {
                do {
                    try BSONFraming.checkTerminator(ofFrame: UnsafeRawBufferPointer(rebasing: input[..<length]))
                } catch {
                    return .rejectedFrame(error, consumed: length)
                }
                return .frameInPlace(length: length)
            }
            // The header is valid but the frame is not all here: fall through and collect it.
        }

        var consumed = 0
        if case .header(var value, var count) = state {
            while count < BSONFraming.headerLength, consumed < input.count {
                value |= UInt32(input[consumed]) << (8 * UInt32(count))
                count += 1
                consumed += 1
            }
            guard count == BSONFraming.headerLength else {
                state = .header(value: value, count: count)
                return .needMore(consumed: consumed)
            }
            state = .header(value: 0, count: 0)
            let length: Int
            do {
                length = try BSONFraming.frameLength(announced: Int32(bitPattern: value), limits: limits)
            } catch {
                return .rejectedHeader(error, consumed: consumed)
            }
            // Storage for the first bytes only: a hostile header must not make the reader set
            // aside what it announces before the bytes arrive.
            var frame: [UInt8] = []
            frame.reserveCapacity(Swift.min(length, Self.initialReservation))
            withUnsafeBytes(of: value.littleEndian) { frame.append(contentsOf: $0) }
            state = .body(frame: frame, length: length)
        }

        guard case .body(var frame, let length) = state else { preconditionFailure("unexpected reader state") }
        state = .transferring
        let take = min(length - frame.count, input.count - consumed)
        if take > 0 {
            Self.grow(&frame, toHold: frame.count + take, length: length)
            frame.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + take)]))
            consumed += take
        }
        state = .body(frame: frame, length: length)
        return completedFrame(consumed: consumed) ?? .needMore(consumed: consumed)
    }

    /// Lets `receive` write up to `maximum` bytes of the body straight into the frame's
    /// storage; never more than the frame still needs.
    ///
    /// - Parameters:
    ///   - maximum: The most bytes to offer `receive` (its buffer is this size or smaller).
    ///   - receive: Writes bytes to the start of the buffer it is given and returns how many
    ///     (0 for end of stream). Must not keep the buffer.
    /// - Returns: The number of bytes `receive` wrote. Call ``completedFrame()`` afterwards.
    /// - Throws: What `receive` throws; the bytes received before stay in the frame.
    package mutating func receiveBody(
        maximum: Int, _ receive: (UnsafeMutableRawBufferPointer) throws(BSONError) -> Int
    ) throws(BSONError) -> Int {
        guard case .body(var frame, let length) = state else {
            preconditionFailure("receiveBody called before a frame header was complete")
        }
        let wanted = min(maximum, length - frame.count)
        precondition(wanted > 0, "receiveBody called on a complete frame")
        state = .transferring
        defer { state = .body(frame: frame, length: length) }
        var received = 0
        Self.grow(&frame, toHold: frame.count + wanted, length: length)
        try frame.append(addingCapacity: wanted) { (span: inout OutputSpan<UInt8>) throws(BSONError) in
            try span.withUnsafeMutableBufferPointer { (buffer, initialized) throws(BSONError) in
                received = try receive(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[0..<wanted])))
                precondition((0...wanted).contains(received), "receive reported more bytes than it was given room for")
                initialized = received
            }
        }
        return received
    }

    /// Makes room for `needed` bytes in a frame of `length`: at least doubling the storage
    /// (so a large frame is copied a bounded number of times, about once in all), never
    /// beyond `length`.
    private static func grow(_ frame: inout [UInt8], toHold needed: Int, length: Int) {
        guard frame.capacity < needed else { return }
        frame.reserveCapacity(Swift.min(length, Swift.max(needed, frame.capacity * 2)))
    }

    /// If the current frame is whole: checks its terminator, returns the reader to the start
    /// of the next frame, and reports the frame; otherwise `nil`.
    package mutating func completedFrame() -> Step? {
        completedFrame(consumed: 0)
    }

    private mutating func completedFrame(consumed: Int) -> Step? {
        guard case .body(let frame, let length) = state, frame.count == length else { return nil }
        state = .header(value: 0, count: 0)
        do {
            try frame.withBytes { (raw) throws(BSONError) in try BSONFraming.checkTerminator(ofFrame: raw) }
        } catch {
            return .rejectedFrame(error, consumed: consumed)
        }
        return .frame(frame, consumed: consumed)
    }

    /// Gives up the current frame: returns the bytes held for it (header included, in stream
    /// order) and returns to the start of a frame.
    package mutating func abandonPartialFrame() -> [UInt8] {
        let bytes: [UInt8]
        switch state {
        case .header(let value, let count):
            bytes = withUnsafeBytes(of: value.littleEndian) { Array($0.prefix(count)) }
        case .body(let frame, _):
            bytes = frame
        case .transferring:
            preconditionFailure("BSONFrameReader observed mid-transfer")
        }
        state = .header(value: 0, count: 0)
        return bytes
    }
}
