import BSONCodec
import Foundation
import Testing

// The direct paths (bytes straight to a type, a type straight to bytes) against the
// document paths: the same bytes out and the same values in, on the corpus, the BSON
// corpus documents, random documents and the driver-benchmark documents.

/// A struct holding every BSON value type as a property.
private struct Natives: Codable, Equatable {
    var value: BSONValue
    var values: [BSONValue]
    var document: BSONDocument
    var objectID: BSONObjectID
    var binary: BSONBinary
    var timestamp: BSONTimestamp
    var decimal: BSONDecimal128
    var regex: BSONRegex
    var pointer: BSONDBPointer
    var code: BSONCodeWithScope
    var datetime: BSONDatetime
    var optionalValue: BSONValue?
}

/// Uses its containers out of the order a single-pass writer follows: a nested container
/// is written to after a later sibling was started, and a super encoder after other keys.
private struct Interleaved: Codable, Equatable {
    var first: [Int]
    var second: [String: Int]
    var tail: String

    private enum CodingKeys: String, CodingKey { case first, second, tail, late }

    init(first: [Int], second: [String: Int], tail: String) {
        self.first = first
        self.second = second
        self.tail = tail
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        first = try container.decode([Int].self, forKey: .first)
        second = try container.decode([String: Int].self, forKey: .second)
        tail = try container.decode(String.self, forKey: .tail)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var first = container.nestedUnkeyedContainer(forKey: .first)
        var second = container.nestedContainer(keyedBy: BSONCodingKeyForTests.self, forKey: .second)
        let late = container.superEncoder(forKey: .late)
        try container.encode(tail, forKey: .tail)
        // Back to containers started earlier.
        for value in self.first { try first.encode(value) }
        for (key, value) in self.second.sorted(by: { $0.key < $1.key }) {
            try second.encode(value, forKey: BSONCodingKeyForTests(stringValue: key))
        }
        var lateValue = late.singleValueContainer()
        try lateValue.encode(true)
    }
}

@Suite("Codable direct paths against document paths")
struct CodableEquivalenceTests {
    @Test("every corpus document reads the same through BSONDecoder as through BSONDocument(bytes:)", arguments: Corpus.encoded.map(\.name))
    func corpusDecode(name: String) throws {
        let bytes = Corpus.encoded.first { $0.name == name }!.bytes
        let expected = try BSONDocument(bytes: bytes)
        #expect(try BSONDecoder().decode(BSONDocument.self, from: bytes) == expected)
        #expect(try BSONDecoder().decode(BSONDocument.self, from: expected) == expected)
        #expect(try BSONDecoder().decode(BSONValue.self, from: bytes) == .document(expected))
        // And writes the same bytes back.
        #expect(try BSONEncoder().encode(expected) == bytes)
        #expect(try BSONEncoder().encodeDocument(expected) == expected)
    }

    @Test("random documents: BSONDocument and BSONValue through the coder, both paths")
    func randomDocuments() throws {
        for seed in 0..<40 {
            let document = Corpus.randomDocument(seed: UInt64(seed))
            let bytes = try document.encoded()
            #expect(try BSONDecoder().decode(BSONDocument.self, from: bytes) == document)
            #expect(try BSONEncoder().encode(document) == bytes)
            struct Wrapped: Codable, Equatable { var inner: BSONDocument; var list: [BSONValue] }
            try expectCodableRoundTrip(Wrapped(inner: document, list: document.values))
        }
    }

    @Test("the official BSON corpus' valid documents decode the same both ways and encode back")
    func officialCorpus() throws {
        let cases = BSONCorpus.shared.valid
        #expect(cases.count > 50)
        for test in cases {
            let expected = try BSONDocument(bytes: test.canonicalBSON)
            #expect(try BSONDecoder().decode(BSONDocument.self, from: test.canonicalBSON) == expected, "\(test.testDescription)")
            #expect(try BSONEncoder().encode(expected) == test.canonicalBSON, "\(test.testDescription)")
        }
    }

