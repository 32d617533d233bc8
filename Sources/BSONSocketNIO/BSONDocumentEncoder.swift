public import NIOCore

/// A SwiftNIO encoder that writes each ``BSONDocument`` as one BSON frame.
///
/// The document is encoded whole with ``BSONDocument/encoded(options:)`` before a byte is
/// written. A document that cannot be encoded (a key containing NUL, nesting past the limit)
/// fails its write with the encoder's ``BSONError``; like every `MessageToByteHandler`,
/// the handler then fails every later write too, so close the channel.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(BSONDocumentEncoder()))
/// ```
///
/// The async ``BSONConnection`` encodes on the sending task instead, so that an encoding
/// error costs nothing but that one send.
public struct BSONDocumentEncoder: MessageToByteEncoder {
    /// The documents written.
    public typealias OutboundIn = BSONDocument

    /// The limits documents are encoded with.
    public let options: BSONEncodingOptions

    /// Creates an encoder.
    ///
    /// - Parameter options: Encoding limits; default ``BSONEncodingOptions/default``.
    public init(options: BSONEncodingOptions = .default) {
        self.options = options
    }

    /// Appends `data`'s frame to `out`.
    ///
    /// - Throws: The encoder's ``BSONError`` (``BSONError/Code/invalidKey``,
    ///   ``BSONError/Code/invalidValue``, ``BSONError/Code/nestingTooDeep``), with nothing
    ///   written.
    public func encode(data: BSONDocument, out: inout ByteBuffer) throws {
        out.writeBytes(try data.encoded(options: options))
    }
}

/// A SwiftNIO encoder for frames that are already encoded (relayed from a
/// ``BSONFrameDecoder``, say): each `ByteBuffer` written must be exactly one frame by the
/// framing rules, and is written unchanged.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(BSONFrameEncoder()))
/// ```
public struct BSONFrameEncoder: MessageToByteEncoder {
    /// The frames written.
    public typealias OutboundIn = ByteBuffer

    /// The accepted frame lengths.
    public let limits: BSONFrameLimits

    /// Creates an encoder.
    ///
    /// - Parameter limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    public init(limits: BSONFrameLimits = .default) {
        self.limits = limits
    }

    /// Appends `data` to `out` after checking that it is one whole frame.
    ///
    /// - Throws: ``BSONError`` from ``BSONFraming/inspect(_:limits:)-(UnsafeRawBufferPointer,_)``,
    ///   or ``BSONError/Code/malformed`` when the header disagrees with the byte count; nothing
    ///   is written.
    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        try data.checkIsOneBSONFrame(limits: limits)
        var data = data
        out.writeBuffer(&data)
    }
}

extension ByteBuffer {
    /// Checks that the readable bytes are exactly one frame by the framing rules.
    func checkIsOneBSONFrame(limits: BSONFrameLimits) throws(BSONError) {
        let status = try bsonFrameStatus(limits: limits)
        guard status == .frame(length: readableBytes) else {
            throw BSONError(
                .malformed,
                "a frame to send must be exactly one BSON document; its header and the \(readableBytes) bytes "
                    + "given disagree (\(status))",
                offset: 0)
        }
    }
}
