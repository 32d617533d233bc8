import BSONCodec
import Testing

// The malformed-input matrix. Every case states the exact error code, byte offset and key
// path, and `expectRejected` checks that validate(bytes:) (and a view's validate()) rejects
// it identically.
//
// In a document {"a": …} built by `single`, the element starts at byte 4, its key at 5
// and its value at 7.

/// {"a": payload} with the given type byte.
private func single(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
    Wire.document(Wire.element(type, "a", payload))
}

/// A sequence of bytes that is not UTF-8, for every string-bearing place.
struct BadUTF8: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    var testDescription: String { name }
}

let badUTF8Sequences: [BadUTF8] = [
    BadUTF8(name: "overlong 2-byte slash", bytes: [0xC0, 0xAF]),
    BadUTF8(name: "overlong 2-byte NUL", bytes: [0xC0, 0x80]),
    BadUTF8(name: "overlong 2-byte C1", bytes: [0xC1, 0xBF]),
    BadUTF8(name: "overlong 3-byte", bytes: [0xE0, 0x80, 0xAF]),
    BadUTF8(name: "overlong 4-byte", bytes: [0xF0, 0x80, 0x80, 0xAF]),
    BadUTF8(name: "high surrogate", bytes: [0xED, 0xA0, 0x80]),
    BadUTF8(name: "low surrogate", bytes: [0xED, 0xBF, 0xBF]),
    BadUTF8(name: "above U+10FFFF", bytes: [0xF4, 0x90, 0x80, 0x80]),
    BadUTF8(name: "F5 lead byte", bytes: [0xF5, 0x80, 0x80, 0x80]),
    BadUTF8(name: "FF byte", bytes: [0xFF]),
    BadUTF8(name: "lone continuation", bytes: [0x80]),
    BadUTF8(name: "truncated 2-byte", bytes: [0xC3]),
    BadUTF8(name: "truncated 3-byte", bytes: [0xE2, 0x82]),
    BadUTF8(name: "truncated 4-byte", bytes: [0xF0, 0x9F, 0x98]),
    BadUTF8(name: "3-byte with ASCII inside", bytes: [0xE2, 0x41, 0x82]),
]

/// A place in a document that holds text.
enum TextPlace: String, CaseIterable, Sendable {
    case key, string, javascript, symbol, dbPointerNamespace, regexPattern, regexOptions, codeWithScopeCode
    case nestedString, scopeString, arrayString

    /// The document with `text` in this place, the offset where `text` starts and the key
    /// path of the element at fault.
    func document(with text: [UInt8]) -> (bytes: [UInt8], start: Int, keyPath: [String]) {
        switch self {
        case .key:
            return (Wire.document(Wire.element(0x0A, keyBytes: text, [])), 5, [String(decoding: text, as: UTF8.self)])
        case .string:
            return (single(0x02, Wire.string(text)), 11, ["a"])
        case .javascript:
            return (single(0x0D, Wire.string(text)), 11, ["a"])
        case .symbol:
            return (single(0x0E, Wire.string(text)), 11, ["a"])
        case .dbPointerNamespace:
            return (single(0x0C, Wire.string(text) + Array(1...12)), 11, ["a"])
        case .regexPattern:
            return (single(0x0B, Wire.cstring(text) + Wire.cstring("i")), 7, ["a"])
        case .regexOptions:
            return (single(0x0B, Wire.cstring("p") + Wire.cstring(text)), 9, ["a"])
        case .codeWithScopeCode:
            return (single(0x0F, Wire.codeWithScope(text, scope: Wire.document())), 15, ["a"])
        case .nestedString:
            // {"d": {"s": text}}: the inner document at 7, its element at 11, the string's
            // length at 14 and its bytes at 18.
            let inner = Wire.document(Wire.element(0x02, "s", Wire.string(text)))
            return (Wire.document(Wire.element(0x03, "d", inner)), 18, ["d", "s"])
        case .scopeString:
            // {"a": code "c" with scope {"s": text}}: total at 7, code length at 11, "c\0" at
            // 15, the scope at 17, its element at 21, the string's length at 24, bytes at 28.
            let scope = Wire.document(Wire.element(0x02, "s", Wire.string(text)))
            return (single(0x0F, Wire.codeWithScope(Array("c".utf8), scope: scope)), 28, ["a", "$scope", "s"])
        case .arrayString:
            // {"a": ["ok", text]}: array at 7, "0" element at 11 (10 bytes), "1" element at 21,
            // its length at 24, bytes at 28.
            let array = Wire.document(Wire.element(0x02, "0", Wire.string("ok")), Wire.element(0x02, "1", Wire.string(text)))
            return (single(0x04, array), 28, ["a", "1"])
        }
    }
}

