import BSONCodec
import TestSupport

// A corpus of valid documents built from Swift values, shaped like the driver benchmark
// data (flat, deep, full) plus documents that hold every BSON type and the awkward values.
// Their encoded bytes serve as the valid inputs of the lossless, truncation and fuzz tests.

enum Corpus {
    /// One element of every one of the 21 types, with nesting of documents, arrays and scopes.
    static let allTypes: BSONDocument = [
        "double": .double(3.25),
        "string": "héllo wörld 😀",
        "document": ["x": 1, "y": ["z": "deep"]],
        "array": [1, "two", 3.5, ["four": 4], [5, 6]],
        "binary": .binary(BSONBinary(data: [0, 1, 2, 0xFF], subtype: .generic)),
        "undefined": .undefined,
        "objectID": .objectID(sampleObjectID),
        "bool": true,
        "datetime": .datetime(BSONDatetime(millisecondsSinceEpoch: 1_700_000_000_123)),
        "null": nil,
        "regex": .regex(BSONRegex(pattern: "^a.*b$", options: "imx")),
        "dbPointer": .dbPointer(BSONDBPointer(ref: "db.collection", id: sampleObjectID)),
        "javascript": .javascript("function () { return 1; }"),
        "symbol": .symbol("sym"),
        "javascriptWithScope": .javascriptWithScope(BSONCodeWithScope(code: "x + y", scope: ["x": 1, "y": ["a": 2]])),
        "int32": .int32(-42),
        "timestamp": .timestamp(BSONTimestamp(timestamp: 1_700_000_000, increment: 7)),
        "int64": .int64(1 << 40),
        "decimal128": .decimal128(BSONDecimal128(high: 0x3040_0000_0000_0000, low: 12345)),
        "minKey": .minKey,
        "maxKey": .maxKey,
    ]

    /// Values that a careless codec would alter.
    static let awkward: BSONDocument = [
        "nan": .double(.nan),
        "nanPayload": .double(Double(bitPattern: 0x7FF0_0000_0000_0001)),
        "negativeNaN": .double(Double(bitPattern: 0xFFF8_0000_0000_0123)),
        "inf": .double(.infinity),
        "-inf": .double(-.infinity),
        "-0": .double(-0.0),
        "int32min": .int32(.min),
        "int32max": .int32(.max),
        "int64min": .int64(.min),
        "int64max": .int64(.max),
        "dateMin": .datetime(BSONDatetime(millisecondsSinceEpoch: .min)),
        "dateMax": .datetime(BSONDatetime(millisecondsSinceEpoch: .max)),
        "before1970": .datetime(BSONDatetime(millisecondsSinceEpoch: -86_400_001)),
        "empty": "",
        "nul": "a\u{0}b\u{0}",
        "emoji": "😀👍🏽",
        "ключ": "значение",
        "": "empty key",
        "emptyDoc": [:],
        "emptyArray": [],
        "nestedEmpty": ["a": [:], "b": [[], [:]]],
        "binaryOld": .binary(BSONBinary(data: [1, 2, 3], subtype: .binaryOld)),
        "binaryEmpty": .binary(BSONBinary(data: [], subtype: .generic)),
        "binaryUser": .binary(BSONBinary(data: [9], subtype: .init(0xFF))),
        "regexOdd": .regex(BSONRegex(pattern: "a", options: "xsmil")),
        "regexUnknown": .regex(BSONRegex(pattern: "b", options: "zqa")),
        "codeNUL": .javascript("a\u{0}b"),
        "symbolNUL": .symbol("s\u{0}"),
        "dbPointerNUL": .dbPointer(BSONDBPointer(ref: "d\u{0}b", id: sampleObjectID)),
        "codeWithScopeNUL": .javascriptWithScope(BSONCodeWithScope(code: "\u{0}x", scope: [:])),
        "codeWithEmptyScope": .javascriptWithScope(BSONCodeWithScope(code: "f()", scope: [:])),
        "duplicate": 1,
        "duplicate": 2,
        "timestampHigh": .timestamp(BSONTimestamp(uint64: .max)),
        "decimalNaN": .decimal128(BSONDecimal128(high: 0x7C00_0000_0000_0000, low: 0)),
    ]

