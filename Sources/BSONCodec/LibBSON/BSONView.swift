internal import CLibBSON

/// A read-only view over the bytes of one BSON document that finds a key or walks the
/// elements without building Swift values for the rest: the fast path for "read one field
/// of a big message".
///
/// The view shares the array it was made from (no copy). Creating one checks the header
/// (length and terminator) only. Every access then checks what it touches, with the same
/// strict rules as ``BSONDocument/init(bytes:options:)-(UnsafeRawBufferPointer,_)``:
/// elements walked past are bounds-checked (as libbson's iterator checks them), the element returned is
/// fully validated (UTF-8, nested lengths, depth), and a malformed element on the way is a
/// ``BSONError`` — the view never reads outside its bytes and never returns an unchecked
/// value. Call ``validate()`` to check the whole document up front.
///
/// ```swift
/// let view = try BSONView(bytes: frame)
/// if let kind = try view["type"]?.stringValue { … }
/// ```
public struct BSONView: Sendable {
    /// The document's bytes.
    public let bytes: [UInt8]
    /// The limits used when a value is materialised.
    public let options: BSONDecodingOptions

    /// Creates a view over one whole document.
    ///
    /// - Throws: ``BSONError`` when `bytes` is not one document by its header (length and
    ///   final 0x00).
    public init(bytes: [UInt8], options: BSONDecodingOptions = .default) throws(BSONError) {
        try bytes.withBytes { (raw) throws(BSONError) in _ = try FrameChecks.checkDocumentHeader(raw) }
        self.bytes = bytes
        self.options = options
    }

    /// Checks the whole document with the strict rules, without building values.
    public func validate() throws(BSONError) {
        try BSONDocument.validate(bytes: bytes, options: options)
    }

    /// Decodes the whole document.
    public func document() throws(BSONError) -> BSONDocument {
        try BSONDocument(bytes: bytes, options: options)
    }

    /// The value of the first element with `key`, decoded and validated; `nil` when no
    /// element has that key.
    public subscript(key: String) -> BSONValue? {
        get throws(BSONError) { try value(forKey: key) }
    }

    /// The value of the first element with `key`, decoded and validated; `nil` when no
    /// element has that key.
    ///
    /// - Throws: ``BSONError`` for a malformed element before or at the key.
    public func value(forKey key: String) throws(BSONError) -> BSONValue? {
        try find(key) { (reader, iterator, elementOffset) throws(BSONError) in
            try reader.readValue(iterator, elementOffset: elementOffset, depth: 0)
        }
    }

    /// The type of the first element with `key`, or `nil`; decodes nothing.
    public func type(forKey key: String) throws(BSONError) -> BSONType? {
        try find(key) { (_, iterator, _) throws(BSONError) in
            BSONType(rawValue: UInt8(truncatingIfNeeded: bson_iter_type(iterator).rawValue))!
        }
    }

    /// Whether an element has `key`.
    public func contains(key: String) throws(BSONError) -> Bool {
        try type(forKey: key) != nil
    }

    /// The keys in order, checked as UTF-8; values are bounds-checked and not decoded.
    public var keys: [String] {
        get throws(BSONError) {
            var result: [String] = []
            try forEachElement { (key, _) throws(BSONError) in result.append(key) }
            return result
        }
    }

    /// Calls `body` with each key and its type, in order, decoding no values.
    ///
    /// - Throws: ``BSONError`` for the first malformed element, or what `body` throws.
    public func forEachElement(_ body: (String, BSONType) throws(BSONError) -> Void) throws(BSONError) {
        try walk { (reader, iterator, elementOffset, keyBytes) throws(BSONError) -> Bool in
            // The same error as decoding reports: the first bad byte and the key as path.
            guard UTF8Validation.isValid(keyBytes) else { throw reader.keyError(keyBytes, elementOffset: elementOffset) }
            let type = BSONType(rawValue: UInt8(truncatingIfNeeded: bson_iter_type(iterator).rawValue))!
            try body(String(decoding: keyBytes, as: UTF8.self), type)
            return true
        }
    }

    // MARK: Walking

    private func find<R>(
        _ key: String, _ found: (StrictReader, OpaquePointer, Int) throws(BSONError) -> R
    ) throws(BSONError) -> R? {
        var wanted = key
        return try wanted.withUTF8 { wantedBytes in
            Result { () throws(BSONError) -> R? in
                // A BSON key cannot contain NUL, so such a key is never present.
                if wantedBytes.contains(0) { return nil }
                return try bytes.withBytes { (raw) throws(BSONError) -> R? in
                    _ = try FrameChecks.checkDocumentHeader(raw)
                    let document = raw.bindMemory(to: UInt8.self)
                    // Step over elements in Swift (see ElementSkipper), then let libbson's
                    // iterator take the element found.
                    guard let hit = try ElementSkipper.find(wantedBytes, in: document) else { return nil }
                    let start = document.baseAddress!
                    let reader = StrictReader(origin: start, maxDepth: options.maxDepth, build: true)
                    return try LibBSON.withIterator { (iterator) throws(BSONError) -> R? in
                        guard bson_iter_init_from_data_at_offset(
                            iterator, start, document.count, UInt32(hit.elementOffset), UInt32(hit.keyLength))
                        else {
                            // The skipper accepted what libbson refuses: report libbson's view.
                            throw ElementDiagnosis.explain(
                                document: document, elementOffset: hit.elementOffset, documentOffset: 0
                            ).prefixingKeyPath(with: key)
                        }
                        do throws(BSONError) {
                            return try found(reader, iterator, hit.elementOffset)
                        } catch {
                            throw error.prefixingKeyPath(with: key)
                        }
                    }
                }
            }
        }.get()
    }

    /// Iterates the elements with libbson's iterator; `visit` returns false to stop.
    private func walk(
        _ visit: (StrictReader, OpaquePointer, Int, UnsafeBufferPointer<UInt8>) throws(BSONError) -> Bool
    ) throws(BSONError) {
        try bytes.withBytes { (raw) throws(BSONError) in
            let start = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let reader = StrictReader(origin: start, maxDepth: options.maxDepth, build: true)
            try LibBSON.withIterator { (iterator) throws(BSONError) in
                guard bson_iter_init_from_data(iterator, start, raw.count) else {
                    _ = try FrameChecks.checkDocumentHeader(raw)
                    return
                }
                while bson_iter_next(iterator) {
                    let keyStart = UnsafeRawPointer(bson_iter_key(iterator)!).assumingMemoryBound(to: UInt8.self)
                    let keyBytes = UnsafeBufferPointer(start: keyStart, count: Int(bson_iter_key_len(iterator)))
                    guard try visit(reader, iterator, keyStart - 1 - start, keyBytes) else { return }
                }
                if swiftbson_iter_error_offset(iterator) != 0 {
                    throw ElementDiagnosis.explain(
                        document: UnsafeBufferPointer(start: start, count: raw.count),
                        elementOffset: Int(swiftbson_iter_element_offset(iterator)), documentOffset: 0)
                }
            }
        }
    }
}
