/// Swift types over the stream: values encoded with ``BSONEncoder`` and frames decoded with
/// ``BSONDecoder``, with the framing guarantees of the document forms, and py-bson's class
/// tags resolved through a ``BSONClassRegistry``.
///
/// ```swift
/// struct Greeting: Codable { var type: String; var count: Int }
///
/// try socket.sendObj(Greeting(type: "greeting", count: 1))
/// if let reply = try socket.recvObj(as: Greeting.self) {   // nil: the peer closed
///     print(reply.count)
/// }
/// ```
///
/// Which `sendObj` a call reaches: a ``BSONDocument`` and a dictionary literal (even one
/// whose values all have one Swift type, such as `["x": 1]`) go to
/// ``sendObj(_:options:)-(BSONDocument,_)``, which keeps the written key order and py-bson's
/// integer widths; a `[String: Any]` value goes to the dictionary form; any other
/// `Encodable` value, including a typed Swift dictionary such as a `[String: Int]` variable,
/// goes to ``sendObj(_:encoder:)``. Passing `encoder:` always selects the `Encodable` form.
extension BSONStreamIO {
    /// Encodes `value` with `encoder` and sends it as one frame.
    ///
    /// The whole value is encoded before anything is sent, so a value that cannot be
    /// encoded writes nothing; then the bytes go out with
    /// ``sendBytes(_:)-(UnsafeRawBufferPointer)``, which never interleaves with another send
    /// on the same stream.
    ///
    /// This overload is disfavoured so that a ``BSONDocument`` argument and a dictionary
    /// literal keep going to ``sendObj(_:options:)-(BSONDocument,_)`` (a literal such as
    /// `["x": 1]` could otherwise become a Swift `Dictionary`, whose key order changes
    /// between processes). A typed Swift dictionary (`[String: Int]`, say) is an `Encodable`
    /// value and comes here: its keys go out in the dictionary's iteration order and its
    /// integers by the encoder's ``BSONEncoder/integerEncodingStrategy``; convert it with
    /// `as [String: Any]` to reach ``sendObj(_:options:)-([String:Any],_)`` instead.
    ///
    /// - Parameters:
    ///   - value: A value that encodes as a document (a struct, a class, a
    ///     ``BSONClassNamed`` type, which gets py-bson's class-name field, …).
    ///   - encoder: The encoder, with its strategies and limits; default `BSONEncoder()`.
    /// - Throws: `EncodingError` from the encoder, with nothing sent; or the ``BSONError``
    ///   that ``sendBytes(_:)-(UnsafeRawBufferPointer)`` throws.
    @_disfavoredOverload
    public func sendObj(_ value: some Encodable, encoder: BSONEncoder = BSONEncoder()) throws {
        let frame = try encoder.encode(value)
        try sendBytes(frame)
    }

    /// Receives the next frame and decodes it as `type`.
    ///
    /// The frame is read whole (its header checked against `limits` before its storage is
    /// allocated), then decoded straight from its bytes with `decoder`, which checks them
    /// with the same strict rules as ``recvObj(options:limits:)``; no ``BSONDocument`` is
    /// built. A ``BSONSocket`` lends the bytes from its read-ahead buffer when the frame lies
    /// there whole.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - decoder: The decoder, with its strategies, limits and class registry; default
    ///     `BSONDecoder()`.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    /// - Returns: The value, or `nil` when the peer closed cleanly between frames.
    /// - Throws: ``BSONError`` for the transport, as ``recvFrame(limits:)`` throws it
    ///   (``BSONError/Code/truncated`` when the peer closed inside a frame, …);
    ///   `DecodingError` from the decoder for a frame that does not hold a `type` (a type
    ///   mismatch, a missing key; `dataCorrupted`, with the ``BSONError`` as its underlying
    ///   error, for bytes that are not valid BSON). The frame was consumed whole either way,
    ///   so after a `DecodingError` the next receive reads the next frame.
    public func recvObj<T: Decodable>(
        as type: T.Type, decoder: BSONDecoder = BSONDecoder(), limits: BSONFrameLimits = .default
    ) throws -> T? {
        let outcome = try withReceivedFrame(limits: limits) { (frame) -> Result<T, any Error> in
            Result { try decoder.decode(type, fromReceivedFrame: frame) }
        }
        return try outcome?.get()
    }

    /// Receives the next frame and decodes it as the Swift type that `registry` holds under
    /// its py-bson class name (its `"$$__CLASS_NAME__$$"` field): how a py-bson peer's
    /// `BSONCoding` objects arrive as Swift values.
    ///
    /// The frame is checked once and read straight from its bytes (see
    /// ``BSONClassRegistry/decode(bytes:decoder:unregistered:)-(UnsafeRawBufferPointer,_,_)``).
    ///
    /// - Parameters:
    ///   - registry: The class names and their Swift types.
    ///   - decoder: The decoder for the registered types; its
    ///     ``BSONDecoder/classRegistry`` is set to `registry` for the call. Default
    ///     `BSONDecoder()`.
    ///   - unregistered: What a class name that nothing is registered under gives; default
    ///     ``BSONClassRegistry/UnregisteredClassPolicy/throwError``.
    ///   - limits: The accepted frame lengths; default ``BSONFrameLimits/default``.
    /// - Returns: ``BSONClassRegistry/Decoded/object(_:)`` with an instance of the
    ///   registered type; ``BSONClassRegistry/Decoded/document(_:)`` for a document without a
    ///   class name (or an unregistered one under
    ///   ``BSONClassRegistry/UnregisteredClassPolicy/returnDocument``); `nil` when the peer
    ///   closed cleanly between frames.
    /// - Throws: ``BSONError`` for the transport, as ``recvFrame(limits:)`` throws it;
    ///   ``BSONError`` with ``BSONError/Code/unknownClass`` for an unregistered class name
    ///   (under the default policy) or a class-name field that is not a string;
    ///   `DecodingError` when the registered type cannot decode the document or the bytes
    ///   are not valid BSON. The frame was consumed whole in every case but the transport
    ///   errors, so the next receive reads the next frame.
    public func recvObj(
        registry: BSONClassRegistry, decoder: BSONDecoder = BSONDecoder(),
        unregistered: BSONClassRegistry.UnregisteredClassPolicy = .throwError, limits: BSONFrameLimits = .default
    ) throws -> BSONClassRegistry.Decoded? {
        let outcome = try withReceivedFrame(limits: limits) { (frame) -> Result<BSONClassRegistry.Decoded, any Error> in
            Result { try registry.decode(receivedFrame: frame, decoder: decoder, unregistered: unregistered) }
        }
        return try outcome?.get()
    }
}