    /// Like the benchmark's flat document: many scalar fields at one level.
    static let flat: BSONDocument = {
        var random = SplitMix64(seed: 1)
        var document = BSONDocument()
        for index in 0..<120 {
            let key = "k\(index)_" + randomWord(&random, length: 6)
            switch index % 6 {
            case 0: document.append(.double(Double(Int64(bitPattern: random.next()) >> 11)), forKey: key)
            case 1: document.append(.int32(Int32(truncatingIfNeeded: random.next())), forKey: key)
            case 2: document.append(.string(randomWord(&random, length: 40)), forKey: key)
            case 3: document.append(.bool(random.next() & 1 == 1), forKey: key)
            case 4: document.append(.int64(Int64(bitPattern: random.next())), forKey: key)
            default: document.append(.string(""), forKey: key)
            }
        }
        return document
    }()

    /// Like the benchmark's deep document: a binary tree of nested documents.
    static let deep: BSONDocument = {
        var random = SplitMix64(seed: 2)
        func tree(_ depth: Int) -> BSONDocument {
            if depth == 0 {
                return ["rightValue": .string(randomWord(&random, length: 8)), "leftValue": .string(randomWord(&random, length: 8))]
            }
            return ["right": .document(tree(depth - 1)), "left": .document(tree(depth - 1))]
        }
        return tree(6)
    }()

    /// Like the benchmark's full document: every common type, arrays and scopes.
    static let full: BSONDocument = {
        var random = SplitMix64(seed: 3)
        var document = BSONDocument()
        for index in 0..<40 {
            let key = randomWord(&random, length: 8) + String(index)
            let value: BSONValue
            switch index % 13 {
            case 0: value = .binary(BSONBinary(data: (0..<48).map { _ in UInt8.random(in: 0...255, using: &random) }))
            case 1: value = .int64(Int64(bitPattern: random.next()))
            case 2: value = .document([:])
            case 3: value = .maxKey
            case 4: value = .javascriptWithScope(BSONCodeWithScope(code: randomWord(&random, length: 30), scope: ["a": 1, "b": -2]))
            case 5: value = .minKey
            case 6: value = .datetime(BSONDatetime(millisecondsSinceEpoch: Int64(random.next() % 2_000_000_000_000)))
            case 7: value = .timestamp(BSONTimestamp(timestamp: 1, increment: UInt32(truncatingIfNeeded: random.next())))
            case 8: value = .regex(BSONRegex(pattern: randomWord(&random, length: 8), options: ""))
            case 9: value = .array((0..<7).map { _ in .int32(Int32(random.next() % 10)) })
            case 10: value = .objectID(BSONObjectID(bytes: (0..<12).map { _ in UInt8.random(in: 0...255, using: &random) })!)
            case 11: value = .javascript(randomWord(&random, length: 20))
            default: value = .decimal128(BSONDecimal128(high: 0x3040_0000_0000_0000, low: random.next() >> 20))
            }
            document.append(value, forKey: key)
        }
        return document
    }()

    static let documents: [(name: String, document: BSONDocument)] = [
        ("allTypes", allTypes), ("awkward", awkward), ("flat", flat), ("deep", deep), ("full", full),
        ("empty", [:]),
        ("random1", randomDocument(seed: 11)), ("random2", randomDocument(seed: 12)),
        ("random3", randomDocument(seed: 13)),
    ]

    /// The corpus as encoded bytes.
    static let encoded: [(name: String, bytes: [UInt8])] = documents.map { ($0.name, try! $0.document.encoded()) }

    // MARK: Generators