@Suite("Malformed input")
struct MalformedInputTests {
    // MARK: The document header

    @Test("fewer than 5 bytes")
    func tooShort() {
        for bytes in [[], [0x05], [0x05, 0x00, 0x00], [0x05, 0x00, 0x00, 0x00]] as [[UInt8]] {
            expectRejected(bytes, .malformed, offset: 0)
        }
    }

    @Test("declared length smaller or larger than the bytes")
    func lengthMismatch() {
        expectRejected(hex("05 00 00 00 00 00"), .malformed, offset: 0, "one byte too many")
        expectRejected(hex("06 00 00 00 00"), .malformed, offset: 0, "one byte too few")
        expectRejected(hex("0C 00 00 00 10 61 00 01 00 00 00 00 00"), .malformed, offset: 0, "trailing byte")
        expectRejected(hex("00 00 00 00 00"), .malformed, offset: 0, "declares 0")
        expectRejected(hex("04 00 00 00 00"), .malformed, offset: 0, "declares 4")
        expectRejected(hex("FF FF FF FF 00"), .malformed, offset: 0, "declares -1")
        expectRejected(hex("FF FF FF 7F 00"), .malformed, offset: 0, "declares Int32.max")
    }

    @Test("missing final terminator")
    func missingTerminator() {
        expectRejected(hex("05 00 00 00 01"), .malformed, offset: 4)
        expectRejected(hex("0C 00 00 00 10 61 00 01 00 00 00 01"), .malformed, offset: 11)
    }

    @Test("a terminator in the middle")
    func terminatorInTheMiddle() {
        expectRejected(hex("0D 00 00 00 00 10 61 00 01 00 00 00 00"), .malformed, offset: 4)
        expectRejected(hex("10 00 00 00 10 61 00 01 00 00 00 00 0A 62 00 00"), .malformed, offset: 11)
        // {"a": {"b": 1, 0x00, null "c"}}: the inner terminator at 7 + 11.
        let inner = hex("10 00 00 00 10 62 00 01 00 00 00 00 0A 63 00 00")
        expectRejected(single(0x03, inner), .malformed, offset: 18, keyPath: ["a"])
    }

    // MARK: Elements

    @Test("unknown type bytes", arguments: [0x14, 0x15, 0x20, 0x7E, 0x80, 0xFE] as [UInt8])
    func unknownType(type: UInt8) {
        expectRejected(hex("08 00 00 00 61 00 00").inserting(type, at: 4), .unknownType, offset: 4, keyPath: ["a"])
        // After a valid element: null "b" takes bytes 4...6.
        let second = Wire.document(Wire.element(0x0A, "b", []), Wire.element(type, "a", [1, 2, 3]))
        expectRejected(second, .unknownType, offset: 7, keyPath: ["a"])
        // Inside an array: {"arr": [null, ?]}: the array at 9, "0" at 13, "1" at 16.
        let array = Wire.document(Wire.element(0x0A, "0", []), Wire.element(type, "1", []))
        expectRejected(Wire.document(Wire.element(0x04, "arr", array)), .unknownType, offset: 16, keyPath: ["arr", "1"])
    }

