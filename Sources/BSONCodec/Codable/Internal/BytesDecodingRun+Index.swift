// The decoder's single pass over the bytes: it checks them with exactly the rules of the
// strict reader (``StrictReader``, what `BSONDocument(bytes:)` and
// `BSONDocument.validate(bytes:)` use) and, in the same walk, records every element of
// every document and array, so that containers find their fields without reading the
// bytes again.
//
// The structural checks per element are libbson 1.23's `bson_iter_next` checks (the same
// ones ``ElementSkipper`` makes); on top of them come the strict reader's own: UTF-8 of
// every key and string-bearing value, the NUL that ends code-with-scope code, the
// terminator of every nested document, and the nesting limit. The pass only answers
// "valid or not": for invalid bytes the run asks the strict reader for its error, so the
// messages, offsets and key paths stay the strict reader's.

extension BytesDecodingRun {
    /// Indexes the whole document into ``entries`` and ``ranges``, checking it as it goes
    /// (`checks`: UTF-8 and nesting too; the structure is always checked). Returns `false` at
    /// the first thing the strict reader would reject.
    ///
    /// Documents are indexed in breadth-first order, each one's elements appended together;
    /// a document or array element gets the range that its own elements will fill.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func index(checks: Bool) -> Bool {
        guard byteCount >= 5, Int(int32(0)) == byteCount, base[byteCount - 1] == 0 else { return false }
        let maxDepth = checks ? configuration.options.maxDepth : Int.max
        // About one element per 12 bytes and one document per 64: enough for most documents
        // without growing, never much more than needed.
        var list = RunBuffer<FieldEntry>(capacity: byteCount / 12 + 4)
        var documents = RunBuffer<FieldRange>(capacity: byteCount / 64 + 2)
        // Whatever happens below, the run frees what it holds.
        defer {
            entries.deallocate()
            ranges.deallocate()
            entries = list
            ranges = documents
        }
        // Until a document is indexed, its range holds where it starts (`first`) and how deep
        // it is (`count`).
        documents.append(Self.pending(at: 0, depth: 0))
        var next = 0
        // Each pass indexes one document; every document was appended once, when its parent
        // was indexed, and there are fewer documents than bytes.
        while next < documents.count {
            let start = Int(documents[next].first)
            let depth = Int(documents[next].count)
            let terminator = start + Int(int32(start)) - 1
            let first = list.count
            var offset = start + 4
            while offset < terminator {
                let type = base[offset]
                let keyStart = offset + 1
                guard let (keyEnd, keyIsASCII) = scanKey(from: keyStart, before: terminator) else { return false }
                if checks, !keyIsASCII,
                    !UTF8Validation.isValid(UnsafeBufferPointer(start: base + keyStart, count: keyEnd - keyStart))
                {
                    return false
                }
                // The value's checks: libbson's iterator first (lengths within the room left
                // before the terminator, terminating NULs, boolean bytes), then the strict
                // reader's (UTF-8, nested terminators, the nesting limit).
                let data = keyEnd + 1
                let room = terminator - data
                var child: Int32 = -1
                let end: Int
                switch type {
                case 0x01, 0x09, 0x11, 0x12:
                    end = data + 8
                case 0x10:
                    end = data + 4
                case 0x02, 0x0D, 0x0E:
                    guard room >= 4 else { return false }
                    let length = Int(int32(data))
                    guard length >= 1, length <= room - 4, base[data + 4 + length - 1] == 0 else { return false }
                    if checks, !isValidText(at: data + 4, count: length - 1) { return false }
                    end = data + 4 + length
                case 0x03, 0x04:
                    guard room >= 4 else { return false }
                    let length = Int(int32(data))
                    guard length >= 5, length <= room, base[data + length - 1] == 0, depth < maxDepth else { return false }
                    end = data + length
                    child = Int32(truncatingIfNeeded: documents.count)
                    documents.append(Self.pending(at: data, depth: depth + 1))
                case 0x08:
                    guard room >= 1, base[data] <= 1 else { return false }
                    end = data + 1
                case 0x07:
                    end = data + 12
                case 0x13:
                    end = data + 16
                case 0x06, 0x0A, 0x7F, 0xFF:
                    end = data
                case 0x05:
                    guard room >= 5 else { return false }
                    let length = Int(int32(data))
                    guard length >= 0, length <= room - 5 else { return false }
                    if base[data + 4] == 0x02 {
                        // The old binary subtype carries its length a second time.
                        guard length >= 4, Int(int32(data + 5)) == length - 4 else { return false }
                    }
                    end = data + 5 + length
                case 0x0B:
                    guard let patternEnd = nul(from: data, before: terminator),
                        let optionsEnd = nul(from: patternEnd + 1, before: terminator)
                    else { return false }
                    if checks,
                        !isValidText(at: data, count: patternEnd - data)
                            || !isValidText(at: patternEnd + 1, count: optionsEnd - patternEnd - 1)
                    {
                        return false
                    }
                    end = optionsEnd + 1
                case 0x0C:
                    guard room >= 4 else { return false }
                    let length = Int(int32(data))
                    guard length >= 1, length <= room - 4 - 12, base[data + 4 + length - 1] == 0 else { return false }
                    if checks, !isValidText(at: data + 4, count: length - 1) { return false }
                    end = data + 4 + length + 12
                case 0x0F:
                    guard room >= 4 else { return false }
                    let total = Int(int32(data))
                    guard total >= 14, total <= room else { return false }
                    let codeLength = Int(int32(data + 4))
                    guard codeLength >= 1, 8 + codeLength + 5 <= total else { return false }
                    let scope = data + 8 + codeLength
                    guard 8 + codeLength + Int(int32(scope)) == total else { return false }
                    end = data + total
                    // libbson checks the lengths of code with scope but not that the code ends
                    // in NUL; the strict reader does, and checks the scope like any document
                    // (its range is the element's child).
                    guard base[scope - 1] == 0, base[end - 1] == 0, depth < maxDepth else { return false }
                    if checks, !isValidText(at: data + 8, count: codeLength - 1) { return false }
                    child = Int32(truncatingIfNeeded: documents.count)
                    documents.append(Self.pending(at: scope, depth: depth + 1))
                default:
                    return false
                }
                guard end <= terminator else { return false }
                list.append(
                    FieldEntry(
                        keyStart: Int32(truncatingIfNeeded: keyStart), keyLength: Int32(truncatingIfNeeded: keyEnd - keyStart),
                        valueStart: Int32(truncatingIfNeeded: data), child: child, type: type))
                offset = end
            }
            documents[next] = FieldRange(
                first: Int32(truncatingIfNeeded: first), count: Int32(truncatingIfNeeded: list.count - first))
            next += 1
        }
        return true
    }

    /// The range of a document not indexed yet: where it starts and how deep it is.
    @inline(__always)
    private static func pending(at start: Int, depth: Int) -> FieldRange {
        FieldRange(first: Int32(truncatingIfNeeded: start), count: Int32(truncatingIfNeeded: depth))
    }

    /// Whether the `count` bytes at `start` are valid UTF-8: eight at a time while they are
    /// ASCII, the full check only when one is not.
    @inline(__always)
    private func isValidText(at start: Int, count: Int) -> Bool {
        var bits: UInt64 = 0
        var index = start
        let end = start + count
        while index + 8 <= end {
            bits |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        if index < end {
            if index + 8 <= byteCount {
                // One load covers the tail; the bytes past `end` are masked off.
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                bits |= word & (UInt64.max >> UInt64(64 - (end - index) * 8))
            } else {
                while index < end {
                    bits |= UInt64(base[index])
                    index += 1
                }
            }
        }
        if bits & 0x8080_8080_8080_8080 == 0 { return true }
        return UTF8Validation.isValid(UnsafeBufferPointer(start: base + start, count: count))
    }

    /// The offset of the NUL that ends the key at `start` (a NUL before `limit`), and whether
    /// the key is all ASCII; `nil` when there is no such NUL.
    @inline(__always)
    private func scanKey(from start: Int, before limit: Int) -> (Int, Bool)? {
        var index = start
        var bits: UInt64 = 0
        while index + 8 <= limit {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if zeros != 0 {
                // The lowest flagged byte is the first NUL; only the bytes below it are key.
                let keyBytes = zeros.trailingZeroBitCount / 8
                let below = keyBytes == 0 ? 0 : word & (UInt64.max >> UInt64(64 - keyBytes * 8))
                return (index + keyBytes, (bits | below) & 0x8080_8080_8080_8080 == 0)
            }
            bits |= word
            index += 8
        }
        while index < limit {
            let byte = base[index]
            if byte == 0 { return (index, bits & 0x8080_8080_8080_8080 == 0) }
            bits |= UInt64(byte)
            index += 1
        }
        return nil
    }

    /// The offset of the first NUL at or after `start` and before `limit`, or `nil`.
    @inline(__always)
    func nul(from start: Int, before limit: Int) -> Int? {
        var index = start
        // Eight bytes at a time while they lie before `limit`: the classic "has a zero byte"
        // test, then the lowest such byte (little-endian: the lowest set bit).
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
}
