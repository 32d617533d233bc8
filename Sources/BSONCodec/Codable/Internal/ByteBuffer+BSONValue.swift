// Writes BSON values byte for byte, for the direct encoder. Mirrors ``Writer`` (which goes
// through libbson's append functions): the same bytes for every value, the same refusals
// (NUL in keys and in regular expressions, nesting past the limit).

extension ByteBuffer {
    /// Appends an element header: the type byte, the key and its NUL.
    @inline(__always)
    mutating func appendHeader(_ type: UInt8, key: UnsafeBufferPointer<UInt8>) {
        reserve(key.count + 2)
        append(type)
        append(key)
        append(0)
    }

    /// Appends a BSON string: length (with the NUL), bytes, NUL.
    @inline(__always)
    mutating func appendString(_ text: String) {
        let length = text.utf8.count
        reserve(length + 5)
        append(littleEndian: Int32(truncatingIfNeeded: length + 1))
        append(utf8: text)
        append(0)
    }

    /// Appends `text` and a NUL, refusing a text that holds a NUL.
    mutating func appendCString(_ text: String, what: String) throws(BSONError) {
        if Writer.containsNUL(text) { throw BSONError(.invalidValue, "\(what) cannot contain a NUL byte") }
        append(utf8: text)
        append(0)
    }

    /// Appends the payload of `value`, an element of a document at nesting level `depth`.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    mutating func appendPayload(_ value: BSONValue, depth: Int, maxDepth: Int) throws(BSONError) {
        switch value {
        case .double(let number):
            append(littleEndian: number.bitPattern)
        case .string(let text), .javascript(let text), .symbol(let text):
            appendString(text)
        case .document(let document):
            guard depth < maxDepth else { throw Self.nesting(maxDepth) }
            try appendDocument(document.fields, depth: depth + 1, maxDepth: maxDepth)
        case .array(let values):
            guard depth < maxDepth else { throw Self.nesting(maxDepth) }
            let start = count
            append(littleEndian: Int32(0))
            for (index, element) in values.enumerated() {
                let key = String(index)
                append(element.type.rawValue)
                append(utf8: key)
                append(0)
                do throws(BSONError) {
                    try appendPayload(element, depth: depth + 1, maxDepth: maxDepth)
                } catch {
                    throw error.prefixingKeyPath(with: key)
                }
            }
            try close(from: start)
        case .binary(let binary):
            guard binary.data.count <= Int(Int32.max) - 5 else { throw Self.tooLarge() }
            if binary.subtype == .binaryOld {
                append(littleEndian: Int32(binary.data.count + 4))
                append(binary.subtype.rawValue)
                append(littleEndian: Int32(binary.data.count))
            } else {
                append(littleEndian: Int32(binary.data.count))
                append(binary.subtype.rawValue)
            }
            binary.data.withUnsafeBufferPointer { append($0) }
        case .undefined, .null, .minKey, .maxKey:
            break
        case .objectID(let id):
            id.withUnsafeBytes { append(raw: $0) }
        case .bool(let flag):
            append(flag ? 1 : 0)
        case .datetime(let datetime):
            append(littleEndian: datetime.millisecondsSinceEpoch)
        case .regex(let regex):
            try appendCString(regex.pattern, what: "a regular expression pattern")
            try appendCString(regex.options, what: "regular expression options")
        case .dbPointer(let pointer):
            appendString(pointer.ref)
            pointer.id.withUnsafeBytes { append(raw: $0) }
        case .javascriptWithScope(let codeWithScope):
            guard depth < maxDepth else { throw Self.nesting(maxDepth) }
            let start = count
            append(littleEndian: Int32(0))
            appendString(codeWithScope.code)
            do throws(BSONError) {
                try appendDocument(codeWithScope.scope.fields, depth: depth + 1, maxDepth: maxDepth)
            } catch {
                throw error.prefixingKeyPath(with: "$scope")
            }
            guard count - start <= Int(Int32.max) else { throw Self.tooLarge() }
            patch(int32: Int32(count - start), at: start)
        case .int32(let number):
            append(littleEndian: number)
        case .timestamp(let timestamp):
            append(littleEndian: timestamp.uint64)
        case .int64(let number):
            append(littleEndian: number)
        case .decimal128(let decimal):
            append(littleEndian: decimal.low)
            append(littleEndian: decimal.high)
        }
    }

    /// Appends a whole document whose elements are at nesting level `depth`.
    mutating func appendDocument(_ fields: [BSONField], depth: Int, maxDepth: Int) throws(BSONError) {
        let start = count
        append(littleEndian: Int32(0))
        for field in fields {
            if Writer.containsNUL(field.key) {
                throw BSONError(.invalidKey, "a key cannot contain a NUL byte", keyPath: [field.key])
            }
            append(field.value.type.rawValue)
            append(utf8: field.key)
            append(0)
            do throws(BSONError) {
                try appendPayload(field.value, depth: depth, maxDepth: maxDepth)
            } catch {
                throw error.prefixingKeyPath(with: field.key)
            }
        }
        try close(from: start)
    }

    /// Ends the document or array whose length field is at `start`: the terminator, then
    /// the length.
    mutating func close(from start: Int) throws(BSONError) {
        append(0)
        guard count - start <= Int(Int32.max) else { throw Self.tooLarge() }
        patch(int32: Int32(count - start), at: start)
    }

    static func nesting(_ maxDepth: Int) -> BSONError {
        BSONError(.nestingTooDeep, "documents are nested more than \(maxDepth) levels deep (the encoding limit)")
    }

    static func tooLarge() -> BSONError {
        BSONError(.invalidValue, "the document would exceed the 2 GiB limit of a BSON document")
    }
}