    @Test("a key that runs into the end of the document")
    func keyNotTerminated() {
        expectRejected(hex("08 00 00 00 0A 61 62 00"), .malformed, offset: 5)
        expectRejected(hex("0A 00 00 00 10 61 62 63 64 00"), .malformed, offset: 5)
        // {"a": {<key runs into end>}}: the inner document at 7, its element at 11.
        expectRejected(single(0x03, hex("08 00 00 00 0A 78 79 00")), .malformed, offset: 12, keyPath: ["a"])
    }

    @Test("boolean bytes other than 0 and 1", arguments: [0x02, 0x10, 0xFF] as [UInt8])
    func invalidBoolean(byte: UInt8) {
        expectRejected(single(0x08, [byte]), .invalidBoolean, offset: 7, keyPath: ["a"])
    }

    // MARK: UTF-8

    @Test("invalid UTF-8 in every text-bearing place", arguments: TextPlace.allCases, badUTF8Sequences)
    func invalidUTF8(place: TextPlace, sequence: BadUTF8) {
        // The bad sequence after one good byte, then with and without a good byte after it.
        for text in [[0x78] + sequence.bytes + [0x79], [0x78] + sequence.bytes] {
            let (bytes, start, keyPath) = place.document(with: text)
            expectRejected(bytes, .invalidUTF8, offset: start + 1, keyPath: keyPath, "\(place) \(sequence.name)")
        }
    }

    @Test("the same places accept well-formed UTF-8 of every length", arguments: TextPlace.allCases)
    func validUTF8(place: TextPlace) throws {
        let text = Array("x\u{7F}\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}y".utf8)
        let (bytes, _, _) = place.document(with: text)
        let document = try BSONDocument(bytes: bytes)
        try BSONDocument.validate(bytes: bytes)
        #expect(try document.encoded() == bytes)
    }

    // MARK: Strings

    @Test("string lengths: zero, negative, past the end, missing NUL", arguments: [0x02, 0x0D, 0x0E, 0x0C] as [UInt8])
    func stringLengths(type: UInt8) {
        // DBPointer strings are followed by 12 ObjectID bytes.
        let tail: [UInt8] = type == 0x0C ? Array(1...12) : []
        expectRejected(single(type, Wire.int32(0) + [0] + tail), .malformed, offset: 7, keyPath: ["a"], "zero")
        expectRejected(single(type, Wire.int32(-1) + [0x62, 0] + tail), .malformed, offset: 7, keyPath: ["a"], "negative")
        expectRejected(single(type, Wire.int32(.min) + [0x62, 0] + tail), .malformed, offset: 7, keyPath: ["a"], "Int32.min")
        expectRejected(single(type, Wire.int32(100) + [0x62, 0] + tail), .malformed, offset: 7, keyPath: ["a"], "past the end")
        // A string whose NUL would be the document's own terminator.
        if type != 0x0C {
            expectRejected(hex("0E 00 00 00 61 00 03 00 00 00 62 00 00").inserting(type, at: 4), .malformed, offset: 7, keyPath: ["a"])
        }
        // Length 2 over "bc": byte 12 should be the NUL.
        expectRejected(single(type, Wire.int32(2) + [0x62, 0x63] + tail), .malformed, offset: 12, keyPath: ["a"], "no NUL")
        // Fewer than four bytes left for the length.
        expectRejected(hex("0A 00 00 00 61 00 01 00 00").inserting(type, at: 4), .malformed, offset: 7, keyPath: ["a"], "short")
    }

    @Test("a DBPointer whose ObjectID is cut short")
    func dbPointerShort() {
        expectRejected(single(0x0C, Wire.string("b") + Array(1...11)), .malformed, offset: 7, keyPath: ["a"])
    }

    @Test("regex pattern or options not terminated inside the document")
    func regexUnterminated() {
        expectRejected(hex("0A 00 00 00 0B 61 00 62 63 00"), .malformed, offset: 7, keyPath: ["a"])
        expectRejected(hex("0C 00 00 00 0B 61 00 62 00 69 6D 00"), .malformed, offset: 9, keyPath: ["a"])
    }

    // MARK: Nested documents

