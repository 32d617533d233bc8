import BSONCodec
import Testing
import TestSupport

// BSONDecoder checks the bytes in its own single pass (which also indexes them) rather than
// with the strict reader behind BSONDocument(bytes:). These tests hold the two to the same
// answer: the same inputs accepted, and for the rest the same BSONError (code, offset, key
// path, message) as the underlying error of the decoder's dataCorrupted.

/// Reads only the keys of the outermost document through a keyed container: decoding it
/// exercises the decoder's own check of the bytes and nothing else (no strict reader).
private struct KeysOnly: Decodable {
    var keys: [String]

    init(from decoder: any Decoder) throws {
        keys = try decoder.container(keyedBy: BSONCodingKeyForTests.self).allKeys.map(\.stringValue)
    }
}

@Suite("Codable decoder strictness")
struct CodableStrictnessTests {
    /// Disagreements found, kept short.
    struct Findings {
        var problems: [String] = []
        var accepted = 0
        var rejected = 0

        mutating func report(_ problem: @autoclosure () -> String) {
            if problems.count < 10 { problems.append(problem()) }
        }
    }

    /// Decodes `bytes` with BSONDocument(bytes:) and with BSONDecoder under `options`;
    /// records any difference in outcome.
    static func compare(_ bytes: [UInt8], options: BSONDecodingOptions = .default, into findings: inout Findings) {
        let context = "maxDepth \(options.maxDepth), " + hexString(bytes.prefix(64))
        let decoder = BSONDecoder(options: options)
        let strict = Result { () throws(BSONError) in try BSONDocument(bytes: bytes, options: options) }
        let coded = Result { try decoder.decode(KeysOnly.self, from: bytes) }
        switch (strict, coded) {
        case (.success(let document), .success(let keysOnly)):
            findings.accepted += 1
            // Repeated keys are listed once, in the position of their first appearance.
            var distinct: [String] = []
            for key in document.keys where !distinct.contains(key) { distinct.append(key) }
            if keysOnly.keys != distinct { findings.report("keys differ: \(context)") }
            // Everything the decoder reads agrees with the document too.
            if (try? decoder.decode(BSONDocument.self, from: bytes)) != document {
                findings.report("decoding BSONDocument gave another document: \(context)")
            }
        case (.failure(let error), .failure(let thrown)):
            findings.rejected += 1
            guard case .dataCorrupted(let decodingContext)? = thrown as? DecodingError,
                let underlying = decodingContext.underlyingError as? BSONError
            else {
                findings.report("the decoder threw \(thrown), not dataCorrupted with a BSONError: \(context)")
                return
            }
            if underlying.code != error.code || underlying.offset != error.offset || underlying.keyPath != error.keyPath
                || underlying.message != error.message
            {
                findings.report("strict reader said \(error), the decoder \(underlying): \(context)")
            }
        case (.success, .failure(let thrown)):
            findings.report("the decoder rejected what the strict reader accepts (\(thrown)): \(context)")
        case (.failure(let error), .success):
            findings.report("the decoder accepted what the strict reader rejects (\(error)): \(context)")
        }
    }

    @Test("20,000 byte mutations of the corpus and of random nested documents: same verdict, same error")
    func mutations() throws {
        var random = SplitMix64(seed: 0xC0DA_B1E5)
        var findings = Findings()
        var sources = Corpus.encoded.map(\.bytes)
        for seed in 0..<20 { sources.append(try Corpus.randomDocument(seed: UInt64(seed), depth: 4).encoded()) }
        for iteration in 0..<20_000 {
            let mutated = FuzzFlipTests.mutate(sources[iteration % sources.count], &random)
            // Now and then a tight nesting limit, so that depth errors meet the other errors.
            let options = iteration % 7 == 0 ? BSONDecodingOptions(maxDepth: Int(random.next() % 4)) : .default
            Self.compare(mutated, options: options, into: &findings)
        }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
        #expect(findings.rejected > 1000)
        #expect(findings.accepted > 100)
    }

    @Test("every truncation and every single-byte change of a document of all types")
    func exhaustiveSmallChanges() throws {
        var findings = Findings()
        let bytes = try Corpus.allTypes.encoded()
        for length in 0..<bytes.count {
            // Truncated, and truncated with the header saying so.
            var cut = Array(bytes[..<length])
            Self.compare(cut, into: &findings)
            if cut.count >= 4 {
                cut.replaceSubrange(0..<4, with: withUnsafeBytes(of: Int32(cut.count).littleEndian, Array.init))
                Self.compare(cut, into: &findings)
            }
        }
        for position in 0..<bytes.count {
            for value: UInt8 in [0x00, 0x01, 0x02, 0x05, 0x7F, 0x80, 0xC0, 0xFF] where bytes[position] != value {
                var copy = bytes
                copy[position] = value
                Self.compare(copy, into: &findings)
            }
        }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
    }

    @Test("the official corpus: valid cases accepted, decode errors rejected with the strict reader's error")
    func officialCorpus() {
        var findings = Findings()
        for test in BSONCorpus.shared.valid { Self.compare(test.canonicalBSON, into: &findings) }
        for test in BSONCorpus.shared.decodeErrors { Self.compare(test.bson, into: &findings) }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
        #expect(findings.rejected == BSONCorpus.shared.decodeErrors.count)
    }

    @Test("nesting limits from 0 to 6 on documents, arrays and code-with-scope scopes")
    func nestingLimits() throws {
        var findings = Findings()
        var nested: BSONValue = ["leaf": true]
        var documents: [BSONDocument] = []
        for level in 0..<6 {
            switch level % 3 {
            case 0: nested = ["d": nested]
            case 1: nested = [nested]
            default: nested = .javascriptWithScope(BSONCodeWithScope(code: "c", scope: ["s": nested]))
            }
            documents.append(["top": nested])
        }
        for document in documents {
            let bytes = try document.encoded(options: BSONEncodingOptions(maxDepth: 50))
            for limit in 0...6 { Self.compare(bytes, options: BSONDecodingOptions(maxDepth: limit), into: &findings) }
        }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
        #expect(findings.accepted > 0 && findings.rejected > 0)
    }
}
