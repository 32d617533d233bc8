import BSONCodec
import Testing

// Each BSON type both ways against bytes written out by hand from the BSON 1.1
// specification: document ::= int32 e_list "\x00"; element ::= type e_name value.

/// One hand-written vector: the bytes and the document they encode.
struct SpecVector: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let document: BSONDocument

    var testDescription: String { name }

    init(_ name: String, _ bytes: String, _ document: BSONDocument) {
        self.name = name
        self.bytes = hex(bytes)
        self.document = document
    }
}

let specVectors: [SpecVector] = [
    // 0x01 double 1.0 = 0x3FF0000000000000, little-endian.
    SpecVector("double", "10 00 00 00 01 61 00 00 00 00 00 00 00 F0 3F 00", ["a": .double(1.0)]),
    // 0x02 string: int32 length counting the NUL, bytes, NUL.
    SpecVector("string", "0E 00 00 00 02 61 00 02 00 00 00 62 00 00", ["a": .string("b")]),
    // 0x03 embedded document {"b": int32 1}.
    SpecVector(
        "document", "14 00 00 00 03 61 00 0C 00 00 00 10 62 00 01 00 00 00 00 00",
        ["a": .document(["b": .int32(1)])]),
    // 0x04 array [1, "x"] written as {"0": 1, "1": "x"}.
    SpecVector(
        "array", "1D 00 00 00 04 61 00 15 00 00 00 10 30 00 01 00 00 00 02 31 00 02 00 00 00 78 00 00 00",
        ["a": .array([.int32(1), .string("x")])]),
    // 0x05 binary: int32 length, subtype, bytes.
    SpecVector(
        "binary subtype 0", "10 00 00 00 05 61 00 03 00 00 00 00 01 02 03 00",
        ["a": .binary(BSONBinary(data: [1, 2, 3]))]),
    // Subtype 2: the outer length counts the inner int32 length, which counts the bytes.
    SpecVector(
        "binary subtype 2 (old)", "13 00 00 00 05 61 00 06 00 00 00 02 02 00 00 00 01 02 00",
        ["a": .binary(BSONBinary(data: [1, 2], subtype: .binaryOld))]),
    SpecVector(
        "binary subtype 4 (uuid)",
        "1D 00 00 00 05 61 00 10 00 00 00 04 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00",
        ["a": .binary(BSONBinary(data: hex("00112233445566778899AABBCCDDEEFF"), subtype: .uuid))]),
    SpecVector("binary empty", "0D 00 00 00 05 61 00 00 00 00 00 80 00", ["a": .binary(BSONBinary(data: [], subtype: .userDefined))]),
    // 0x06 undefined: no value bytes.
    SpecVector("undefined", "08 00 00 00 06 61 00 00", ["a": .undefined]),
    // 0x07 ObjectID: 12 bytes in order.
    SpecVector("objectID", "14 00 00 00 07 61 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 00", ["a": .objectID(sampleObjectID)]),
    // 0x08 boolean: one byte, 0 or 1.
    SpecVector("bool true", "09 00 00 00 08 61 00 01 00", ["a": .bool(true)]),
    SpecVector("bool false", "09 00 00 00 08 61 00 00 00", ["a": .bool(false)]),
    // 0x09 UTC datetime: int64 milliseconds.
    SpecVector(
        "datetime", "10 00 00 00 09 61 00 E8 03 00 00 00 00 00 00 00",
        ["a": .datetime(BSONDatetime(millisecondsSinceEpoch: 1000))]),
    SpecVector(
        "datetime negative", "10 00 00 00 09 61 00 FF FF FF FF FF FF FF FF 00",
        ["a": .datetime(BSONDatetime(millisecondsSinceEpoch: -1))]),
    // 0x0A null.
    SpecVector("null", "08 00 00 00 0A 61 00 00", ["a": .null]),
    // 0x0B regex: pattern cstring, options cstring.
    SpecVector("regex", "0D 00 00 00 0B 61 00 61 62 00 69 00 00", ["a": .regex(BSONRegex(pattern: "ab", options: "i"))]),
    SpecVector("regex no options", "0C 00 00 00 0B 61 00 61 62 00 00 00", ["a": .regex(BSONRegex(pattern: "ab"))]),
    // 0x0C DBPointer: string namespace, 12-byte ObjectID.
    SpecVector(
        "dbPointer", "1A 00 00 00 0C 61 00 02 00 00 00 62 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 00",
        ["a": .dbPointer(BSONDBPointer(ref: "b", id: sampleObjectID))]),
    // 0x0D JavaScript code: string.
    SpecVector("javascript", "10 00 00 00 0D 61 00 04 00 00 00 66 28 29 00 00", ["a": .javascript("f()")]),
    // 0x0E symbol: string.
    SpecVector("symbol", "0E 00 00 00 0E 61 00 02 00 00 00 73 00 00", ["a": .symbol("s")]),
    // 0x0F code with scope: int32 total, string, document.
    SpecVector(
        "javascriptWithScope",
        "1E 00 00 00 0F 61 00 16 00 00 00 02 00 00 00 66 00 0C 00 00 00 10 78 00 01 00 00 00 00 00",
        ["a": .javascriptWithScope(BSONCodeWithScope(code: "f", scope: ["x": .int32(1)]))]),
    SpecVector(
        "javascriptWithScope empty scope", "18 00 00 00 0F 61 00 10 00 00 00 03 00 00 00 66 28 00 05 00 00 00 00 00",
        ["a": .javascriptWithScope(BSONCodeWithScope(code: "f(", scope: [:]))]),
    // 0x10 int32.
    SpecVector("int32", "0C 00 00 00 10 61 00 01 00 00 00 00", ["a": .int32(1)]),
    // 0x11 timestamp: uint64, low word increment, high word seconds.
    SpecVector(
        "timestamp", "10 00 00 00 11 61 00 01 00 00 00 02 00 00 00 00",
        ["a": .timestamp(BSONTimestamp(timestamp: 2, increment: 1))]),
    // 0x12 int64.
    SpecVector("int64", "10 00 00 00 12 61 00 01 00 00 00 00 00 00 00 00", ["a": .int64(1)]),
    // 0x13 decimal128: low 64 bits then high 64 bits, little-endian; 1 = 0x3040…0001.
    SpecVector(
        "decimal128", "18 00 00 00 13 61 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 40 30 00",
        ["a": .decimal128(BSONDecimal128(high: 0x3040_0000_0000_0000, low: 1))]),
    // 0xFF min key, 0x7F max key: no value bytes.
    SpecVector("minKey", "08 00 00 00 FF 61 00 00", ["a": .minKey]),
    SpecVector("maxKey", "08 00 00 00 7F 61 00 00", ["a": .maxKey]),
    // The empty document.
    SpecVector("empty document", "05 00 00 00 00", [:]),
]

