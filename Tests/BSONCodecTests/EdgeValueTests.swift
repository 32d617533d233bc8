import BSONCodec
import Testing

@Suite("Edge values")
struct EdgeValueTests {
    // MARK: Integers

    @Test("int32 and int64 extremes, bytes both ways")
    func integerExtremes() {
        expectRoundTrip(hex("0C 00 00 00 10 61 00 00 00 00 80 00"), ["a": .int32(.min)])
        expectRoundTrip(hex("0C 00 00 00 10 61 00 FF FF FF 7F 00"), ["a": .int32(.max)])
        expectRoundTrip(hex("0C 00 00 00 10 61 00 FF FF FF FF 00"), ["a": .int32(-1)])
        expectRoundTrip(hex("10 00 00 00 12 61 00 00 00 00 00 00 00 00 80 00"), ["a": .int64(.min)])
        expectRoundTrip(hex("10 00 00 00 12 61 00 FF FF FF FF FF FF FF 7F 00"), ["a": .int64(.max)])
        expectRoundTrip(hex("10 00 00 00 12 61 00 00 00 00 00 00 00 00 00 00"), ["a": .int64(0)])
    }

    // MARK: Doubles

    @Test(
        "doubles keep their exact bits",
        arguments: [
            0x7FF8_0000_0000_0000,  // quiet NaN
            0x7FF0_0000_0000_0001,  // signalling NaN with payload 1
            0x7FF4_0000_DEAD_BEEF,  // signalling NaN with a larger payload
            0xFFF8_0000_0000_0123,  // negative quiet NaN with payload
            0x7FF0_0000_0000_0000,  // +infinity
            0xFFF0_0000_0000_0000,  // -infinity
            0x8000_0000_0000_0000,  // -0.0
            0x0000_0000_0000_0000,  // +0.0
            0x0000_0000_0000_0001,  // smallest subnormal
            0x7FEF_FFFF_FFFF_FFFF,  // greatest finite
        ] as [UInt64])
    func doubleBits(bits: UInt64) throws {
        let bytes = Wire.document(Wire.element(0x01, "a", Wire.uint64(bits)))
        let document = try BSONDocument(bytes: bytes)
        guard case .double(let value) = document["a"] else {
            Issue.record("not a double: \(document)")
            return
        }
        #expect(value.bitPattern == bits)
        #expect(try document.encoded() == bytes)
        #expect(try (["a": .double(Double(bitPattern: bits))] as BSONDocument).encoded() == bytes)
    }

    // MARK: Datetimes

    @Test(
        "datetimes of any Int64, before 1970 and after 9999, bytes both ways",
        arguments: [
            .min, -62_135_596_800_001, -1, 0, 1, 253_402_300_799_999, 253_402_300_800_000, .max,
        ] as [Int64])
    func datetimeBytes(milliseconds: Int64) {
        let bytes = Wire.document(Wire.element(0x09, "a", Wire.int64(milliseconds)))
        expectRoundTrip(bytes, ["a": .datetime(BSONDatetime(millisecondsSinceEpoch: milliseconds))])
    }

    // MARK: Strings and keys

    @Test("the empty string")
    func emptyString() {
        expectRoundTrip(hex("0D 00 00 00 02 61 00 01 00 00 00 00 00"), ["a": ""])
    }

    @Test("strings with NUL characters keep them")
    func stringWithNUL() throws {
        expectRoundTrip(hex("11 00 00 00 02 61 00 05 00 00 00 00 62 00 63 00 00"), ["a": "\u{0}b\u{0}c"])
        let document = try BSONDocument(bytes: hex("11 00 00 00 02 61 00 05 00 00 00 00 62 00 63 00 00"))
        #expect(document["a"]?.stringValue?.utf8.count == 4)
    }

    @Test("four-byte UTF-8 (emoji) and other scripts")
    func unicodeStrings() {
        // 😀 is F0 9F 98 80; é is C3 A9; 中 is E4 B8 AD.
        expectRoundTrip(hex("16 00 00 00 02 61 00 0A 00 00 00 F0 9F 98 80 C3 A9 E4 B8 AD 00 00"), ["a": "😀é中"])
        expectRoundTrip(
            Wire.document(Wire.element(0x02, "a", Wire.string([0xF4, 0x8F, 0xBF, 0xBF]))), ["a": "\u{10FFFF}"])
    }

    @Test("non-ASCII keys")
    func unicodeKeys() {
        // ключ = D0 BA D0 BB D1 8E D1 87
        expectRoundTrip(hex("15 00 00 00 0A D0 BA D0 BB D1 8E D1 87 00 0A F0 9F 98 80 00 00"), ["ключ": nil, "😀": nil])
        expectRoundTrip(hex("07 00 00 00 0A 00 00"), ["": nil])
    }

    // MARK: Empty containers