    @Test("nested document and array lengths", arguments: [0x03, 0x04] as [UInt8])
    func nestedLengths(type: UInt8) {
        for declared in [0, 1, 4] as [Int32] {
            expectRejected(single(type, Wire.int32(declared) + [0]), .malformed, offset: 7, keyPath: ["a"], "declares \(declared)")
        }
        expectRejected(single(type, Wire.int32(-1) + [0]), .malformed, offset: 7, keyPath: ["a"], "negative")
        // Past the end: declares 32 with 12 bytes of content.
        expectRejected(
            hex("14 00 00 00 61 00 20 00 00 00 10 62 00 01 00 00 00 00 00").inserting(type, at: 4),
            .malformed, offset: 7, keyPath: ["a"], "past the end")
        // Reaching exactly the enclosing document's terminator.
        expectRejected(
            hex("14 00 00 00 61 00 0D 00 00 00 10 62 00 01 00 00 00 00 00").inserting(type, at: 4),
            .malformed, offset: 7, keyPath: ["a"], "into the terminator")
        // Declares 5 but holds an element: its fifth byte (offset 11) is not a terminator.
        expectRejected(
            hex("14 00 00 00 61 00 05 00 00 00 10 62 00 01 00 00 00 00 00").inserting(type, at: 4),
            .malformed, offset: 11, keyPath: ["a"], "too small for its content")
        // Declares one byte more than its content: its own terminator (at 18) is then in
        // the middle.
        expectRejected(
            hex("15 00 00 00 61 00 0D 00 00 00 10 62 00 01 00 00 00 00 00 00").inserting(type, at: 4),
            .malformed, offset: 18, keyPath: ["a"], "larger than its content")
        // Fewer than four bytes left for the length.
        expectRejected(hex("0A 00 00 00 61 00 05 00 00").inserting(type, at: 4), .malformed, offset: 7, keyPath: ["a"])
    }

    // MARK: Binary

    @Test("binary lengths: negative, past the end, header cut short")
    func binaryLengths() {
        expectRejected(hex("10 00 00 00 05 61 00 FF FF FF FF 00 01 02 03 00"), .malformed, offset: 7, keyPath: ["a"])
        expectRejected(hex("10 00 00 00 05 61 00 00 00 00 80 00 01 02 03 00"), .malformed, offset: 7, keyPath: ["a"])
        expectRejected(hex("10 00 00 00 05 61 00 04 00 00 00 00 01 02 03 00"), .malformed, offset: 7, keyPath: ["a"])
        expectRejected(hex("10 00 00 00 05 61 00 40 00 00 00 00 01 02 03 00"), .malformed, offset: 7, keyPath: ["a"])
        expectRejected(hex("0B 00 00 00 05 61 00 01 00 00 00"), .malformed, offset: 7, keyPath: ["a"])
    }

    @Test("binary subtype 2 with a wrong inner length")
    func binaryOldInnerLength() {
        // Inner 3 where the outer 6 implies 2: reported at the inner length (12).
        expectRejected(hex("13 00 00 00 05 61 00 06 00 00 00 02 03 00 00 00 01 02 00"), .malformed, offset: 12, keyPath: ["a"])
        expectRejected(hex("13 00 00 00 05 61 00 06 00 00 00 02 01 00 00 00 01 02 00"), .malformed, offset: 12, keyPath: ["a"])
        expectRejected(hex("13 00 00 00 05 61 00 06 00 00 00 02 FF FF FF FF 01 02 00"), .malformed, offset: 12, keyPath: ["a"])
        // An outer length below 4 leaves no room for the inner length.
        expectRejected(hex("0F 00 00 00 05 61 00 02 00 00 00 02 01 02 00"), .malformed, offset: 7, keyPath: ["a"])
    }

    // MARK: Code with scope

    /// {"a": code "f" with scope {"x": 1}}: total at 7, code length at 11, "f\0" at 15,
    /// the scope (12 bytes) at 17, the final terminator at 29.
    private static let codeWithScope = hex(
        "1E 00 00 00 0F 61 00 16 00 00 00 02 00 00 00 66 00 0C 00 00 00 10 78 00 01 00 00 00 00 00")

