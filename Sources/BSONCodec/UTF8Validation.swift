/// Strict UTF-8 validation without building a `String`, for the paths that check bytes
/// but keep no values (``BSONDocument/validate(bytes:options:)``, ``BSONView``).
///
/// Accepts exactly the well-formed sequences of the Unicode standard (Table 3-7): no
/// overlong forms, no surrogates (U+D800…U+DFFF), nothing above U+10FFFF, no truncated
/// sequences. NUL bytes are allowed (BSON strings may contain them).
package enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8; on failure, `firstInvalidOffset` tells where.
    @inlinable
    package static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        firstInvalidOffset(bytes) == nil
    }

    /// The offset of the first byte that does not start or continue a well-formed
    /// sequence, or `nil` when all of `bytes` is well-formed UTF-8.
    @usableFromInline
    package static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        while index < count {
            // ASCII fast path: eight bytes at a time while no high bit is set.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return nil }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = base[index + 1]
            guard second >= low, second <= high else { return index }
            var position = index + 2
            while position < index + length {
                guard base[position] & 0xC0 == 0x80 else { return index }
                position += 1
            }
            index += length
        }
        return nil
    }
}
