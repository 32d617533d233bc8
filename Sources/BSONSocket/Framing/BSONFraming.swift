/// The framing rules for a byte stream of BSON documents, as pure functions: no I/O, no
/// state, and nothing is consumed.
///
/// A stream carries documents back to back. Each is self-delimiting: its first 4 bytes are
/// its total length as a little-endian signed 32-bit integer (the 4 bytes included), and
/// its last byte is `0x00`. The rules, checked in this order:
///
/// 1. As soon as 4 bytes are available, the announced length must be at least
///    ``BSONFrameLimits/minimumFrameLength`` (else ``BSONError/Code/frameTooSmall``) and at
///    most ``BSONFrameLimits/maximumFrameLength`` (else ``BSONError/Code/frameTooLarge``).
///    This happens before anything is allocated for the body.
/// 2. When the whole frame is available, its last byte must be `0x00` (else
///    ``BSONError/Code/malformed``, with the offset of that byte).
///
/// Every reader in this package applies these rules through this type, and a decoder that
/// works over a borrowed buffer (a SwiftNIO `ByteToMessageDecoder`, say) can call
/// ``inspect(_:limits:)`` on its readable bytes and slice off a frame only when told one is
/// whole:
///
/// ```swift
/// switch try BSONFraming.inspect(readableBytes) {
/// case .needMoreBytes: return .needMoreData          // consume nothing
/// case .frame(let length): emit(readableBytes.prefix(length))
/// }
/// ```
///
/// Offsets in the errors count from the first byte of the frame: `0` for a bad header,
/// `length - 1` for a bad terminator. Whether the stream is still usable after an error is
/// the caller's concern: after a bad header the position of the next frame is unknown; after
/// a bad terminator the whole frame can be skipped and the stream stays in step.
public enum BSONFraming {
    /// The size of the length prefix that starts every frame: 4 bytes.
    public static let headerLength = 4

    /// What the bytes at the start of a buffer hold.
    public enum Status: Sendable, Hashable {
        /// No whole frame yet; at least this many more bytes are needed (the rest of the
        /// header, or the rest of a frame whose header is valid).
        case needMoreBytes(Int)
        /// The first `length` bytes are one whole frame with a valid header and terminator.
        case frame(length: Int)
    }

    /// Applies the framing rules to the start of `bytes` without consuming anything.
    ///
    /// - Parameters:
    ///   - bytes: The bytes received so far, starting at a frame boundary. Bytes past the
    ///     first frame are not looked at.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    /// - Returns: ``Status/needMoreBytes(_:)`` while the header or the frame is incomplete,
    ///   ``Status/frame(length:)`` once the first frame is whole and valid.
    /// - Throws: ``BSONError`` with ``BSONError/Code/frameTooSmall`` or
    ///   ``BSONError/Code/frameTooLarge`` (offset 0) for a header outside `limits`, as soon
    ///   as the 4 header bytes are present; ``BSONError/Code/malformed`` (offset
    ///   `length - 1`) for a whole frame whose last byte is not `0x00`.
    public static func inspect(
        _ bytes: UnsafeRawBufferPointer, limits: BSONFrameLimits = .default
    ) throws(BSONError) -> Status {
        guard bytes.count >= headerLength else { return .needMoreBytes(headerLength - bytes.count) }
        let length = try frameLength(announced: bytes.loadUnaligned(as: Int32.self).littleEndianValue, limits: limits)
        guard bytes.count >= length else { return .needMoreBytes(length - bytes.count) }
        try checkTerminator(ofFrame: UnsafeRawBufferPointer(rebasing: bytes[..<length]))
        return .frame(length: length)
    }

    /// Applies the framing rules to the start of `bytes` (see ``inspect(_:limits:)-(UnsafeRawBufferPointer,_)``).
    public static func inspect(_ bytes: [UInt8], limits: BSONFrameLimits = .default) throws(BSONError) -> Status {
        try bytes.withBytes { (raw) throws(BSONError) in try inspect(raw, limits: limits) }
    }

    /// Checks the length a frame header announces (rule 1).
    ///
    /// - Parameters:
    ///   - announced: The header's value, already converted from little-endian.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    /// - Returns: The frame length, header and terminator included.
    /// - Throws: ``BSONError`` with ``BSONError/Code/frameTooSmall`` for a length below
    ///   ``BSONFrameLimits/minimumFrameLength`` (zero and negative values included) or
    ///   ``BSONError/Code/frameTooLarge`` above ``BSONFrameLimits/maximumFrameLength``; the
    ///   offset is 0, the header's position in the frame.
    public static func frameLength(announced: Int32, limits: BSONFrameLimits = .default) throws(BSONError) -> Int {
        let length = Int(announced)
        if length < BSONFrameLimits.minimumFrameLength {
            throw BSONError(
                .frameTooSmall,
                "frame header announces \(length) bytes (0x\(String(UInt32(bitPattern: announced), radix: 16))); "
                    + "the smallest BSON document has \(BSONFrameLimits.minimumFrameLength)",
                offset: 0)
        }
        if length > limits.maximumFrameLength {
            throw BSONError(
                .frameTooLarge,
                "frame header announces \(length) bytes; the limit is \(limits.maximumFrameLength) "
                    + "(BSONFrameLimits.maximumFrameLength); nothing was allocated for it",
                offset: 0)
        }
        return length
    }

    /// Checks that a whole frame ends with `0x00` (rule 2).
    ///
    /// - Parameter frame: Exactly one frame, as long as its header announces.
    /// - Throws: ``BSONError`` with ``BSONError/Code/malformed`` and the offset of the last
    ///   byte when it is not `0x00`.
    public static func checkTerminator(ofFrame frame: UnsafeRawBufferPointer) throws(BSONError) {
        precondition(frame.count >= BSONFrameLimits.minimumFrameLength, "a frame has at least 5 bytes")
        let last = frame[frame.count - 1]
        guard last == 0 else {
            throw BSONError(
                .malformed,
                "frame of \(frame.count) bytes does not end with the 0x00 terminator "
                    + "(last byte 0x\(String(last, radix: 16)))",
                offset: frame.count - 1)
        }
    }
}

extension Int32 {
    /// The value of an integer whose bytes were loaded from little-endian storage.
    fileprivate var littleEndianValue: Int32 { Int32(littleEndian: self) }
}