    @Test("empty document, empty array, nested empties")
    func emptyContainers() {
        expectRoundTrip(hex("05 00 00 00 00"), [:])
        expectRoundTrip(hex("0D 00 00 00 04 61 00 05 00 00 00 00 00"), ["a": []])
        expectRoundTrip(hex("0D 00 00 00 03 61 00 05 00 00 00 00 00"), ["a": [:]])
        // {"a": [[], {}]}
        expectRoundTrip(
            hex("1D 00 00 00 04 61 00 15 00 00 00 04 30 00 05 00 00 00 00 03 31 00 05 00 00 00 00 00 00"),
            ["a": [[], [:]]])
        // {"a": {"b": {}}}
        expectRoundTrip(hex("15 00 00 00 03 61 00 0D 00 00 00 03 62 00 05 00 00 00 00 00 00"), ["a": ["b": [:]]])
    }

    // MARK: Binary

    @Test("binary subtypes 0-9, 0x80, 0xFF", arguments: Array(0...9) + [0x80, 0xFF] as [UInt8])
    func binarySubtypes(subtype: UInt8) throws {
        let bytes: [UInt8]
        if subtype == 2 {
            bytes = hex("12 00 00 00 05 61 00 05 00 00 00 02 01 00 00 00 AB 00")
        } else {
            bytes = hex("0E 00 00 00 05 61 00 01 00 00 00") + [subtype, 0xAB, 0x00]
        }
        expectRoundTrip(bytes, ["a": .binary(BSONBinary(data: [0xAB], subtype: .init(subtype)))])
    }

    @Test("empty binary, also of subtype 2")
    func emptyBinary() {
        expectRoundTrip(hex("0D 00 00 00 05 61 00 00 00 00 00 00 00"), ["a": .binary(BSONBinary(data: []))])
        expectRoundTrip(
            hex("11 00 00 00 05 61 00 04 00 00 00 02 00 00 00 00 00"),
            ["a": .binary(BSONBinary(data: [], subtype: .binaryOld))])
    }

    // MARK: Duplicate keys

    @Test("duplicate keys are kept in order; subscript and dictionary return the first")
    func duplicateKeys() throws {
        let bytes = hex("13 00 00 00 10 61 00 01 00 00 00 10 61 00 02 00 00 00 00")
        let document = try BSONDocument(bytes: bytes)
        #expect(document.count == 2)
        #expect(document.keys == ["a", "a"])
        #expect(document.values == [.int32(1), .int32(2)])
        #expect(document["a"] == .int32(1))
        #expect(document.dictionary == ["a": .int32(1)])
        #expect(document.anyDictionary["a"] as? Int == 1)
        #expect(try document.encoded() == bytes)
        #expect(try BSONView(bytes: bytes)["a"] == .int32(1))
    }

    @Test("setting a repeated key replaces the first pair; setting nil removes every pair")
    func duplicateKeyMutation() {
        var document: BSONDocument = ["a": 1, "b": 2, "a": 3]
        document["a"] = "x"
        #expect(document.keys == ["a", "b", "a"])
        #expect(document.values == ["x", 2, 3])
        document.append(4, forKey: "b")
        #expect(document.keys == ["a", "b", "a", "b"])
        #expect(document.removeValue(forKey: "a") == "x")
        #expect(document.keys == ["b", "b"])
        document["c"] = nil
        #expect(document.keys == ["b", "b"])
        document["c"] = true
        #expect(document.keys == ["b", "b", "c"])
        #expect(!document.contains(key: "a"))
        #expect(document.contains(key: "c"))
    }

    // MARK: Values libbson's append functions would alter

    @Test("regex options out of canonical order, repeated or unknown survive byte-exact")
    func regexOptions() {
        // /a/xi
        expectRoundTrip(hex("0D 00 00 00 0B 61 00 61 00 78 69 00 00"), ["a": .regex(BSONRegex(pattern: "a", options: "xi"))])
        // /b/zqa
        expectRoundTrip(hex("0E 00 00 00 0B 61 00 62 00 7A 71 61 00 00"), ["a": .regex(BSONRegex(pattern: "b", options: "zqa"))])
        // /c/ii
        expectRoundTrip(hex("0D 00 00 00 0B 61 00 63 00 69 69 00 00"), ["a": .regex(BSONRegex(pattern: "c", options: "ii"))])
        // /d/ilmsux is canonical already.
        expectRoundTrip(
            hex("11 00 00 00 0B 61 00 64 00 69 6C 6D 73 75 78 00 00"),
            ["a": .regex(BSONRegex(pattern: "d", options: "ilmsux"))])
    }

