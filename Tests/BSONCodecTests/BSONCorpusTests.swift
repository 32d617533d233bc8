import BSONCodec
import Foundation
import Testing

// The official BSON corpus (mongodb/specifications, source/bson-corpus/tests; see
// Resources/bson-corpus/SOURCE.md), run with the assertions that `bson-corpus.md` sets for a
// codec with a native representation:
//
//   cB  → native → BSON                       = cB
//   cB  → native → canonical Extended JSON    = cEJ
//   cB  → native → relaxed Extended JSON      = rEJ   (when present)
//   cEJ → native → canonical Extended JSON    = cEJ
//   cEJ → native → BSON                       = cB    (unless lossy)
//   rEJ → native → relaxed Extended JSON      = rEJ   (when present)
//   dB  → native → BSON                       = cB    (when present)
//   dEJ → native → canonical Extended JSON    = cEJ   (when present)
//   dEJ → native → BSON                       = cB    (when present, unless lossy)
//
// plus, for dB, native → canonical Extended JSON = cEJ. Extended JSON is compared as parsed
// JSON (whitespace and escapes normalised, keys in order; numbers with a fraction or exponent
// compared as doubles, integers by their text), as the corpus asks.
//
// `converted_bson`/`converted_extjson` are not checked: this package keeps the deprecated
// types (symbol, undefined, DBPointer) as they are, which the corpus allows.
//
// Cases this package deliberately treats differently are listed in `CorpusDeviation` with the
// reason; each still runs, with the assertion it gets instead. Nothing is skipped silently.

// MARK: - Deliberate differences

/// A corpus case (by file and description) that this package treats differently on purpose.
enum CorpusDeviation: Sendable {
    /// The stored file versions of `multi-type.json` and `multi-type-deprecated.json` predate
    /// the Extended JSON v2 binary form: their `canonical_extjson` still writes binary as
    /// `{"$binary": "<base64>", "$type": "<hex>"}`. We write the v2 form
    /// `{"$binary": {"base64": …, "subType": …}}`, as the specification requires, and read
    /// both. Instead of comparing text, we check that the corpus text and our text both read
    /// back as the decoded document.
    case legacyBinaryInCanonicalExtJSON
    /// Our BSON model is lossless (decode → encode gives the same bytes), so regular
    /// expression options out of alphabetical order in BSON ("mix") are written back as they
    /// came, not sorted. Instead of dB → BSON = cB we check dB → BSON = dB, and that the
    /// Extended JSON of dB (which does sort the options) equals cEJ.
    case regexOptionsKeptAsDecoded
    /// The stored `top.json` predates the 2021 change to the Extended JSON specification
    /// ("objects that resemble a DBRef without fully complying to its structure should be
    /// left as-is"), which `dbref.json` here already follows. We follow the specification:
    /// these parse as plain documents, and we check that they do.
    case dbRefIsPlainDocument
    /// The stored `undefined.json` is in the old layout: its BSON is under `bson`, not
    /// `canonical_bson`. We read that key as `canonical_bson`.
    case oldLayoutBSONKey

    static let byCase: [String: CorpusDeviation] = [
        "multi-type.json|All BSON types": .legacyBinaryInCanonicalExtJSON,
        "multi-type-deprecated.json|All BSON types": .legacyBinaryInCanonicalExtJSON,
        "regex.json|flags not alphabetized": .regexOptionsKeptAsDecoded,
        "top.json|Bad DBRef (ref is number, not string)": .dbRefIsPlainDocument,
        "top.json|Bad DBRef (db is number, not string)": .dbRefIsPlainDocument,
        "undefined.json|Undefined": .oldLayoutBSONKey,
    ]

    static func of(file: String, description: String) -> CorpusDeviation? {
        byCase["\(file)|\(description)"]
    }
}

// MARK: - Loading

struct BSONCorpusFile: Decodable {
    struct Valid: Decodable {
        var description: String
        var canonicalBSON: String?
        var bson: String?
        var canonicalExtJSON: String?
        var relaxedExtJSON: String?
        var degenerateBSON: String?
        var degenerateExtJSON: String?
        var lossy: Bool?

        enum CodingKeys: String, CodingKey {
            case description, bson, lossy
            case canonicalBSON = "canonical_bson"
            case canonicalExtJSON = "canonical_extjson"
            case relaxedExtJSON = "relaxed_extjson"
            case degenerateBSON = "degenerate_bson"
            case degenerateExtJSON = "degenerate_extjson"
        }
    }

    struct DecodeError: Decodable {
        var description: String
        var bson: String
    }

    struct ParseError: Decodable {
        var description: String
        var string: String
    }

    var description: String
    var bsonType: String
    var valid: [Valid]?
    var decodeErrors: [DecodeError]?
    var parseErrors: [ParseError]?

