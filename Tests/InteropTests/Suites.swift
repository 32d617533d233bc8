import BSONCodec
import Foundation

// The Swift side's own picture of every document the Python peers send (Tests/Interop/,
// `print-suite NAME` lists them), written independently from the Python: a received
// document must equal these exactly, type for type and bit for bit.

typealias NamedDocument = (name: String, document: BSONDocument)

enum Suites {
    static let fixedUUID = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!
    static let objectID = BSONObjectID(hex: "0123456789abcdef01234567")!
    static let deepLevels = 50

    /// {"d": {"d": … {"leaf": true}}}, `levels` wrappers deep.
    static func deep(_ levels: Int) -> BSONDocument {
        var document: BSONDocument = ["leaf": true]
        for _ in 0..<levels { document = ["d": .document(document)] }
        return document
    }

    static func datetime(_ milliseconds: Int64) -> BSONValue {
        .datetime(BSONDatetime(millisecondsSinceEpoch: milliseconds))
    }

    static func uint64(_ value: UInt64) -> BSONValue {
        .timestamp(BSONTimestamp(uint64: value))
    }

    static func binary(_ bytes: [UInt8], _ subtype: UInt8) -> BSONValue {
        .binary(BSONBinary(data: bytes, subtype: BSONBinary.Subtype(subtype)))
    }

    static func decimal(_ text: String) -> BSONValue {
        .decimal128(try! BSONDecimal128(text))
    }

    /// 2024-02-29T12:34:56.789Z in milliseconds.
    static let leapMillis: Int64 = 1_709_210_096_789

    /// What both libraries write for the "basic" suite, byte for byte.
    static let basic: [NamedDocument] = [
        ("empty", [:]),
        ("seed", ["type": "greeting", "message": "Hello server!", "count": .int32(3), "tags": ["a", "b"]]),
        ("string", ["ascii": "hello", "empty": "", "nul": "a\u{0}b", "utf8": "\u{E9}\u{20AC}\u{1D11E}\u{1F600}"]),
        ("int32", ["zero": .int32(0), "one": .int32(1), "neg": .int32(-1), "min": .int32(.min), "max": .int32(.max)]),
        ("int64", [
            "above": .int64(1 << 31), "below": .int64(-(1 << 31) - 1), "min": .int64(.min), "max": .int64(.max),
        ]),
        ("double", [
            "pi": .double(3.141592653589793), "nan": .double(.nan), "inf": .double(.infinity),
            "ninf": .double(-.infinity), "nzero": .double(-0.0), "zero": .double(0.0),
            "tiny": .double(.leastNonzeroMagnitude), "max": .double(.greatestFiniteMagnitude),
        ]),
        ("bool", ["t": true, "f": false]),
        ("null", ["n": .null]),
        ("document", [
            "empty": .document([:]), "nested": ["a": ["b": ["c": .int32(1)]]],
            "order": ["z": .int32(1), "a": .int32(2), "m": .int32(3)],
        ]),
        ("array", [
            "empty": .array([]),
            "mixed": [.int32(1), "two", .double(3.0), .null, true, [.int32(4), [.int32(5)]], ["six": .int32(6)]],
        ]),
        ("binary", ["empty": binary([], 0), "all": binary(Array(0...255), 0)]),
        ("uuid", ["u": .binary(BSONBinary(uuid: fixedUUID))]),
        ("datetime", [
            "epoch": datetime(0), "leap": datetime(leapMillis), "before": datetime(-1),
            "min": datetime(-62_135_596_800_000), "max": datetime(253_402_300_799_999),
        ]),
        ("keys", ["": .int32(1), "\u{E9}": .int32(2), "a.b": .int32(3), "$x": .int32(4), "with space": .int32(5)]),
        ("deep", deep(deepLevels)),
    ]

    /// py-bson's "types" suite: basic plus what only py-bson writes.
    static let pybsonTypes: [NamedDocument] = basic + [
        // Python ints from 2^63 to 2^64-1 travel as type 0x11; we see the same word.
        ("uint64", ["low": uint64(1 << 63), "mid": uint64(1 << 63 + 0x01_2345_6789), "max": uint64(.max)]),
        ("uint64-array", ["values": [uint64(1 << 63), .int32(5), .int64(1 << 40), uint64(.max)]]),
        // decimal.Decimal is written as float(value): a double, not Decimal128.
        ("decimal", [
            "short": .double(1.1), "long": .double(Double("12345678901234567890.5")!), "neg": .double(-0.25),
        ]),
        ("tuple", ["t": [.int32(1), "a", [.int32(2), .int32(3)]]]),
        // Keys are str(key): the int 1 and the float 2.5 become "1" and "2.5".
        ("int-keys", ["1": "one", "2.5": "two and a half"]),
        // A naive datetime is taken as UTC.
        ("datetime-naive", ["naive": datetime(leapMillis)]),
        // Aware datetimes are converted to UTC.
        ("datetime-offset", ["plus": datetime(leapMillis), "minus": datetime(leapMillis)]),
        // round(ms + µs/1000.0): half to even, carrying into the next second.
        ("datetime-rounding", [
            "down": datetime(1_709_210_096_123), "up": datetime(1_709_210_096_124),
            "half-odd": datetime(1_709_210_096_124), "half-even": datetime(1_709_210_096_124),
            "carry": datetime(1_709_210_097_000), "pre-epoch": datetime(0),
        ]),
    ]