    @Test("code, symbol, DBPointer and code with scope with embedded NUL survive byte-exact")
    func embeddedNUL() {
        // code "a\0b"
        expectRoundTrip(hex("10 00 00 00 0D 61 00 04 00 00 00 61 00 62 00 00"), ["a": .javascript("a\u{0}b")])
        // symbol "s\0"
        expectRoundTrip(hex("0F 00 00 00 0E 61 00 03 00 00 00 73 00 00 00"), ["a": .symbol("s\u{0}")])
        // DBPointer "d\0b", 01…0C
        expectRoundTrip(
            hex("1C 00 00 00 0C 61 00 04 00 00 00 64 00 62 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 00"),
            ["a": .dbPointer(BSONDBPointer(ref: "d\u{0}b", id: sampleObjectID))])
        // code with scope "\0x", {}
        expectRoundTrip(
            hex("18 00 00 00 0F 61 00 10 00 00 00 03 00 00 00 00 78 00 05 00 00 00 00 00"),
            ["a": .javascriptWithScope(BSONCodeWithScope(code: "\u{0}x", scope: [:]))])
        // code with scope "f\0", {"x": 1}: the raw path must write the scope too.
        expectRoundTrip(
            hex("1F 00 00 00 0F 61 00 17 00 00 00 03 00 00 00 66 00 00 0C 00 00 00 10 78 00 01 00 00 00 00 00"),
            ["a": .javascriptWithScope(BSONCodeWithScope(code: "f\u{0}", scope: ["x": 1]))])
    }

    // MARK: What cannot be encoded

    @Test("a key containing NUL is .invalidKey, naming the path")
    func keyWithNUL() {
        let cases: [(BSONDocument, [String])] = [
            (["a\u{0}b": 1], ["a\u{0}b"]),
            (["outer": ["in\u{0}": 1]], ["outer", "in\u{0}"]),
            (["list": [1, ["\u{0}": 2]]], ["list", "1", "\u{0}"]),
            (["code": .javascriptWithScope(BSONCodeWithScope(code: "", scope: ["x\u{0}": 1]))], ["code", "$scope", "x\u{0}"]),
        ]
        for (document, path) in cases {
            do {
                _ = try document.encoded()
                Issue.record("encoded \(document)")
            } catch {
                #expect(error.code == .invalidKey)
                #expect(error.keyPath == path)
            }
        }
    }

    @Test("a regex pattern or options containing NUL is .invalidValue")
    func regexWithNUL() {
        let cases: [BSONDocument] = [
            ["r": .regex(BSONRegex(pattern: "a\u{0}b"))],
            ["r": .regex(BSONRegex(pattern: "a", options: "i\u{0}"))],
            ["d": ["r": .regex(BSONRegex(pattern: "\u{0}"))]],
        ]
        for document in cases {
            do {
                _ = try document.encoded()
                Issue.record("encoded \(document)")
            } catch {
                #expect(error.code == .invalidValue)
                #expect(error.keyPath.last == "r")
            }
        }
    }

    @Test("an encoding failure reports nothing written, and the document stays usable")
    func failureThenSuccess() throws {
        var document: BSONDocument = ["ok": 1, "bad\u{0}": 2]
        let failing = document
        #expect(throws: BSONError.self) { try failing.encoded() }
        document["bad\u{0}"] = nil
        #expect(try document.encoded() == hex("0D 00 00 00 10 6F 6B 00 01 00 00 00 00"))
    }

    // MARK: Arrays

    @Test("array keys on input may be anything; arrays are written with 0, 1, 2")
    func arrayKeys() throws {
        // {"a": ["x": 1, "y": 2]} as an array.
        let odd = hex("1B 00 00 00 04 61 00 13 00 00 00 10 78 00 01 00 00 00 10 79 00 02 00 00 00 00 00")
        let document = try BSONDocument(bytes: odd)
        #expect(document == ["a": [1, 2]])
        #expect(try document.encoded() == hex("1B 00 00 00 04 61 00 13 00 00 00 10 30 00 01 00 00 00 10 31 00 02 00 00 00 00 00"))
    }

    @Test("arrays use multi-digit keys, also past the 1,000 that libbson keeps precomputed")
    func longArray() throws {
        let count = 1_234
        let values = (0..<count).map { BSONValue.int32(Int32($0)) }
        let document: BSONDocument = ["a": .array(values)]
        let bytes = try document.encoded()
        var elements: [[UInt8]] = []
        for index in 0..<count { elements.append(Wire.element(0x10, String(index), Wire.int32(Int32(index)))) }
        #expect(bytes == Wire.document(Wire.element(0x04, "a", Wire.document(elements))))
        #expect(try BSONDocument(bytes: bytes) == document)
    }

    @Test("decoding from an array slice and a raw buffer")
    func otherInputs() throws {
        let bytes = [0xAA] + hex("0C 00 00 00 10 61 00 01 00 00 00 00") + [0xBB]
        #expect(try BSONDocument(bytes: bytes[1..<13]) == ["a": 1])
        try bytes.withUnsafeBytes { raw in
            let slice = UnsafeRawBufferPointer(rebasing: raw[1..<13])
            #expect(try BSONDocument(bytes: slice) == ["a": 1])
            try BSONDocument.validate(bytes: slice)
        }
        // Errors from a slice count offsets from the slice's start.
        var bad = bytes
        bad[5] = 0x14
        #expect(decodeErrorOfSlice(bad[1..<13])?.offset == 4)
    }

    private func decodeErrorOfSlice(_ bytes: ArraySlice<UInt8>) -> BSONError? {
        do {
            _ = try BSONDocument(bytes: bytes)
            return nil
        } catch {
            return error
        }
    }
}
