import BSONCodec
import Testing

@Suite("BSONView")
struct ViewTests {
    /// {"first": 1, "": "empty key", "middle": {"x": true}, "dup": "one", "dup": "two",
    ///  "last": [1, 2]}
    static let document: BSONDocument = [
        "first": 1, "": "empty key", "middle": ["x": true], "dup": "one", "dup": "two", "last": [1, 2],
    ]
    static let bytes = try! document.encoded()

    @Test("lookups of the first, middle, last, empty and missing keys")
    func lookups() throws {
        let view = try BSONView(bytes: Self.bytes)
        #expect(try view["first"] == .int32(1))
        #expect(try view["middle"] == .document(["x": true]))
        #expect(try view["last"] == .array([1, 2]))
        #expect(try view[""] == .string("empty key"))
        #expect(try view["missing"] == nil)
        #expect(try view["firs"] == nil)
        #expect(try view["first\u{0}"] == nil)
        #expect(try view.value(forKey: "first") == .int32(1))
    }

    @Test("a key that appears twice: the first wins, as in BSONDocument")
    func duplicateKey() throws {
        let view = try BSONView(bytes: Self.bytes)
        #expect(try view["dup"] == .string("one"))
        #expect(Self.document["dup"] == .string("one"))
    }

    @Test("a key containing NUL is never found")
    func keyWithNUL() throws {
        // {"a": 1, "b": 2}: "a\0b" must not match "a" by C string comparison.
        let view = try BSONView(bytes: hex("13 00 00 00 10 61 00 01 00 00 00 10 62 00 02 00 00 00 00"))
        #expect(try view["a\u{0}b"] == nil)
        #expect(try view["a\u{0}"] == nil)
        #expect(try view["\u{0}"] == nil)
        #expect(try view.type(forKey: "a\u{0}") == nil)
        #expect(try !view.contains(key: "a\u{0}"))
        #expect(try view["a"] == .int32(1))
    }

    @Test("type(forKey:), contains(key:), keys and forEachElement")
    func metadata() throws {
        let view = try BSONView(bytes: Self.bytes)
        #expect(try view.type(forKey: "first") == .int32)
        #expect(try view.type(forKey: "middle") == .document)
        #expect(try view.type(forKey: "last") == .array)
        #expect(try view.type(forKey: "dup") == .string)
        #expect(try view.type(forKey: "missing") == nil)
        #expect(try view.contains(key: ""))
        #expect(try !view.contains(key: "missing"))
        #expect(try view.keys == ["first", "", "middle", "dup", "dup", "last"])
        var seen: [(String, BSONType)] = []
        try view.forEachElement { key, type in seen.append((key, type)) }
        #expect(seen.map(\.0) == ["first", "", "middle", "dup", "dup", "last"])
        #expect(seen.map(\.1) == [.int32, .string, .document, .string, .string, .array])
        #expect(try view.document() == Self.document)
        try view.validate()
    }

    @Test("forEachElement passes on what its body throws")
    func forEachElementRethrows() throws {
        let view = try BSONView(bytes: Self.bytes)
        var visited = 0
        do {
            try view.forEachElement { (_, _) throws(BSONError) in
                visited += 1
                if visited == 2 { throw BSONError(.invalidValue, "stop") }
            }
            Issue.record("the error was swallowed")
        } catch {
            #expect(error.message == "stop")
        }
        #expect(visited == 2)
    }

    @Test("every type through a view, and every key of the corpus")
    func allTypes() throws {
        for (name, document) in Corpus.documents {
            let view = try BSONView(bytes: try document.encoded())
            for key in Set(document.keys) {
                #expect(try view[key] == document[key], "\(name).\(key)")
                #expect(try view.type(forKey: key) == document[key]?.type, "\(name).\(key)")
            }
        }
    }

    @Test("creating a view checks only the header")
    func creation() {
        #expect(throws: BSONError.self) { try BSONView(bytes: []) }
        #expect(throws: BSONError.self) { try BSONView(bytes: hex("06 00 00 00 00")) }
        #expect(throws: BSONError.self) { try BSONView(bytes: hex("05 00 00 00 01")) }
        // A bad element inside does not stop creation.
        #expect(throws: Never.self) { try BSONView(bytes: hex("08 00 00 00 14 61 00 00")) }
    }

    // MARK: Laziness