    enum CodingKeys: String, CodingKey {
        case description, valid, decodeErrors, parseErrors
        case bsonType = "bson_type"
    }
}

struct ValidCorpusCase: Sendable, CustomTestStringConvertible {
    var file: String
    var description: String
    var canonicalBSON: [UInt8]
    var canonicalExtJSON: String?
    var relaxedExtJSON: String?
    var degenerateBSON: [UInt8]?
    var degenerateExtJSON: String?
    var lossy: Bool
    var deviation: CorpusDeviation?

    var testDescription: String { "\(file): \(description)" }
}

struct DecodeErrorCorpusCase: Sendable, CustomTestStringConvertible {
    var file: String
    var description: String
    var bson: [UInt8]

    var testDescription: String { "\(file): \(description)" }
}

struct ParseErrorCorpusCase: Sendable, CustomTestStringConvertible {
    var file: String
    var description: String
    var bsonType: String
    var string: String
    var deviation: CorpusDeviation?

    var testDescription: String { "\(file): \(description)" }
}

/// Every case of every corpus file in the test bundle, read once.
struct BSONCorpus: Sendable {
    var files: [String] = []
    var valid: [ValidCorpusCase] = []
    var decodeErrors: [DecodeErrorCorpusCase] = []
    var parseErrors: [ParseErrorCorpusCase] = []
    var loadFailures: [String] = []

    static let shared = BSONCorpus.load()

    static func load() -> BSONCorpus {
        var corpus = BSONCorpus()
        // `.copy("Resources")` puts a folder named Resources in the bundle; Foundation on
        // Linux then reports that folder itself as the bundle's resourceURL, while other
        // platforms nest it one level deeper. Take whichever exists.
        let candidates = [Bundle.module.resourceURL, Bundle.module.resourceURL?.appendingPathComponent("Resources")]
            .compactMap { $0?.appendingPathComponent("bson-corpus") }
        guard let resources = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            corpus.loadFailures.append("no bson-corpus folder in the test bundle (looked in \(candidates.map(\.path)))")
            return corpus
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: resources.path)
                .filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            corpus.loadFailures.append("cannot list \(resources.path): \(error)")
            return corpus
        }
        for name in names {
            do {
                let data = try Data(contentsOf: resources.appendingPathComponent(name))
                let file = try JSONDecoder().decode(BSONCorpusFile.self, from: data)
                corpus.add(file, named: name)
                corpus.files.append(name)
            } catch {
                corpus.loadFailures.append("\(name): \(error)")
            }
        }
        return corpus
    }

    private mutating func add(_ file: BSONCorpusFile, named name: String) {
        for item in file.valid ?? [] {
            guard let hex = item.canonicalBSON ?? item.bson, let bytes = Self.bytes(hex) else {
                loadFailures.append("\(name): \(item.description): no readable canonical BSON")
                continue
            }
            var degenerate: [UInt8]?
            if let hex = item.degenerateBSON {
                guard let bytes = Self.bytes(hex) else {
                    loadFailures.append("\(name): \(item.description): unreadable degenerate BSON")
                    continue
                }
                degenerate = bytes
            }
            valid.append(
                ValidCorpusCase(
                    file: name, description: item.description, canonicalBSON: bytes,
                    canonicalExtJSON: item.canonicalExtJSON, relaxedExtJSON: item.relaxedExtJSON,
                    degenerateBSON: degenerate, degenerateExtJSON: item.degenerateExtJSON, lossy: item.lossy ?? false,
                    deviation: CorpusDeviation.of(file: name, description: item.description)))
        }
        for item in file.decodeErrors ?? [] {
            guard let bytes = Self.bytes(item.bson) else {
                loadFailures.append("\(name): \(item.description): unreadable hex")
                continue
            }
            decodeErrors.append(DecodeErrorCorpusCase(file: name, description: item.description, bson: bytes))
        }
        for item in file.parseErrors ?? [] {
            parseErrors.append(
                ParseErrorCorpusCase(
                    file: name, description: item.description, bsonType: file.bsonType, string: item.string,
                    deviation: CorpusDeviation.of(file: name, description: item.description)))
        }
    }

    /// Hexadecimal text (either case) as bytes.
    static func bytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            result.append(byte)
            index += 2
        }
        return result
    }
}

// MARK: - JSON comparison