@Suite("Specification byte vectors")
struct SpecVectorTests {
    @Test("decode gives the value, encode gives the exact bytes", arguments: specVectors)
    func bothWays(vector: SpecVector) {
        expectRoundTrip(vector.bytes, vector.document)
    }

    @Test("the vectors cover all 21 types")
    func coverage() {
        var seen = Set<BSONType>()
        for vector in specVectors {
            for value in vector.document.values { seen.insert(value.type) }
        }
        #expect(seen == Set(BSONType.allCases))
        #expect(BSONType.allCases.count == 21)
    }

    @Test("BSONType raw values are the specification's type bytes")
    func typeRawValues() {
        let expected: [(BSONType, UInt8, String)] = [
            (.double, 0x01, "double"), (.string, 0x02, "string"), (.document, 0x03, "document"),
            (.array, 0x04, "array"), (.binary, 0x05, "binary"), (.undefined, 0x06, "undefined"),
            (.objectID, 0x07, "objectID"), (.bool, 0x08, "bool"), (.datetime, 0x09, "datetime"),
            (.null, 0x0A, "null"), (.regex, 0x0B, "regex"), (.dbPointer, 0x0C, "dbPointer"),
            (.javascript, 0x0D, "javascript"), (.symbol, 0x0E, "symbol"),
            (.javascriptWithScope, 0x0F, "javascriptWithScope"), (.int32, 0x10, "int32"),
            (.timestamp, 0x11, "timestamp"), (.int64, 0x12, "int64"), (.decimal128, 0x13, "decimal128"),
            (.minKey, 0xFF, "minKey"), (.maxKey, 0x7F, "maxKey"),
        ]
        #expect(expected.count == BSONType.allCases.count)
        for (type, raw, name) in expected {
            #expect(type.rawValue == raw)
            #expect(BSONType(rawValue: raw) == type)
            #expect(type.description == name)
        }
        for raw in [0x00, 0x14, 0x20, 0x7E, 0x80, 0xFE] as [UInt8] {
            #expect(BSONType(rawValue: raw) == nil)
        }
    }

