import BSONCodec
import Foundation
import Testing

// Every strategy of BSONEncoder and BSONDecoder, both directions, with the exact BSON.

private struct Stamp: Codable, Equatable {
    var date: Date
}

private struct Blob: Codable, Equatable {
    var data: Data
}

private struct Identified: Codable, Equatable {
    var id: UUID
}

private struct Numbers: Codable, Equatable {
    var int: Int
    var int8: Int8
    var int16: Int16
    var int32: Int32
    var int64: Int64
    var uint: UInt
    var uint8: UInt8
    var uint16: UInt16
    var uint32: UInt32
    var uint64: UInt64
}

private struct Keys: Codable, Equatable {
    var userName: String
    var myURLValue: Int
    var _private: Bool
    var already_snake: String
}

@Suite("Codable strategies")
struct CodableStrategyTests {
    /// 2023-11-14T22:13:20.123Z
    static let date = Date(timeIntervalSince1970: 1_700_000_000.123)

    @Test("dates: a BSON datetime by default")
    func dateDefault() throws {
        let bytes = try expectCodableRoundTrip(Stamp(date: Self.date))
        #expect(try BSONDocument(bytes: bytes) == ["date": .datetime(BSONDatetime(millisecondsSinceEpoch: 1_700_000_000_123))])
        // The default decoder wants a datetime, nothing else.
        let asNumber = try bsonBytes(["date": 5])
        #expect(decodingError(Stamp.self, from: asNumber)?.context?.debugDescription == "expected a datetime, found int32")
    }

    @Test("dates: milliseconds since 1970 (int64 out; int32, int64 or double in)")
    func dateMilliseconds() throws {
        let encoder = BSONEncoder(dateEncodingStrategy: .millisecondsSince1970)
        let decoder = BSONDecoder(dateDecodingStrategy: .millisecondsSince1970)
        let bytes = try expectCodableRoundTrip(Stamp(date: Self.date), encoder: encoder, decoder: decoder)
        #expect(try BSONDocument(bytes: bytes) == ["date": .int64(1_700_000_000_123)])
        #expect(try decoder.decode(Stamp.self, from: ["date": .int32(1500)]).date == Date(timeIntervalSince1970: 1.5))
        #expect(try decoder.decode(Stamp.self, from: ["date": .double(2500)]).date == Date(timeIntervalSince1970: 2.5))
    }

    @Test("dates: seconds since 1970 (double out; double, int32 or int64 in)")
    func dateSeconds() throws {
        let encoder = BSONEncoder(dateEncodingStrategy: .secondsSince1970)
        let decoder = BSONDecoder(dateDecodingStrategy: .secondsSince1970)
        let value = Stamp(date: Date(timeIntervalSince1970: 1_700_000_000.5))
        let bytes = try expectCodableRoundTrip(value, encoder: encoder, decoder: decoder)
        #expect(try BSONDocument(bytes: bytes) == ["date": .double(1_700_000_000.5)])
        #expect(try decoder.decode(Stamp.self, from: ["date": .int64(86_400)]).date == Date(timeIntervalSince1970: 86_400))
    }

