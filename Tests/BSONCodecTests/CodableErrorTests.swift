import BSONCodec
import Foundation
import Testing

// DecodingError and EncodingError: the case, the exact coding path and the message, on
// both the direct path and the document path.

private struct Inner: Codable {
    var values: [Int32]
    var name: String
}

private struct Outer: Codable {
    var items: [Inner]
    var byKey: [String: Inner]
}

@Suite("Codable errors")
struct CodableErrorTests {
    @Test("a type mismatch names the BSON type found and the full coding path")
    func typeMismatch() throws {
        let document: BSONDocument = [
            "items": [["values": [1, 2], "name": "ok"], ["values": [1, "two"], "name": "bad"]],
            "byKey": [:],
        ]
        let error = decodingError(Outer.self, from: try document.encoded())
        #expect(error?.summary == "typeMismatch at items.1.values.1: expected an int32 or int64, found string")
        guard case .typeMismatch(let type, let context) = error else {
            Issue.record("expected typeMismatch")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int32.self))
        #expect(context.codingPath.map(\.intValue) == [nil, 1, nil, 1])
    }

    @Test("messages for each kind of Swift type")
    func messages() throws {
        struct All: Codable {
            var string: String
            var bool: Bool
            var double: Double
            var date: Date
            var data: Data
            var uuid: UUID
            var objectID: BSONObjectID
            var document: BSONDocument
            var list: [Int]
            var nested: Inner
        }
        let valid: BSONDocument = [
            "string": "s", "bool": true, "double": 1.5, "date": .datetime(BSONDatetime(millisecondsSinceEpoch: 0)),
            "data": .binary(BSONBinary(data: [1])), "uuid": .binary(BSONBinary(uuid: UUID())),
            "objectID": .objectID(sampleObjectID), "document": [:], "list": [1], "nested": ["values": [], "name": "n"],
        ]
        _ = try BSONDecoder().decode(All.self, from: valid)
        let cases: [(String, BSONValue, String)] = [
            ("string", 1, "typeMismatch at string: expected a string, found int32"),
            ("bool", 1, "typeMismatch at bool: expected a bool, found int32"),
            ("double", "x", "typeMismatch at double: expected a double, int32 or int64, found string"),
            ("date", 5, "typeMismatch at date: expected a datetime, found int32"),
            ("data", "x", "typeMismatch at data: expected binary data, found string"),
            ("uuid", "x", "typeMismatch at uuid: expected binary data of subtype 4 (a UUID), found string"),
            ("objectID", "x", "typeMismatch at objectID: expected an objectID, found string"),
            ("document", [1], "typeMismatch at document: expected a document, found array"),
            ("list", ["a": 1], "typeMismatch at list: expected an array, found document"),
            ("nested", .minKey, "typeMismatch at nested: expected a document, found minKey"),
            ("nested", nil, "valueNotFound at nested: expected a document, found null"),
            ("string", nil, "valueNotFound at string: expected a string, found null"),
        ]
        for (key, value, expected) in cases {
            var document = valid
            document[key] = value
            #expect(decodingError(All.self, from: try document.encoded())?.summary == expected, "\(key)")
        }
    }

    @Test("integer range: an int64 too large for Int32, negative into unsigned")
    func ranges() throws {
        struct Narrow: Codable {
            var small: Int32
            var tiny: UInt8
        }
        #expect(
            decodingError(Narrow.self, from: try bsonBytes(["small": .int64(3_000_000_000), "tiny": 1]))?.summary
                == "dataCorrupted at small: int64 value 3000000000 does not fit in Int32")
        #expect(
            decodingError(Narrow.self, from: try bsonBytes(["small": 1, "tiny": -1]))?.summary
                == "dataCorrupted at tiny: int32 value -1 does not fit in UInt8")
        #expect(try BSONDecoder().decode(Narrow.self, from: ["small": .int64(-5), "tiny": .int64(255)]).tiny == 255)
        // Type 0x11 (py-bson's unsigned 64-bit) is for UInt64 only.
        #expect(
            decodingError(Narrow.self, from: try bsonBytes(["small": .timestamp(BSONTimestamp(uint64: 1)), "tiny": 1]))?.summary
                == "typeMismatch at small: expected an int32 or int64, found timestamp")
    }

    @Test("a missing key: keyNotFound with the container's path")
    func keyNotFound() throws {
        let document: BSONDocument = ["items": [["values": []]], "byKey": [:]]
        #expect(decodingError(Outer.self, from: try document.encoded())?.summary == "keyNotFound(name) at items.0: no value for the key \"name\"")
    }

    @Test("an array too short: valueNotFound at the missing index")
    func shortArray() throws {
        struct Pair: Decodable {
            var a: Int
            var b: Int
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                a = try container.decode(Int.self)
                b = try container.decode(Int.self)
            }
        }
        struct Holder: Decodable { var pair: Pair }
        #expect(
            decodingError(Holder.self, from: try bsonBytes(["pair": [1]]))?.summary
                == "valueNotFound at pair.1: the array has no element at index 1 (it has 1)")
    }

    @Test("malformed bytes on the direct path: dataCorrupted whose underlying error is the BSONError")
    func malformed() throws {
        var bytes = try bsonBytes(["a": ["b": "text"]])
        // Corrupt the UTF-8 of "text".
        let position = bytes.firstIndex(of: UInt8(ascii: "t"))! + 1
        bytes[position] = 0xFF
        let error = thrownError { _ = try BSONDecoder().decode(BSONDocument.self, from: bytes) }
        guard case .dataCorrupted(let context) = error as? DecodingError else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        let underlying = context.underlyingError as? BSONError
        #expect(underlying?.code == .invalidUTF8)
        #expect(underlying?.keyPath == ["a", "b"])
        #expect(context.codingPath.map(\.stringValue) == ["a", "b"])
        #expect(context.debugDescription.hasPrefix("the bytes are not a valid BSON document: string is not valid UTF-8"))
        // Truncated and empty input too.
        for broken in [Array(bytes.prefix(7)), [], [5, 0, 0, 0, 1]] {
            let failure = thrownError { _ = try BSONDecoder().decode(BSONDocument.self, from: broken) }
            guard case .dataCorrupted(let context) = failure as? DecodingError else {
                Issue.record("expected dataCorrupted for \(broken)")
                continue
            }
            #expect((context.underlyingError as? BSONError)?.code == .malformed)
        }
        // The decoding limit applies: nesting past maxDepth.
        var deep: BSONValue = 1
        for _ in 0..<5 { deep = ["x": deep] }
        let deepBytes = try bsonBytes(["x": deep])
        let limited = BSONDecoder(options: BSONDecodingOptions(maxDepth: 3))
        let depthError = thrownError { _ = try limited.decode(BSONDocument.self, from: deepBytes) }
        guard case .dataCorrupted(let depthContext) = depthError as? DecodingError else {
            Issue.record("expected dataCorrupted for nesting")
            return
        }
        #expect((depthContext.underlyingError as? BSONError)?.code == .nestingTooDeep)
    }

    @Test("encoding errors: NUL in a key, nesting past the limit, with coding paths")
    func encodingErrors() throws {
        struct Keyed: Encodable { var map: [String: Int] }
        let nul = encodingError(Keyed(map: ["a\u{0}b": 1]))
        #expect(nul?.summary == "invalidValue at map.a\u{0}b: the key \"a\u{0}b\" contains a NUL character, which BSON keys cannot hold")
        #expect((nul?.context?.underlyingError as? BSONError)?.code == .invalidKey)

        final class Node: Encodable {
            var next: Node?
            init(next: Node?) { self.next = next }
        }
        var chain: Node? = nil
        for _ in 0..<10 { chain = Node(next: chain) }
        let limited = BSONEncoder(options: BSONEncodingOptions(maxDepth: 4))
        let nesting = encodingError(chain!, encoder: limited)
        #expect(nesting?.path == "next.next.next.next.next")
        #expect((nesting?.context?.underlyingError as? BSONError)?.code == .nestingTooDeep)
        #expect(nesting?.context?.debugDescription == "documents are nested more than 4 levels deep (the encoding limit)")
        // Within the limit it works, and the default limit (100) stops a cycle-sized chain.
        chain = nil
        for _ in 0..<4 { chain = Node(next: chain) }
        _ = try limited.encode(chain!)

        struct Pattern: Encodable { var regex: BSONRegex }
        let regex = encodingError(Pattern(regex: BSONRegex(pattern: "a\u{0}", options: "")))
        #expect(regex?.path == "regex")
        #expect((regex?.context?.underlyingError as? BSONError)?.code == .invalidValue)
    }

    @Test("an error thrown inside a nested value leaves no partial element when caught")
    func caughtErrors() throws {
        struct Failing: Encodable {
            struct Boom: Error {}
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: BSONCodingKeyForTests.self)
                try container.encode(1, forKey: BSONCodingKeyForTests(stringValue: "partial"))
                throw Boom()
            }
        }
        struct Tolerant: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: BSONCodingKeyForTests.self)
                try container.encode("before", forKey: BSONCodingKeyForTests(stringValue: "a"))
                _ = try? container.encode(Failing(), forKey: BSONCodingKeyForTests(stringValue: "failing"))
                var list = container.nestedUnkeyedContainer(forKey: BSONCodingKeyForTests(stringValue: "list"))
                _ = try? list.encode(Failing())
                try list.encode(2)
                try container.encode("after", forKey: BSONCodingKeyForTests(stringValue: "b"))
            }
        }
        let bytes = try BSONEncoder().encode(Tolerant())
        #expect(try BSONDocument(bytes: bytes) == ["a": "before", "list": [.int64(2)], "b": "after"])
        #expect(try BSONEncoder().encodeDocument(Tolerant()) == BSONDocument(bytes: bytes))
    }
}
