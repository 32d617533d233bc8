import BSONCodec
import Foundation
import Testing

// Round trips of Swift types through BSONEncoder and BSONDecoder, with the exact BSON each
// produces: nested structs, classes with inheritance, enums, optionals in arrays,
// dictionaries, sets, wrappers.

private struct Address: Codable, Equatable {
    var street: String
    var city: String
    var zip: Int?
}

private struct Person: Codable, Equatable {
    var name: String
    var age: Int
    var height: Double
    var active: Bool
    var address: Address
    var tags: [String]
    var friends: [Person]
    var nickname: String?
}

private class Animal: Codable, Equatable {
    var name: String

    init(name: String) { self.name = name }

    static func == (lhs: Animal, rhs: Animal) -> Bool { lhs.isEqual(to: rhs) }

    func isEqual(to other: Animal) -> Bool { type(of: self) == type(of: other) && name == other.name }
}

/// Inheritance through `superEncoder()`: the superclass's fields go under "super".
private final class Dog: Animal {
    var breed: String

    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name)
    }

    private enum CodingKeys: String, CodingKey { case breed }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }

    override func isEqual(to other: Animal) -> Bool {
        guard let other = other as? Dog else { return false }
        return super.isEqual(to: other) && breed == other.breed
    }
}

/// Inheritance sharing one container: the superclass's fields sit beside the subclass's.
private final class Cat: Animal {
    var lives: Int

    init(name: String, lives: Int) {
        self.lives = lives
        super.init(name: name)
    }

    private enum CodingKeys: String, CodingKey { case lives }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lives = try container.decode(Int.self, forKey: .lives)
        try super.init(from: decoder)
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lives, forKey: .lives)
        try super.encode(to: encoder)
    }

    override func isEqual(to other: Animal) -> Bool {
        guard let other = other as? Cat else { return false }
        return super.isEqual(to: other) && lives == other.lives
    }
}

private enum Direction: String, Codable, CodingKeyRepresentable { case north, south }

private enum Plain: Codable, Equatable { case first, second }

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Double, height: Double)
    case labeled(String, Int)
    case point
}

private enum Level: Int, Codable { case low = 1, high = 2 }

/// A value that encodes as one value, not a document.
private struct Meters: Codable, Equatable {
    var value: Double

    init(_ value: Double) { self.value = value }

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Double.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

private struct Collections: Codable, Equatable {
    var optionals: [Int?]
    var nested: [[Int]]
    var byName: [String: Int]
    var byNumber: [Int: String]
    var byLongNumber: [Int64: String]
    var byDirection: [Direction: Int]
    var set: Set<Int>
    var distances: [Meters]
    var levels: [Level]
}

private struct Empty: Codable, Equatable {}

@Suite("Codable round trips")
struct CodableRoundTripTests {
    private static let alice = Person(
        name: "Alice", age: 31, height: 1.68, active: true,
        address: Address(street: "1 Main St", city: "Springfield", zip: nil), tags: ["a", "b"],
        friends: [
            Person(
                name: "Bob", age: 29, height: 1.8, active: false,
                address: Address(street: "2 Side St", city: "Shelbyville", zip: 12345), tags: [], friends: [],
                nickname: "Bobby")
        ], nickname: nil)

    @Test("nested structs: the exact document, and back")
    func nestedStructs() throws {
        let bytes = try expectCodableRoundTrip(Self.alice)
        let expected: BSONDocument = [
            "name": "Alice", "age": .int64(31), "height": 1.68, "active": true,
            "address": ["street": "1 Main St", "city": "Springfield"],
            "tags": ["a", "b"],
            "friends": [
                [
                    "name": "Bob", "age": .int64(29), "height": 1.8, "active": false,
                    "address": ["street": "2 Side St", "city": "Shelbyville", "zip": .int64(12345)],
                    "tags": [], "friends": [], "nickname": "Bobby",
                ]
            ],
        ]
        #expect(try BSONDocument(bytes: bytes) == expected)
    }