    @Test("dates: ISO-8601 strings with milliseconds; any UTC offset read")
    func dateISO() throws {
        let encoder = BSONEncoder(dateEncodingStrategy: .iso8601)
        let decoder = BSONDecoder(dateDecodingStrategy: .iso8601)
        let bytes = try expectCodableRoundTrip(Stamp(date: Self.date), encoder: encoder, decoder: decoder)
        #expect(try BSONDocument(bytes: bytes) == ["date": "2023-11-14T22:13:20.123Z"])
        #expect(
            try decoder.decode(Stamp.self, from: ["date": "2023-11-15T00:13:20.123+02:00"]).date == Self.date)
        let bad = try bsonBytes(["date": "yesterday"])
        #expect(
            decodingError(Stamp.self, from: bad, decoder: decoder)?.summary
                == "dataCorrupted at date: \"yesterday\" is not an ISO-8601 date-time of the form "
                + "YYYY-MM-DDTHH:MM:SS[.sss](Z|+HH:MM|-HH:MM)")
        // Out of the years an ISO-8601 string holds: refused when encoding.
        let far = Stamp(date: Date(timeIntervalSince1970: 400_000_000_000))
        #expect(encodingError(far, encoder: encoder)?.path == "date")
    }

    @Test("dates: deferred to Date's own Codable form, and custom closures")
    func dateDeferredAndCustom() throws {
        let deferred = try expectCodableRoundTrip(
            Stamp(date: Date(timeIntervalSinceReferenceDate: 12.5)),
            encoder: BSONEncoder(dateEncodingStrategy: .deferredToDate),
            decoder: BSONDecoder(dateDecodingStrategy: .deferredToDate))
        #expect(try BSONDocument(bytes: deferred) == ["date": 12.5])

        let encoder = BSONEncoder(
            dateEncodingStrategy: .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode("day \(Int(date.timeIntervalSince1970 / 86_400))")
            })
        let decoder = BSONDecoder(
            dateDecodingStrategy: .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                return Date(timeIntervalSince1970: Double(text.dropFirst(4))! * 86_400)
            })
        let bytes = try expectCodableRoundTrip(
            Stamp(date: Date(timeIntervalSince1970: 3 * 86_400)), encoder: encoder, decoder: decoder)
        #expect(try BSONDocument(bytes: bytes) == ["date": "day 3"])
    }

    @Test("data: binary subtype 0 by default (any subtype read), base64, deferred, custom")
    func data() throws {
        let value = Blob(data: Data([0, 1, 2, 0xFF]))
        let binary = try expectCodableRoundTrip(value)
        #expect(try BSONDocument(bytes: binary) == ["data": .binary(BSONBinary(data: [0, 1, 2, 0xFF], subtype: .generic))])
        let userDefined: BSONDocument = ["data": .binary(BSONBinary(data: [9], subtype: .userDefined))]
        #expect(try BSONDecoder().decode(Blob.self, from: userDefined) == Blob(data: Data([9])))
        let old: BSONDocument = ["data": .binary(BSONBinary(data: [7, 8], subtype: .binaryOld))]
        #expect(try BSONDecoder().decode(Blob.self, from: old) == Blob(data: Data([7, 8])))

        let base64 = try expectCodableRoundTrip(
            value, encoder: BSONEncoder(dataEncodingStrategy: .base64), decoder: BSONDecoder(dataDecodingStrategy: .base64))
        #expect(try BSONDocument(bytes: base64) == ["data": "AAEC/w=="])
        let badBase64 = try bsonBytes(["data": "AAEC/w="])
        #expect(
            decodingError(Blob.self, from: badBase64, decoder: BSONDecoder(dataDecodingStrategy: .base64))?.path == "data")

        let deferred = try expectCodableRoundTrip(
            value, encoder: BSONEncoder(dataEncodingStrategy: .deferredToData),
            decoder: BSONDecoder(dataDecodingStrategy: .deferredToData))
        #expect(try BSONDocument(bytes: deferred) == ["data": [.int32(0), .int32(1), .int32(2), .int32(255)]])

        let custom = try expectCodableRoundTrip(
            value,
            encoder: BSONEncoder(
                dataEncodingStrategy: .custom { data, encoder in
                    var container = encoder.singleValueContainer()
                    try container.encode(data.count)
                }),
            decoder: BSONDecoder(dataDecodingStrategy: .custom { _ in Data([0, 1, 2, 0xFF]) }))
        #expect(try BSONDocument(bytes: custom) == ["data": .int64(4)])
    }

    @Test("UUID: binary subtype 4 by default, or a lowercase string")
    func uuid() throws {
        let uuid = UUID(uuidString: "0E5C3F4A-1B2C-4D5E-8F90-A1B2C3D4E5F6")!
        let binary = try expectCodableRoundTrip(Identified(id: uuid))
        #expect(try BSONDocument(bytes: binary) == ["id": .binary(BSONBinary(uuid: uuid))])
        #expect(try BSONDocument(bytes: binary)["id"]?.extendedJSON() == #"{"$binary":{"base64":"Dlw/ShssTV6PkKGyw9Tl9g==","subType":"04"}}"#)

        let string = try expectCodableRoundTrip(
            Identified(id: uuid), encoder: BSONEncoder(uuidEncodingStrategy: .string),
            decoder: BSONDecoder(uuidDecodingStrategy: .string))
        #expect(try BSONDocument(bytes: string) == ["id": "0e5c3f4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"])

        // Subtype 3 (legacy, byte order unknown) is refused by the binary strategy.
        let legacy = try bsonBytes(["id": .binary(BSONBinary(data: Array(repeating: 1, count: 16), subtype: .uuidOld))])
        #expect(
            decodingError(Identified.self, from: legacy)?.summary
                == "dataCorrupted at id: expected binary data of subtype 4 with 16 bytes (a UUID), found subtype 0x3 with 16 bytes")
    }

    @Test("integers: fixed width by default, smallest fitting like py-bson; UInt64 above Int64.max as type 0x11")
    func integers() throws {
        let small = Numbers(int: 1, int8: -2, int16: 3, int32: -4, int64: 5, uint: 6, uint8: 7, uint16: 8, uint32: 9, uint64: 10)
        let fixed = try expectCodableRoundTrip(small)
        #expect(
            try BSONDocument(bytes: fixed) == [
                "int": .int64(1), "int8": .int32(-2), "int16": .int32(3), "int32": .int32(-4), "int64": .int64(5),
                "uint": .int64(6), "uint8": .int32(7), "uint16": .int32(8), "uint32": .int64(9), "uint64": .int64(10),
            ])
        let smallest = BSONEncoder(integerEncodingStrategy: .smallestFitting)
        let compact = try expectCodableRoundTrip(small, encoder: smallest)
        #expect(try BSONDocument(bytes: compact).values.allSatisfy { $0.type == .int32 })

        let large = Numbers(
            int: .min, int8: .min, int16: .max, int32: .max, int64: .max, uint: .max, uint8: .max, uint16: .max,
            uint32: .max, uint64: .max)
        let wide = try expectCodableRoundTrip(large, encoder: smallest)
        let document = try BSONDocument(bytes: wide)
        #expect(document["int"] == .int64(.min))
        #expect(document["int32"] == .int32(.max))
        #expect(document["uint32"] == .int64(Int64(UInt32.max)))
        #expect(document["uint64"] == .timestamp(BSONTimestamp(uint64: .max)))
        #expect(document["uint"] == .timestamp(BSONTimestamp(uint64: .max)))
        #expect(try BSONEncoder().encodeDocument(large)["uint64"] == .timestamp(BSONTimestamp(uint64: .max)))
    }

    @Test("keys: snake_case both ways, with JSONEncoder's rules; custom closures")
    func keys() throws {
        let value = Keys(userName: "u", myURLValue: 1, _private: true, already_snake: "s")
        let encoder = BSONEncoder(keyEncodingStrategy: .convertToSnakeCase)
        let decoder = BSONDecoder(keyDecodingStrategy: .convertFromSnakeCase)
        let bytes = try encoder.encode(value)
        #expect(try BSONDocument(bytes: bytes).keys == ["user_name", "my_url_value", "_private", "already_snake"])
        #expect(try encoder.encodeDocument(value).encoded() == bytes)
        // As with JSONDecoder, "my_url_value" becomes "myUrlValue", which does not match
        // "myURLValue": such keys need explicit CodingKeys.
        let error = decodingError(Keys.self, from: bytes, decoder: decoder)
        guard case .keyNotFound(let key, _) = error else {
            Issue.record("expected keyNotFound, got \(String(describing: error))")
            return
        }
        #expect(key.stringValue == "myURLValue")
        struct Simple: Codable, Equatable {
            var userName: String
            var itemCount: Int
            var nested: Inner
            struct Inner: Codable, Equatable { var innerValue: [String: Int] }
        }
        let simple = Simple(userName: "x", itemCount: 2, nested: .init(innerValue: ["someKey": 1]))
        let simpleBytes = try expectCodableRoundTrip(simple, encoder: encoder, decoder: decoder)
        #expect(
            try BSONDocument(bytes: simpleBytes)
                == ["user_name": "x", "item_count": .int64(2), "nested": ["inner_value": ["some_key": .int64(1)]]])

        let upper = BSONEncoder(keyEncodingStrategy: .custom { path in BSONCodingKeyForTests(stringValue: path.last!.stringValue.uppercased()) })
        let lower = BSONDecoder(keyDecodingStrategy: .custom { path in BSONCodingKeyForTests(stringValue: path.last!.stringValue.lowercased()) })
        struct Lowercase: Codable, Equatable { var name: String; var size: Int }
        let custom = try expectCodableRoundTrip(Lowercase(name: "n", size: 1), encoder: upper, decoder: lower)
        #expect(try BSONDocument(bytes: custom).keys == ["NAME", "SIZE"])
    }

    @Test("URL as its absolute string")
    func url() throws {
        struct Link: Codable, Equatable { var url: URL }
        let bytes = try expectCodableRoundTrip(Link(url: URL(string: "https://example.com/a?b=c")!))
        #expect(try BSONDocument(bytes: bytes) == ["url": "https://example.com/a?b=c"])
    }

    @Test("numeric conversions on decode: doubles from integers that fit exactly, Float range")
    func numericConversions() throws {
        struct Values: Codable, Equatable { var double: Double; var float: Float }
        #expect(
            try BSONDecoder().decode(Values.self, from: ["double": .int32(3), "float": .int64(4)])
                == Values(double: 3, float: 4))
        let inexact = try bsonBytes(["double": .int64((1 << 53) + 1), "float": 1.0])
        #expect(
            decodingError(Values.self, from: inexact)?.summary
                == "dataCorrupted at double: int64 value 9007199254740993 cannot be represented exactly as Double")
        let tooBig = try bsonBytes(["double": 1.0, "float": .double(1e300)])
        #expect(decodingError(Values.self, from: tooBig)?.summary == "dataCorrupted at float: double value 1e+300 does not fit in Float")
        #expect(try BSONDecoder().decode(Values.self, from: ["double": .double(.infinity), "float": .double(-.infinity)]).float == -.infinity)
    }

    @Test("symbols decode as strings")
    func symbols() throws {
        struct Text: Codable, Equatable { var text: String }
        #expect(try BSONDecoder().decode(Text.self, from: ["text": .symbol("sym")]) == Text(text: "sym"))
    }
}
