import BSONCodec
import Testing

// Inputs that the fuzz targets in Fuzz/ found to break a property, kept as regression
// tests. Each records what was wrong and checks the fixed behaviour.

@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// fuzz-ejson: regular-expression options outside ASCII. The parser sorted the options'
    /// UTF-8 *bytes*, which tore the two-byte characters U+0710 and U+034E apart; the
    /// resulting invalid UTF-8 was repaired to U+FFFD, so the stored options were not the
    /// ones given and canonical output did not read back as the same document. Whole
    /// Unicode scalars are sorted now.
    @Test func regexOptionsOutsideASCIIKeepTheirCharacters() throws {
        let input: [UInt8] = [
        0x7b, 0x22, 0x61, 0x30, 0x22, 0x20, 0x3a, 0x20, 0x7b, 0x22, 0x24, 0x72, 0x65, 0x67, 0x75, 0x6c,
        0x61, 0x72, 0x45, 0x78, 0x70, 0x72, 0x65, 0x73, 0x73, 0x69, 0x6f, 0x6e, 0x22, 0x20, 0x3a, 0x20,
        0x7b, 0x20, 0x22, 0x70, 0x61, 0x74, 0x74, 0x65, 0x72, 0x6e, 0x22, 0x3a, 0x20, 0x22, 0x61, 0x62,
        0x2f, 0x2d, 0x69, 0x64, 0x22, 0x2c, 0x20, 0x22, 0x6f, 0x70, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x22,
        0x20, 0x3a, 0x20, 0x22, 0x69, 0x6d, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x55, 0x6e, 0x73, 0x61, 0x66,
        0x65, 0x52, 0x61, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b, 0x5b,
        0x5b, 0x5b, 0xdc, 0x90, 0xcd, 0x8e, 0x69, 0x6f, 0x6e, 0x5b, 0x5b, 0x5b, 0x22, 0x7d, 0x7d, 0x7d,
        ]
        let document = try BSONDocument(extendedJSON: input)
        guard case .regex(let regex)? = document["a0"] else {
            Issue.record("a0 is not a regular expression: \(String(describing: document["a0"]))")
            return
        }
        #expect(regex.pattern == "ab/-id")
        #expect(!regex.options.unicodeScalars.contains("\u{FFFD}"))
        #expect(regex.options.unicodeScalars.filter { $0 == "\u{0710}" || $0 == "\u{034E}" }.count == 2)
        #expect(regex.options.unicodeScalars.elementsEqual(regex.options.unicodeScalars.sorted()))
        // The fuzz property: canonical text reads back as the same BSON.
        let canonical = document.extendedJSON(.canonical)
        #expect(try BSONDocument(extendedJSON: canonical).encoded() == document.encoded())
        #expect(try BSONDocument(bytes: document.encoded()) == document)
    }

    /// The writer had the same fault: options read from BSON (where they are stored as
    /// given) were written to Extended JSON with their UTF-8 bytes sorted.
    @Test func regexOptionsOutsideASCIIAreWrittenWhole() throws {
        let document: BSONDocument = ["r": .regex(BSONRegex(pattern: "a", options: "xé"))]
        let bytes = try document.encoded()
        let decoded = try BSONDocument(bytes: bytes)
        let text = decoded.extendedJSON(.canonical)
        #expect(text == #"{"r":{"$regularExpression":{"pattern":"a","options":"xé"}}}"#)
        #expect(!text.unicodeScalars.contains("\u{FFFD}"))
        #expect(try BSONDocument(extendedJSON: text) == decoded)
    }
}