/// A tiny, independent JSON tree for comparing Extended JSON text (test code only, so that
/// the comparison does not rely on the parser under test).
indirect enum ComparableJSON: Equatable, CustomStringConvertible {
    case object([Member])
    case array([ComparableJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    struct Member: Equatable {
        var key: String
        var value: ComparableJSON
    }

    static func == (lhs: ComparableJSON, rhs: ComparableJSON) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.number(let a), .number(let b)):
            // Integers must match exactly; numbers with a fraction or exponent must be
            // non-integers on both sides and the same double (the corpus's double strings are
            // not portable, so only their value counts).
            Self.isInteger(a) == Self.isInteger(b)
                && (Self.isInteger(a) ? a == b : Double(a)?.bitPattern == Double(b)?.bitPattern)
        default: false
        }
    }

    static func isInteger(_ text: String) -> Bool { !text.contains(where: { ".eE".contains($0) }) }

    var description: String {
        switch self {
        case .object(let members): "{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        case .array(let values): "[" + values.map(\.description).joined(separator: ",") + "]"
        case .string(let text): "\"\(text)\""
        case .number(let text): text
        case .bool(let flag): String(flag)
        case .null: "null"
        }
    }

    /// Parses JSON text (lenient where it does not matter for comparison).
    static func parse(_ text: String) -> ComparableJSON? {
        var scalars = Array(text.unicodeScalars)[...]
        let value = parseValue(&scalars)
        skipSpace(&scalars)
        return scalars.isEmpty ? value : nil
    }

    private static func skipSpace(_ input: inout ArraySlice<Unicode.Scalar>) {
        while let first = input.first, first == " " || first == "\n" || first == "\r" || first == "\t" { input.removeFirst() }
    }

    private static func parseValue(_ input: inout ArraySlice<Unicode.Scalar>) -> ComparableJSON? {
        skipSpace(&input)
        guard let first = input.first else { return nil }
        switch first {
        case "{":
            input.removeFirst()
            var members: [Member] = []
            skipSpace(&input)
            if input.first == "}" {
                input.removeFirst()
                return .object(members)
            }
            while true {
                skipSpace(&input)
                guard case .string(let key)? = parseValue(&input) else { return nil }
                skipSpace(&input)
                guard input.popFirst() == ":", let value = parseValue(&input) else { return nil }
                members.append(Member(key: key, value: value))
                skipSpace(&input)
                switch input.popFirst() {
                case ",": continue
                case "}": return .object(members)
                default: return nil
                }
            }
        case "[":
            input.removeFirst()
            var values: [ComparableJSON] = []
            skipSpace(&input)
            if input.first == "]" {
                input.removeFirst()
                return .array(values)
            }
            while true {
                guard let value = parseValue(&input) else { return nil }
                values.append(value)
                skipSpace(&input)
                switch input.popFirst() {
                case ",": continue
                case "]": return .array(values)
                default: return nil
                }
            }
        case "\"":
            input.removeFirst()
            var result = String.UnicodeScalarView()
            var pendingHigh: UInt32?
            while let scalar = input.popFirst() {
                if scalar == "\"" { return .string(String(result)) }
                guard scalar == "\\" else {
                    result.append(scalar)
                    continue
                }
                guard let escaped = input.popFirst() else { return nil }
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "u":
                    let hex = String(String.UnicodeScalarView(input.prefix(4)))
                    input.removeFirst(min(4, input.count))
                    guard let unit = UInt32(hex, radix: 16) else { return nil }
                    if (0xD800...0xDBFF).contains(unit) {
                        pendingHigh = unit
                    } else if let high = pendingHigh, (0xDC00...0xDFFF).contains(unit) {
                        result.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))!)
                        pendingHigh = nil
                    } else {
                        guard let scalar = Unicode.Scalar(unit) else { return nil }
                        result.append(scalar)
                    }
                default: result.append(escaped)
                }
            }
            return nil
        case "t", "f", "n":
            for (word, value) in [("true", ComparableJSON.bool(true)), ("false", .bool(false)), ("null", .null)]
            where input.starts(with: word.unicodeScalars) {
                input.removeFirst(word.unicodeScalars.count)
                return value
            }
            return nil
        default:
            var text = String.UnicodeScalarView()
            while let scalar = input.first, "+-.0123456789eE".unicodeScalars.contains(scalar) {
                text.append(scalar)
                input.removeFirst()
            }
            return text.isEmpty ? nil : .number(String(text))
        }
    }
}

/// Expects two Extended JSON texts to be the same JSON.
func expectSameJSON(
    _ actual: String, _ expected: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let actualTree = ComparableJSON.parse(actual) else {
        Issue.record("\(what): our output is not JSON: \(actual)", sourceLocation: sourceLocation)
        return
    }
    guard let expectedTree = ComparableJSON.parse(expected) else {
        Issue.record("\(what): the corpus text is not JSON: \(expected)", sourceLocation: sourceLocation)
        return
    }
    #expect(actualTree == expectedTree, "\(what)\n  ours:   \(actual)\n  corpus: \(expected)", sourceLocation: sourceLocation)
}

