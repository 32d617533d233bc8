/// Limits for decoding and validating BSON.
public struct BSONDecodingOptions: Sendable, Hashable {
    /// How many levels of documents, arrays and code-with-scope scopes may nest inside the
    /// outermost document. Default 100. Deeper input is rejected with
    /// ``BSONError/Code/nestingTooDeep`` before the decoder recurses into it.
    public var maxDepth: Int

    /// Creates options; the defaults are safe for untrusted input.
    public init(maxDepth: Int = 100) {
        precondition(maxDepth >= 0, "maxDepth must not be negative")
        self.maxDepth = maxDepth
    }

    /// The defaults.
    public static let `default` = BSONDecodingOptions()
}

/// Limits for encoding BSON.
public struct BSONEncodingOptions: Sendable, Hashable {
    /// How many levels of documents, arrays and scopes may nest inside the outermost
    /// document. Default 100, the same as decoding, so that whatever this package writes,
    /// a peer with default settings reads.
    public var maxDepth: Int

    /// Creates options.
    public init(maxDepth: Int = 100) {
        precondition(maxDepth >= 0, "maxDepth must not be negative")
        self.maxDepth = maxDepth
    }

    /// The defaults.
    public static let `default` = BSONEncodingOptions()
}

extension BSONDocument {
    /// Decodes one BSON document from exactly `bytes`, validating strictly.
    ///
    /// The checks go beyond libbson's: the declared length of every document against its
    /// bytes, every terminator, every type byte, UTF-8 of every key and string-bearing
    /// value, boolean bytes, code-with-scope and binary subtype 2 inner lengths, and the
    /// nesting limit in `options`.
    ///
    /// - Parameters:
    ///   - bytes: One whole document, nothing before or after it.
    ///   - options: Decoding limits; default ``BSONDecodingOptions/default``.
    /// - Throws: ``BSONError`` naming the byte offset, the key path and what was wrong.
    public init(bytes: UnsafeRawBufferPointer, options: BSONDecodingOptions = .default) throws(BSONError) {
        self.init(fields: try StrictReader.read(bytes, maxDepth: options.maxDepth, build: true))
    }

    /// Decodes one BSON document from exactly `bytes` (see ``init(bytes:options:)-(UnsafeRawBufferPointer,_)``).
    public init(bytes: [UInt8], options: BSONDecodingOptions = .default) throws(BSONError) {
        self = try bytes.withBytes { (raw) throws(BSONError) in try BSONDocument(bytes: raw, options: options) }
    }

    /// Decodes one BSON document from exactly `bytes` (see ``init(bytes:options:)-(UnsafeRawBufferPointer,_)``).
    public init(bytes: ArraySlice<UInt8>, options: BSONDecodingOptions = .default) throws(BSONError) {
        self = try bytes.withBytes { (raw) throws(BSONError) in try BSONDocument(bytes: raw, options: options) }
    }

    /// Checks that `bytes` is exactly one valid BSON document, with the same strict rules as
    /// decoding, without building any Swift values.
    ///
    /// - Throws: ``BSONError`` naming the byte offset, the key path and what was wrong.
    public static func validate(bytes: UnsafeRawBufferPointer, options: BSONDecodingOptions = .default) throws(BSONError) {
        _ = try StrictReader.read(bytes, maxDepth: options.maxDepth, build: false)
    }

    /// Checks that `bytes` is exactly one valid BSON document (see
    /// ``validate(bytes:options:)-(UnsafeRawBufferPointer,_)``).
    public static func validate(bytes: [UInt8], options: BSONDecodingOptions = .default) throws(BSONError) {
        try bytes.withBytes { (raw) throws(BSONError) in try validate(bytes: raw, options: options) }
    }

    /// The document as BSON bytes, written with libbson's append functions.
    ///
    /// Pairs are written in order; decoding any valid document and encoding it gives back
    /// the same bytes (arrays are written with keys "0", "1", …).
    ///
    /// - Parameter options: Encoding limits; default ``BSONEncodingOptions/default``.
    /// - Throws: ``BSONError`` with ``BSONError/Code/invalidKey`` for a key containing NUL,
    ///   ``BSONError/Code/invalidValue`` for a regular expression containing NUL or a
    ///   document over 2 GiB, ``BSONError/Code/nestingTooDeep`` past the nesting limit.
    public func encoded(options: BSONEncodingOptions = .default) throws(BSONError) -> [UInt8] {
        try Writer.encode(self, maxDepth: options.maxDepth)
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws ``BSONError`` (the standard library's
    /// version is `rethrows`, which erases the error type).
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BSONError) -> R) throws(BSONError) -> R {
        try withUnsafeBytes { raw in Result { () throws(BSONError) -> R in try body(raw) } }.get()
    }
}

extension ArraySlice where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws ``BSONError``.
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BSONError) -> R) throws(BSONError) -> R {
        try withUnsafeBytes { raw in Result { () throws(BSONError) -> R in try body(raw) } }.get()
    }
}