    static func randomWord(_ random: inout SplitMix64, length: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        return String(decoding: (0..<length).map { _ in letters[Int(random.next() % UInt64(letters.count))] }, as: UTF8.self)
    }

    /// A random document of every type, up to `depth` levels of nesting, deterministic for
    /// a seed.
    static func randomDocument(seed: UInt64, depth: Int = 3) -> BSONDocument {
        var random = SplitMix64(seed: seed)
        return randomDocument(&random, depth: depth)
    }

    static func randomDocument(_ random: inout SplitMix64, depth: Int) -> BSONDocument {
        var document = BSONDocument()
        let count = Int(random.next() % 8)
        for _ in 0..<count {
            document.append(randomValue(&random, depth: depth), forKey: randomText(&random, maxLength: 6, allowNUL: false))
        }
        return document
    }

    /// Text of random code points (ASCII, two-, three- and four-byte UTF-8), optionally with
    /// NULs.
    static func randomText(_ random: inout SplitMix64, maxLength: Int, allowNUL: Bool) -> String {
        let samples: [Unicode.Scalar] = ["a", "Z", "0", " ", ".", "$", "é", "ß", "ж", "中", "€", "😀", "𝄞", "\u{10FFFF}", "\u{FFFD}"]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int(random.next() % UInt64(maxLength + 1)) {
            if allowNUL, random.next() % 8 == 0 {
                scalars.append("\u{0}")
            } else {
                scalars.append(samples[Int(random.next() % UInt64(samples.count))])
            }
        }
        return String(scalars)
    }

    static func randomValue(_ random: inout SplitMix64, depth: Int) -> BSONValue {
        let kind = random.next() % 21
        switch kind {
        case 0: return .double(Double(bitPattern: random.next()))
        case 1: return .string(randomText(&random, maxLength: 12, allowNUL: true))
        case 2: return depth > 0 ? .document(randomDocument(&random, depth: depth - 1)) : .document([:])
        case 3:
            guard depth > 0 else { return .array([]) }
            return .array((0..<Int(random.next() % 5)).map { _ in randomValue(&random, depth: depth - 1) })
        case 4:
            let subtypes: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xFF]
            let data = (0..<Int(random.next() % 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return .binary(BSONBinary(data: data, subtype: .init(subtypes[Int(random.next() % UInt64(subtypes.count))])))
        case 5: return .undefined
        case 6: return .objectID(BSONObjectID(bytes: (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) })!)
        case 7: return .bool(random.next() & 1 == 0)
        case 8: return .datetime(BSONDatetime(millisecondsSinceEpoch: Int64(bitPattern: random.next())))
        case 9: return .null
        case 10:
            let options = ["", "i", "imsx", "xi", "zz", "lu", "ilmsux"]
            return .regex(BSONRegex(
                pattern: randomText(&random, maxLength: 8, allowNUL: false),
                options: options[Int(random.next() % UInt64(options.count))]))
        case 11:
            return .dbPointer(BSONDBPointer(
                ref: randomText(&random, maxLength: 8, allowNUL: true),
                id: BSONObjectID(bytes: (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) })!))
        case 12: return .javascript(randomText(&random, maxLength: 12, allowNUL: true))
        case 13: return .symbol(randomText(&random, maxLength: 12, allowNUL: true))
        case 14:
            let scope = depth > 0 ? randomDocument(&random, depth: depth - 1) : [:]
            return .javascriptWithScope(BSONCodeWithScope(code: randomText(&random, maxLength: 12, allowNUL: true), scope: scope))
        case 15: return .int32(Int32(truncatingIfNeeded: random.next()))
        case 16: return .timestamp(BSONTimestamp(uint64: random.next()))
        case 17: return .int64(Int64(bitPattern: random.next()))
        case 18: return .decimal128(BSONDecimal128(high: random.next(), low: random.next()))
        case 19: return .minKey
        default: return .maxKey
        }
    }
}
