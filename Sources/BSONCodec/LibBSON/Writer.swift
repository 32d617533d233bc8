internal import CLibBSON

/// Encodes Swift values into a libbson `bson_t` with libbson's append functions.
///
/// Where an append function would change the value — `bson_append_code`,
/// `bson_append_code_with_scope` and `bson_append_dbpointer` take C strings and cut them
/// at an embedded NUL; `bson_append_regex` sorts the option letters and drops unknown ones —
/// the element is built byte for byte here and added with `bson_concat`, so that encoding
/// stays lossless.
struct Writer {
    let maxDepth: Int

    /// The encoded bytes of `document`.
    static func encode(_ document: BSONDocument, maxDepth: Int) throws(BSONError) -> [UInt8] {
        let writer = Writer(maxDepth: maxDepth)
        guard let bson = bson_sized_new(512) else { fatalError("libbson could not allocate a document") }
        defer { bson_destroy(bson) }
        try writer.append(document.fields, to: bson, depth: 0)
        let length = Int(swiftbson_bson_length(bson))
        let data = bson_get_data(bson)!
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            buffer.baseAddress!.update(from: data, count: length)
            count = length
        }
    }

    func append(_ fields: [BSONField], to bson: OpaquePointer, depth: Int) throws(BSONError) {
        // Indexing the array borrows each field in place; `for field in fields` would copy
        // (retain and release) every key and value.
        var failure: BSONError?
        fields.withUnsafeBufferPointer { buffer in
            for index in buffer.indices {
                failure = appendField(buffer[index], to: bson, depth: depth)
                if failure != nil { return }
            }
        }
        if let failure { throw failure }
    }

    @inline(__always)
    private func appendField(_ field: BSONField, to bson: OpaquePointer, depth: Int) -> BSONError? {
        Self.withUTF8Buffer(field.key) { utf8 -> BSONError? in
            // Keys are C strings in BSON: a NUL inside one cannot be written.
            if Self.containsNUL(utf8) {
                return BSONError(
                    .invalidKey, "a key cannot contain a NUL byte", keyPath: [String(decoding: utf8, as: UTF8.self)])
            }
            return utf8.withMemoryRebound(to: CChar.self) { chars -> BSONError? in
                do throws(BSONError) {
                    try append(field.value, key: chars.baseAddress ?? Self.emptyKey, keyLength: Int32(chars.count), to: bson, depth: depth)
                    return nil
                } catch {
                    return error.prefixingKeyPath(with: field.key)
                }
            }
        }
    }

    /// A NUL-terminated empty string, for the empty key (whose UTF-8 buffer has no address).
    nonisolated(unsafe) private static let emptyKey: UnsafePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    func appendArray(_ values: [BSONValue], to bson: OpaquePointer, depth: Int) throws(BSONError) {
        try withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16) { (scratch) throws(BSONError) in
            for (index, value) in values.enumerated() {
                var key: UnsafePointer<CChar>?
                let keyLength = bson_uint32_to_string(UInt32(index), &key, scratch.baseAddress, 16)
                do throws(BSONError) {
                    try append(value, key: key!, keyLength: Int32(keyLength), to: bson, depth: depth)
                } catch {
                    throw error.prefixingKeyPath(with: String(index))
                }
            }
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func append(
        _ value: BSONValue, key: UnsafePointer<CChar>, keyLength: Int32, to bson: OpaquePointer, depth: Int
    ) throws(BSONError) {
        let ok: Bool
        switch value {
        case .double(let number):
            ok = bson_append_double(bson, key, keyLength, number)
        case .string(let text):
            ok = Self.withUTF8(text) { bson_append_utf8(bson, key, keyLength, $0, $1) }
        case .document(let document):
            try checkDepth(depth)
            ok = try LibBSON.withDocumentSlot { (child) throws(BSONError) -> Bool in
                guard bson_append_document_begin(bson, key, keyLength, child) else { return false }
                try append(document.fields, to: child, depth: depth + 1)
                return bson_append_document_end(bson, child)
            }
        case .array(let values):
            try checkDepth(depth)
            ok = try LibBSON.withDocumentSlot { (child) throws(BSONError) -> Bool in
                guard bson_append_array_begin(bson, key, keyLength, child) else { return false }
                try appendArray(values, to: child, depth: depth + 1)
                return bson_append_array_end(bson, child)
            }
        case .binary(let binary):
            guard binary.data.count <= Int32.max - 5 else { throw Self.tooLarge() }
            ok = binary.data.withUnsafeBufferPointer { data in
                // libbson wants a non-NULL pointer even for zero bytes.
                withUnsafePointer(to: 0 as UInt8) { empty in
                    bson_append_binary(
                        bson, key, keyLength, bson_subtype_t(rawValue: UInt32(binary.subtype.rawValue)),
                        data.baseAddress ?? empty, UInt32(data.count))
                }
            }
        case .undefined:
            ok = bson_append_undefined(bson, key, keyLength)
        case .objectID(let id):
            var oid = LibBSON.oid(id)
            ok = bson_append_oid(bson, key, keyLength, &oid)
        case .bool(let flag):
            ok = bson_append_bool(bson, key, keyLength, flag)
        case .datetime(let datetime):
            ok = bson_append_date_time(bson, key, keyLength, datetime.millisecondsSinceEpoch)
        case .null:
            ok = bson_append_null(bson, key, keyLength)
        case .regex(let regex):
            guard !Self.containsNUL(regex.pattern) else {
                throw BSONError(.invalidValue, "a regular expression pattern cannot contain a NUL byte")
            }
            guard !Self.containsNUL(regex.options) else {
                throw BSONError(.invalidValue, "regular expression options cannot contain a NUL byte")
            }
            if Self.optionsAreCanonical(regex.options) {
                ok = Self.withUTF8(regex.pattern) { pattern, patternLength in
                    regex.options.withCString { bson_append_regex_w_len(bson, key, keyLength, pattern, Int32(patternLength), $0) }
                }
            } else {
                var payload = RawElement()
                payload.appendCString(regex.pattern)
                payload.appendCString(regex.options)
                ok = payload.concat(type: .regex, key: key, keyLength: keyLength, into: bson)
            }
        case .dbPointer(let pointer):
            if Self.containsNUL(pointer.ref) {
                var payload = RawElement()
                payload.appendString(pointer.ref)
                pointer.id.withUnsafeBytes { payload.bytes.append(contentsOf: $0) }
                ok = payload.concat(type: .dbPointer, key: key, keyLength: keyLength, into: bson)
            } else {
                var oid = LibBSON.oid(pointer.id)
                ok = pointer.ref.withCString { bson_append_dbpointer(bson, key, keyLength, $0, &oid) }
            }
        case .javascript(let code):
            if Self.containsNUL(code) {
                var payload = RawElement()
                payload.appendString(code)
                ok = payload.concat(type: .javascript, key: key, keyLength: keyLength, into: bson)
            } else {
                ok = code.withCString { bson_append_code(bson, key, keyLength, $0) }
            }
        case .symbol(let symbol):
            ok = Self.withUTF8(symbol) { bson_append_symbol(bson, key, keyLength, $0, $1) }
        case .javascriptWithScope(let codeWithScope):
            try checkDepth(depth)
            ok = try appendCodeWithScope(codeWithScope, key: key, keyLength: keyLength, to: bson, depth: depth)
        case .int32(let number):
            ok = bson_append_int32(bson, key, keyLength, number)
        case .timestamp(let timestamp):
            ok = bson_append_timestamp(bson, key, keyLength, timestamp.timestamp, timestamp.increment)
        case .int64(let number):
            ok = bson_append_int64(bson, key, keyLength, number)
        case .decimal128(let decimal):
            var bits = bson_decimal128_t()
            bits.high = decimal.high
            bits.low = decimal.low
            ok = bson_append_decimal128(bson, key, keyLength, &bits)
        case .minKey:
            ok = bson_append_minkey(bson, key, keyLength)
        case .maxKey:
            ok = bson_append_maxkey(bson, key, keyLength)
        }
        guard ok else { throw Self.tooLarge() }
    }

    private func appendCodeWithScope(
        _ value: BSONCodeWithScope, key: UnsafePointer<CChar>, keyLength: Int32, to bson: OpaquePointer, depth: Int
    ) throws(BSONError) -> Bool {
        guard let scope = bson_new() else { fatalError("libbson could not allocate a document") }
        defer { bson_destroy(scope) }
        do throws(BSONError) {
            try append(value.scope.fields, to: scope, depth: depth + 1)
        } catch {
            throw error.prefixingKeyPath(with: "$scope")
        }
        if !Self.containsNUL(value.code) {
            return value.code.withCString { bson_append_code_with_scope(bson, key, keyLength, $0, scope) }
        }
        let scopeLength = Int(swiftbson_bson_length(scope))
        var inner = RawElement()
        inner.appendString(value.code)
        inner.bytes.append(contentsOf: UnsafeBufferPointer(start: bson_get_data(scope), count: scopeLength))
        var payload = RawElement()
        payload.appendInt32(Int32(4 + inner.bytes.count))
        payload.bytes.append(contentsOf: inner.bytes)
        return payload.concat(type: .javascriptWithScope, key: key, keyLength: keyLength, into: bson)
    }

    private func checkDepth(_ depth: Int) throws(BSONError) {
        guard depth < maxDepth else {
            throw BSONError(.nestingTooDeep, "documents are nested more than \(maxDepth) levels deep (the encoding limit)")
        }
    }

    private static func tooLarge() -> BSONError {
        BSONError(.invalidValue, "the document would exceed the 2 GiB limit of a BSON document")
    }

    /// Whether `options` is what libbson would write anyway: a strictly increasing subset
    /// of "ilmsux".
    private static func optionsAreCanonical(_ options: String) -> Bool {
        var previous: UInt8 = 0
        for letter in options.utf8 {
            guard letter > previous, "ilmsux".utf8.contains(letter) else { return false }
            previous = letter
        }
        return true
    }

    @inline(__always)
    static func withUTF8<R>(_ text: String, _ body: (UnsafePointer<CChar>, Int32) -> R) -> R {
        withUTF8Buffer(text) { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                body(chars.baseAddress ?? emptyKey, Int32(clamping: chars.count))
            }
        }
    }

    /// The string's UTF-8 bytes without copying the string (`withUTF8` is mutating, so it
    /// needs a copy, which costs a retain and release per string).
    @inline(__always)
    static func withUTF8Buffer<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = text
        return copy.withUTF8(body)
    }

    /// Whether `text` holds a U+0000 character.
    static func containsNUL(_ text: String) -> Bool {
        withUTF8Buffer(text) { containsNUL($0) }
    }

    /// Whether `bytes` holds a 0x00, eight bytes at a time.
    @inline(__always)
    static func containsNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // Sets the high bit of every byte that was zero (and possibly of bytes above a
            // zero byte, which only matters when there is a zero).
            if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 { return true }
            index += 8
        }
        while index < bytes.count {
            if base[index] == 0 { return true }
            index += 1
        }
        return false
    }
}

/// The payload of one element, built byte for byte for the cases libbson's append
/// functions would alter, then added to the document with `bson_concat`.
private struct RawElement {
    var bytes: [UInt8] = []

    mutating func appendInt32(_ value: Int32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendString(_ text: String) {
        appendInt32(Int32(text.utf8.count + 1))
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
    }

    mutating func appendCString(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(0)
    }

    /// Wraps the element in a one-element document and appends it to `bson`.
    func concat(type: BSONType, key: UnsafePointer<CChar>, keyLength: Int32, into bson: OpaquePointer) -> Bool {
        var document: [UInt8] = [0, 0, 0, 0, type.rawValue]
        document.append(contentsOf: UnsafeRawBufferPointer(start: key, count: Int(keyLength)))
        document.append(0)
        document.append(contentsOf: bytes)
        document.append(0)
        guard document.count <= Int32.max else { return false }
        withUnsafeBytes(of: Int32(document.count).littleEndian) { header in
            for index in 0..<4 { document[index] = header[index] }
        }
        return document.withUnsafeBufferPointer { data in
            LibBSON.withDocumentSlot { single in
                bson_init_static(single, data.baseAddress, data.count) && bson_concat(bson, single)
            }
        }
    }
}