    @Test("every BSON value type as a property: native both ways")
    func natives() throws {
        let natives = Natives(
            value: .maxKey, values: [.minKey, .undefined, .javascript("f()"), .symbol("s"), .int32(1), .null],
            document: ["a": ["b": .decimal128(BSONDecimal128(high: 0x3040_0000_0000_0000, low: 7))]],
            objectID: sampleObjectID, binary: BSONBinary(data: [1, 2], subtype: .md5),
            timestamp: BSONTimestamp(timestamp: 5, increment: 6), decimal: BSONDecimal128(high: 1, low: 2),
            regex: BSONRegex(pattern: "^x", options: "mi"), pointer: BSONDBPointer(ref: "db.c", id: sampleObjectID),
            code: BSONCodeWithScope(code: "x", scope: ["x": 1]), datetime: BSONDatetime(millisecondsSinceEpoch: -5),
            optionalValue: nil)
        let bytes = try expectCodableRoundTrip(natives)
        let document = try BSONDocument(bytes: bytes)
        #expect(document["value"] == .maxKey)
        #expect(document["regex"] == .regex(BSONRegex(pattern: "^x", options: "mi")))
        #expect(document["datetime"] == .datetime(BSONDatetime(millisecondsSinceEpoch: -5)))
        #expect(document["binary"] == .binary(BSONBinary(data: [1, 2], subtype: .md5)))
        #expect(document.keys.contains("optionalValue") == false)
        // An explicit null reaches an optional BSONValue as nil, a plain BSONValue as .null.
        struct Nullable: Codable { var a: BSONValue?; var b: BSONValue }
        let nulls = try BSONDecoder().decode(Nullable.self, from: ["a": nil, "b": nil])
        #expect(nulls.a == nil)
        #expect(nulls.b == .null)
    }

    @Test("a container used out of order: the direct encoder starts over with the tree and gives its bytes")
    func outOfOrder() throws {
        let value = Interleaved(first: [1, 2], second: ["x": 1, "y": 2], tail: "end")
        let bytes = try BSONEncoder().encode(value)
        let document = try BSONEncoder().encodeDocument(value)
        #expect(try document.encoded() == bytes)
        #expect(
            document == [
                "first": [.int64(1), .int64(2)], "second": ["x": .int64(1), "y": .int64(2)], "late": true, "tail": "end",
            ])
        #expect(try BSONDecoder().decode(Interleaved.self, from: bytes) == value)
    }

    @Test("the driver-benchmark documents decode into Swift models and encode back to the same bytes")
    func driverBenchmark() throws {
        func check<T: Codable & Equatable>(_ name: String, _ type: T.Type) throws {
            let document = try driverBenchDocument(name)
            let bytes = try document.encoded()
            let fromBytes = try BSONDecoder().decode(T.self, from: bytes)
            let fromDocument = try BSONDecoder().decode(T.self, from: document)
            #expect(fromBytes == fromDocument, "\(name)")
            #expect(try BSONEncoder().encode(fromBytes) == bytes, "\(name): direct encoding differs")
            #expect(try BSONEncoder().encodeDocument(fromBytes) == document, "\(name): document encoding differs")
        }
        try check("flat", FlatBench.self)
        try check("deep", DeepBench.self)
        try check("full", FullBench.self)
    }

    @Test("bytes given as [UInt8], ArraySlice and a raw buffer decode alike")
    func inputForms() throws {
        struct Small: Codable, Equatable { var a: Int; var b: String }
        let bytes = try BSONEncoder().encode(Small(a: 1, b: "two"))
        let padded = [0xAA] + bytes + [0xBB]
        #expect(try BSONDecoder().decode(Small.self, from: padded[1..<(padded.count - 1)]) == Small(a: 1, b: "two"))
        let fromRaw = try bytes.withUnsafeBytes { try BSONDecoder().decode(Small.self, from: $0) }
        #expect(fromRaw == Small(a: 1, b: "two"))
    }

    @Test("repeated keys: the first wins, as in BSONDocument, on both paths")
    func duplicateKeys() throws {
        struct Small: Codable, Equatable { var a: Int }
        let document: BSONDocument = ["a": 1, "a": 2]
        #expect(try BSONDecoder().decode(Small.self, from: document) == Small(a: 1))
        #expect(try BSONDecoder().decode(Small.self, from: document.encoded()) == Small(a: 1))
        // Also in a document large enough to be hash-indexed.
        var large = BSONDocument()
        for index in 0..<40 { large.append(.int32(Int32(index)), forKey: "k\(index % 20)") }
        let dictionary = try BSONDecoder().decode([String: Int].self, from: large.encoded())
        #expect(dictionary.count == 20)
        #expect(dictionary["k3"] == 3)
        #expect(dictionary == (try BSONDecoder().decode([String: Int].self, from: large)))
    }
}