    /// {"good": 1, "bad": <string with length 100>, …}: the bad element is structurally
    /// broken, so libbson's iterator stops there.
    static let brokenAfterGood: [UInt8] = Wire.document(
        Wire.element(0x10, "good", Wire.int32(1)),
        Wire.element(0x02, "bad", Wire.int32(100) + Array("xy".utf8) + [0]),
        Wire.element(0x10, "late", Wire.int32(2)))

    @Test("a malformed element before the key is an error")
    func malformedBefore() throws {
        let view = try BSONView(bytes: Self.brokenAfterGood)
        // "good" is 4...13, "bad" starts at 14 and its length at 19.
        do {
            _ = try view["late"]
            Issue.record("lookup walked past a broken element")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.offset == 19)
            #expect(error.keyPath == ["bad"])
        }
        #expect(throws: BSONError.self) { try view["missing"] }
        #expect(throws: BSONError.self) { try view.type(forKey: "late") }
        #expect(throws: BSONError.self) { try view.keys }
    }

    @Test("a malformed element after the key: the lookup still works, validate() fails")
    func malformedAfter() throws {
        let view = try BSONView(bytes: Self.brokenAfterGood)
        #expect(try view["good"] == .int32(1))
        #expect(try view.type(forKey: "good") == .int32)
        #expect(throws: BSONError.self) { try view.validate() }
        #expect(throws: BSONError.self) { try view.document() }
    }

    @Test("the value returned is fully validated: bad UTF-8 inside it is an error")
    func foundValueValidated() throws {
        // {"s": "x\xFFy"}: the string's bytes at 11, the bad byte at 12.
        let string = try BSONView(bytes: Wire.document(Wire.element(0x02, "s", Wire.string([0x78, 0xFF, 0x79]))))
        do {
            _ = try string["s"]
            Issue.record("returned an invalid string")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.offset == 12)
            #expect(error.keyPath == ["s"])
        }
        // The type alone needs no decoding.
        #expect(try string.type(forKey: "s") == .string)

        // {"d": {"ok": 1, "s": "\xED\xA0\x80"}}: bad bytes deep inside the found document.
        let inner = Wire.document(Wire.element(0x10, "ok", Wire.int32(1)), Wire.element(0x02, "s", Wire.string([0xED, 0xA0, 0x80])))
        let nested = try BSONView(bytes: Wire.document(Wire.element(0x03, "d", inner)))
        do {
            _ = try nested["d"]
            Issue.record("returned a document holding an invalid string")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.keyPath == ["d", "s"])
            // inner at 7; "ok" 11...18; "s" at 19, its length at 22, bytes at 26.
            #expect(error.offset == 26)
        }

        // A found nested document whose length disagrees with its content.
        let shortInner = Wire.document(Wire.element(0x03, "d", Wire.int32(5) + Wire.element(0x0A, "z", []) + [0]))
        #expect(throws: BSONError.self) { try BSONView(bytes: shortInner)["d"] }
    }

    @Test("the view's depth limit applies to the value returned")
    func viewDepth() throws {
        let bytes = MalformedInputTests.nestingBomb(levels: 5, type: 0x03)
        let strict = try BSONView(bytes: bytes, options: BSONDecodingOptions(maxDepth: 3))
        do {
            _ = try strict["a"]
            Issue.record("the depth limit was not applied")
        } catch {
            #expect(error.code == .nestingTooDeep)
        }
        let relaxed = try BSONView(bytes: bytes, options: BSONDecodingOptions(maxDepth: 5))
        #expect(try relaxed["a"] != nil)
    }

    @Test("keys with invalid UTF-8 are reported like the decoder reports them")
    func badKey() throws {
        // {"ok": null, "x\xC0\x80": null}: the bad key starts at 9, its bad byte at 10.
        let bytes = Wire.document(Wire.element(0x0A, "ok", []), Wire.element(0x0A, keyBytes: [0x78, 0xC0, 0x80], []))
        let view = try BSONView(bytes: bytes)
        let decoded = decodeError(bytes)
        #expect(decoded?.code == .invalidUTF8)
        #expect(decoded?.offset == 10)
        do {
            _ = try view.keys
            Issue.record("keys accepted an invalid key")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.offset == decoded?.offset)
            #expect(error.keyPath == decoded?.keyPath)
        }
        // A lookup by another key walks past it (elements on the way are only bounds-checked).
        #expect(try view["ok"] == .null)
    }
}
