internal import CLibBSON

/// Walks BSON bytes with libbson's iterator and adds the checks libbson 1.23 leaves out:
/// UTF-8 of every key and string-bearing value, the NUL that ends code-with-scope code,
/// nested lengths and terminators, and a nesting limit enforced before recursing.
///
/// In `build` mode it returns the decoded pairs; otherwise it only checks and returns an
/// empty array (the validation path, which makes no Swift values).
///
/// Every error names the byte offset from `origin` (the first byte of the outermost
/// document) and the key path of the element at fault.
struct StrictReader {
    let origin: UnsafePointer<UInt8>
    let maxDepth: Int
    let build: Bool

    /// Decodes or checks the whole document in `bytes`.
    static func read(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int, build: Bool
    ) throws(BSONError) -> [BSONField] {
        let length = try FrameChecks.checkDocumentHeader(bytes)
        let start = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let reader = StrictReader(origin: start, maxDepth: maxDepth, build: build)
        if build {
            var sink = DocumentSink(length: length)
            try reader.readDocument(at: start, length: length, depth: 0, into: &sink)
            return sink.fields
        }
        var sink = DiscardingSink()
        try reader.readDocument(at: start, length: length, depth: 0, into: &sink)
        return []
    }

    /// Reads the document of `length` bytes at `start` into `sink`; `depth` is its nesting
    /// level (0 for the outermost).
    func readDocument<Sink: FieldSink>(
        at start: UnsafePointer<UInt8>, length: Int, depth: Int, into sink: inout Sink
    ) throws(BSONError) {
        try LibBSON.withIterator { (iterator) throws(BSONError) in
            guard bson_iter_init_from_data(iterator, start, length) else {
                throw nestedHeaderError(start: start, length: length)
            }
            while bson_iter_next(iterator) {
                let keyStart = UnsafeRawPointer(bson_iter_key(iterator)!).assumingMemoryBound(to: UInt8.self)
                let keyBytes = UnsafeBufferPointer(start: keyStart, count: Int(bson_iter_key_len(iterator)))
                let elementOffset = keyStart - 1 - origin
                guard UTF8Validation.isValid(keyBytes) else { throw keyError(keyBytes, elementOffset: elementOffset) }
                do throws(BSONError) {
                    let value = try readValue(iterator, elementOffset: elementOffset, depth: depth)
                    sink.append(key: keyBytes, value: value)
                } catch {
                    throw error.prefixingKeyPath(with: String(decoding: keyBytes, as: UTF8.self))
                }
            }
            if swiftbson_iter_error_offset(iterator) != 0 {
                let elementOffset = Int(swiftbson_iter_element_offset(iterator))
                throw ElementDiagnosis.explain(
                    document: UnsafeBufferPointer(start: start, count: length), elementOffset: elementOffset,
                    documentOffset: start - origin)
            }
        }
    }