    @Test("the value's type matches the element's type byte", arguments: specVectors)
    func valueType(vector: SpecVector) throws {
        let document = try BSONDocument(bytes: vector.bytes)
        guard let value = document.values.first else { return }
        #expect(value.type.rawValue == vector.bytes[4])
    }

    @Test("binary subtype 2 keeps the bytes without the inner length")
    func binaryOldData() throws {
        let document = try BSONDocument(bytes: hex("13 00 00 00 05 61 00 06 00 00 00 02 02 00 00 00 01 02 00"))
        guard case .binary(let binary) = document["a"] else {
            Issue.record("not binary: \(document)")
            return
        }
        #expect(binary.subtype == .binaryOld)
        #expect(binary.data == [1, 2])
    }

    @Test("a timestamp offers its whole word as uint64")
    func timestampWord() throws {
        let document = try BSONDocument(bytes: hex("10 00 00 00 11 61 00 01 00 00 00 02 00 00 00 00"))
        guard case .timestamp(let timestamp) = document["a"] else {
            Issue.record("not a timestamp: \(document)")
            return
        }
        #expect(timestamp.uint64 == 0x0000_0002_0000_0001)
        #expect(timestamp.timestamp == 2)
        #expect(timestamp.increment == 1)
        #expect(BSONTimestamp(uint64: 0x0000_0002_0000_0001) == timestamp)
        // py-bson's unsigned 64-bit integers: the word 2^64 - 1.
        let maxWord: BSONDocument = ["a": .timestamp(BSONTimestamp(uint64: .max))]
        #expect(try maxWord.encoded() == hex("10 00 00 00 11 61 00 FF FF FF FF FF FF FF FF 00"))
        #expect(BSONTimestamp(uint64: .max).timestamp == .max)
        #expect(BSONTimestamp(uint64: 1 << 63).uint64 == 1 << 63)
        #expect(BSONTimestamp(timestamp: 1, increment: 0) > BSONTimestamp(timestamp: 0, increment: .max))
    }

    @Test("the decimal128 vector is the number 1")
    func decimalVector() throws {
        let document = try BSONDocument(bytes: hex("18 00 00 00 13 61 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 40 30 00"))
        guard case .decimal128(let decimal) = document["a"] else {
            Issue.record("not decimal128: \(document)")
            return
        }
        #expect(decimal.description == "1")
        #expect(try BSONDecimal128("1") == decimal)
    }

    @Test("integer literals choose int32 when they fit, else int64")
    func integerLiterals() throws {
        let document: BSONDocument = ["small": 2_147_483_647, "large": 2_147_483_648, "negative": -2_147_483_649]
        #expect(document["small"] == .int32(.max))
        #expect(document["large"] == .int64(2_147_483_648))
        #expect(document["negative"] == .int64(-2_147_483_649))
        #expect(BSONValue(Int64(5)) == .int32(5))
        #expect(BSONValue(Int.min) == .int64(.min))
    }

    @Test("equality is exact: int32 and int64 differ, NaN equals itself, 0.0 and -0.0 differ")
    func exactEquality() {
        #expect(BSONValue.int32(1) != BSONValue.int64(1))
        #expect(BSONValue.double(.nan) == BSONValue.double(.nan))
        #expect(BSONValue.double(0.0) != BSONValue.double(-0.0))
        // Canonically equivalent but differently encoded strings are different BSON.
        #expect(BSONValue.string("\u{E9}") != BSONValue.string("e\u{301}"))
        #expect((["\u{E9}": .null] as BSONDocument) != (["e\u{301}": .null] as BSONDocument))
    }
}
