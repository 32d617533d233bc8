public import NIOCore

/// A SwiftNIO decoder that cuts a byte stream into BSON frames and passes each on as a
/// `ByteBuffer` slice of the bytes received: no copy, no Swift values built.
///
/// It applies the same framing rules, limits and failure handling as
/// ``BSONDocumentDecoder`` (BSONSocket's ``BSONFraming``, one implementation for every
/// reader in the package); only what it does with a whole frame differs, as chosen by
/// ``Validation``:
///
/// - ``Validation/strict(_:)`` (the default): the frame's contents are checked with
///   ``BSONDocument/validate(bytes:options:)-(UnsafeRawBufferPointer,_)``, the same strict
///   rules as decoding, without building values. A frame passed on is a valid document.
/// - ``Validation/framing``: only the framing rules (header within the limits, terminator).
///   For relays and consumers that look up a key or two with ``BSONView`` and validate
///   themselves.
///
/// A slice shares storage with the decoder's cumulation buffer; keeping many slices alive
/// keeps that storage alive. Use `Array(frame.readableBytesView)` for a `[UInt8]`.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(BSONFrameDecoder()))
/// ```
public struct BSONFrameDecoder: ByteToMessageDecoder {
    /// Each frame: exactly one BSON document's bytes, header and terminator included.
    public typealias InboundOut = ByteBuffer

    /// How much of a frame is checked before it is passed on.
    public enum Validation: Sendable, Hashable {
        /// Only the framing rules: the header within the limits and the final `0x00`.
        case framing
        /// The framing rules and a strict check of the contents with these decoding limits.
        case strict(BSONDecodingOptions)

        /// Strict validation with ``BSONDecodingOptions/default``.
        public static let strict = Validation.strict(.default)
    }

    /// The accepted frame lengths.
    public var limits: BSONFrameLimits { cutter.limits }
    /// What is checked before a frame is passed on.
    public let validation: Validation
    var cutter: FrameCutter

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``
    ///     (5 bytes to 16 MiB + 16 KiB).
    ///   - validation: What is checked before a frame is passed on; default
    ///     ``Validation/strict``.
    public init(limits: BSONFrameLimits = .default, validation: Validation = .strict) {
        self.cutter = FrameCutter(limits: limits)
        self.validation = validation
    }

    /// Passes the frame at the start of `buffer` on if it is whole (and valid).
    ///
    /// - Returns: `.continue` after a frame, `.needMoreData` while the frame is incomplete
    ///   (nothing consumed) or after a failure.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !cutter.hasFailed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let frame: ByteBuffer
        do throws(BSONError) {
            guard let length = try cutter.nextFrameLength(in: buffer, context: context) else { return .needMoreData }
            if case .strict(let options) = validation {
                do throws(BSONError) {
                    try buffer.withBSONFrame(length: length) { (bytes) throws(BSONError) in
                        try BSONDocument.validate(bytes: bytes, options: options)
                    }
                } catch {
                    throw cutter.located(error)
                }
            }
            // `nextFrameLength` saw `length` readable bytes, so the slice is there.
            frame = buffer.readSlice(length: length)!
            cutter.didTake(length)
        } catch {
            cutter.fail(error, context: context, buffer: &buffer)
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Passes on what is left at the end of input; an unfinished frame is reported as
    /// ``BSONError/Code/truncated`` (fired, and the channel closed).
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        cutter.finish(context: context, buffer: &buffer, seenEOF: seenEOF)
        return .needMoreData
    }
}
