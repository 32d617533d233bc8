import BSONCodec
import Foundation
import Testing

// py-bson's BSONCoding class tags: the wire shape (checked against bytes py-bson 0.5.10
// itself wrote), the registry, and decoding whatever a tagged document names.

private struct Point: BSONClassNamed, Equatable {
    var x: Int32
    var y: Int32
}

private struct Line: BSONClassNamed, Equatable {
    var a: Point
    var b: Point
    var pts: [Point]
}

private struct Circle: BSONClassNamed, Equatable {
    static var bsonClassName: String { "Round" }
    var radius: Double
}

private class Shape: BSONClassNamed, Equatable {
    var name: String
    init(name: String) { self.name = name }
    class var bsonClassName: String { "Shape" }
    static func == (lhs: Shape, rhs: Shape) -> Bool { type(of: lhs) == type(of: rhs) && lhs.name == rhs.name }
}

private final class Square: Shape {
    var side: Int32
    init(name: String, side: Int32) {
        self.side = side
        super.init(name: name)
    }
    override class var bsonClassName: String { "Square" }
    private enum CodingKeys: String, CodingKey { case side }
    required init(from decoder: any Decoder) throws {
        side = try decoder.container(keyedBy: CodingKeys.self).decode(Int32.self, forKey: .side)
        try super.init(from: decoder)
    }
    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(side, forKey: .side)
        try super.encode(to: encoder)
    }
}

private struct Tagless: BSONClassNamed {}

private struct SelfTagging: BSONClassNamed {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: BSONCodingKeyForTests.self)
        try container.encode("Fake", forKey: BSONCodingKeyForTests(stringValue: "$$__CLASS_NAME__$$"))
    }
}

private struct NotADocument: BSONClassNamed {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(5)
    }
}

@Suite("py-bson class tags")
struct CodableClassTagTests {
    /// Written by py-bson 0.5.10: `dumps(Point(1, 2))` with `bson_encode` returning
    /// `{"x": 1, "y": 2}`.
    static let pyPoint = hex(
        "3100000010780001000000107900020000000224245f5f434c4153535f4e414d455f5f24240006000000506f696e740000")
    /// `dumps({"p": Point(3, 4), "l": [Point(5, 6)]})`.
    static let pyNested = hex(
        "750000000370003100000010780003000000107900040000000224245f5f434c4153535f4e414d455f5f24240006000000506f696e74"
            + "0000046c00390000000330003100000010780005000000107900060000000224245f5f434c4153535f4e414d455f5f242400060000"
            + "00506f696e7400000000")
    /// `dumps(Line(Point(1, 1), Point(2, 2)))` whose `bson_encode` returns
    /// `{"a": self.a, "b": self.b, "pts": [self.a]}`.
    static let pyLine = hex(
        "c80000000361003100000010780001000000107900010000000224245f5f434c4153535f4e414d455f5f24240006000000506f696e74"
            + "00000362003100000010780002000000107900020000000224245f5f434c4153535f4e414d455f5f24240006000000506f696e740000"
            + "0470747300390000000330003100000010780001000000107900010000000224245f5f434c4153535f4e414d455f5f24240006000000"
            + "506f696e740000000224245f5f434c4153535f4e414d455f5f242400050000004c696e650000")

    @Test("the wire shape is py-bson's byte for byte: the tag last, at the top level and nested")
    func wireShape() throws {
        #expect(try BSONEncoder().encode(Point(x: 1, y: 2)) == Self.pyPoint)
        struct Holder: Codable, Equatable {
            var p: Point
            var l: [Point]
        }
        let holder = Holder(p: Point(x: 3, y: 4), l: [Point(x: 5, y: 6)])
        #expect(try expectCodableRoundTrip(holder) == Self.pyNested)
        let line = Line(a: Point(x: 1, y: 1), b: Point(x: 2, y: 2), pts: [Point(x: 1, y: 1)])
        #expect(try expectCodableRoundTrip(line) == Self.pyLine)
        #expect(try BSONDecoder().decode(Line.self, from: Self.pyLine) == line)
    }