    @Test("classes: inheritance through superEncoder (nested under \"super\") and through a shared container")
    func classes() throws {
        let dog = Dog(name: "Rex", breed: "collie")
        let dogBytes = try BSONEncoder().encode(dog)
        #expect(try BSONDocument(bytes: dogBytes) == ["breed": "collie", "super": ["name": "Rex"]])
        #expect(try BSONDecoder().decode(Dog.self, from: dogBytes) == dog)

        let cat = Cat(name: "Tom", lives: 9)
        let catBytes = try BSONEncoder().encode(cat)
        #expect(try BSONDocument(bytes: catBytes) == ["lives": .int64(9), "name": "Tom"])
        #expect(try BSONDecoder().decode(Cat.self, from: catBytes) == cat)
        #expect(try BSONEncoder().encodeDocument(cat) == ["lives": .int64(9), "name": "Tom"])
    }

    @Test("superDecoder of an absent key reads null, as JSONDecoder does")
    func superDecoderAbsent() throws {
        let error = decodingError(Dog.self, from: try bsonBytes(["breed": "collie"]))
        #expect(error?.summary == "valueNotFound at super: expected a document, found null")
    }

    @Test("enums: raw values, cases without and with associated values (Swift's synthesized forms)")
    func enums() throws {
        struct Holder: Codable, Equatable {
            var direction: Direction
            var plain: Plain
            var shapes: [Shape]
            var level: Level
        }
        let holder = Holder(
            direction: .south, plain: .second,
            shapes: [.circle(radius: 2), .rectangle(width: 3, height: 4), .labeled("x", 5), .point], level: .high)
        let bytes = try expectCodableRoundTrip(holder)
        let expected: BSONDocument = [
            "direction": "south",
            "plain": ["second": [:]],
            "shapes": [
                ["circle": ["radius": 2.0]],
                ["rectangle": ["width": 3.0, "height": 4.0]],
                ["labeled": ["_0": "x", "_1": .int64(5)]],
                ["point": [:]],
            ],
            "level": .int64(2),
        ]
        #expect(try BSONDocument(bytes: bytes) == expected)
    }

    @Test("arrays of optionals, nested arrays, sets, wrappers and dictionaries")
    func collections() throws {
        let value = Collections(
            optionals: [1, nil, 3, nil], nested: [[1, 2], [], [3]], byName: ["a": 1], byNumber: [7: "seven"],
            byLongNumber: [9: "nine"], byDirection: [.north: 1], set: [5], distances: [Meters(1.5), Meters(2)],
            levels: [.low, .high])
        let bytes = try expectCodableRoundTrip(value)
        let document = try BSONDocument(bytes: bytes)
        #expect(document["optionals"] == [.int64(1), .null, .int64(3), .null])
        #expect(document["nested"] == [[.int64(1), .int64(2)], [], [.int64(3)]])
        #expect(document["byName"] == ["a": .int64(1)])
        // Int keys are CodingKey-friendly: a document whose keys are the decimal numbers.
        #expect(document["byNumber"] == ["7": "seven"])
        // Other key types (here Int64) give Swift's alternating key, value array.
        #expect(document["byLongNumber"] == [.int64(9), "nine"])
        // A CodingKeyRepresentable enum key gives a document keyed by its raw value.
        #expect(document["byDirection"] == ["north": .int64(1)])
        #expect(document["set"] == [.int64(5)])
        #expect(document["distances"] == [1.5, 2.0])
        #expect(document["levels"] == [.int64(1), .int64(2)])
    }

    @Test("dictionaries with many keys round trip (hash-indexed lookups)")
    func largeDictionary() throws {
        var dictionary: [String: Int] = [:]
        for index in 0..<200 { dictionary["key_\(index)_with_a_longer_common_suffix"] = index }
        try expectCodableRoundTrip(dictionary)
        var byInt: [Int: [String]] = [:]
        for index in -50..<50 { byInt[index] = [String(index)] }
        try expectCodableRoundTrip(byInt)
    }

    @Test("an empty struct is an empty document; a value that writes nothing is one too")
    func empty() throws {
        let bytes = try expectCodableRoundTrip(Empty())
        #expect(bytes == [5, 0, 0, 0, 0])
        struct Silent: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
        struct Outer: Encodable { var silent = Silent() }
        #expect(try BSONEncoder().encodeDocument(Outer()) == ["silent": [:]])
        #expect(try BSONEncoder().encode(Outer()) == BSONEncoder().encodeDocument(Outer()).encoded())
    }

