import BSONCodec
import Testing
import TestSupport

// Random byte changes over the corpus of valid documents, with a seeded generator so that
// every run checks the same 20,000 mutations.

@Suite("Random byte flips")
struct FuzzFlipTests {
    /// How a mutated input fared, collected so that one bad case does not print thousands of
    /// failures.
    struct Findings {
        var problems: [String] = []
        var accepted = 0
        var rejected = 0

        mutating func report(_ problem: @autoclosure () -> String) {
            if problems.count < 10 { problems.append(problem()) }
        }
    }

    /// Changes 1 to 4 bytes of `bytes`: mostly random values, sometimes 0x00, 0xFF or a
    /// neighbour of the old value (which hits lengths and type bytes hardest).
    static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var copy = bytes
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = Int(random.next() % UInt64(copy.count))
            let old = copy[position]
            var new: UInt8
            switch random.next() % 6 {
            case 0: new = 0x00
            case 1: new = 0xFF
            case 2: new = old &+ 1
            case 3: new = old &- 1
            default: new = UInt8(truncatingIfNeeded: random.next())
            }
            if new == old { new = old ^ 0x80 }
            copy[position] = new
        }
        return copy
    }

    /// Decodes, validates, re-encodes and looks up keys in `bytes`; records what disagrees.
    static func check(_ bytes: [UInt8], probeKeys: [String], into findings: inout Findings) {
        let context = hexString(bytes.prefix(64))
        let decoded: BSONDocument?
        let decodeFailure: BSONError?
        do {
            decoded = try BSONDocument(bytes: bytes)
            decodeFailure = nil
        } catch {
            decoded = nil
            decodeFailure = error
        }
        let validateFailure = validateError(bytes)

        if let decoded {
            findings.accepted += 1
            if let validateFailure { findings.report("validate rejected what decode accepted (\(validateFailure)): \(context)") }
            do {
                let again = try decoded.encoded()
                let redecoded = try BSONDocument(bytes: again)
                if redecoded != decoded { findings.report("re-encoding changed the document: \(context)") }
                if try redecoded.encoded() != again { findings.report("second re-encoding differs: \(context)") }
            } catch {
                findings.report("re-encoding a decoded document failed (\(error)): \(context)")
            }
        } else if let decodeFailure {
            findings.rejected += 1
            if let validateFailure {
                if validateFailure.code != decodeFailure.code || validateFailure.offset != decodeFailure.offset
                    || validateFailure.keyPath != decodeFailure.keyPath
                {
                    findings.report("decode said \(decodeFailure), validate said \(validateFailure): \(context)")
                }
            } else {
                findings.report("validate accepted what decode rejected (\(decodeFailure)): \(context)")
            }
            // Every rejection is explained specifically; the generic "malformed <type>
            // element" wording means the diagnosis could not say what libbson refused.
            if decodeFailure.message.hasPrefix("malformed "), decodeFailure.message.hasSuffix(" element") {
                findings.report("unexplained rejection (\(decodeFailure)): \(context)")
            }
            if let offset = decodeFailure.offset, !(0..<max(bytes.count, 1)).contains(offset) {
                findings.report("offset \(offset) outside the \(bytes.count) input bytes: \(context)")
            }
        }

        // The view: lookups and keys must never crash; on a valid document they must agree
        // with the decoded one.
        guard let view = try? BSONView(bytes: bytes) else { return }
        let viewValid = (try? view.validate()) != nil
        if viewValid != (decoded != nil) { findings.report("view.validate disagrees with decode: \(context)") }
        let keys = try? view.keys
        if let decoded, keys != decoded.keys { findings.report("view keys differ from the document's: \(context)") }
        for key in probeKeys + (keys?.prefix(2).map { $0 } ?? []) {
            let value = try? view.value(forKey: key)
            if let decoded, value != decoded[key] { findings.report("view[\(key)] differs from the document's: \(context)") }
        }
        if let key = probeKeys.first {
            let type = try? view.type(forKey: key)
            if let decoded, type != decoded[key]?.type { findings.report("view type(\(key)) differs: \(context)") }
        }
    }

    @Test("20,000 mutations: decode throws or returns, validate agrees, re-encoding decodes", .timeLimit(.minutes(5)))
    func flips() {
        var random = SplitMix64(seed: 0xB5_0C_5E_ED)
        var findings = Findings()
        let corpus = Corpus.encoded
        let probeKeys: [[String]] = Corpus.documents.map { entry in
            let keys = entry.document.keys
            return [keys.dropFirst(keys.count / 2).first, keys.first, keys.last].compactMap { $0 } + ["missing"]
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(240)
        var done = 0
        for iteration in 0..<20_000 {
            guard clock.now < deadline else { break }
            let which = iteration % corpus.count
            let mutated = Self.mutate(corpus[which].bytes, &random)
            Self.check(mutated, probeKeys: probeKeys[which], into: &findings)
            done += 1
        }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
        // The mutations must exercise both outcomes, or the test proves little.
        #expect(findings.rejected > 1000)
        #expect(findings.accepted > 100)
        #expect(done == 20_000, "stopped at the time limit after \(done) mutations")
    }

    @Test("mutations of the length headers and type bytes only", .timeLimit(.minutes(2)))
    func structuralFlips() throws {
        var random = SplitMix64(seed: 42)
        var findings = Findings()
        let bytes = try Corpus.allTypes.encoded()
        // Offsets of the type bytes and the length fields that follow the keys, found by
        // walking the top-level elements through a view.
        var structural: [Int] = [0, 1, 2, 3]
        var offset = 4
        let document = try BSONDocument(bytes: bytes)
        for field in document {
            structural.append(offset)
            let elementBytes = try BSONDocument([(key: field.key, value: field.value)]).encoded()
            let keyLength = field.key.utf8.count + 1
            structural.append(contentsOf: (offset + 1 + keyLength)..<min(offset + 1 + keyLength + 4, bytes.count))
            offset += elementBytes.count - 5
        }
        #expect(offset == bytes.count - 1)
        for _ in 0..<3_000 {
            var copy = bytes
            for _ in 0..<(1 + Int(random.next() % 2)) {
                let position = structural[Int(random.next() % UInt64(structural.count))]
                copy[position] = UInt8(truncatingIfNeeded: random.next())
            }
            Self.check(copy, probeKeys: ["string", "document", "maxKey", "missing"], into: &findings)
        }
        #expect(findings.problems.isEmpty, "\(findings.problems.joined(separator: "\n"))")
    }
}
