import BSONCodec
import Foundation
import Testing

// BSONValue, BSONDocument and the value types with coders other than this package's:
// canonical Extended JSON's shape out, canonical or relaxed Extended JSON in.

@Suite("BSON values with other coders")
struct CodableBSONValueTests {
    @Test("JSONEncoder writes canonical Extended JSON shapes; JSONDecoder reads them back exactly")
    func jsonRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let values: [BSONValue] = [
            .int32(1), .int64(2), .double(2.5), "text", true, nil, .objectID(sampleObjectID),
            .datetime(BSONDatetime(millisecondsSinceEpoch: 1_700_000_000_123)),
            .binary(BSONBinary(data: [1, 2, 3], subtype: .generic)), .timestamp(BSONTimestamp(timestamp: 1, increment: 2)),
            .decimal128(BSONDecimal128(high: 0x3040_0000_0000_0000, low: 12)), .regex(BSONRegex(pattern: "a", options: "i")),
            .minKey, .maxKey, .undefined, .javascript("f()"), .symbol("s"),
            .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["x": 1])),
            .dbPointer(BSONDBPointer(ref: "db.c", id: sampleObjectID)), [1, "two"],
        ]
        for value in values {
            let json = try encoder.encode(value)
            let back = try JSONDecoder().decode(BSONValue.self, from: json)
            #expect(back == value, "\(String(decoding: json, as: UTF8.self))")
        }
        #expect(String(decoding: try encoder.encode(BSONValue.int32(1)), as: UTF8.self) == #"{"$numberInt":"1"}"#)
        #expect(String(decoding: try encoder.encode(sampleObjectID), as: UTF8.self) == #"{"$oid":"0102030405060708090a0b0c"}"#)
        #expect(
            String(decoding: try encoder.encode(BSONDatetime(millisecondsSinceEpoch: 5)), as: UTF8.self)
                == #"{"$date":{"$numberLong":"5"}}"#)
    }

    @Test("documents and every value type through JSON")
    func documentsAndValueTypes() throws {
        let document: BSONDocument = ["a": 1, "b": ["c": [true, 2.5]]]
        let json = try JSONEncoder().encode(document)
        #expect(try JSONDecoder().decode(BSONDocument.self, from: json).isEquivalent(to: document))
        #expect(try JSONDecoder().decode(BSONObjectID.self, from: JSONEncoder().encode(sampleObjectID)) == sampleObjectID)
        let binary = BSONBinary(data: [9], subtype: .uuidOld)
        #expect(try JSONDecoder().decode(BSONBinary.self, from: JSONEncoder().encode(binary)) == binary)
        let timestamp = BSONTimestamp(timestamp: 3, increment: 4)
        #expect(try JSONDecoder().decode(BSONTimestamp.self, from: JSONEncoder().encode(timestamp)) == timestamp)
        let code = BSONCodeWithScope(code: "y", scope: ["y": 2])
        #expect(try JSONDecoder().decode(BSONCodeWithScope.self, from: JSONEncoder().encode(code)) == code)
        let pointer = BSONDBPointer(ref: "d.c", id: sampleObjectID)
        #expect(try JSONDecoder().decode(BSONDBPointer.self, from: JSONEncoder().encode(pointer)) == pointer)
        let decimal = BSONDecimal128(high: 0x3040_0000_0000_0000, low: 1)
        #expect(try JSONDecoder().decode(BSONDecimal128.self, from: JSONEncoder().encode(decimal)) == decimal)
        let regex = BSONRegex(pattern: "p", options: "s")
        #expect(try JSONDecoder().decode(BSONRegex.self, from: JSONEncoder().encode(regex)) == regex)
        let datetime = BSONDatetime(millisecondsSinceEpoch: -1)
        #expect(try JSONDecoder().decode(BSONDatetime.self, from: JSONEncoder().encode(datetime)) == datetime)
    }

    @Test("relaxed Extended JSON and plain JSON read through JSONDecoder")
    func relaxed() throws {
        let json = Data(#"{"n": 1, "big": 5000000000, "x": 1.5, "s": "t", "d": {"$date": "1970-01-01T00:00:00.005Z"}, "l": [null, false]}"#.utf8)
        let document = try JSONDecoder().decode(BSONDocument.self, from: json)
        #expect(document["n"] == .int32(1))
        #expect(document["big"] == .int64(5_000_000_000))
        #expect(document["x"] == .double(1.5))
        #expect(document["d"] == .datetime(BSONDatetime(millisecondsSinceEpoch: 5)))
        #expect(document["l"] == [nil, false])
    }

    @Test("invalid Extended JSON and the wrong type give DecodingErrors")
    func errors() throws {
        let bad = Data(#"{"$numberInt": "x"}"#.utf8)
        let error = thrownError { _ = try JSONDecoder().decode(BSONValue.self, from: bad) }
        guard case .dataCorrupted(let context) = error as? DecodingError else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect(context.debugDescription == #"not valid Extended JSON: "$numberInt" value "x" is not a 32-bit signed integer"#)
        #expect((context.underlyingError as? BSONError)?.code == .invalidExtendedJSON)
        let wrongType = thrownError { _ = try JSONDecoder().decode(BSONObjectID.self, from: Data("5".utf8)) }
        guard case .typeMismatch = wrongType as? DecodingError else {
            Issue.record("expected typeMismatch, got \(String(describing: wrongType))")
            return
        }
    }

    @Test("with this package's coders, init(from:) and encode(to:) called directly stay native")
    func directCalls() throws {
        struct Manual: Codable, Equatable {
            var value: BSONValue
            var id: BSONObjectID
            init(value: BSONValue, id: BSONObjectID) {
                self.value = value
                self.id = id
            }
            enum CodingKeys: String, CodingKey { case value, id }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                value = try BSONValue(from: container.superDecoder(forKey: .value))
                id = try BSONObjectID(from: container.superDecoder(forKey: .id))
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try value.encode(to: container.superEncoder(forKey: .value))
                try id.encode(to: container.superEncoder(forKey: .id))
            }
        }
        let bytes = try expectCodableRoundTrip(Manual(value: .timestamp(BSONTimestamp(uint64: 9)), id: sampleObjectID))
        #expect(try BSONDocument(bytes: bytes) == ["value": .timestamp(BSONTimestamp(uint64: 9)), "id": .objectID(sampleObjectID)])
    }
}
