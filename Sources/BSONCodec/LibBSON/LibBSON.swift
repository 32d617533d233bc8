internal import CLibBSON

/// The small helpers every file in this folder shares. Nothing here is public: the C types
/// never leave `Sources/BSONCodec/LibBSON/`.
enum LibBSON {
    /// libbson declares `bson_iter_t` and `bson_t` 128-byte aligned, which Swift's import
    /// drops; memory for them always comes from here, with C's size and that alignment.
    static let iteratorSize = swiftbson_iter_size()
    static let documentSize = swiftbson_bson_size()

    /// Calls `body` with room for one `bson_iter_t` on the stack. The pointer must not
    /// escape `body`.
    @inline(__always)
    static func withIterator<R, E: Error>(_ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
        try withAligned128(byteCount: iteratorSize, body)
    }

    /// Calls `body` with room for one `bson_t` on the stack (for `bson_append_document_begin`
    /// children and `bson_init_static`). The pointer must not escape `body`.
    @inline(__always)
    static func withDocumentSlot<R, E: Error>(_ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
        try withAligned128(byteCount: documentSize, body)
    }

    /// Stack memory aligned to 128 bytes. `withUnsafeTemporaryAllocation` moves to the heap
    /// (memalign) when asked for more than 16-byte alignment, which cost a malloc per nested
    /// document; asking for 16 and rounding the address up inside a larger block stays on
    /// the stack.
    @inline(__always)
    private static func withAligned128<R, E: Error>(byteCount: Int, _ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
        try withUnsafeTemporaryAllocation(byteCount: byteCount + 128, alignment: 16) { (raw) throws(E) -> R in
            let address = UInt(bitPattern: raw.baseAddress!)
            let aligned = (address + 127) & ~UInt(127)
            return try body(OpaquePointer(bitPattern: aligned)!)
        }
    }

    /// 12 fresh ObjectID bytes from libbson's thread-safe generator (`bson_oid_init`).
    static func generateObjectID() -> [UInt8] {
        var oid = bson_oid_t()
        bson_oid_init(&oid, nil)
        return withUnsafeBytes(of: &oid) { Array($0.prefix(12)) }
    }

    static func oid(_ id: BSONObjectID) -> bson_oid_t {
        var oid = bson_oid_t()
        id.withUnsafeBytes { source in
            withUnsafeMutableBytes(of: &oid) { $0.copyMemory(from: source) }
        }
        return oid
    }

    /// The bits of the Decimal128 written as `text`, or `nil` when libbson rejects it
    /// (`bson_decimal128_from_string_w_len`).
    static func decimal128(parsing text: String) -> (high: UInt64, low: UInt64)? {
        var value = bson_decimal128_t()
        var copy = text
        let ok = copy.withUTF8 { utf8 in
            // An embedded NUL would end the C string early and hide trailing garbage.
            guard !utf8.isEmpty, !utf8.contains(0) else { return false }
            return utf8.withMemoryRebound(to: CChar.self) { chars in
                bson_decimal128_from_string_w_len(chars.baseAddress!, Int32(chars.count), &value)
            }
        }
        return ok ? (value.high, value.low) : nil
    }

    /// The text form of Decimal128 bits (`bson_decimal128_to_string`).
    static func decimal128String(high: UInt64, low: UInt64) -> String {
        var value = bson_decimal128_t()
        value.high = high
        value.low = low
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(BSON_DECIMAL128_STRING) + 1) { buffer in
            bson_decimal128_to_string(&value, buffer.baseAddress)
            return String(cString: buffer.baseAddress!)
        }
    }
}