    private func patched(_ offset: Int, _ value: Int32, in bytes: [UInt8] = codeWithScope) -> [UInt8] {
        var copy = bytes
        copy.replaceSubrange(offset..<offset + 4, with: Wire.int32(value))
        return copy
    }

    @Test("code with scope: the valid base case decodes")
    func codeWithScopeBase() throws {
        #expect(try BSONDocument(bytes: Self.codeWithScope)["a"]
            == .javascriptWithScope(BSONCodeWithScope(code: "f", scope: ["x": 1])))
    }

    @Test("code with scope: total length inconsistent with its parts")
    func codeWithScopeTotal() {
        expectRejected(patched(7, 21), .malformed, offset: 17, keyPath: ["a"], "total one short")
        // One more than the parts, with a spare byte so that it stays inside the document.
        var longer = patched(7, 23)
        longer.insert(0, at: 29)
        longer.replaceSubrange(0..<4, with: Wire.int32(31))
        expectRejected(longer, .malformed, offset: 17, keyPath: ["a"], "total one long")
        expectRejected(patched(7, 13), .malformed, offset: 7, keyPath: ["a"], "below the smallest (14)")
        expectRejected(patched(7, 0x7F), .malformed, offset: 7, keyPath: ["a"], "past the end")
        expectRejected(patched(7, -1), .malformed, offset: 7, keyPath: ["a"], "negative")
    }

    @Test("code with scope: code length inconsistent")
    func codeWithScopeStringLength() {
        // Length 3 makes byte 17 (0x0C) the code's last byte, which is not NUL.
        expectRejected(patched(11, 3), .malformed, offset: 17, keyPath: ["a"], "one long")
        expectRejected(patched(11, 100), .malformed, offset: 11, keyPath: ["a"], "past the end")
        expectRejected(patched(11, 0), .malformed, offset: 11, keyPath: ["a"], "zero")
        expectRejected(patched(11, -1), .malformed, offset: 11, keyPath: ["a"], "negative")
        // Length 1 makes the code the single byte "f" (15), which is not NUL.
        expectRejected(patched(11, 1), .malformed, offset: 15, keyPath: ["a"], "one short")
    }

    @Test("code with scope: scope length inconsistent")
    func codeWithScopeScopeLength() {
        expectRejected(patched(17, 13), .malformed, offset: 17, keyPath: ["a"], "one long")
        expectRejected(patched(17, 11), .malformed, offset: 17, keyPath: ["a"], "one short")
        expectRejected(patched(17, -1), .malformed, offset: 17, keyPath: ["a"], "negative")
        // The scope's own terminator (28) replaced: reported inside the scope.
        var badScope = Self.codeWithScope
        badScope[28] = 0x01
        expectRejected(badScope, .malformed, offset: 28, keyPath: ["a", "$scope"])
        // A bad element inside the scope: int32 "x" given an unknown type.
        var unknown = Self.codeWithScope
        unknown[21] = 0x14
        expectRejected(unknown, .unknownType, offset: 21, keyPath: ["a", "$scope", "x"])
    }

    @Test("code with scope: code not NUL-terminated (libbson does not check this)")
    func codeWithScopeNoNUL() {
        var bytes = Self.codeWithScope
        bytes[16] = 0x67
        expectRejected(bytes, .malformed, offset: 16, keyPath: ["a"])
    }

    // MARK: Fixed-size values

    @Test(
        "fixed-size values cut short at the end",
        arguments: [(0x01, 8), (0x07, 12), (0x09, 8), (0x10, 4), (0x11, 8), (0x12, 8), (0x13, 16)] as [(UInt8, Int)])
    func fixedSizeTruncated(type: UInt8, size: Int) {
        for present in [0, 1, size - 1] {
            expectRejected(
                single(type, [UInt8](repeating: 1, count: present)), .malformed, offset: 7, keyPath: ["a"],
                "\(present) of \(size) bytes")
        }
        // The full value but the document ends right after it, with no terminator.
        var noTerminator = single(type, [UInt8](repeating: 0, count: size))
        noTerminator.removeLast()
        noTerminator.replaceSubrange(0..<4, with: Wire.int32(Int32(noTerminator.count)))
        #expect(decodeError(noTerminator) != nil)
        #expect(validateError(noTerminator) != nil)
    }

    @Test("a boolean whose byte would be the document's terminator")
    func booleanCutShort() {
        expectRejected(hex("08 00 00 00 08 61 00 00"), .malformed, offset: 7, keyPath: ["a"])
        // {"a": {"b": <bool cut short>}}: the inner document at 7, its bool's byte at 14.
        expectRejected(single(0x03, hex("08 00 00 00 08 62 00 00")), .malformed, offset: 14, keyPath: ["a", "b"])
    }

    // MARK: Nesting bombs

    /// A document nesting `levels` documents (type 0x03, key "a") or arrays (0x04, keys
    /// "0") inside the outermost one, built directly: each level adds a 7-byte head and a
    /// one-byte tail.
    static func nestingBomb(levels: Int, type: UInt8) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * 8 + 5)
        for level in 0..<levels {
            bytes += Wire.int32(Int32(5 + 8 * (levels - level)))
            bytes += [type, level == 0 || type == 0x03 ? 0x61 : 0x30, 0]
        }
        bytes += Wire.int32(5) + [0]
        bytes += [UInt8](repeating: 0, count: levels)
        return bytes
    }

    /// Code with scope nested `levels` times: {"a": code "" with scope {"a": …}}; each level
    /// adds a 16-byte head and a one-byte tail.
    static func scopeBomb(levels: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * 17 + 5)
        for level in 0..<levels {
            let inner = 5 + 17 * (levels - level - 1)
            bytes += Wire.int32(Int32(inner + 17)) + [0x0F, 0x61, 0] + Wire.int32(Int32(inner + 9)) + Wire.int32(1) + [0]
        }
        bytes += Wire.int32(5) + [0]
        bytes += [UInt8](repeating: 0, count: levels)
        return bytes
    }

    @Test("a 10,000-deep nesting bomb of documents or arrays is .nestingTooDeep", arguments: [0x03, 0x04] as [UInt8])
    func nestingBomb(type: UInt8) {
        let bytes = Self.nestingBomb(levels: 10_000, type: type)
        // The element at depth 100 (the 101st level) starts at 7 * 100 + 4.
        let keyPath = ["a"] + [String](repeating: type == 0x03 ? "a" : "0", count: 100)
        expectRejected(bytes, .nestingTooDeep, offset: 704, keyPath: keyPath)
    }

    @Test("a 10,000-deep bomb of code-with-scope scopes is .nestingTooDeep")
    func scopeBomb() {
        let bytes = Self.scopeBomb(levels: 10_000)
        var keyPath: [String] = []
        for _ in 0..<100 { keyPath += ["a", "$scope"] }
        keyPath.append("a")
        expectRejected(bytes, .nestingTooDeep, offset: 1604, keyPath: keyPath)
    }

    @Test("the bomb builders make valid documents when shallow")
    func bombBuildersAreValid() throws {
        let documents = try BSONDocument(bytes: Self.nestingBomb(levels: 3, type: 0x03))
        #expect(documents == ["a": ["a": ["a": [:]]]])
        let arrays = try BSONDocument(bytes: Self.nestingBomb(levels: 3, type: 0x04))
        #expect(arrays == ["a": [[[]]]])
        let scopes = try BSONDocument(bytes: Self.scopeBomb(levels: 2))
        let innermost = BSONValue.javascriptWithScope(BSONCodeWithScope(code: "", scope: [:]))
        #expect(scopes == ["a": .javascriptWithScope(BSONCodeWithScope(code: "", scope: ["a": innermost]))])
    }
}

extension Array where Element == UInt8 {
    /// A copy with `byte` inserted at `index`.
    func inserting(_ byte: UInt8, at index: Int) -> [UInt8] {
        var copy = self
        copy.insert(byte, at: index)
        return copy
    }
}