    /// Reads the value of the element the iterator is on.
    @inline(__always)
    func readValue(_ iterator: OpaquePointer, elementOffset: Int, depth: Int) throws(BSONError) -> BSONValue {
        let typeByte = UInt8(truncatingIfNeeded: bson_iter_type(iterator).rawValue)
        switch typeByte {
        case 0x01:
            return .double(bson_iter_double(iterator))
        case 0x02:
            var length: UInt32 = 0
            let text = bson_iter_utf8(iterator, &length)!
            return .string(try makeString(text, Int(length), what: "string", elementOffset: elementOffset))
        case 0x03, 0x04:
            guard depth < maxDepth else { throw depthError(elementOffset: elementOffset) }
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            if typeByte == 0x03 {
                bson_iter_document(iterator, &length, &data)
            } else {
                bson_iter_array(iterator, &length, &data)
            }
            if !build {
                var sink = DiscardingSink()
                try readDocument(at: data!, length: Int(length), depth: depth + 1, into: &sink)
                return .null
            }
            if typeByte == 0x03 {
                var sink = DocumentSink(length: Int(length))
                try readDocument(at: data!, length: Int(length), depth: depth + 1, into: &sink)
                return .document(BSONDocument(fields: sink.fields))
            }
            var sink = ArraySink(length: Int(length))
            try readDocument(at: data!, length: Int(length), depth: depth + 1, into: &sink)
            return .array(sink.values)
        case 0x05:
            var subtype = bson_subtype_t(rawValue: 0)
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_binary(iterator, &subtype, &length, &data)
            let bytes = build ? [UInt8](UnsafeBufferPointer(start: data, count: Int(length))) : []
            return .binary(BSONBinary(data: bytes, subtype: .init(UInt8(truncatingIfNeeded: subtype.rawValue))))
        case 0x06:
            return .undefined
        case 0x07:
            return .objectID(BSONObjectID(unsafeBytesAt: bson_iter_oid(iterator)!))
        case 0x08:
            return .bool(bson_iter_bool(iterator))
        case 0x09:
            return .datetime(BSONDatetime(millisecondsSinceEpoch: bson_iter_date_time(iterator)))
        case 0x0A:
            return .null
        case 0x0B:
            var options: UnsafePointer<CChar>?
            let pattern = bson_iter_regex(iterator, &options)!
            let patternText = try makeCString(pattern, what: "regular expression pattern", elementOffset: elementOffset)
            let optionsText = try makeCString(options!, what: "regular expression options", elementOffset: elementOffset)
            // Validation keeps no value; the regex case is indirect, so making one would
            // allocate a box.
            guard build else { return .null }
            return .regex(BSONRegex(pattern: patternText, options: optionsText))
        case 0x0C:
            var length: UInt32 = 0
            var collection: UnsafePointer<CChar>?
            var oid: UnsafePointer<bson_oid_t>?
            bson_iter_dbpointer(iterator, &length, &collection, &oid)
            let ref = try makeString(collection!, Int(length), what: "DBPointer namespace", elementOffset: elementOffset)
            guard build else { return .null }  // indirect case: see regex above
            return .dbPointer(BSONDBPointer(ref: ref, id: BSONObjectID(unsafeBytesAt: oid!)))
        case 0x0D:
            var length: UInt32 = 0
            let code = bson_iter_code(iterator, &length)!
            return .javascript(try makeString(code, Int(length), what: "JavaScript code", elementOffset: elementOffset))
        case 0x0E:
            var length: UInt32 = 0
            let symbol = bson_iter_symbol(iterator, &length)!
            return .symbol(try makeString(symbol, Int(length), what: "symbol", elementOffset: elementOffset))
        case 0x0F:
            return try readCodeWithScope(iterator, elementOffset: elementOffset, depth: depth)
        case 0x10:
            return .int32(bson_iter_int32(iterator))
        case 0x11:
            var timestamp: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iterator, &timestamp, &increment)
            return .timestamp(BSONTimestamp(timestamp: timestamp, increment: increment))
        case 0x12:
            return .int64(bson_iter_int64(iterator))
        case 0x13:
            var value = bson_decimal128_t()
            _ = bson_iter_decimal128(iterator, &value)
            return .decimal128(BSONDecimal128(high: value.high, low: value.low))
        case 0xFF:
            return .minKey
        case 0x7F:
            return .maxKey
        default:
            // bson_iter_next refuses unknown types, so this is unreachable; keep it an error
            // rather than a trap all the same.
            throw BSONError(
                .unknownType, "unknown element type 0x\(String(typeByte, radix: 16))", offset: elementOffset)
        }
    }

    private func readCodeWithScope(_ iterator: OpaquePointer, elementOffset: Int, depth: Int) throws(BSONError) -> BSONValue {
        var codeLength: UInt32 = 0
        var scopeLength: UInt32 = 0
        var scope: UnsafePointer<UInt8>?
        let code = bson_iter_codewscope(iterator, &codeLength, &scopeLength, &scope)!
        // libbson checks the lengths of code with scope but not that its string ends in NUL.
        let codeBytes = UnsafeRawPointer(code).assumingMemoryBound(to: UInt8.self)
        guard codeBytes[Int(codeLength)] == 0 else {
            throw BSONError(
                .malformed, "the code string of code with scope does not end with a NUL byte",
                offset: codeBytes + Int(codeLength) - origin)
        }
        let codeText = try makeString(code, Int(codeLength), what: "code-with-scope code", elementOffset: elementOffset)
        guard depth < maxDepth else { throw depthError(elementOffset: elementOffset) }
        if !build {
            // Validation: the same checks of the scope, with no array and no indirect box
            // allocated for a value nobody keeps.
            var discard = DiscardingSink()
            do throws(BSONError) {
                try readDocument(at: scope!, length: Int(scopeLength), depth: depth + 1, into: &discard)
            } catch {
                throw error.prefixingKeyPath(with: "$scope")
            }
            return .null
        }
        var sink = DocumentSink(length: Int(scopeLength))
        do throws(BSONError) {
            try readDocument(at: scope!, length: Int(scopeLength), depth: depth + 1, into: &sink)
        } catch {
            throw error.prefixingKeyPath(with: "$scope")
        }
        return .javascriptWithScope(BSONCodeWithScope(code: codeText, scope: BSONDocument(fields: sink.fields)))
    }

    // MARK: Strings

    @inline(__always)
    private func makeString(
        _ pointer: UnsafePointer<CChar>, _ length: Int, what: String, elementOffset: Int
    ) throws(BSONError) -> String {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
        // Our validator, then a String from the checked bytes. String(validating:as:) would
        // do both in one call, but it goes through unspecialised generic code and costs
        // more than twice as much (measured: decode of flat_bson 115k → 255k instructions).
        if UTF8Validation.isValid(bytes) {
            return build ? UTF8Validation.string(fromValidated: bytes) : ""
        }
        let bad = UTF8Validation.firstInvalidOffset(bytes) ?? 0
        throw BSONError(
            .invalidUTF8, "\(what) is not valid UTF-8 (bad byte 0x\(String(bytes[bad], radix: 16)))",
            offset: bytes.baseAddress! + bad - origin)
    }

    private func makeCString(_ pointer: UnsafePointer<CChar>, what: String, elementOffset: Int) throws(BSONError) -> String {
        var length = 0
        while pointer[length] != 0 { length += 1 }
        return try makeString(pointer, length, what: what, elementOffset: elementOffset)
    }

    // MARK: Errors

    /// A key that is not UTF-8: the offset of its first bad byte, the key (repaired) as path.
    func keyError(_ key: UnsafeBufferPointer<UInt8>, elementOffset: Int) -> BSONError {
        let bad = UTF8Validation.firstInvalidOffset(key) ?? 0
        return BSONError(
            .invalidUTF8, "key is not valid UTF-8 (bad byte 0x\(String(key[bad], radix: 16)))",
            offset: key.baseAddress! + bad - origin, keyPath: [String(decoding: key, as: UTF8.self)])
    }

    private func depthError(elementOffset: Int) -> BSONError {
        BSONError(
            .nestingTooDeep, "documents are nested more than \(maxDepth) levels deep (the decoding limit)",
            offset: elementOffset)
    }

    /// Why `bson_iter_init_from_data` refused a nested document (its length was already
    /// checked against the enclosing document by `bson_iter_next`).
    private func nestedHeaderError(start: UnsafePointer<UInt8>, length: Int) -> BSONError {
        let offset = start - origin
        if length < 5 {
            return BSONError(.malformed, "embedded document declares \(length) bytes; the smallest is 5", offset: offset)
        }
        return BSONError(
            .malformed, "embedded document of \(length) bytes does not end with a 0x00 terminator",
            offset: offset + length - 1)
    }
}

