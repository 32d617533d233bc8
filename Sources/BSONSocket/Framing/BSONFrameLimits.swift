/// Limits applied to incoming BSON frames before any memory is set aside for them.
///
/// A frame is one BSON document on the wire: its own 4-byte little-endian length (which
/// counts itself), the elements, and a final `0x00`. The length in the header is checked
/// against these limits as soon as its 4 bytes have arrived, so a hostile or corrupt header
/// costs nothing but the header.
///
/// ```swift
/// let small = BSONFrameLimits(maximumFrameLength: 64 * 1024)
/// let reply = try socket.recvObj(limits: small)
/// ```
public struct BSONFrameLimits: Sendable, Hashable {
    /// The length of the smallest BSON document, the empty one: 4 length bytes and the
    /// terminator. A header announcing less is rejected with
    /// ``BSONError/Code/frameTooSmall``.
    public static let minimumFrameLength = 5

    /// The default for ``maximumFrameLength``: 16 MiB + 16 KiB (16,793,600 bytes), the size
    /// of the largest message a MongoDB server accepts, which leaves room for a 16 MiB
    /// document plus its envelope.
    public static let defaultMaximumFrameLength = 16 * 1024 * 1024 + 16 * 1024

    /// The largest frame accepted, header and terminator included. A header announcing more
    /// is rejected with ``BSONError/Code/frameTooLarge`` before the body is read or any
    /// storage is allocated. Default ``defaultMaximumFrameLength``.
    public var maximumFrameLength: Int

    /// Creates limits.
    ///
    /// - Parameter maximumFrameLength: The largest frame accepted, in bytes; default
    ///   ``defaultMaximumFrameLength``. Must be between ``minimumFrameLength`` and
    ///   `Int32.max` (a BSON length is a signed 32-bit integer); anything else is a
    ///   programming error and traps.
    public init(maximumFrameLength: Int = BSONFrameLimits.defaultMaximumFrameLength) {
        precondition(
            (Self.minimumFrameLength...Int(Int32.max)).contains(maximumFrameLength),
            "maximumFrameLength must be between \(Self.minimumFrameLength) and \(Int32.max), got \(maximumFrameLength)")
        self.maximumFrameLength = maximumFrameLength
    }

    /// The defaults: frames of 5 bytes up to 16 MiB + 16 KiB.
    public static let `default` = BSONFrameLimits()
}
