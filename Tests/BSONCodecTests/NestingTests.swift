import BSONCodec
import Testing

@Suite("Nesting limits")
struct NestingTests {
    /// `levels` documents nested inside the outermost one under the key "a".
    static func nestedDocuments(_ levels: Int) -> BSONDocument {
        var document = BSONDocument()
        for _ in 0..<levels { document = ["a": .document(document)] }
        return document
    }

    /// {"a": [[…]]} with `levels` arrays (levels ≥ 1).
    static func nestedArrays(_ levels: Int) -> BSONDocument {
        var value = BSONValue.array([])
        for _ in 1..<levels { value = .array([value]) }
        return ["a": value]
    }

    /// Code with scope nested `levels` times.
    static func nestedScopes(_ levels: Int) -> BSONDocument {
        var scope = BSONDocument()
        for _ in 0..<levels { scope = ["a": .javascriptWithScope(BSONCodeWithScope(code: "", scope: scope))] }
        return scope
    }

    // MARK: Decoding

    @Test("decoding: exactly 100 levels pass by default, 101 are .nestingTooDeep", arguments: [0x03, 0x04] as [UInt8])
    func decodeDefault(type: UInt8) throws {
        let atLimit = MalformedInputTests.nestingBomb(levels: 100, type: type)
        #expect(decodeError(atLimit) == nil)
        #expect(validateError(atLimit) == nil)
        let key = type == 0x03 ? "a" : "0"
        expectRejected(
            MalformedInputTests.nestingBomb(levels: 101, type: type), .nestingTooDeep, offset: 704,
            keyPath: ["a"] + [String](repeating: key, count: 100))
    }

    @Test("decoding: code-with-scope scopes count as levels")
    func decodeScopes() {
        #expect(decodeError(MalformedInputTests.scopeBomb(levels: 100)) == nil)
        var keyPath: [String] = []
        for _ in 0..<100 { keyPath += ["a", "$scope"] }
        expectRejected(MalformedInputTests.scopeBomb(levels: 101), .nestingTooDeep, offset: 1604, keyPath: keyPath + ["a"])
    }

    @Test("decoding with custom limits", arguments: [0, 1, 2, 5, 37, 250])
    func decodeCustom(limit: Int) {
        let options = BSONDecodingOptions(maxDepth: limit)
        for type in [0x03, 0x04] as [UInt8] {
            let atLimit = MalformedInputTests.nestingBomb(levels: limit, type: type)
            #expect(decodeError(atLimit, options: options) == nil, "\(limit) levels, limit \(limit)")
            #expect(validateError(atLimit, options: options) == nil)
            let key = type == 0x03 ? "a" : "0"
            expectRejected(
                MalformedInputTests.nestingBomb(levels: limit + 1, type: type), .nestingTooDeep, offset: 7 * limit + 4,
                keyPath: ["a"] + [String](repeating: key, count: limit), options: options)
        }
        #expect(decodeError(MalformedInputTests.scopeBomb(levels: limit), options: options) == nil)
        #expect(decodeError(MalformedInputTests.scopeBomb(levels: limit + 1), options: options)?.code == .nestingTooDeep)
    }

    @Test("a document that exceeds a small limit passes a larger one")
    func largerLimit() {
        let bytes = MalformedInputTests.nestingBomb(levels: 150, type: 0x03)
        #expect(decodeError(bytes)?.code == .nestingTooDeep)
        #expect(decodeError(bytes, options: BSONDecodingOptions(maxDepth: 150)) == nil)
        #expect(BSONDecodingOptions.default.maxDepth == 100)
        #expect(BSONDecodingOptions() == .default)
    }

    // MARK: Encoding

    @Test("encoding: exactly 100 levels pass by default, 101 are .nestingTooDeep")
    func encodeDefault() throws {
        #expect(try Self.nestedDocuments(100).encoded() == MalformedInputTests.nestingBomb(levels: 100, type: 0x03))
        #expect(try Self.nestedArrays(100).encoded() == MalformedInputTests.nestingBomb(levels: 100, type: 0x04))
        #expect(try Self.nestedScopes(100).encoded() == MalformedInputTests.scopeBomb(levels: 100))
        for (document, keyPath) in [
            (Self.nestedDocuments(101), [String](repeating: "a", count: 101)),
            (Self.nestedArrays(101), ["a"] + [String](repeating: "0", count: 100)),
        ] {
            do {
                _ = try document.encoded()
                Issue.record("encoded 101 levels")
            } catch {
                #expect(error.code == .nestingTooDeep)
                #expect(error.keyPath == keyPath)
            }
        }
        do {
            _ = try Self.nestedScopes(101).encoded()
            Issue.record("encoded 101 scopes")
        } catch {
            #expect(error.code == .nestingTooDeep)
            #expect(error.keyPath.count == 201)
        }
    }

    @Test("encoding with custom limits", arguments: [0, 1, 3, 64])
    func encodeCustom(limit: Int) {
        let options = BSONEncodingOptions(maxDepth: limit)
        let builders: [(Int) -> BSONDocument] = [Self.nestedDocuments, Self.nestedScopes] + (limit > 0 ? [Self.nestedArrays] : [])
        for build in builders {
            #expect(throws: Never.self) { try build(limit).encoded(options: options) }
            #expect(throws: BSONError.self) { try build(limit + 1).encoded(options: options) }
        }
        // An empty document or array counts as a level even though it holds nothing.
        #expect(throws: BSONError.self) { try Self.nestedDocuments(limit + 1).encoded(options: options) }
        #expect(BSONEncodingOptions.default.maxDepth == BSONDecodingOptions.default.maxDepth)
    }

    @Test("whatever encodes under a limit decodes under the same limit")
    func limitsAgree() throws {
        for limit in [0, 1, 4, 100] {
            for document in [Self.nestedDocuments(limit), Self.nestedScopes(limit)] + (limit > 0 ? [Self.nestedArrays(limit)] : []) {
                let bytes = try document.encoded(options: BSONEncodingOptions(maxDepth: limit))
                #expect(try BSONDocument(bytes: bytes, options: BSONDecodingOptions(maxDepth: limit)) == document)
            }
        }
    }

    @Test("a negative limit is a programming error")
    func negativeLimit() async {
        await #expect(processExitsWith: .failure) { _ = BSONDecodingOptions(maxDepth: -1) }
        await #expect(processExitsWith: .failure) { _ = BSONEncodingOptions(maxDepth: -1) }
    }
}
