import BSONSocket
import Foundation
import Glibc
import SystemPackage
import Testing

// Swift types over sockets: sendObj(_:encoder:), recvObj(as:decoder:limits:) and
// recvObj(registry:...), with the framing guarantees of the document forms, and which
// sendObj overload a call reaches.

private struct Greeting: Codable, Equatable {
    var type: String
    var count: Int
    var tags: [String]
    var sentAt: Date
    var reply: Reply?

    struct Reply: Codable, Equatable {
        var accepted: Bool
        var score: Double
    }
}

private struct Named: Codable, Equatable {
    var name: String
}

private struct Point: BSONClassNamed, Equatable {
    var x: Int32
    var y: Int32
}

private struct Circle: BSONClassNamed, Equatable {
    var center: Point
    var radius: Double
}

/// Encodes one field, then fails: the encoder must not have sent the field.
private struct FailsHalfway: Encodable {
    struct Refused: Error {}

    private enum CodingKeys: String, CodingKey { case first, second }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("written", forKey: .first)
        throw Refused()
    }
}

/// Keeps its decoder and reads from it later: the bytes it reads must stay its own after
/// the receive that lent them returned and the socket reused its buffer.
private final class KeepsDecoder: Decodable {
    private enum CodingKeys: String, CodingKey { case name }

    let decoder: any Decoder

    init(from decoder: any Decoder) throws {
        self.decoder = decoder
    }

    func name() throws -> String {
        try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .name)
    }
}

private let sampleGreeting = Greeting(
    type: "greeting", count: 3, tags: ["a", "b"], sentAt: Date(timeIntervalSince1970: 1_700_000_000.123),
    reply: Greeting.Reply(accepted: true, score: 0.5))

@Suite("Codable over sockets", .timeLimit(.minutes(2)))
struct CodableSocketTests {
    // MARK: Round trips

