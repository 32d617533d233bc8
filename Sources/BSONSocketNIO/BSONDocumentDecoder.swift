public import NIOCore

/// A SwiftNIO decoder that cuts a byte stream into BSON frames and decodes each into a
/// ``BSONDocument``, strictly.
///
/// The framing rules are BSONSocket's own (``BSONFraming``), applied to the readable bytes
/// of the cumulation buffer where they lie:
///
/// - nothing is consumed until a whole frame is there (a partial frame stays in the buffer);
/// - a header announcing fewer than 5 bytes or more than ``BSONFrameLimits/maximumFrameLength``
///   is rejected as soon as its 4 bytes arrive, and nothing is ever set aside for the size a
///   header announces: the buffer holds only bytes that really arrived;
/// - a whole frame must end with `0x00`, and its body must decode strictly with
///   ``BSONDocument/init(bytes:options:)-(UnsafeRawBufferPointer,_)``.
///
/// A frame that breaks a rule ends the stream: the decoder fires the ``BSONError`` down the
/// pipeline (`errorCaught`), closes the channel, and drops every byte it holds. At the end of
/// input, bytes of an unfinished frame are reported as ``BSONError/Code/truncated``.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(BSONDocumentDecoder()))
/// ```
///
/// For frames without building Swift values, use ``BSONFrameDecoder``.
public struct BSONDocumentDecoder: ByteToMessageDecoder {
    /// Each decoded document.
    public typealias InboundOut = BSONDocument

    /// The accepted frame lengths.
    public var limits: BSONFrameLimits { cutter.limits }
    /// The limits the documents are decoded with.
    public let options: BSONDecodingOptions
    var cutter: FrameCutter
    /// The connection's inbound byte budget, told of each document passed on; set by the
    /// async client and server.
    var budget: InboundBudget?

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``
    ///     (5 bytes to 16 MiB + 16 KiB).
    ///   - options: Decoding limits; default ``BSONDecodingOptions/default``.
    public init(limits: BSONFrameLimits = .default, options: BSONDecodingOptions = .default) {
        self.cutter = FrameCutter(limits: limits)
        self.options = options
    }

    /// Decodes the frame at the start of `buffer` if it is whole, and passes the document on.
    ///
    /// - Returns: `.continue` after a document, `.needMoreData` while the frame is incomplete
    ///   (nothing consumed) or after a failure.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !cutter.hasFailed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let document: BSONDocument
        do throws(BSONError) {
            guard let length = try cutter.nextFrameLength(in: buffer, context: context) else { return .needMoreData }
            let options = options
            do throws(BSONError) {
                document = try buffer.withBSONFrame(length: length) { (frame) throws(BSONError) in
                    try BSONDocument(bytes: frame, options: options)
                }
            } catch {
                throw cutter.located(error)
            }
            buffer.moveReaderIndex(forwardBy: length)
            cutter.didTake(length)
            budget?.produced(length)
        } catch {
            cutter.fail(error, context: context, buffer: &buffer)
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(document))
        return .continue
    }

    /// Decodes what is left at the end of input; an unfinished frame is reported as
    /// ``BSONError/Code/truncated`` (fired, and the channel closed).
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        cutter.finish(context: context, buffer: &buffer, seenEOF: seenEOF)
        return .needMoreData
    }
}
