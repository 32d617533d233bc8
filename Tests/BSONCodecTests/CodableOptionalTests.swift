import BSONCodec
import Foundation
import Testing

// The three states of an optional field — absent key, explicit null, present value — kept
// apart in both directions.

/// A field that remembers which of the three states it was read in.
private enum Field<Value: Codable & Equatable>: Equatable {
    case absent
    case null
    case value(Value)
}

private struct TriState: Codable, Equatable {
    var count: Field<Int>
    var label: Field<String>
    var inner: Field<[Int]>

    private enum CodingKeys: String, CodingKey { case count, label, inner }

    init(count: Field<Int>, label: Field<String>, inner: Field<[Int]>) {
        self.count = count
        self.label = label
        self.inner = inner
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func read<Value: Codable & Equatable>(_ key: CodingKeys) throws -> Field<Value> {
            guard container.contains(key) else { return .absent }
            if try container.decodeNil(forKey: key) { return .null }
            return .value(try container.decode(Value.self, forKey: key))
        }
        count = try read(.count)
        label = try read(.label)
        inner = try read(.inner)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        func write<Value: Codable & Equatable>(_ field: Field<Value>, _ key: CodingKeys) throws {
            switch field {
            case .absent: break
            case .null: try container.encodeNil(forKey: key)
            case .value(let value): try container.encode(value, forKey: key)
            }
        }
        try write(count, .count)
        try write(label, .label)
        try write(inner, .inner)
    }
}

private struct Optionals: Codable, Equatable {
    var count: Int?
    var label: String?
    var inner: [Int?]?
    var nested: Optionals2?
}

private struct Optionals2: Codable, Equatable {
    var flag: Bool?
}

@Suite("Codable optionals")
struct CodableOptionalTests {
    @Test("absent, null and present are three different documents and read back as such")
    func triState() throws {
        let value = TriState(count: .absent, label: .null, inner: .value([1]))
        let bytes = try expectCodableRoundTrip(value)
        #expect(try BSONDocument(bytes: bytes) == ["label": nil, "inner": [.int64(1)]])
        for count in [Field<Int>.absent, .null, .value(0)] {
            for label in [Field<String>.absent, .null, .value("")] {
                try expectCodableRoundTrip(TriState(count: count, label: label, inner: .null))
            }
        }
    }

    @Test("synthesized optionals: nil leaves the key out (encodeIfPresent); absent and null both read as nil")
    func synthesized() throws {
        let empty = Optionals(count: nil, label: nil, inner: nil, nested: nil)
        let bytes = try expectCodableRoundTrip(empty)
        #expect(bytes == [5, 0, 0, 0, 0])
        let full = Optionals(count: 1, label: "x", inner: [1, nil], nested: Optionals2(flag: nil))
        let fullBytes = try expectCodableRoundTrip(full)
        #expect(try BSONDocument(bytes: fullBytes) == ["count": .int64(1), "label": "x", "inner": [.int64(1), nil], "nested": [:]])
        let nulls: BSONDocument = ["count": nil, "label": nil, "inner": nil, "nested": nil]
        #expect(try BSONDecoder().decode(Optionals.self, from: nulls) == empty)
        #expect(try BSONDecoder().decode(Optionals.self, from: try nulls.encoded()) == empty)
    }

    @Test("decodeIfPresent, decodeNil and contains on each state, for scalar and generic types")
    func containerCalls() throws {
        struct Probe: Decodable {
            var results: [String] = []
            enum Keys: String, CodingKey { case absent, null, present, list }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                for key in [Keys.absent, .null, .present] {
                    let contains = container.contains(key)
                    let isNil = (try? container.decodeNil(forKey: key)).map { "\($0)" } ?? "throws"
                    let scalar = try container.decodeIfPresent(Int.self, forKey: key).map { "\($0)" } ?? "nil"
                    results.append("\(key.rawValue): contains \(contains), nil \(isNil), value \(scalar)")
                }
                for key in [Keys.absent, .null, .list] {
                    let generic = try container.decodeIfPresent([Int].self, forKey: key).map { "\($0)" } ?? "nil"
                    results.append("\(key.rawValue): \(generic)")
                }
            }
        }
        let document: BSONDocument = ["null": nil, "present": .int32(4), "list": [.int32(1)]]
        let probe = try BSONDecoder().decode(Probe.self, from: document)
        #expect(
            probe.results == [
                "absent: contains false, nil throws, value nil",
                "null: contains true, nil true, value nil",
                "present: contains true, nil false, value 4",
                "absent: nil", "null: nil", "list: [1]",
            ])
        // decode (not IfPresent) tells the two missing states apart by error.
        struct Strict: Decodable { var value: Int }
        #expect(decodingError(Strict.self, from: try BSONDocument().encoded())?.summary == "keyNotFound(value) at : no value for the key \"value\"")
        #expect(
            decodingError(Strict.self, from: try bsonBytes(["value": nil]))?.summary
                == "valueNotFound at value: expected an int32 or int64, found null")
    }

    @Test("arrays of optionals: nil elements are null, decodeNil consumes them")
    func arrays() throws {
        let values: [String?] = ["a", nil, "c"]
        struct Holder: Codable, Equatable { var values: [String?] }
        let bytes = try expectCodableRoundTrip(Holder(values: values))
        #expect(try BSONDocument(bytes: bytes) == ["values": ["a", nil, "c"]])
        // A non-optional element type refuses the null with its index in the path.
        struct Strict: Decodable { var values: [String] }
        #expect(decodingError(Strict.self, from: bytes)?.summary == "valueNotFound at values.1: expected a string, found null")
    }
}