    @Test("class names: the type's name by default, or its own; a subclass is written under its own name")
    func names() throws {
        #expect(Point.bsonClassName == "Point")
        #expect(Circle.bsonClassName == "Round")
        #expect(try BSONEncoder().encodeDocument(Circle(radius: 1)) == ["radius": 1.0, "$$__CLASS_NAME__$$": "Round"])
        struct Holder: Codable { var shape: Shape }
        let document = try BSONEncoder().encodeDocument(Holder(shape: Square(name: "sq", side: 2)))
        #expect(document == ["shape": ["side": .int32(2), "name": "sq", "$$__CLASS_NAME__$$": "Square"]])
        #expect(try BSONEncoder().encodeDocument(Tagless()) == ["$$__CLASS_NAME__$$": "Tagless"])
    }

    @Test("a type may not write the tag itself, and must encode as a document")
    func refusals() throws {
        #expect(
            encodingError(SelfTagging())?.context?.debugDescription
                == "SelfTagging encodes a field named \"$$__CLASS_NAME__$$\"; the encoder adds that field itself")
        struct Holder: Encodable { var value: NotADocument }
        let error = encodingError(Holder(value: NotADocument()))
        #expect(
            error?.summary
                == "invalidValue at value: NotADocument adopts BSONClassNamed, so it must encode as a document, but it encoded an int64")
    }

    @Test("decoding a concrete type: its own tag or none is fine, another tag is a type mismatch")
    func concreteDecoding() throws {
        #expect(try BSONDecoder().decode(Point.self, from: ["x": .int32(1), "y": .int32(2)]) == Point(x: 1, y: 2))
        let tagged = try bsonBytes(["x": .int32(1), "y": .int32(2), "$$__CLASS_NAME__$$": "Line"])
        #expect(
            decodingError(Point.self, from: tagged)?.summary
                == "typeMismatch at : expected a document tagged \"Point\", found one tagged \"Line\"")
        let badTag = try bsonBytes(["x": .int32(1), "y": .int32(2), "$$__CLASS_NAME__$$": 5])
        #expect(
            decodingError(Point.self, from: badTag)?.summary
                == "typeMismatch at $$__CLASS_NAME__$$: expected a string (a py-bson class name), found int32")
    }

    @Test("a registry resolves subclasses: an Animal-typed property holding a Square decodes as Square")
    func polymorphicSubclass() throws {
        struct Holder: Codable, Equatable { var shape: Shape }
        let registry = BSONClassRegistry([Shape.self, Square.self])
        let holder = Holder(shape: Square(name: "sq", side: 3))
        let bytes = try BSONEncoder().encode(holder)
        let decoded = try BSONDecoder(classRegistry: registry).decode(Holder.self, from: bytes)
        #expect(decoded.shape is Square)
        #expect(decoded == holder)
        // Without the registry the tag does not match Shape.
        #expect(decodingError(Holder.self, from: bytes)?.path == "shape")
        // A registered name that is not a subclass is refused.
        registry.register(Point.self, as: "Square")
        #expect(decodingError(Holder.self, from: bytes, decoder: BSONDecoder(classRegistry: registry))?.path == "shape")
    }

    @Test("registry.decode returns the registered type for the tag, or the document")
    func registryDecode() throws {
        let registry = BSONClassRegistry()
        registry.register(Point.self)
        registry.register(Line.self)
        #expect(registry.names == ["Line", "Point"])

        let point = try registry.decode(bytes: Self.pyPoint)
        #expect(point.object as? Point == Point(x: 1, y: 2))
        let line = try registry.decode(BSONDocument(bytes: Self.pyLine))
        #expect(line.object as? Line == Line(a: Point(x: 1, y: 1), b: Point(x: 2, y: 2), pts: [Point(x: 1, y: 1)]))

        // Untagged: the plain document, as py-bson gives a plain dict.
        let plain = try registry.decode(bytes: try bsonBytes(["x": 1]))
        #expect(plain.document == ["x": 1])

        // Unregistered: a typed error by default, or the document.
        let unknown = try bsonBytes(["v": 1, "$$__CLASS_NAME__$$": "Nope"])
        let error = thrownError { _ = try registry.decode(bytes: unknown) } as? BSONError
        #expect(error?.code == .unknownClass)
        #expect(error?.message == "no Swift type is registered for the py-bson class name \"Nope\"")
        #expect(try registry.decode(bytes: unknown, unregistered: .returnDocument).document == BSONDocument(bytes: unknown))
        #expect(
            try registry.decode(BSONDocument(bytes: unknown), unregistered: .returnDocument).document
                == BSONDocument(bytes: unknown))
        // A tag that is not a string.
        let numeric = try bsonBytes(["$$__CLASS_NAME__$$": 5])
        #expect((thrownError { _ = try registry.decode(bytes: numeric) } as? BSONError)?.code == .unknownClass)
        // Malformed bytes.
        let malformed = thrownError { _ = try registry.decode(bytes: [5, 0, 0, 0, 1]) }
        guard case .dataCorrupted(let context) = malformed as? DecodingError else {
            Issue.record("expected dataCorrupted")
            return
        }
        #expect((context.underlyingError as? BSONError)?.code == .malformed)

        // Registering under another name, unregistering, replacing.
        registry.register(Circle.self, as: "Disc")
        #expect(try registry.decode(["radius": 2.0, "$$__CLASS_NAME__$$": "Disc"]).object as? Circle == Circle(radius: 2))
        #expect(registry.unregister(name: "Disc") != nil)
        #expect(registry.type(named: "Disc") == nil)
        #expect(registry.unregister(name: "Disc") == nil)
    }

    @Test("AnyBSONClassNamed holds objects whose type only the document says")
    func anyClassNamed() throws {
        struct Drawing: Codable {
            var shapes: [AnyBSONClassNamed]
        }
        let drawing = Drawing(shapes: [AnyBSONClassNamed(Point(x: 1, y: 2)), AnyBSONClassNamed(Circle(radius: 3))])
        let bytes = try BSONEncoder().encode(drawing)
        #expect(
            try BSONDocument(bytes: bytes)
                == ["shapes": [
                    ["x": .int32(1), "y": .int32(2), "$$__CLASS_NAME__$$": "Point"],
                    ["radius": 3.0, "$$__CLASS_NAME__$$": "Round"],
                ]])
        #expect(try BSONEncoder().encodeDocument(drawing).encoded() == bytes)
        let decoder = BSONDecoder(classRegistry: BSONClassRegistry([Point.self, Circle.self]))
        let decoded = try decoder.decode(Drawing.self, from: bytes)
        #expect(decoded.shapes[0].base as? Point == Point(x: 1, y: 2))
        #expect(decoded.shapes[1].base as? Circle == Circle(radius: 3))
        // Without a registry, or with a name nobody registered: dataCorrupted with a BSONError.
        for failing in [BSONDecoder(), BSONDecoder(classRegistry: BSONClassRegistry([Point.self]))] {
            let error = thrownError { _ = try failing.decode(Drawing.self, from: bytes) }
            guard case .dataCorrupted(let context) = error as? DecodingError else {
                Issue.record("expected dataCorrupted, got \(String(describing: error))")
                continue
            }
            #expect((context.underlyingError as? BSONError)?.code == .unknownClass)
        }
        // Through JSON too: the class-name field is added by the wrapper.
        let json = try JSONEncoder().encode(drawing)
        let jsonDecoder = JSONDecoder()
        jsonDecoder.userInfo[.bsonClassRegistry] = BSONClassRegistry([Point.self, Circle.self])
        let fromJSON = try jsonDecoder.decode(Drawing.self, from: json)
        #expect(fromJSON.shapes[1].base as? Circle == Circle(radius: 3))
    }

    @Test("the registry is safe to use from many threads at once")
    func concurrency() async throws {
        let registry = BSONClassRegistry()
        let bytes = Self.pyPoint
        await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    var ok = true
                    for round in 0..<200 {
                        registry.register(Point.self)
                        registry.register(Circle.self, as: "Circle\(index)-\(round % 4)")
                        let result = try? registry.decode(bytes: bytes)
                        ok = ok && (result?.object as? Point) == Point(x: 1, y: 2)
                        _ = registry.unregister(name: "Circle\(index)-\(round % 4)")
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(registry.names == ["Point"])
    }
}
