import BSONCodec
import Testing

// MARK: - Fixtures

private let sampleID = BSONObjectID(hex: "57e193d7a9cc81b4027498b5")!

/// One BSON value with its expected canonical and relaxed Extended JSON.
struct EJSONTypeCase: Sendable, CustomTestStringConvertible {
    var name: String
    var value: BSONValue
    var canonical: String
    var relaxed: String
    /// What relaxed text reads back as, when that differs from `value`.
    var relaxedReadsBackAs: BSONValue?

    var testDescription: String { name }
}

private func decimal(_ text: String) -> BSONDecimal128 {
    // The literals below are valid; a failure here is a test bug.
    (try? BSONDecimal128(text)) ?? BSONDecimal128(high: 0, low: 0)
}

let ejsonTypeCases: [EJSONTypeCase] = [
    EJSONTypeCase(name: "double", value: .double(1.5), canonical: #"{"$numberDouble":"1.5"}"#, relaxed: "1.5"),
    EJSONTypeCase(name: "double integral", value: .double(-2), canonical: #"{"$numberDouble":"-2.0"}"#, relaxed: "-2.0"),
    EJSONTypeCase(name: "string", value: "héllo", canonical: #""héllo""#, relaxed: #""héllo""#),
    EJSONTypeCase(
        name: "document", value: ["a": 1, "b": ["c": .int64(2)]],
        canonical: #"{"a":{"$numberInt":"1"},"b":{"c":{"$numberLong":"2"}}}"#, relaxed: #"{"a":1,"b":{"c":2}}"#,
        relaxedReadsBackAs: ["a": 1, "b": ["c": .int32(2)]]),
    EJSONTypeCase(
        name: "array", value: [1, "x", [true]], canonical: #"[{"$numberInt":"1"},"x",[true]]"#, relaxed: #"[1,"x",[true]]"#),
    EJSONTypeCase(name: "empty document", value: .document([:]), canonical: "{}", relaxed: "{}"),
    EJSONTypeCase(name: "empty array", value: .array([]), canonical: "[]", relaxed: "[]"),
    EJSONTypeCase(
        name: "binary", value: .binary(BSONBinary(data: [0xFF, 0xFF], subtype: .userDefined)),
        canonical: #"{"$binary":{"base64":"//8=","subType":"80"}}"#,
        relaxed: #"{"$binary":{"base64":"//8=","subType":"80"}}"#),
    EJSONTypeCase(
        name: "binary subtype 2", value: .binary(BSONBinary(data: [1, 2, 3], subtype: .binaryOld)),
        canonical: #"{"$binary":{"base64":"AQID","subType":"02"}}"#,
        relaxed: #"{"$binary":{"base64":"AQID","subType":"02"}}"#),
    EJSONTypeCase(
        name: "binary empty", value: .binary(BSONBinary(data: [], subtype: .generic)),
        canonical: #"{"$binary":{"base64":"","subType":"00"}}"#, relaxed: #"{"$binary":{"base64":"","subType":"00"}}"#),
    EJSONTypeCase(name: "undefined", value: .undefined, canonical: #"{"$undefined":true}"#, relaxed: #"{"$undefined":true}"#),
    EJSONTypeCase(
        name: "objectID", value: .objectID(sampleID), canonical: #"{"$oid":"57e193d7a9cc81b4027498b5"}"#,
        relaxed: #"{"$oid":"57e193d7a9cc81b4027498b5"}"#),
    EJSONTypeCase(name: "bool", value: false, canonical: "false", relaxed: "false"),
    EJSONTypeCase(
        name: "datetime", value: .datetime(BSONDatetime(millisecondsSinceEpoch: 1_356_351_330_501)),
        canonical: #"{"$date":{"$numberLong":"1356351330501"}}"#, relaxed: #"{"$date":"2012-12-24T12:15:30.501Z"}"#),
    EJSONTypeCase(name: "null", value: nil, canonical: "null", relaxed: "null"),
    EJSONTypeCase(
        name: "regex", value: .regex(BSONRegex(pattern: "a/b\"c", options: "imx")),
        canonical: #"{"$regularExpression":{"pattern":"a/b\"c","options":"imx"}}"#,
        relaxed: #"{"$regularExpression":{"pattern":"a/b\"c","options":"imx"}}"#),
    EJSONTypeCase(
        name: "dbPointer", value: .dbPointer(BSONDBPointer(ref: "db.coll", id: sampleID)),
        canonical: #"{"$dbPointer":{"$ref":"db.coll","$id":{"$oid":"57e193d7a9cc81b4027498b5"}}}"#,
        relaxed: #"{"$dbPointer":{"$ref":"db.coll","$id":{"$oid":"57e193d7a9cc81b4027498b5"}}}"#),
    EJSONTypeCase(
        name: "javascript", value: .javascript("function() {}"), canonical: #"{"$code":"function() {}"}"#,
        relaxed: #"{"$code":"function() {}"}"#),
    EJSONTypeCase(name: "symbol", value: .symbol("sym"), canonical: #"{"$symbol":"sym"}"#, relaxed: #"{"$symbol":"sym"}"#),
    EJSONTypeCase(
        name: "javascriptWithScope", value: .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["y": 1])),
        canonical: #"{"$code":"x","$scope":{"y":{"$numberInt":"1"}}}"#, relaxed: #"{"$code":"x","$scope":{"y":1}}"#),
    EJSONTypeCase(name: "int32", value: .int32(-7), canonical: #"{"$numberInt":"-7"}"#, relaxed: "-7"),
    EJSONTypeCase(
        name: "int32 min", value: .int32(.min), canonical: #"{"$numberInt":"-2147483648"}"#, relaxed: "-2147483648"),
    EJSONTypeCase(
        name: "timestamp", value: .timestamp(BSONTimestamp(timestamp: 4_294_967_295, increment: 1)),
        canonical: #"{"$timestamp":{"t":4294967295,"i":1}}"#, relaxed: #"{"$timestamp":{"t":4294967295,"i":1}}"#),
    EJSONTypeCase(
        name: "int64", value: .int64(1 << 40), canonical: #"{"$numberLong":"1099511627776"}"#, relaxed: "1099511627776"),
    EJSONTypeCase(
        name: "int64 small", value: .int64(5), canonical: #"{"$numberLong":"5"}"#, relaxed: "5",
        relaxedReadsBackAs: .int32(5)),
    EJSONTypeCase(
        name: "int64 max", value: .int64(.max), canonical: #"{"$numberLong":"9223372036854775807"}"#,
        relaxed: "9223372036854775807"),
    EJSONTypeCase(
        name: "decimal128", value: .decimal128(decimal("1234.5")), canonical: #"{"$numberDecimal":"1234.5"}"#,
        relaxed: #"{"$numberDecimal":"1234.5"}"#),
    EJSONTypeCase(
        name: "decimal128 NaN", value: .decimal128(decimal("NaN")), canonical: #"{"$numberDecimal":"NaN"}"#,
        relaxed: #"{"$numberDecimal":"NaN"}"#),
    EJSONTypeCase(name: "minKey", value: .minKey, canonical: #"{"$minKey":1}"#, relaxed: #"{"$minKey":1}"#),
    EJSONTypeCase(name: "maxKey", value: .maxKey, canonical: #"{"$maxKey":1}"#, relaxed: #"{"$maxKey":1}"#),
]

/// A document holding one value of each of the 21 BSON types.
private let everyType: BSONDocument = [
    "double": .double(1.5),
    "string": "héllo",
    "document": ["a": 1],
    "array": [1, "x"],
    "binary": .binary(BSONBinary(data: [0xFF, 0xFF], subtype: .userDefined)),
    "undefined": .undefined,
    "objectID": .objectID(sampleID),
    "bool": true,
    "datetime": .datetime(BSONDatetime(millisecondsSinceEpoch: 1_356_351_330_501)),
    "null": nil,
    "regex": .regex(BSONRegex(pattern: "a/b", options: "imx")),
    "dbPointer": .dbPointer(BSONDBPointer(ref: "db.c", id: sampleID)),
    "javascript": .javascript("function() {}"),
    "symbol": .symbol("sym"),
    "javascriptWithScope": .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["y": 1])),
    "int32": .int32(-7),
    "timestamp": .timestamp(BSONTimestamp(timestamp: 42, increment: 1)),
    "int64": .int64(1 << 40),
    "decimal128": .decimal128(decimal("1234.5")),
    "minKey": .minKey,
    "maxKey": .maxKey,
]

/// Parses `{"v": <text>}` and returns the value.
private func readValue(_ text: String) throws -> BSONValue? {
    try BSONDocument(extendedJSON: #"{"v":"# + text + "}")["v"]
}

// MARK: - Output and round trips

@Suite("Extended JSON")
struct ExtendedJSONTests {
    @Test("each type: exact canonical and relaxed text, and both read back", arguments: ejsonTypeCases)
    func eachType(_ item: EJSONTypeCase) throws {
        #expect(item.value.extendedJSON(.canonical) == item.canonical)
        #expect(item.value.extendedJSON(.relaxed) == item.relaxed)
        #expect(item.value.extendedJSON() == item.canonical, "the default is canonical")
        #expect(try readValue(item.canonical) == item.value, "canonical reads back exactly")
        #expect(try readValue(item.relaxed) == (item.relaxedReadsBackAs ?? item.value), "relaxed reads back")
    }

    @Test("a document of all 21 types round-trips through both modes")
    func everyTypeRoundTrip() throws {
        #expect(Set(everyType.values.map(\.type)) == Set(BSONType.allCases))
        let canonical = everyType.extendedJSON(.canonical)
        #expect(try BSONDocument(extendedJSON: canonical) == everyType)
        let relaxed = everyType.extendedJSON(.relaxed)
        #expect(try BSONDocument(extendedJSON: relaxed) == everyType)
        // Through BSON and back as well.
        let decoded = try BSONDocument(bytes: try BSONDocument(extendedJSON: canonical).encoded())
        #expect(decoded.extendedJSON(.canonical) == canonical)
        #expect(!canonical.contains("\n") && !canonical.contains(" \""), "one compact line")
    }

    @Test("exact output of a whole document")
    func wholeDocument() {
        let document: BSONDocument = ["_id": .objectID(sampleID), "n": 1, "x": 2.5, "when": .datetime(.init(millisecondsSinceEpoch: 0))]
        #expect(
            document.extendedJSON(.canonical)
                == #"{"_id":{"$oid":"57e193d7a9cc81b4027498b5"},"n":{"$numberInt":"1"},"x":{"$numberDouble":"2.5"},"when":{"$date":{"$numberLong":"0"}}}"#
        )
        #expect(
            document.extendedJSON(.relaxed)
                == #"{"_id":{"$oid":"57e193d7a9cc81b4027498b5"},"n":1,"x":2.5,"when":{"$date":"1970-01-01T00:00:00Z"}}"#)
    }

    @Test("key order and duplicate keys are kept both ways")
    func orderAndDuplicates() throws {
        let document = BSONDocument([("z", 1), ("a", 2), ("z", 3)] as [(String, BSONValue)])
        let text = document.extendedJSON(.relaxed)
        #expect(text == #"{"z":1,"a":2,"z":3}"#)
        let back = try BSONDocument(extendedJSON: text)
        #expect(back == document)
        #expect(back.keys == ["z", "a", "z"])
    }

    @Test("description is relaxed, debugDescription canonical")
    func descriptions() {
        let document: BSONDocument = ["n": 1]
        #expect(document.description == #"{"n":1}"#)
        #expect(document.debugDescription == #"{"n":{"$numberInt":"1"}}"#)
        #expect("\(document)" == #"{"n":1}"#)
        #expect(BSONValue.int64(3).description == "3")
        #expect(BSONValue.int64(3).debugDescription == #"{"$numberLong":"3"}"#)
        #expect(String(reflecting: BSONValue.double(1)) == #"{"$numberDouble":"1.0"}"#)
    }

    // MARK: Strings

    @Test("string escaping: quotes, backslash, control characters, NUL, non-ASCII")
    func escaping() throws {
        let text = "q\"b\\s/\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}é☆😀"
        let document: BSONDocument = ["k\"\u{1}": .string(text)]
        let expected = #"{"k\"\u0001":"q\"b\\s/\u0000\u0001\b\t\n\f\r\u001f"# + "\u{7F}é☆😀" + #""}"#
        #expect(document.extendedJSON() == expected)
        #expect(try BSONDocument(extendedJSON: expected) == document)
        // The 4-byte character is written as its raw UTF-8 bytes.
        #expect(Array(document.extendedJSON().utf8).suffix(6) == [0xF0, 0x9F, 0x98, 0x80, 0x22, 0x7D])
    }

    @Test("escapes on input: \\u, surrogate pairs, \\/")
    func inputEscapes() throws {
        let document = try BSONDocument(extendedJSON: #"{"a":"\u00e9\u2606\ud83d\ude00\/\"\\\b\f\n\r\t\u0000"}"#)
        #expect(document["a"] == .string("é☆😀/\"\\\u{8}\u{C}\n\r\t\u{0}"))
        let upper = try BSONDocument(extendedJSON: #"{"a":"\uD83D\uDE00"}"#)
        #expect(upper["a"] == "😀")
    }

    @Test("NUL inside string values survives; symbols and code too")
    func nulInValues() throws {
        let document: BSONDocument = ["s": "a\u{0}b", "sym": .symbol("x\u{0}"), "code": .javascript("\u{0}")]
        let back = try BSONDocument(extendedJSON: document.extendedJSON())
        #expect(back == document)
        #expect(try BSONDocument(bytes: try back.encoded()) == document)
    }

    // MARK: Doubles

    static let doubles: [Double] = [
        .nan, .infinity, -.infinity, -0.0, 0.0, 1.0, -1.0, 1e300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0.1 + 0.2, 1.0 / 3.0,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 1e16, 9_999_999_999_999_998,
        9_007_199_254_740_992, 123_456_789_012_345_680, 1e-5, 0.0001, 1.2345678901234567e-300, 2.718281828459045,
        4.35, 1e23, 8.41e21, Double(bitPattern: 0x0000_5C0B_0A0B_0C0D),
    ]

    @Test("doubles are bit-exact through canonical text, and finite ones through relaxed", arguments: doubles)
    func doubleRoundTrip(_ number: Double) throws {
        let canonical = BSONValue.double(number).extendedJSON(.canonical)
        let back = try #require(try readValue(canonical)?.doubleValue)
        if number.isNaN {
            #expect(back.isNaN)
        } else {
            #expect(back.bitPattern == number.bitPattern, "\(canonical)")
        }
        let relaxed = BSONValue.double(number).extendedJSON(.relaxed)
        if number.isFinite {
            #expect(relaxed.contains(".") || relaxed.contains("e"), "a JSON non-integer: \(relaxed)")
            #expect(try readValue(relaxed)?.doubleValue?.bitPattern == number.bitPattern, "\(relaxed)")
        } else {
            #expect(relaxed == canonical, "non-finite doubles keep the wrapper")
        }
    }

    @Test("double text follows the corpus and Python's repr layout")
    func doubleText() {
        let expected: [(Double, String)] = [
            (1.0, "1.0"), (-0.0, "-0.0"), (0.0, "0.0"), (1e300, "1e+300"), (.leastNonzeroMagnitude, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"), (1e16, "1e+16"), (9_999_999_999_999_998, "9999999999999998.0"),
            (1e-5, "1e-05"), (0.0001, "0.0001"), (123_456_789_012_345_680, "1.2345678901234568e+17"),
            (1.2345678901234568e18, "1.2345678901234568e+18"), (-1.0001220703125, "-1.0001220703125"),
            (100, "100.0"), (1.5e-7, "1.5e-07"), (.nan, "NaN"), (.infinity, "Infinity"), (-.infinity, "-Infinity"),
        ]
        for (number, text) in expected {
            #expect(BSONValue.double(number).extendedJSON(.canonical) == #"{"$numberDouble":""# + text + #""}"#)
        }
        #expect(BSONValue.double(-0.0).extendedJSON(.relaxed) == "-0.0")
        #expect(BSONValue.double(1e16).extendedJSON(.relaxed) == "1e+16")
        #expect(BSONValue.double(.nan).extendedJSON(.relaxed) == #"{"$numberDouble":"NaN"}"#)
    }

    @Test("20,000 pseudo-random doubles are bit-exact through canonical and relaxed text")
    func randomDoubles() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var failures: [String] = []
        for _ in 0..<20_000 {
            // xorshift64*
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            let bits = state &* 0x2545_F491_4F6C_DD1D
            let number = Double(bitPattern: bits)
            guard !number.isNaN else { continue }
            for mode in [ExtendedJSONMode.canonical, .relaxed] {
                let text = BSONValue.double(number).extendedJSON(mode)
                if try readValue(text)?.doubleValue?.bitPattern != number.bitPattern { failures.append(text) }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test("JSON numbers read as int32, int64 or double by the specification's rules")
    func numberRules() throws {
        #expect(try readValue("2147483647") == .int32(.max))
        #expect(try readValue("-2147483648") == .int32(.min))
        #expect(try readValue("2147483648") == .int64(2_147_483_648))
        #expect(try readValue("-9223372036854775808") == .int64(.min))
        #expect(try readValue("9223372036854775808") == .double(9.223372036854775808e18))
        #expect(try readValue("1.0") == .double(1))
        #expect(try readValue("1e2") == .double(100))
        #expect(try readValue("-0") == .int32(0))
        #expect(try readValue("-0.0")?.doubleValue?.bitPattern == (-0.0 as Double).bitPattern)
        #expect(try readValue("1e-400") == .double(0))
        #expect(try readValue(#"{"$numberDouble":"-0.0"}"#)?.doubleValue?.bitPattern == (-0.0 as Double).bitPattern)
        #expect(try readValue(#"{"$numberDouble":"NaN"}"#)?.doubleValue?.isNaN == true)
        #expect(try readValue(#"{"$numberDouble":"1E+16"}"#) == .double(1e16))
        #expect(try readValue(#"{"$numberInt":"-0"}"#) == .int32(0))
    }

    // MARK: Dates

    @Test("dates: ISO form only for 1970 through 9999 in relaxed mode")
    func dates() throws {
        let cases: [(Int64, String)] = [
            (0, #"{"$date":"1970-01-01T00:00:00Z"}"#),
            (1, #"{"$date":"1970-01-01T00:00:00.001Z"}"#),
            (-1, #"{"$date":{"$numberLong":"-1"}}"#),
            (-62_135_596_800_000, #"{"$date":{"$numberLong":"-62135596800000"}}"#),  // 0001-01-01
            (253_402_300_799_999, #"{"$date":"9999-12-31T23:59:59.999Z"}"#),
            (253_402_300_800_000, #"{"$date":{"$numberLong":"253402300800000"}}"#),  // 10000-01-01
            (.max, #"{"$date":{"$numberLong":"9223372036854775807"}}"#),
            (.min, #"{"$date":{"$numberLong":"-9223372036854775808"}}"#),
            (951_782_400_000, #"{"$date":"2000-02-29T00:00:00Z"}"#),
        ]
        for (milliseconds, relaxed) in cases {
            let value = BSONValue.datetime(BSONDatetime(millisecondsSinceEpoch: milliseconds))
            #expect(value.extendedJSON(.relaxed) == relaxed)
            #expect(value.extendedJSON(.canonical) == #"{"$date":{"$numberLong":""# + String(milliseconds) + #""}}"#)
            #expect(try readValue(relaxed) == value)
            #expect(try readValue(value.extendedJSON(.canonical)) == value)
        }
    }

    @Test("ISO-8601 dates on input: offsets, fractions, dates before 1970")
    func isoInput() throws {
        let cases: [(String, Int64)] = [
            ("2012-12-24T12:15:30.501Z", 1_356_351_330_501),
            ("2012-12-24T13:15:30.501+01:00", 1_356_351_330_501),
            ("2012-12-24T07:45:30.501-0430", 1_356_351_330_501),
            ("2012-12-24t12:15:30.501z", 1_356_351_330_501),
            ("2012-12-24T12:15:30.5Z", 1_356_351_330_500),
            ("2012-12-24T12:15:30.501999Z", 1_356_351_330_501),
            ("2012-12-24T12:15:30Z", 1_356_351_330_000),
            ("1969-12-31T23:59:59.999Z", -1),
            ("0001-01-01T00:00:00Z", -62_135_596_800_000),
            ("1960-12-24T12:15:30.500Z", -284_643_869_500),
        ]
        for (text, milliseconds) in cases {
            #expect(try readValue(#"{"$date":""# + text + #""}"#) == .datetime(.init(millisecondsSinceEpoch: milliseconds)), "\(text)")
        }
    }

    // MARK: Forms that are read

    @Test("legacy and special forms are read")
    func legacyForms() throws {
        #expect(try readValue(#"{"$binary":"AQID","$type":"5"}"#) == .binary(BSONBinary(data: [1, 2, 3], subtype: .md5)))
        #expect(try readValue(#"{"$type":"80","$binary":"AQID"}"#) == .binary(BSONBinary(data: [1, 2, 3], subtype: .userDefined)))
        #expect(try readValue(#"{"$binary":{"base64":"AQID","subType":"A"}}"#) == .binary(BSONBinary(data: [1, 2, 3], subtype: .init(10))))
        #expect(try readValue(#"{"$regex":"a.c","$options":"xi"}"#) == .regex(BSONRegex(pattern: "a.c", options: "ix")))
        #expect(
            try readValue(#"{"$regularExpression":{"options":"mix","pattern":"p"}}"#)
                == .regex(BSONRegex(pattern: "p", options: "imx")), "options are sorted")
        #expect(
            try readValue(#"{"$uuid":"73FFD264-44b3-4c69-90e8-e7d1dfc035d4"}"#)
                == .binary(BSONBinary(data: BSONCorpus.bytes("73ffd26444b34c6990e8e7d1dfc035d4")!, subtype: .uuid)))
        #expect(try readValue(#"{"$oid":"57E193D7A9CC81B4027498B5"}"#) == .objectID(sampleID))
        #expect(try readValue(#"{"$scope":{},"$code":"c"}"#) == .javascriptWithScope(BSONCodeWithScope(code: "c", scope: [:])))
        #expect(try readValue(#"{"$timestamp":{"i":2,"t":1}}"#) == .timestamp(BSONTimestamp(timestamp: 1, increment: 2)))
    }

    @Test("objects that only look like wrappers are plain documents")
    func plainDocuments() throws {
        // Query operators.
        #expect(try readValue(#"{"$type":"string"}"#) == ["$type": "string"])
        #expect(try readValue(#"{"$type":2}"#) == ["$type": 2])
        let regexOperator = try readValue(#"{"$regex":{"$regularExpression":{"pattern":"p","options":""}},"$options":"ix"}"#)
        #expect(regexOperator == ["$regex": .regex(BSONRegex(pattern: "p")), "$options": "ix"])
        // DBRefs, complete or not.
        #expect(try readValue(#"{"$ref":"c","$id":1,"$db":"d"}"#) == ["$ref": "c", "$id": 1, "$db": "d"])
        #expect(try readValue(#"{"$ref":42}"#) == ["$ref": 42])
        // Unknown $-keys.
        #expect(try readValue(#"{"$banana":"peel"}"#) == ["$banana": "peel"])
        // The outermost object is never a wrapper.
        #expect(try BSONDocument(extendedJSON: #"{"$numberInt":"1"}"#) == ["$numberInt": "1"])
        #expect(try BSONDocument(extendedJSON: #"{"$oid":42,"x":1}"#) == ["$oid": 42, "x": 1])
        // Code-with-scope scopes are documents too.
        #expect(
            try readValue(#"{"$code":"c","$scope":{"$oid":"x"}}"#)
                == .javascriptWithScope(BSONCodeWithScope(code: "c", scope: ["$oid": "x"])))
    }

    @Test("whitespace is allowed everywhere JSON allows it")
    func whitespace() throws {
        let document = try BSONDocument(extendedJSON: " \t\r\n{ \"a\" :\n[ 1 , { \"$numberLong\" : \"2\" } ] }\n ")
        #expect(document == ["a": [1, .int64(2)]])
        #expect(try BSONDocument(extendedJSON: Array("{}".utf8)) == [:])
    }

    // MARK: Depth

    @Test("the nesting limit matches the BSON decoder's")
    func depthLimit() throws {
        /// A document with `levels` documents nested inside the outermost one, as JSON text.
        func nestedJSON(_ levels: Int, leaf: String = "1") -> String {
            String(repeating: #"{"a":"#, count: levels + 1) + leaf + String(repeating: "}", count: levels + 1)
        }
        func nestedBSON(_ levels: Int) -> BSONDocument {
            var document: BSONDocument = ["a": 1]
            for _ in 0..<levels { document = ["a": .document(document)] }
            return document
        }
        // 100 levels inside the outermost document are allowed by default, 101 are not —
        // the same as BSONDocument(bytes:).
        #expect(try BSONDocument(extendedJSON: nestedJSON(100)) == nestedBSON(100))
        #expect(try BSONDocument(bytes: try nestedBSON(100).encoded()) == nestedBSON(100))
        let error = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: nestedJSON(101)) }
        #expect(error?.code == .invalidExtendedJSON)
        #expect(throws: BSONError.self) { try BSONDocument(bytes: try nestedBSON(101).encoded(options: .init(maxDepth: 200))) }
        // Wrappers at the deepest level do not count as levels.
        let pointer = #"{"$dbPointer":{"$ref":"r","$id":{"$oid":"57e193d7a9cc81b4027498b5"}}}"#
        let deepPointer = try BSONDocument(extendedJSON: nestedJSON(100, leaf: pointer))
        #expect(try BSONDocument(bytes: try deepPointer.encoded()) == deepPointer)
        // A custom limit.
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: #"{"a":{"b":{"c":1}}}"#, options: .init(maxDepth: 1)) }
        #expect(try BSONDocument(extendedJSON: #"{"a":{"b":1}}"#, options: .init(maxDepth: 1)) == ["a": ["b": 1]])
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: #"{"a":[]}"#, options: .init(maxDepth: 0)) }
        #expect(throws: BSONError.self) {
            try BSONDocument(extendedJSON: #"{"a":{"$code":"","$scope":{}}}"#, options: .init(maxDepth: 0))
        }
        #expect(try BSONDocument(extendedJSON: #"{"a":{"$numberInt":"1"}}"#, options: .init(maxDepth: 0)) == ["a": 1])
    }

    @Test("a 10,000-deep nesting bomb is an error, not a crash", arguments: ["[", #"{"a":"#, #"{"a":["#])
    func nestingBomb(_ opener: String) {
        let closer = opener == "[" ? "]" : opener == #"{"a":"# ? "}" : "]}"
        let tail = String(repeating: closer, count: 10_000) + "}"
        for text in [#"{"x":"# + String(repeating: opener, count: 10_000), #"{"x":"# + String(repeating: opener, count: 10_000) + "1" + tail] {
            let error = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: text) }
            #expect(error?.code == .invalidExtendedJSON)
            #expect(error?.message.contains("nested") == true, "\(String(describing: error))")
        }
    }

    // MARK: Errors

    @Test("errors say where: line, column, byte offset and key path")
    func errorPositions() {
        let text = "{\n  \"a\": 1,\n  \"b\": {\"c\": {\"$numberInt\": \"x\"}}\n}"
        let error = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: text) }
        #expect(error?.code == .invalidExtendedJSON)
        #expect(error?.message.contains("line 3, column 29") == true, "\(String(describing: error))")
        #expect(error?.offset == Array(text.utf8).firstIndex(of: UInt8(ascii: "x"))! - 1)
        #expect(error?.keyPath == ["b", "c"])

        let trailing = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: #"{"a":1,}"#) }
        #expect(trailing?.offset == 7)
        #expect(trailing?.message.contains("trailing comma") == true)

        let unicodeColumn = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: #"{"é☆": tru}"#) }
        #expect(unicodeColumn?.message.contains("line 1, column 8") == true, "\(String(describing: unicodeColumn))")
    }

    static let malformed: [EJSONMalformedCase] = [
        // Truncated input.
        .init("empty", ""), .init("only whitespace", " \n "), .init("open brace", "{"), .init("key only", #"{"a""#),
        .init("no value", #"{"a":"#), .init("no closing brace", #"{"a":1"#), .init("unterminated string", #"{"a":"abc"#),
        .init("unterminated array", #"{"a":[1,2"#), .init("unterminated escape", #"{"a":"\"#),
        .init("truncated \\u", #"{"a":"\u12"#), .init("truncated literal", #"{"a":tru"#),
        // Trailing garbage.
        .init("text after", #"{"a":1} x"#), .init("second object", #"{"a":1}{}"#), .init("extra brace", #"{"a":1}}"#),
        .init("NUL after", "{\"a\":1}\u{0}"),
        // Not RFC 8259.
        .init("trailing comma in object", #"{"a":1,}"#), .init("trailing comma in array", #"{"a":[1,]}"#),
        .init("empty element", #"{"a":[1,,2]}"#), .init("block comment", #"{"a":1 /* c */}"#),
        .init("line comment", "// c\n{\"a\":1}"), .init("single quotes", "{'a':1}"), .init("unquoted key", "{a:1}"),
        .init("missing colon", #"{"a" 1}"#), .init("missing comma", #"{"a":1 "b":2}"#),
        .init("top-level array", "[1]"), .init("top-level number", "1"), .init("top-level string", #""a""#),
        .init("top-level null", "null"), .init("NaN literal", #"{"a":NaN}"#), .init("Infinity literal", #"{"a":Infinity}"#),
        .init("-Infinity literal", #"{"a":-Infinity}"#), .init("leading zero", #"{"a":01}"#), .init("lone minus", #"{"a":-}"#),
        .init("bare point", #"{"a":1.}"#), .init("leading point", #"{"a":.5}"#), .init("empty exponent", #"{"a":1e}"#),
        .init("plus sign", #"{"a":+1}"#), .init("hex number", #"{"a":0x10}"#), .init("capital TRUE", #"{"a":TRUE}"#),
        .init("undefined literal", #"{"a":undefined}"#), .init("non-breaking space", "{\u{A0}\"a\":1}"),
        // Bad escapes and surrogates.
        .init("unknown escape", #"{"a":"\x"}"#), .init("escaped quote '", #"{"a":"\'"}"#), .init("bad \\u digits", #"{"a":"\u12G4"}"#),
        .init("lone high surrogate", #"{"a":"\ud800"}"#), .init("lone low surrogate", #"{"a":"\udc00"}"#),
        .init("high surrogate then letter", #"{"a":"\ud800x"}"#), .init("high surrogate then BMP escape", #"{"a":"\ud800\u0041"}"#),
        .init("two high surrogates", #"{"a":"\ud800\ud800"}"#), .init("lone surrogate in key", #"{"\udfff":1}"#),
        .init("raw control character", "{\"a\":\"\u{1}\"}"), .init("raw newline in string", "{\"a\":\"x\ny\"}"),
        .init("raw tab in string", "{\"a\":\"\t\"}"), .init("raw NUL in string", "{\"a\":\"\u{0}\"}"),
        // Invalid UTF-8.
        .init("byte 0xFF", bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]),
        .init("overlong NUL", bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC0, 0x80, 0x22, 0x7D]),
        .init("truncated sequence", bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xE2, 0x82, 0x22, 0x7D]),
        .init("encoded surrogate", bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D]),
        .init("above U+10FFFF", bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x7D]),
        .init("stray continuation byte in key", bytes: [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        .init("byte order mark", bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D]),
        // Wrapper values of the wrong type.
        .init("$numberInt number", #"{"a":{"$numberInt":1}}"#), .init("$numberLong number", #"{"a":{"$numberLong":1}}"#),
        .init("$numberDouble number", #"{"a":{"$numberDouble":1.0}}"#), .init("$numberDecimal number", #"{"a":{"$numberDecimal":1}}"#),
        .init("$oid number", #"{"a":{"$oid":1}}"#), .init("$oid bad hex", #"{"a":{"$oid":"57e193d7a9cc81b4027498bg"}}"#),
        .init("$oid short", #"{"a":{"$oid":"57e193d7a9cc81b4027498b"}}"#), .init("$symbol number", #"{"a":{"$symbol":1}}"#),
        .init("$code object", #"{"a":{"$code":{}}}"#), .init("$scope array", #"{"a":{"$code":"","$scope":[]}}"#),
        .init("base64 number", #"{"a":{"$binary":{"base64":1,"subType":"00"}}}"#),
        .init("subType number", #"{"a":{"$binary":{"base64":"","subType":0}}}"#),
        .init("subType three digits", #"{"a":{"$binary":{"base64":"","subType":"100"}}}"#),
        .init("subType not hex", #"{"a":{"$binary":{"base64":"","subType":"zz"}}}"#),
        .init("subType empty", #"{"a":{"$binary":{"base64":"","subType":""}}}"#),
        .init("$binary number", #"{"a":{"$binary":1,"$type":"00"}}"#),
        .init("$timestamp number", #"{"a":{"$timestamp":1}}"#), .init("$timestamp t string", #"{"a":{"$timestamp":{"t":"1","i":1}}}"#),
        .init("$timestamp negative", #"{"a":{"$timestamp":{"t":-1,"i":1}}}"#),
        .init("$timestamp too large", #"{"a":{"$timestamp":{"t":4294967296,"i":1}}}"#),
        .init("$timestamp fraction", #"{"a":{"$timestamp":{"t":1.5,"i":1}}}"#),
        .init("$regularExpression string", #"{"a":{"$regularExpression":"abc"}}"#),
        .init("pattern number", #"{"a":{"$regularExpression":{"pattern":1,"options":""}}}"#),
        .init("$regex number", #"{"a":{"$regex":1,"$options":""}}"#), .init("$options number", #"{"a":{"$regex":"a","$options":1}}"#),
        .init("$dbPointer $id string", #"{"a":{"$dbPointer":{"$ref":"r","$id":"57e193d7a9cc81b4027498b5"}}}"#),
        .init("$dbPointer $id int", #"{"a":{"$dbPointer":{"$ref":"r","$id":{"$numberInt":"1"}}}}"#),
        .init("$dbPointer $ref number", #"{"a":{"$dbPointer":{"$ref":1,"$id":{"$oid":"57e193d7a9cc81b4027498b5"}}}}"#),
        .init("$date number", #"{"a":{"$date":42}}"#), .init("$date bool", #"{"a":{"$date":true}}"#),
        .init("$date text", #"{"a":{"$date":"yesterday"}}"#), .init("$date month 13", #"{"a":{"$date":"2012-13-01T00:00:00Z"}}"#),
        .init("$date February 30", #"{"a":{"$date":"2012-02-30T00:00:00Z"}}"#),
        .init("$date no zone", #"{"a":{"$date":"2012-12-24T12:15:30"}}"#),
        .init("$date space separator", #"{"a":{"$date":"2012-12-24 12:15:30Z"}}"#),
        .init("$date empty fraction", #"{"a":{"$date":"2012-12-24T12:15:30.Z"}}"#),
        .init("$date $numberLong number", #"{"a":{"$date":{"$numberLong":0}}}"#),
        .init("$undefined false", #"{"a":{"$undefined":false}}"#), .init("$minKey 2", #"{"a":{"$minKey":2}}"#),
        .init("$minKey 1.0", #"{"a":{"$minKey":1.0}}"#), .init("$maxKey string", #"{"a":{"$maxKey":"1"}}"#),
        .init("$uuid without hyphens", #"{"a":{"$uuid":"73ffd26444b34c6990e8e7d1dfc035d4"}}"#),
        .init("$uuid number", #"{"a":{"$uuid":1}}"#),
        // Extra, duplicate and missing wrapper keys.
        .init("$oid extra key", #"{"a":{"$oid":"57e193d7a9cc81b4027498b5","x":1}}"#),
        .init("$oid twice", #"{"a":{"$oid":"57e193d7a9cc81b4027498b5","$oid":"57e193d7a9cc81b4027498b5"}}"#),
        .init("two wrappers", #"{"a":{"$numberInt":"1","$numberLong":"1"}}"#),
        .init("$binary extra inner key", #"{"a":{"$binary":{"base64":"","subType":"00","x":1}}}"#),
        .init("$binary v2 with $type", #"{"a":{"$binary":{"base64":"","subType":"00"},"$type":"00"}}"#),
        .init("$binary missing $type", #"{"a":{"$binary":"AA=="}}"#),
        .init("$binary missing subType", #"{"a":{"$binary":{"base64":""}}}"#),
        .init("$timestamp extra key", #"{"a":{"$timestamp":{"t":1,"i":1,"x":1}}}"#),
        .init("$timestamp missing i", #"{"a":{"$timestamp":{"t":1}}}"#),
        .init("$timestamp sibling", #"{"a":{"$timestamp":{"t":1,"i":1},"x":1}}"#),
        .init("$date extra key", #"{"a":{"$date":{"$numberLong":"1","x":1}}}"#),
        .init("$date sibling", #"{"a":{"$date":{"$numberLong":"1"},"x":1}}"#),
        .init("$code extra key", #"{"a":{"$code":"x","$scope":{},"x":1}}"#), .init("$scope alone", #"{"a":{"$scope":{}}}"#),
        .init("$regularExpression extra key", #"{"a":{"$regularExpression":{"pattern":"a","options":"","flags":""}}}"#),
        .init("$regularExpression missing options", #"{"a":{"$regularExpression":{"pattern":"a"}}}"#),
        .init("$regex missing $options", #"{"a":{"$regex":"a"}}"#), .init("$regex extra key", #"{"a":{"$regex":"a","$options":"","x":1}}"#),
        .init("$dbPointer extra key", #"{"a":{"$dbPointer":{"$ref":"r","$id":{"$oid":"57e193d7a9cc81b4027498b5"},"x":1}}}"#),
        .init("$dbPointer missing $id", #"{"a":{"$dbPointer":{"$ref":"r"}}}"#),
        .init("$minKey extra key", #"{"a":{"$minKey":1,"x":1}}"#), .init("$undefined extra key", #"{"a":{"$undefined":true,"x":1}}"#),
        .init("wrapper in array", #"{"a":[{"$numberInt":"1","x":1}]}"#),
        // Out-of-range and malformed numbers in wrappers.
        .init("$numberInt overflow", #"{"a":{"$numberInt":"2147483648"}}"#),
        .init("$numberInt underflow", #"{"a":{"$numberInt":"-2147483649"}}"#),
        .init("$numberLong overflow", #"{"a":{"$numberLong":"9223372036854775808"}}"#),
        .init("$numberLong underflow", #"{"a":{"$numberLong":"-9223372036854775809"}}"#),
        .init("$numberLong huge", #"{"a":{"$numberLong":"99999999999999999999999999"}}"#),
        .init("$numberInt empty", #"{"a":{"$numberInt":""}}"#), .init("$numberInt plus", #"{"a":{"$numberInt":"+1"}}"#),
        .init("$numberInt space", #"{"a":{"$numberInt":" 1"}}"#), .init("$numberInt fraction", #"{"a":{"$numberInt":"1.0"}}"#),
        .init("$numberInt hex", #"{"a":{"$numberInt":"0x10"}}"#), .init("$numberLong minus only", #"{"a":{"$numberLong":"-"}}"#),
        .init("$numberDouble overflow", #"{"a":{"$numberDouble":"1e400"}}"#),
        .init("$numberDouble inf", #"{"a":{"$numberDouble":"inf"}}"#), .init("$numberDouble nan", #"{"a":{"$numberDouble":"nan"}}"#),
        .init("$numberDouble words", #"{"a":{"$numberDouble":"abc"}}"#), .init("$numberDouble empty", #"{"a":{"$numberDouble":""}}"#),
        .init("$numberDouble hex", #"{"a":{"$numberDouble":"0x1p3"}}"#), .init("$numberDouble space", #"{"a":{"$numberDouble":"1 "}}"#),
        .init("$numberDecimal words", #"{"a":{"$numberDecimal":"1.2.3"}}"#),
        .init("$numberDecimal inexact", #"{"a":{"$numberDecimal":"1.2345678901234567890123456789012345"}}"#),
        .init("bare number overflow", #"{"a":1e400}"#), .init("bare number overflow negative", #"{"a":-1e400}"#),
        // Bad base64.
        .init("base64 length", #"{"a":{"$binary":{"base64":"AAA","subType":"00"}}}"#),
        .init("base64 unpadded", #"{"a":{"$binary":{"base64":"AQ","subType":"00"}}}"#),
        .init("base64 three pads", #"{"a":{"$binary":{"base64":"A===","subType":"00"}}}"#),
        .init("base64 pad inside", #"{"a":{"$binary":{"base64":"AA=A","subType":"00"}}}"#),
        .init("base64 pad then data", #"{"a":{"$binary":{"base64":"AA==AAAA","subType":"00"}}}"#),
        .init("base64 loose bits", #"{"a":{"$binary":{"base64":"AB==","subType":"00"}}}"#),
        .init("base64 URL alphabet", #"{"a":{"$binary":{"base64":"__8=","subType":"00"}}}"#),
        .init("base64 whitespace", #"{"a":{"$binary":{"base64":"AA== ","subType":"00"}}}"#),
        .init("base64 legacy bad", #"{"a":{"$binary":"*","$type":"00"}}"#),
        // Keys and strings BSON cannot hold.
        .init("NUL in key", #"{"a\u0000b":1}"#), .init("NUL key nested", #"{"x":{"\u0000":1}}"#),
        .init("NUL key in scope", #"{"x":{"$code":"","$scope":{"\u0000":1}}}"#),
        .init("NUL in pattern", #"{"a":{"$regularExpression":{"pattern":"a\u0000","options":""}}}"#),
        .init("NUL in options", #"{"a":{"$regularExpression":{"pattern":"a","options":"\u0000"}}}"#),
    ]

    @Test("malformed Extended JSON is an invalidExtendedJSON error", arguments: malformed)
    func malformedInput(_ item: EJSONMalformedCase) {
        let error = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: item.bytes) }
        #expect(error?.code == .invalidExtendedJSON, "\(String(describing: error))")
        #expect(error?.message.contains("(line ") == true, "\(String(describing: error))")
        if let string = String(validating: item.bytes, as: UTF8.self) {
            #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: string) }
        }
    }
}

/// Input that must be rejected.
struct EJSONMalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]

    init(_ name: String, _ text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
    }

    init(_ name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    var testDescription: String { name }
}
