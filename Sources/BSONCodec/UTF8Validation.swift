/// Strict UTF-8 validation without building a `String`, for the paths that check bytes
/// but keep no values (``BSONDocument/validate(bytes:options:)``, ``BSONView``), and the
/// cheapest way to make a `String` from bytes it has accepted.
///
/// Accepts exactly the well-formed sequences of the Unicode standard (Table 3-7): no
/// overlong forms, no surrogates (U+D800…U+DFFF), nothing above U+10FFFF, no truncated
/// sequences. NUL bytes are allowed (BSON strings may contain them).
package enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8; on failure, `firstInvalidOffset` tells where.
    @inlinable
    package static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Keys and most strings are short and ASCII: one inlined pass that only ORs the
        // bytes together is cheaper than the general scanner, which runs only when a byte
        // has its high bit set.
        isASCII(bytes) || firstInvalidOffset(bytes) == nil
    }

    /// Whether no byte of `bytes` has its high bit set.
    @inlinable @inline(__always)
    package static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var bits: UInt64 = 0
        var index = 0
        while index + 8 <= count {
            bits |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < count {
            bits |= UInt64(base[index])
            index += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
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

    /// A `String` holding `bytes`, which the caller has already found well-formed: the
    /// same string `String(decoding:as:)` makes, built more cheaply when it is short.
    ///
    /// Up to 15 bytes (the inline "small string" capacity on 64-bit platforms), the
    /// standard library's `String(unsafeUninitializedCapacity:initializingUTF8With:)`
    /// fills the small form in place and, for ASCII, skips its own validation pass, where
    /// `String(decoding:as:)` scans the bytes again first. For longer strings the latter
    /// is cheaper (one ASCII scan instead of two passes). Either way the standard library
    /// still checks non-ASCII bytes, so the result is the same.
    @inline(__always)
    package static func string(fromValidated bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count <= 15 else { return String(decoding: bytes, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(bytes))
            return bytes.count
        }
    }
}