// MARK: - Tests

@Suite("BSON corpus")
struct BSONCorpusTests {
    @Test("every corpus file loads, with the expected number of cases")
    func corpusLoads() {
        let corpus = BSONCorpus.shared
        #expect(corpus.loadFailures.isEmpty, "\(corpus.loadFailures)")
        #expect(corpus.files.count == 15)
        #expect(corpus.valid.count == 128)
        #expect(corpus.decodeErrors.count == 40)
        #expect(corpus.parseErrors.count == 28)
    }

    @Test("valid cases", arguments: BSONCorpus.shared.valid)
    func valid(_ item: ValidCorpusCase) throws {
        // cB → native → BSON = cB
        let native = try BSONDocument(bytes: item.canonicalBSON)
        #expect(try native.encoded() == item.canonicalBSON, "cB → native → BSON")

        if let canonical = item.canonicalExtJSON {
            let ours = native.extendedJSON(.canonical)
            let parsed = try BSONDocument(extendedJSON: canonical)
            if item.deviation == .legacyBinaryInCanonicalExtJSON {
                // See CorpusDeviation.legacyBinaryInCanonicalExtJSON.
                #expect(parsed == native, "cEJ (legacy binary form) → native = cB → native")
                #expect(try BSONDocument(extendedJSON: ours) == native, "our canonical text → native = cB → native")
                #expect(try BSONDocument(extendedJSON: parsed.extendedJSON(.canonical)) == native)
            } else {
                expectSameJSON(ours, canonical, "cB → native → canonical Extended JSON")
                expectSameJSON(parsed.extendedJSON(.canonical), canonical, "cEJ → native → canonical Extended JSON")
            }
            if !item.lossy {
                #expect(try parsed.encoded() == item.canonicalBSON, "cEJ → native → BSON")
            }
        }

        if let relaxed = item.relaxedExtJSON {
            expectSameJSON(native.extendedJSON(.relaxed), relaxed, "cB → native → relaxed Extended JSON")
            let parsed = try BSONDocument(extendedJSON: relaxed)
            expectSameJSON(parsed.extendedJSON(.relaxed), relaxed, "rEJ → native → relaxed Extended JSON")
        }

        if let degenerate = item.degenerateBSON {
            let degenerateNative = try BSONDocument(bytes: degenerate)
            if item.deviation == .regexOptionsKeptAsDecoded {
                // See CorpusDeviation.regexOptionsKeptAsDecoded.
                #expect(try degenerateNative.encoded() == degenerate, "dB → native → BSON = dB (lossless)")
            } else {
                #expect(try degenerateNative.encoded() == item.canonicalBSON, "dB → native → BSON")
            }
            if let canonical = item.canonicalExtJSON {
                expectSameJSON(degenerateNative.extendedJSON(.canonical), canonical, "dB → native → canonical Extended JSON")
            }
        }

        if let degenerate = item.degenerateExtJSON {
            let parsed = try BSONDocument(extendedJSON: degenerate)
            if let canonical = item.canonicalExtJSON {
                expectSameJSON(parsed.extendedJSON(.canonical), canonical, "dEJ → native → canonical Extended JSON")
            }
            if !item.lossy {
                #expect(try parsed.encoded() == item.canonicalBSON, "dEJ → native → BSON")
            }
        }
    }

    @Test("decode errors", arguments: BSONCorpus.shared.decodeErrors)
    func decodeError(_ item: DecodeErrorCorpusCase) {
        #expect(throws: BSONError.self, "decoding must fail") { try BSONDocument(bytes: item.bson) }
        #expect(throws: BSONError.self, "validation must fail") { try BSONDocument.validate(bytes: item.bson) }
    }

    @Test("parse errors", arguments: BSONCorpus.shared.parseErrors)
    func parseError(_ item: ParseErrorCorpusCase) throws {
        if item.bsonType == "0x13" {
            // Decimal128 parse errors are strings for a Decimal128 parser.
            #expect(throws: BSONError.self) { try BSONDecimal128(item.string) }
            return
        }
        // The failure must come from Extended JSON rules, not JSON syntax: a plain JSON parser
        // accepts the text.
        #expect(
            (try? JSONSerialization.jsonObject(with: Data(item.string.utf8))) != nil,
            "the corpus string should be valid JSON")
        if item.deviation == .dbRefIsPlainDocument {
            // See CorpusDeviation.dbRefIsPlainDocument.
            let document = try BSONDocument(extendedJSON: item.string)
            #expect(document["x"]?["$ref"] != nil, "kept as a plain document with its $ref")
            return
        }
        let error = #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: item.string) }
        #expect(error?.code == .invalidExtendedJSON, "\(String(describing: error))")
    }
}