    /// pymongo's "types" suite: basic plus pymongo's own types.
    static let pymongoTypes: [NamedDocument] = basic + [
        ("objectid", ["oid": .objectID(objectID), "zero": .objectID(BSONObjectID(hex: String(repeating: "0", count: 24))!)]),
        ("int64-forced", ["small": .int64(5), "neg": .int64(-1), "max": .int64(.max)]),
        ("decimal128", [
            "one-ten": decimal("1.10"), "neg-zero": decimal("-0"), "nan": decimal("NaN"),
            "inf": decimal("Infinity"), "ninf": decimal("-Infinity"),
            "max": decimal("9.999999999999999999999999999999999E+6144"), "tiny": decimal("1E-6176"),
        ]),
        // Flags are written in the order "ilmsux"; re.compile adds "u" for str patterns.
        ("regex", [
            "full": .regex(BSONRegex(pattern: "^ab.*c$", options: "imsx")),
            "plain": .regex(BSONRegex(pattern: "", options: "")),
            "compiled": .regex(BSONRegex(pattern: "a+b", options: "imu")),
        ]),
        ("code", ["code": .javascript("function () { return 1; }")]),
        ("code-with-scope", [
            "cws": .javascriptWithScope(BSONCodeWithScope(code: "x + y", scope: ["y": .int32(2), "nested": ["z": [.int32(1)]]])),
            "empty-scope": .javascriptWithScope(BSONCodeWithScope(code: "x", scope: [:])),
        ]),
        ("binary-subtypes", [
            "generic": binary([0, 1], 0), "function": binary(Array("f".utf8), 1),
            "old": binary(Array("old".utf8), 2), "uuid-legacy": binary(Array(0..<16), 3),
            "uuid": binary(Array(0..<16), 4), "md5": binary(Array(0..<16), 5),
            "encrypted": binary(Array("enc".utf8), 6), "column": binary(Array("col".utf8), 7),
            "sensitive": binary(Array("secret".utf8), 8), "user": binary(Array("user".utf8), 0x80),
            "user-empty": binary([], 0x80), "user-max": binary([0xFF], 0xFF),
        ]),
        ("uuid-standard", ["u": .binary(BSONBinary(uuid: UUID(uuidString: "12345678-9ABC-DEF0-1234-56789ABCDEF0")!))]),
        ("timestamp", [
            "zero": .timestamp(BSONTimestamp(timestamp: 0, increment: 0)),
            "typical": .timestamp(BSONTimestamp(timestamp: 1_700_000_000, increment: 7)),
            "max": .timestamp(BSONTimestamp(timestamp: .max, increment: .max)),
        ]),
        ("minmax", ["min": .minKey, "max": .maxKey]),
        // DBRef is an ordinary document.
        ("dbref", [
            "simple": ["$ref": "coll", "$id": .objectID(objectID)],
            "full": ["$ref": "coll", "$id": .int32(5), "$db": "db", "extra": "x"],
        ]),
        // Microseconds are truncated toward the past.
        ("datetime-truncation", ["naive": datetime(leapMillis), "plus": datetime(leapMillis), "pre-epoch": datetime(-1)]),
        ("datetime-ms", [
            "future": datetime(1 << 62), "past": datetime(-(1 << 62)), "max": datetime(.max), "min": datetime(.min),
        ]),
    ]

    /// The sizes suite (both flavours): name "KIND-SIZE", encoded size exactly SIZE bytes.
    static let sizes: [(kind: String, size: Int)] = [
        ("binary", 5), ("binary", 16), ("string", 17), ("binary", 1024),
        ("binary", 32 * 1024 - 1), ("binary", 32 * 1024), ("binary", 32 * 1024 + 1),
        ("string", 100_000), ("binary", 1024 * 1024), ("string", 8 * 1024 * 1024), ("binary", 8 * 1024 * 1024),
    ]

    /// Overhead of {"data": …} around a binary or string payload.
    static let bigOverhead = 16

    /// The document of `big SIZE --kind KIND` (and of the sizes suite): {} for 5 bytes, else
    /// {"data": payload} with bytes 0, 1, …, 255, 0, … or letters a…z repeated.
    static func big(kind: String, size: Int) -> BSONDocument {
        if size == 5 { return [:] }
        let count = size - bigOverhead
        if kind == "binary" {
            var bytes = [UInt8](repeating: 0, count: count)
            for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index) }
            return ["data": binary(bytes, 0)]
        }
        var letters = [UInt8](repeating: 0, count: count)
        for index in 0..<count { letters[index] = UInt8(ascii: "a") + UInt8(index % 26) }
        return ["data": .string(String(decoding: letters, as: UTF8.self))]
    }

    static func sizesSuite() -> [NamedDocument] {
        sizes.map { ("\($0.kind)-\($0.size)", big(kind: $0.kind, size: $0.size)) }
    }

    /// The index-th document of `pipeline N`; with `vary` (`pipeline N --vary`) it also
    /// carries (index × 7919) mod 150001 payload bytes 0, 1, …, 255, 0, ….
    static func pipeline(_ index: Int, vary: Bool = false) -> BSONDocument {
        var document: BSONDocument = [
            "seq": BSONValue(index), "text": .string("document \(index)"), "square": BSONValue(index * index),
        ]
        if vary {
            let count = index * 7919 % 150_001
            document["pad"] = binary((0..<count).map { UInt8(truncatingIfNeeded: $0) }, 0)
        }
        return document
    }

    static func types(_ flavour: Flavour) -> [NamedDocument] {
        flavour == .pybson ? pybsonTypes : pymongoTypes
    }
}