    @Test("top-level values that are not documents are refused with a message")
    func topLevel() throws {
        #expect(
            encodingError(5)?.context?.debugDescription
                == "the top-level value must encode as a BSON document, but it encoded an int64")
        #expect(
            encodingError([1, 2])?.context?.debugDescription
                == "the top-level value must encode as a BSON document, but it encoded an array")
        #expect(
            encodingError(Meters(2))?.context?.debugDescription
                == "the top-level value must encode as a BSON document, but it encoded a double")
        // A single value that is itself a document is fine.
        struct Wrapper: Codable, Equatable {
            var inner: Address
            init(inner: Address) { self.inner = inner }
            init(from decoder: any Decoder) throws { inner = try decoder.singleValueContainer().decode(Address.self) }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(inner)
            }
        }
        let bytes = try expectCodableRoundTrip(Wrapper(inner: Address(street: "s", city: "c", zip: 1)))
        #expect(try BSONDocument(bytes: bytes) == ["street": "s", "city": "c", "zip": .int64(1)])
        // Decoding a top-level scalar fails with the type found.
        #expect(decodingError(Int.self, from: bytes)?.context?.debugDescription == "expected an int32 or int64, found document")
    }

    @Test("userInfo reaches encode(to:) and init(from:) at every depth")
    func userInfo() throws {
        let key = CodingUserInfoKey(rawValue: "test.factor")!
        struct Scaled: Codable, Equatable {
            var value: Int
            init(value: Int) { self.value = value }
            init(from decoder: any Decoder) throws {
                let factor = decoder.userInfo[CodingUserInfoKey(rawValue: "test.factor")!] as? Int ?? 1
                value = try decoder.singleValueContainer().decode(Int.self) / factor
            }
            func encode(to encoder: any Encoder) throws {
                let factor = encoder.userInfo[CodingUserInfoKey(rawValue: "test.factor")!] as? Int ?? 1
                var container = encoder.singleValueContainer()
                try container.encode(value * factor)
            }
        }
        struct Holder: Codable, Equatable { var items: [Scaled] }
        let encoder = BSONEncoder(userInfo: [key: 10])
        let decoder = BSONDecoder(userInfo: [key: 10])
        let bytes = try expectCodableRoundTrip(Holder(items: [Scaled(value: 1), Scaled(value: 2)]), encoder: encoder, decoder: decoder)
        #expect(try BSONDocument(bytes: bytes) == ["items": [.int64(10), .int64(20)]])
    }

    @Test("coding paths seen by encode(to:) and init(from:)")
    func codingPaths() throws {
        final class Recorder: @unchecked Sendable { var paths: [String] = [] }
        let recorder = Recorder()
        struct Leaf: Codable {
            nonisolated(unsafe) static var recorder: Recorder?
            init() {}
            init(from decoder: any Decoder) throws {
                Self.recorder?.paths.append("decode " + decoder.codingPath.map(\.stringValue).joined(separator: "."))
                _ = try decoder.container(keyedBy: BSONCodingKeyForTests.self)
            }
            func encode(to encoder: any Encoder) throws {
                Self.recorder?.paths.append("encode " + encoder.codingPath.map(\.stringValue).joined(separator: "."))
                _ = encoder.container(keyedBy: BSONCodingKeyForTests.self)
            }
        }
        struct Root: Codable { var a: [String: [Leaf]] }
        Leaf.recorder = recorder
        defer { Leaf.recorder = nil }
        let bytes = try BSONEncoder().encode(Root(a: ["k": [Leaf(), Leaf()]]))
        _ = try BSONDecoder().decode(Root.self, from: bytes)
        _ = try BSONEncoder().encodeDocument(Root(a: ["k": [Leaf()]]))
        #expect(recorder.paths == ["encode a.k.0", "encode a.k.1", "decode a.k.0", "decode a.k.1", "encode a.k.0"])
    }
}

/// A coding key for tests that read arbitrary keys.
struct BSONCodingKeyForTests: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