    @Test("a struct goes out with sendObj and comes back with recvObj(as:)", arguments: Transport.allCases)
    func roundTrip(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(sampleGreeting)
        try pair.client.sendObj(Named(name: "second"))
        #expect(try pair.server.recvObj(as: Greeting.self) == sampleGreeting)
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "second"))
        // What went out is what BSONEncoder writes.
        try pair.client.sendObj(sampleGreeting)
        #expect(try pair.server.recvFrame() == (try BSONEncoder().encode(sampleGreeting)))
    }

    @Test("a struct round trip on bare FileDescriptors")
    func roundTripDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        try left.sendObj(sampleGreeting)
        try left.sendObj(Point(x: 1, y: 2))
        #expect(try right.recvObj(as: Greeting.self) == sampleGreeting)
        #expect(try right.recvObj(as: Point.self) == Point(x: 1, y: 2))
    }

    @Test("many small values in one write (read from the read-ahead buffer) and large ones (read into their own storage)")
    func smallAndLarge() throws {
        let pair = try connectedPair(.tcp)
        defer { pair.close() }
        let small = (0..<300).map { Named(name: "n\($0)") }
        try pair.client.sendBytes(try small.flatMap { try BSONEncoder().encode($0) })
        for value in small {
            #expect(try pair.server.recvObj(as: Named.self) == value)
        }
        let large = Named(name: String(repeating: "x", count: 3 * 1024 * 1024))
        let sender = Peer { () throws -> Void in
            try pair.client.sendObj(large)
            try pair.client.sendObj(Named(name: "after"))
        }
        #expect(try pair.server.recvObj(as: Named.self) == large)
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "after"))
        try sender.value()
    }

    @Test("the encoder and decoder given are the ones used")
    func customCoders() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let encoder = BSONEncoder(dateEncodingStrategy: .iso8601, keyEncodingStrategy: .convertToSnakeCase)
        try pair.client.sendObj(sampleGreeting, encoder: encoder)
        let raw = try #require(try pair.server.recvObj())
        #expect(raw.keys == ["type", "count", "tags", "sent_at", "reply"])
        #expect(raw["sent_at"] == .string("2023-11-14T22:13:20.123Z"))
        try pair.client.sendObj(sampleGreeting, encoder: encoder)
        let decoder = BSONDecoder(dateDecodingStrategy: .iso8601, keyDecodingStrategy: .convertFromSnakeCase)
        #expect(try pair.server.recvObj(as: Greeting.self, decoder: decoder) == sampleGreeting)
    }

    @Test("a class-named value carries py-bson's class name, last")
    func classNamed() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendObj(Circle(center: Point(x: 3, y: 4), radius: 1.5))
        let raw = try #require(try pair.server.recvObj())
        #expect(raw.keys == ["center", "radius", BSONClassRegistry.classNameKey])
        #expect(raw[BSONClassRegistry.classNameKey] == "Circle")
        #expect(raw["center"]?[BSONClassRegistry.classNameKey] == "Point")
        try pair.client.sendObj(Circle(center: Point(x: 3, y: 4), radius: 1.5))
        #expect(try pair.server.recvObj(as: Circle.self) == Circle(center: Point(x: 3, y: 4), radius: 1.5))
    }

    // MARK: Failures keep the stream in step

    @Test("an encoding failure writes nothing", arguments: Transport.allCases)
    func encodingFailureWritesNothing(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        #expect(throws: FailsHalfway.Refused.self) { try pair.client.sendObj(FailsHalfway()) }
        // A key the encoder refuses (NUL) and a date the strategy cannot write.
        let nulKey = #expect(throws: EncodingError.self) { try pair.client.sendObj(["bad\u{0}key": 1] as [String: Int]) }
        #expect(nulKey != nil)
        let farFuture = Date(timeIntervalSince1970: 400_000_000_000)
        let dateError = #expect(throws: EncodingError.self) {
            try pair.client.sendObj(["at": farFuture], encoder: BSONEncoder(dateEncodingStrategy: .iso8601))
        }
        #expect(dateError != nil)
        #expect(bytesArrive(on: pair.server.number, within: 200) == false, "the peer saw bytes")
        try pair.client.sendObj(Named(name: "next"))
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "next"))
    }

    @Test("an encoding failure on a bare FileDescriptor writes nothing")
    func encodingFailureDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        #expect(throws: FailsHalfway.Refused.self) { try left.sendObj(FailsHalfway()) }
        #expect(bytesArrive(on: right.rawValue, within: 200) == false)
    }

    @Test("a type mismatch throws DecodingError and the next recvObj reads the next document", arguments: Transport.allCases)
    func decodingFailureKeepsStreamInStep(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(["name": 5])
        try pair.client.sendObj(["other": "field"])
        try pair.client.sendObj(["name": "good"])
        let mismatch = #expect(throws: DecodingError.self) { try pair.server.recvObj(as: Named.self) }
        guard case .typeMismatch(_, let context)? = mismatch else {
            Issue.record("expected typeMismatch, got \(String(describing: mismatch))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["name"])
        let missing = #expect(throws: DecodingError.self) { try pair.server.recvObj(as: Named.self) }
        guard case .keyNotFound? = missing else {
            Issue.record("expected keyNotFound, got \(String(describing: missing))")
            return
        }
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "good"))
    }

    @Test("a type mismatch on a bare FileDescriptor keeps the stream in step")
    func decodingFailureDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        try left.sendObj(["name": .int64(1)])
        try left.sendObj(["name": "good"])
        #expect(throws: DecodingError.self) { try right.recvObj(as: Named.self) }
        #expect(try right.recvObj(as: Named.self) == Named(name: "good"))
    }

    @Test("bytes that are not valid BSON: dataCorrupted with the BSONError underneath; the next frame reads")
    func malformedFrame() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        var bad = try BSONEncoder().encode(Named(name: "abcd"))
        bad[bad.count - 3] = 0xFF  // inside the string: invalid UTF-8
        try pair.client.sendBytes(bad + (try BSONEncoder().encode(Named(name: "fine"))))
        let error = #expect(throws: DecodingError.self) { try pair.server.recvObj(as: Named.self) }
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect((context.underlyingError as? BSONError)?.code == .invalidUTF8)
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "fine"))
    }

    @Test("a clean close between documents is nil", arguments: Transport.allCases)
    func cleanClose(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(Named(name: "last"))
        pair.client.close()
        #expect(try pair.server.recvObj(as: Named.self) == Named(name: "last"))
        #expect(try pair.server.recvObj(as: Named.self) == nil)
        #expect(try pair.server.recvObj(registry: BSONClassRegistry()) == nil)
    }

    @Test("a clean close on a bare FileDescriptor is nil")
    func cleanCloseDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer { try? right.close() }
        try left.sendObj(Named(name: "last"))
        try left.close()
        #expect(try right.recvObj(as: Named.self) == Named(name: "last"))
        #expect(try right.recvObj(as: Named.self) == nil)
    }

    @Test("a close inside a frame is BSONError.truncated", arguments: Transport.allCases)
    func truncated(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let frame = try BSONEncoder().encode(sampleGreeting)
        try pair.client.sendBytes(Array(frame.prefix(frame.count / 2)))
        pair.client.close()
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj(as: Greeting.self) }
        #expect(error?.code == .truncated)
    }

    @Test("a close inside a frame header is BSONError.truncated, for the registry receive too")
    func truncatedHeader() throws {
        let (left, right) = try descriptorPair()
        defer { try? right.close() }
        try left.sendBytes([0x20, 0x00])
        try left.close()
        let error = #expect(throws: BSONError.self) { try right.recvObj(registry: BSONClassRegistry([Point.self])) }
        #expect(error?.code == .truncated)
    }

    @Test("frame limits reach the receive")
    func limits() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendObj(Named(name: String(repeating: "y", count: 200)))
        let error = #expect(throws: BSONError.self) {
            try pair.server.recvObj(as: Named.self, limits: BSONFrameLimits(maximumFrameLength: 100))
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test("a value that keeps its decoder still reads its own bytes after the socket reused its buffer")
    func keptDecoderOwnsItsBytes() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        // Several frames in one write, so the first ones are lent from the read-ahead buffer.
        let names = (0..<50).map { "name-\($0)-" + String(repeating: "z", count: $0) }
        try pair.client.sendBytes(try names.flatMap { try BSONEncoder().encode(Named(name: $0)) })
        var kept: [KeepsDecoder] = []
        for _ in 0..<25 { kept.append(try #require(try pair.server.recvObj(as: KeepsDecoder.self))) }
        // More traffic through the same buffer.
        for index in 25..<50 { #expect(try pair.server.recvObj(as: Named.self) == Named(name: names[index])) }
        try pair.client.sendBytes(try (0..<50).flatMap { try BSONEncoder().encode(Named(name: "other \($0)")) })
        for index in 0..<50 { #expect(try pair.server.recvObj(as: Named.self) == Named(name: "other \(index)")) }
        for (index, keeper) in kept.enumerated() {
            #expect(try keeper.name() == names[index])
        }
    }

    // MARK: The registry receive

    @Test("registered class names arrive as Swift values; plain documents as documents")
    func registryReceive() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let registry = BSONClassRegistry([Point.self, Circle.self])
        try pair.client.sendObj(Point(x: 1, y: 2))
        try pair.client.sendObj(Circle(center: Point(x: 0, y: 0), radius: 2))
        try pair.client.sendObj(["plain": true])
        // The class name as py-bson writes it, by hand.
        try pair.client.sendObj(["x": .int32(7), "y": .int32(8), BSONClassRegistry.classNameKey: "Point"])
        #expect(try pair.server.recvObj(registry: registry)?.object as? Point == Point(x: 1, y: 2))
        #expect(
            try pair.server.recvObj(registry: registry)?.object as? Circle == Circle(center: Point(x: 0, y: 0), radius: 2))
        #expect(try pair.server.recvObj(registry: registry)?.document == ["plain": true])
        #expect(try pair.server.recvObj(registry: registry)?.object as? Point == Point(x: 7, y: 8))
    }

    @Test("an unregistered class name: unknownClass by default, the plain document on request; the stream stays in step")
    func registryUnregistered() throws {
        let pair = try connectedPair(.tcp)
        defer { pair.close() }
        let registry = BSONClassRegistry([Point.self])
        let mystery: BSONDocument = ["secret": "s", BSONClassRegistry.classNameKey: "Mystery"]
        try pair.client.sendObj(mystery)
        try pair.client.sendObj(mystery)
        try pair.client.sendObj(["name": 1, BSONClassRegistry.classNameKey: .int32(5)])
        try pair.client.sendObj(Point(x: 1, y: 1))
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj(registry: registry) }
        #expect(error?.code == .unknownClass)
        #expect(error?.message.contains("Mystery") == true)
        #expect(try pair.server.recvObj(registry: registry, unregistered: .returnDocument)?.document == mystery)
        let notAName = #expect(throws: BSONError.self) { try pair.server.recvObj(registry: registry) }
        #expect(notAName?.code == .unknownClass)
        #expect(try pair.server.recvObj(registry: registry)?.object as? Point == Point(x: 1, y: 1))
    }

    @Test("a registered type that cannot decode the document: DecodingError, and the stream stays in step")
    func registryDecodingError() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let registry = BSONClassRegistry([Point.self])
        try left.sendObj(["x": "not a number", "y": .int32(1), BSONClassRegistry.classNameKey: "Point"])
        try left.sendObj(Point(x: 2, y: 3))
        #expect(throws: DecodingError.self) { try right.recvObj(registry: registry) }
        #expect(try right.recvObj(registry: registry)?.object as? Point == Point(x: 2, y: 3))
    }

    // MARK: Which sendObj a call reaches

    @Test("a dictionary literal reaches the BSONDocument overload: written order, py-bson's int32")
    func literalChoosesDocument() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        // Every value an Int: as a Swift Dictionary this would be Encodable, with int64 values
        // and the dictionary's own order.
        try pair.client.sendObj(["zulu": 1, "alpha": 2, "mike": 3, "bravo": 4, "yankee": 5, "charlie": 6])
        let received = try #require(try pair.server.recvObj())
        #expect(received.keys == ["zulu", "alpha", "mike", "bravo", "yankee", "charlie"])
        #expect(received["zulu"] == .int32(1))
        try pair.client.sendObj(["outer": ["inner": 1]])
        #expect(try pair.server.recvObj() == ["outer": ["inner": .int32(1)]])
        // The document overload's errors are BSONErrors, the Encodable one's EncodingErrors.
        let error = #expect(throws: BSONError.self) { try pair.client.sendObj(["bad\u{0}": 1]) }
        #expect(error?.code == .invalidKey)
    }

    @Test("a BSONDocument value reaches the BSONDocument overload; with encoder: it is encoded as itself")
    func documentChoosesDocument() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let document: BSONDocument = ["camelCase": 1, "b": ["nestedKey": true]]
        try pair.client.sendObj(document)
        #expect(try pair.server.recvObj() == document)
        // Only the document overload throws BSONError (the Encodable one throws EncodingError).
        let bad: BSONDocument = ["bad\u{0}key": 1]
        #expect(throws: BSONError.self) { try pair.client.sendObj(bad) }
        #expect(throws: EncodingError.self) { try pair.client.sendObj(bad, encoder: BSONEncoder()) }
        // Through the Encodable overload a document is written as it is: key strategies and
        // integer strategies apply to Swift values, not to a document's own keys and values.
        try pair.client.sendObj(document, encoder: BSONEncoder(keyEncodingStrategy: .convertToSnakeCase))
        #expect(try pair.server.recvObj() == document)
    }

    @Test("a [String: Any] value reaches the dictionary overload: keys in byte order")
    func anyDictionaryChoosesDictionary() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let dictionary: [String: Any] = ["z": 1, "a": "text"]
        try pair.client.sendObj(dictionary)
        let received = try #require(try pair.server.recvObj())
        #expect(received.keys == ["a", "z"])
        #expect(received["z"] == .int32(1))
    }

    @Test("a typed Swift dictionary is an Encodable value: the encoder's integer strategy applies")
    func typedDictionaryChoosesEncodable() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let counts: [String: Int] = ["one": 1]
        try pair.client.sendObj(counts)
        #expect(try pair.server.recvObj() == ["one": .int64(1)])
        try pair.client.sendObj(counts, encoder: BSONEncoder(integerEncodingStrategy: .smallestFitting))
        #expect(try pair.server.recvObj() == ["one": .int32(1)])
        // Converted to [String: Any], it takes the dictionary overload (py-bson's widths).
        try pair.client.sendObj(counts as [String: Any])
        #expect(try pair.server.recvObj() == ["one": .int32(1)])
    }

    @Test("generic code over BSONStreamIO reaches the Codable forms")
    func genericDispatch() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        func roundTrip<T: Codable>(_ value: T, _ sender: some BSONStreamIO, _ receiver: some BSONStreamIO) throws -> T? {
            try sender.sendObj(value)
            return try receiver.recvObj(as: T.self)
        }
        #expect(try roundTrip(Named(name: "generic"), pair.client, pair.server) == Named(name: "generic"))
    }
}
