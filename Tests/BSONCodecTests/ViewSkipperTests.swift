import BSONCodec
import Testing

/// The view steps over elements in Swift, scanning keys eight bytes at a time. These cases
/// put key ends and value ends on every position around those eight-byte steps.
@Suite("BSONView element skipping")
struct ViewSkipperTests {
    @Test("every key of every length 0…40 is found with its value, in documents of every type", arguments: 0...40)
    func keysOfEveryLength(length: Int) throws {
        var document = BSONDocument()
        // Neighbours of many sizes before and after the key of interest.
        for index in 0..<12 {
            document.append(.string(String(repeating: "v", count: index * 3)), forKey: String(repeating: "k", count: index) + "\(index)")
        }
        let key = String(repeating: "x", count: length)
        document.append(.int32(Int32(length)), forKey: key)
        document.append(.binary(BSONBinary(data: [1, 2, 3], subtype: .binaryOld)), forKey: "old")
        document.append(.javascriptWithScope(BSONCodeWithScope(code: "f", scope: ["a": 1])), forKey: "cws")
        document.append(.dbPointer(BSONDBPointer(ref: "db.c", id: BSONObjectID(hex: "000102030405060708090a0b")!)), forKey: "ptr")
        document.append(.regex(BSONRegex(pattern: "a+", options: "i")), forKey: "re")
        document.append(.bool(true), forKey: "last")
        let view = try BSONView(bytes: try document.encoded())
        for field in document {
            #expect(try view[field.key] == document[field.key], "key \(field.key.debugDescription)")
        }
        #expect(try view[key + "y"] == nil)
        #expect(try view.type(forKey: "last") == .bool)
    }

    @Test("a malformed element before the key stops the lookup with the decoder's diagnosis")
    func malformedBeforeKey() throws {
        var bytes = try (["a": "hello", "b": 1] as BSONDocument).encoded()
        // "a"'s string length (at offset 7) claims more bytes than the document has.
        bytes[7] = 0x7F
        let view = try BSONView(bytes: bytes)
        let error = try #require(throws: BSONError.self) { try view["b"] }
        #expect(error.code == .malformed)
        #expect(error.offset == 7)
        #expect(error.keyPath == ["a"])
        #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
    }

    @Test("a boolean byte other than 0 or 1 before the key is refused, as libbson's iterator does")
    func badBooleanBeforeKey() throws {
        var bytes = try (["flag": true, "b": 1] as BSONDocument).encoded()
        bytes[10] = 2
        let error = try #require(throws: BSONError.self) { try BSONView(bytes: bytes)["b"] }
        #expect(error.code == .invalidBoolean)
    }
}
