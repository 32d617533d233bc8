import BSONCodec
import Testing
import TestSupport

@Suite("Lossless round trips")
struct LosslessTests {
    @Test("decode then encode gives identical bytes for every corpus document", arguments: Corpus.documents.indices)
    func corpusDocument(index: Int) throws {
        let (name, document) = Corpus.documents[index]
        let bytes = try document.encoded()
        let decoded = try BSONDocument(bytes: bytes)
        #expect(decoded == document, "\(name)")
        #expect(try decoded.encoded() == bytes, "\(name)")
        try BSONDocument.validate(bytes: bytes)
        let view = try BSONView(bytes: bytes)
        #expect(try view.document() == document)
        #expect(try view.keys == document.keys)
    }

    @Test("the corpus holds every type, nested and at the top level")
    func corpusCoverage() {
        var types = Set<BSONType>()
        func collect(_ value: BSONValue) {
            types.insert(value.type)
            switch value {
            case .document(let document): document.values.forEach(collect)
            case .array(let values): values.forEach(collect)
            case .javascriptWithScope(let code): code.scope.values.forEach(collect)
            default: break
            }
        }
        for (_, document) in Corpus.documents { document.values.forEach(collect) }
        #expect(types == Set(BSONType.allCases))
        #expect(Set(Corpus.allTypes.values.map(\.type)) == Set(BSONType.allCases))
    }

    @Test("300 random documents of every type: encode, decode, encode again")
    func randomDocuments() throws {
        var random = SplitMix64(seed: 0x5EED)
        var failures = 0
        for index in 0..<300 {
            let document = Corpus.randomDocument(&random, depth: 4)
            let bytes = try document.encoded()
            let decoded = try BSONDocument(bytes: bytes)
            let again = try decoded.encoded()
            if decoded != document || again != bytes {
                failures += 1
                if failures <= 3 { Issue.record("random document \(index) changed: \(document) → \(decoded)") }
            }
        }
        #expect(failures == 0)
    }

    @Test("a literal document survives encode and decode")
    func literal() throws {
        let document: BSONDocument = ["a": 1, "b": "hello", "c": [1, 2.5, true], "d": ["x": nil]]
        let bytes = try document.encoded()
        #expect(try BSONDocument(bytes: bytes) == document)
        // {"a": 1, "b": "hello", "c": [1, 2.5, true], "d": {"x": null}}
        let expected = Wire.document(
            Wire.element(0x10, "a", Wire.int32(1)),
            Wire.element(0x02, "b", Wire.string("hello")),
            Wire.element(
                0x04, "c",
                Wire.document(
                    Wire.element(0x10, "0", Wire.int32(1)),
                    Wire.element(0x01, "1", Wire.uint64(2.5.bitPattern)),
                    Wire.element(0x08, "2", [1]))),
            Wire.element(0x03, "d", Wire.document(Wire.element(0x0A, "x", []))))
        #expect(bytes == expected)
    }

    @Test("isEquivalent ignores key order at every level but == does not")
    func equivalence() {
        let a: BSONDocument = ["x": 1, "y": ["p": 1, "q": 2], "z": [["m": 1, "n": 2]]]
        let b: BSONDocument = ["y": ["q": 2, "p": 1], "z": [["n": 2, "m": 1]], "x": 1]
        #expect(a != b)
        #expect(a.isEquivalent(to: b))
        let c: BSONDocument = ["x": 1, "y": ["p": 1, "q": 3], "z": [["m": 1, "n": 2]]]
        #expect(!a.isEquivalent(to: c))
        // Arrays stay ordered.
        #expect(!(["a": [1, 2]] as BSONDocument).isEquivalent(to: ["a": [2, 1]]))
    }
}
