/// Steps over the elements of one document to find a key, reading only type bytes, keys
/// and length prefixes — the fast path behind ``BSONView`` lookups.
///
/// It checks every element it passes the way libbson's `bson_iter_next` does (the key ends
/// inside the document, the value fits before the terminator, string and binary lengths
/// agree with their contents, boolean bytes are 0 or 1), so a lookup rejects exactly the
/// elements libbson's iterator would, and the messages come from ``ElementDiagnosis``.
/// libbson's iterator costs about 110 instructions an element; this costs a fraction, which
/// is what makes a lookup of a late key many times cheaper than a full decode.
///
/// Keys and values passed over are not checked for UTF-8 and nested documents are not
/// entered: that is the laziness the view documents. The element found is handed to the
/// strict reader, which checks it fully.
enum ElementSkipper {
    /// Where the element is, and its key's length.
    struct Hit {
        /// Offset of the element's type byte.
        var elementOffset: Int
        var keyLength: Int
        var type: UInt8
    }

    /// Finds the first element whose key is `key` in the document at `document` (whose
    /// header has been checked: its length is `document.count` and it ends in 0x00).
    ///
    /// - Returns: The element, or `nil` when no element has the key.
    /// - Throws: ``BSONError`` for the first malformed element before the key.
    static func find(_ key: UnsafeBufferPointer<UInt8>, in document: UnsafeBufferPointer<UInt8>) throws(BSONError) -> Hit? {
        let base = document.baseAddress!
        let terminator = document.count - 1
        var offset = 4
        while offset < terminator {
            let type = base[offset]
            let keyStart = offset + 1
            // The key ends at the first NUL; it must end before the terminator.
            guard let keyEnd = nulIndex(base, from: keyStart, before: terminator) else {
                throw diagnose(document, offset)
            }
            let keyLength = keyEnd - keyStart
            guard let next = valueEnd(type: type, base: base, at: keyEnd + 1, limit: terminator) else {
                throw diagnose(document, offset)
            }
            if keyLength == key.count, keyLength == 0 || memoryEqual(base + keyStart, key.baseAddress!, keyLength) {
                return Hit(elementOffset: offset, keyLength: keyLength, type: type)
            }
            offset = next
        }
        // A 0x00 type byte before the last byte is a terminator in the wrong place.
        if offset != terminator { throw diagnose(document, min(offset, terminator)) }
        return nil
    }

    private static func diagnose(_ document: UnsafeBufferPointer<UInt8>, _ offset: Int) -> BSONError {
        ElementDiagnosis.explain(document: document, elementOffset: offset, documentOffset: 0)
    }

    @inline(__always)
    private static func nulIndex(_ base: UnsafePointer<UInt8>, from start: Int, before limit: Int) -> Int? {
        var index = start
        // Eight bytes at a time while they lie before `limit`: the classic "has a zero
        // byte" test, then the lowest such byte (little-endian: the lowest set bit).
        while index + 8 <= limit {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if zeros != 0 { return index + zeros.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < limit {
            if base[index] == 0 { return index }
            index += 1
        }
        return nil
    }

    @inline(__always)
    private static func int32(_ base: UnsafePointer<UInt8>, at offset: Int) -> Int {
        Int(Int32(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: Int32.self)))
    }

    @inline(__always)
    private static func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            if a[index] != b[index] { return false }
            index += 1
        }
        return true
    }

    /// The offset just past the value of an element of `type` whose value starts at `data`,
    /// or `nil` when the value does not fit before `limit` (the document's terminator) or
    /// its length fields disagree with its contents. Mirrors the checks of libbson 1.23's
    /// `_bson_iter_next_internal`.
    @inline(__always)
    private static func valueEnd(type: UInt8, base: UnsafePointer<UInt8>, at data: Int, limit: Int) -> Int? {
        let room = limit - data
        let end: Int
        switch type {
        case 0x01, 0x09, 0x11, 0x12: end = data + 8
        case 0x10: end = data + 4
        case 0x07: end = data + 12
        case 0x13: end = data + 16
        case 0x06, 0x0A, 0x7F, 0xFF: end = data
        case 0x08:
            guard room >= 1, base[data] <= 1 else { return nil }
            end = data + 1
        case 0x02, 0x0D, 0x0E:
            guard room >= 4 else { return nil }
            let length = int32(base, at: data)
            guard length >= 1, length <= room - 4, base[data + 4 + length - 1] == 0 else { return nil }
            end = data + 4 + length
        case 0x03, 0x04:
            guard room >= 4 else { return nil }
            let length = int32(base, at: data)
            guard length >= 5, length <= room else { return nil }
            end = data + length
        case 0x05:
            guard room >= 5 else { return nil }
            let length = int32(base, at: data)
            guard length >= 0, length <= room - 5 else { return nil }
            if base[data + 4] == 0x02 {
                // The old binary subtype carries its length a second time.
                guard length >= 4, int32(base, at: data + 5) == length - 4 else { return nil }
            }
            end = data + 5 + length
        case 0x0B:
            guard let patternEnd = nulIndex(base, from: data, before: limit),
                let optionsEnd = nulIndex(base, from: patternEnd + 1, before: limit)
            else { return nil }
            end = optionsEnd + 1
        case 0x0C:
            guard room >= 4 else { return nil }
            let length = int32(base, at: data)
            guard length >= 1, length <= room - 4 - 12, base[data + 4 + length - 1] == 0 else { return nil }
            end = data + 4 + length + 12
        case 0x0F:
            guard room >= 4 else { return nil }
            let total = int32(base, at: data)
            guard total >= 14, total <= room else { return nil }
            let codeLength = int32(base, at: data + 4)
            guard codeLength >= 1, 8 + codeLength + 5 <= total else { return nil }
            let scopeLength = int32(base, at: data + 8 + codeLength)
            guard 8 + codeLength + scopeLength == total else { return nil }
            end = data + total
        default:
            return nil
        }
        return end <= limit ? end : nil
    }
}
