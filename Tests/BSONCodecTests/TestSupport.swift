import BSONCodec
import Testing

// Helpers shared by the codec tests: hex byte literals, a tiny hand-rolled BSON writer that
// does not use the codec under test, error assertions and a deterministic PRNG.

/// The bytes written as hexadecimal pairs; whitespace between pairs is ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
    precondition(digits.count.isMultiple(of: 2), "odd number of hex digits in \(text)")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        bytes.append(UInt8(String(digits[index...index + 1]), radix: 16)!)
        index += 2
    }
    return bytes
}

/// The bytes as spaced uppercase hex, for failure messages.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}

/// Builds BSON bytes by hand, following the BSON 1.1 grammar, independently of the codec.
enum Wire {
    static func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func int64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func uint64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    /// `cstring`: the bytes and a NUL.
    static func cstring(_ bytes: [UInt8]) -> [UInt8] { bytes + [0] }
    static func cstring(_ text: String) -> [UInt8] { cstring(Array(text.utf8)) }

    /// `string`: int32 length (bytes + NUL), the bytes, a NUL.
    static func string(_ bytes: [UInt8]) -> [UInt8] { int32(Int32(bytes.count + 1)) + bytes + [0] }
    static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// One element: type byte, key as a cstring, payload.
    static func element(_ type: UInt8, _ key: String, _ payload: [UInt8]) -> [UInt8] {
        [type] + cstring(key) + payload
    }

    static func element(_ type: UInt8, keyBytes: [UInt8], _ payload: [UInt8]) -> [UInt8] {
        [type] + cstring(keyBytes) + payload
    }

    /// A document: int32 total length, the elements, a NUL.
    static func document(_ elements: [UInt8]...) -> [UInt8] { document(elements) }

    static func document(_ elements: [[UInt8]]) -> [UInt8] {
        let body = elements.flatMap { $0 }
        return int32(Int32(4 + body.count + 1)) + body + [0]
    }

    /// Code with scope payload: int32 total, string code, scope document.
    static func codeWithScope(_ code: [UInt8], scope: [UInt8]) -> [UInt8] {
        let inner = string(code) + scope
        return int32(Int32(4 + inner.count)) + inner
    }
}

/// What decoding `bytes` threw, or `nil` when it succeeded.
func decodeError(_ bytes: [UInt8], options: BSONDecodingOptions = .default) -> BSONError? {
    do {
        _ = try BSONDocument(bytes: bytes, options: options)
        return nil
    } catch {
        return error
    }
}

/// What validating `bytes` threw, or `nil` when it succeeded.
func validateError(_ bytes: [UInt8], options: BSONDecodingOptions = .default) -> BSONError? {
    do {
        try BSONDocument.validate(bytes: bytes, options: options)
        return nil
    } catch {
        return error
    }
}

/// Asserts that decoding, validating and (when the header is sound) a view's `validate()`
/// all reject `bytes` with the same code, offset and key path, and that these are the
/// expected ones.
func expectRejected(
    _ bytes: [UInt8],
    _ code: BSONError.Code,
    offset: Int?,
    keyPath: [String] = [],
    options: BSONDecodingOptions = .default,
    _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let decoded = decodeError(bytes, options: options)
    let validated = validateError(bytes, options: options)
    guard let decoded else {
        Issue.record("decoding accepted \(hexString(bytes)) \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        return
    }
    guard let validated else {
        Issue.record("validate accepted what decoding rejected: \(hexString(bytes))", sourceLocation: sourceLocation)
        return
    }
    let context = "\(comment.map { "\($0): " } ?? "")\(decoded) for \(hexString(bytes))"
    #expect(decoded.code == code, "code: \(context)", sourceLocation: sourceLocation)
    #expect(decoded.offset == offset, "offset: \(context)", sourceLocation: sourceLocation)
    #expect(decoded.keyPath == keyPath, "keyPath: \(context)", sourceLocation: sourceLocation)
    #expect(validated.code == decoded.code, "validate code: \(validated)", sourceLocation: sourceLocation)
    #expect(validated.offset == decoded.offset, "validate offset: \(validated)", sourceLocation: sourceLocation)
    #expect(validated.keyPath == decoded.keyPath, "validate keyPath: \(validated)", sourceLocation: sourceLocation)
    if let view = try? BSONView(bytes: bytes, options: options) {
        do {
            try view.validate()
            Issue.record("BSONView.validate accepted \(hexString(bytes))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == decoded.code, "view validate: \(error)", sourceLocation: sourceLocation)
            #expect(error.offset == decoded.offset, "view validate: \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Asserts that `bytes` decode to `expected`, validate, and encode back to exactly `bytes`.
func expectRoundTrip(
    _ bytes: [UInt8], _ expected: BSONDocument, sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let decoded = try BSONDocument(bytes: bytes)
        #expect(decoded == expected, "decoded \(decoded)", sourceLocation: sourceLocation)
        try BSONDocument.validate(bytes: bytes)
        let encoded = try expected.encoded()
        #expect(encoded == bytes, "encoded \(hexString(encoded)), want \(hexString(bytes))", sourceLocation: sourceLocation)
        #expect(try decoded.encoded() == bytes, "re-encoded differs", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error) for \(hexString(bytes))", sourceLocation: sourceLocation)
    }
}

/// Values for ObjectIDs in vectors: 01 02 … 0C.
let sampleObjectID = BSONObjectID(bytes: Array(1...12))!
