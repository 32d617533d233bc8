extension BSONDocument {
    /// The document as one line of Extended JSON v2 text.
    ///
    /// The text is compact (no whitespace outside strings, no trailing newline) and keeps the
    /// keys and values in document order, duplicate keys included. Strings escape `"`, `\`
    /// and the control characters below U+0020 (U+0000 as `\u0000`); other characters are
    /// written as UTF-8. Canonical doubles use the shortest text that reads back as the
    /// same double (`"1.0"`, `"-0.0"`, `"1e+16"`, `"5e-324"`); regular-expression options are
    /// written in alphabetical order, as the specification requires.
    ///
    /// The specification recommends relaxed as the default of a generic conversion; this
    /// method defaults to canonical because canonical text reads back as the same BSON.
    ///
    /// - Parameter mode: ``ExtendedJSONMode/canonical`` (the default) or
    ///   ``ExtendedJSONMode/relaxed``.
    /// - Returns: The Extended JSON text.
    public func extendedJSON(_ mode: ExtendedJSONMode = .canonical) -> String {
        var writer = ExtendedJSONWriter(mode: mode)
        writer.write(self)
        return writer.text
    }

    /// Parses one Extended JSON document.
    ///
    /// The text must be exactly one JSON object (RFC 8259, strictly: no comments, no
    /// trailing commas, no `NaN` literals, surrogate escapes only in pairs), optionally
    /// surrounded by whitespace. Canonical and relaxed Extended JSON v2 are both read, as
    /// are the legacy forms `{"$binary": "<base64>", "$type": "<hex>"}`,
    /// `{"$regex": "…", "$options": "…"}`, `{"$uuid": "…"}` and `$date` strings with any UTC
    /// offset. Keys keep their order, and duplicate keys are kept.
    ///
    /// Bare JSON numbers follow the specification: an integer becomes an int32 when it
    /// fits, else an int64, else a double; a number with a fraction or exponent becomes a
    /// double. Regular-expression options are stored in alphabetical order. The outermost
    /// object is never read as a type wrapper; objects such as DBRefs (`$ref`, `$id`, `$db`)
    /// and query operators (`$type`, `$regex` with an object value) are plain documents.
    ///
    /// - Parameters:
    ///   - extendedJSON: The text.
    ///   - options: Limits; ``BSONDecodingOptions/maxDepth`` bounds the nesting of documents
    ///     and arrays exactly as it does for BSON. Default ``BSONDecodingOptions/default``.
    /// - Throws: ``BSONError`` with code ``BSONError/Code/invalidExtendedJSON`` for anything
    ///   malformed — JSON syntax, a type wrapper with missing, extra or mistyped keys, an
    ///   out-of-range `$numberInt`/`$numberLong`, bad base64 or hexadecimal, a key containing
    ///   NUL, nesting past the limit. The message names the line and column; ``BSONError/offset``
    ///   is the byte offset and ``BSONError/keyPath`` the keys down to the faulty element.
    public init(extendedJSON: String, options: BSONDecodingOptions = .default) throws(BSONError) {
        try self.init(extendedJSON: Array(extendedJSON.utf8), options: options)
    }

    /// Parses one Extended JSON document from UTF-8 bytes (see
    /// ``init(extendedJSON:options:)-(String,_)``). Bytes that are not well-formed UTF-8
    /// are an error.
    ///
    /// - Parameters:
    ///   - extendedJSON: The UTF-8 text.
    ///   - options: Limits; default ``BSONDecodingOptions/default``.
    /// - Throws: ``BSONError`` with code ``BSONError/Code/invalidExtendedJSON``.
    public init(extendedJSON: [UInt8], options: BSONDecodingOptions = .default) throws(BSONError) {
        self = try extendedJSON.withBytes { (raw) throws(BSONError) -> BSONDocument in
            try ExtendedJSONReader.readDocument(raw.assumingMemoryBound(to: UInt8.self), maxDepth: options.maxDepth)
        }
    }
}

extension BSONDocument: CustomStringConvertible, CustomDebugStringConvertible {
    /// The document as relaxed Extended JSON (``extendedJSON(_:)`` with
    /// ``ExtendedJSONMode/relaxed``).
    public var description: String { extendedJSON(.relaxed) }

    /// The document as canonical Extended JSON (``extendedJSON(_:)`` with
    /// ``ExtendedJSONMode/canonical``), which shows every value's BSON type.
    public var debugDescription: String { extendedJSON(.canonical) }
}