/// Where ``StrictReader`` puts each element it has read and checked.
protocol FieldSink {
    mutating func append(key: UnsafeBufferPointer<UInt8>, value: BSONValue)
}

/// Keeps keys and values: a document.
struct DocumentSink: FieldSink {
    var fields: [BSONField] = []

    /// Reserves room for an estimate of the element count (about one per 24 bytes, at
    /// most 256) so that large documents do not regrow their storage many times.
    @inline(__always)
    init(length: Int) {
        fields.reserveCapacity(Swift.min(Swift.max(length / 24, 4), 256))
    }

    @inline(__always)
    mutating func append(key: UnsafeBufferPointer<UInt8>, value: BSONValue) {
        // The key was validated as UTF-8 already.
        fields.append(BSONField(key: UTF8Validation.string(fromValidated: key), value: value))
    }
}

/// Keeps values only: an array (its keys were checked, then dropped).
struct ArraySink: FieldSink {
    var values: [BSONValue] = []

    @inline(__always)
    init(length: Int) {
        values.reserveCapacity(Swift.min(Swift.max(length / 16, 4), 256))
    }

    @inline(__always)
    mutating func append(key: UnsafeBufferPointer<UInt8>, value: BSONValue) {
        values.append(value)
    }
}

/// Keeps nothing: validation only.
struct DiscardingSink: FieldSink {
    @inline(__always)
    mutating func append(key: UnsafeBufferPointer<UInt8>, value: BSONValue) {}
}
