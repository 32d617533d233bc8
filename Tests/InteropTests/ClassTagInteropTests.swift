import BSONSocket
import Foundation
import Synchronization
import Testing

// py-bson's BSONCoding objects against our BSONClassNamed types, both ways, with the real
// py-bson 0.5.10 classes of Tests/Interop/pybson_peer.py (Point, Polygon, Reading, Mystery,
// registered there with bson.import_classes). The Swift types below mirror them field for
// field and in the same order, so that both sides write the same bytes.

private struct Point: BSONClassNamed, Equatable {
    var x: Int32
    var y: Int32
}

private struct Polygon: BSONClassNamed, Equatable {
    var name: String
    var points: [Point]
}

private struct Reading: BSONClassNamed, Equatable {
    var sensor: String
    var value: Double
    var count: Int32
    var ok: Bool
    var at: Date
    var tags: [String]
    var raw: Data
    var ident: UUID
}

/// A class py-bson does not know.
private struct SwiftOnly: BSONClassNamed, Equatable {
    var note: String
}

/// The suite's plain dict holding tagged objects in fields and in a list.
private struct Holder: Codable {
    var label: String
    var origin: Point
    var path: [Point]
    var shape: AnyBSONClassNamed
}

/// The suite's plain dict holding a list of objects of different classes.
private struct Shapes: Codable {
    var shapes: [AnyBSONClassNamed]
}

/// What the Swift side expects of each entry of py-bson's `classes` suite (and sends for
/// `from-swift`).
private enum Expected {
    static let point = Point(x: 1, y: 2)
    static let polygon = Polygon(name: "triangle", points: [Point(x: 0, y: 0), Point(x: 4, y: 0), Point(x: 0, y: 3)])
    static let reading = Reading(
        sensor: "t-1", value: 21.5, count: 3, ok: true,
        at: BSONDatetime(millisecondsSinceEpoch: 1_709_210_096_789).date, tags: ["a", "b"],
        raw: Data([0x00, 0x01, 0xFF]), ident: UUID(uuidString: "12345678-9ABC-DEF0-1234-56789ABCDEF0")!)
    static let holderOrigin = Point(x: 0, y: 0)
    static let holderPath = [Point(x: 1, y: 1), Point(x: 2, y: 3)]
    static let holderShape = Polygon(name: "line", points: [Point(x: 5, y: 5), Point(x: 6, y: 6)])
    static var holder: Holder {
        Holder(label: "objects in a plain dict", origin: holderOrigin, path: holderPath, shape: AnyBSONClassNamed(holderShape))
    }
    static let shapesPoint = Point(x: 9, y: 9)
    static let shapesPolygon = Polygon(name: "single", points: [Point(x: 2, y: 2)])
    static var shapes: Shapes { Shapes(shapes: [AnyBSONClassNamed(shapesPoint), AnyBSONClassNamed(shapesPolygon)]) }

    static let names = ["point", "polygon", "reading", "holder", "shapes"]

    /// The bytes our encoder writes for each entry, in suite order.
    static func encodedSuite() throws -> [[UInt8]] {
        let encoder = BSONEncoder()
        return [
            try encoder.encode(point), try encoder.encode(polygon), try encoder.encode(reading),
            try encoder.encode(holder), try encoder.encode(shapes),
        ]
    }
}

/// What the Swift server made of py-bson's `classes` suite.
private struct ReceivedClasses: Sendable {
    var point: Point?
    var polygon: Polygon?
    var reading: Reading?
    var holderLabel: String?
    var holderOrigin: Point?
    var holderPath: [Point]?
    var holderShape: Polygon?
    var shapesPoint: Point?
    var shapesPolygon: Polygon?
    var closedCleanly = false
}

/// A server for one connection whose conversation is a script run on a thread of its own;
/// its result is collected within a deadline.
private final class ScriptedServer<Value: Sendable>: Sendable {
    let listener: BSONListener
    private let outcome = PackageMutex<Result<Value, PeerFailure>?>(nil)

    init(_ script: @escaping @Sendable (BSONSocket) throws -> Value) throws {
        listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
        let thread = Thread { [self] in
            let result: Result<Value, PeerFailure>
            do {
                let socket = try listener.accept(timeout: .seconds(60))
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(60))
                try socket.setSendTimeout(.seconds(60))
                result = .success(try script(socket))
            } catch {
                result = .failure(PeerFailure("the Swift side failed: \(error)"))
            }
            outcome.withLock { $0 = result }
        }
        thread.start()
    }

    /// The arguments that point a peer here.
    var target: [String] { ["--host", "127.0.0.1", "--port", String(listener.localPort ?? 0)] }

    /// The script's result, waiting at most `timeout` seconds.
    func value(timeout: Double = 60) throws -> Value {
        defer { listener.close() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let result = outcome.withLock({ $0 }) { return try result.get() }
            usleep(10_000)
        }
        throw PeerFailure("the Swift side did not finish within \(timeout) s")
    }
}

extension InteropTests {
    /// py-bson's class tags: its BSONCoding objects and our BSONClassNamed types.
    @Suite("py-bson class tags")
    struct ClassTags {
        static let registry = BSONClassRegistry([Point.self, Polygon.self, Reading.self])

        @Test("py-bson's bytes for its BSONCoding objects are our bytes for the Swift types, and decode back to them")
        func sameBytes() throws {
            let run = try runPeer(.pybson, ["print-suite", "classes"])
            try #require(run.status == 0, "print-suite failed: \(run.stderr)")
            try #require(run.records.map(\.name) == Expected.names)
            let ours = try Expected.encodedSuite()
            for (record, encoded) in zip(run.records, ours) {
                #expect(try record.sentBytes() == encoded, "\(record.name ?? "?"): the encodings differ")
            }
            let bytes = try run.records.map { try $0.sentBytes() }
            #expect(try Self.registry.decode(bytes: bytes[0]).object as? Point == Expected.point)
            #expect(try Self.registry.decode(bytes: bytes[1]).object as? Polygon == Expected.polygon)
            #expect(try Self.registry.decode(bytes: bytes[2]).object as? Reading == Expected.reading)
            // An untagged document holding tagged ones is a plain document to the registry.
            #expect(try Self.registry.decode(bytes: bytes[3]).document?["origin"]?[BSONClassRegistry.classNameKey] == "Point")
        }

        @Test("py-bson objects sent with sendobj arrive as our registered types; our replies load as the same objects")
        func pybsonObjectsArrive() throws {
            let registry = Self.registry
            let server = try ScriptedServer { socket -> ReceivedClasses in
                var received = ReceivedClasses()
                let decoder = BSONDecoder(classRegistry: registry)
                // Tagged at the top level: the registry receive gives the registered type.
                for _ in 0..<3 {
                    guard case .object(let object)? = try socket.recvObj(registry: registry) else {
                        throw PeerFailure("a tagged document did not arrive as an object")
                    }
                    received.point = received.point ?? object as? Point
                    received.polygon = received.polygon ?? object as? Polygon
                    received.reading = received.reading ?? object as? Reading
                    try socket.sendObj(object)
                }
                // Tagged objects inside plain documents: a Codable type with class-named and
                // AnyBSONClassNamed properties, decoded with the registry.
                guard let holder = try socket.recvObj(as: Holder.self, decoder: decoder) else {
                    throw PeerFailure("the peer closed before the holder")
                }
                received.holderLabel = holder.label
                received.holderOrigin = holder.origin
                received.holderPath = holder.path
                received.holderShape = holder.shape.base as? Polygon
                try socket.sendObj(holder)
                guard let shapes = try socket.recvObj(as: Shapes.self, decoder: decoder) else {
                    throw PeerFailure("the peer closed before the shapes")
                }
                received.shapesPoint = shapes.shapes.first?.base as? Point
                received.shapesPolygon = shapes.shapes.last?.base as? Polygon
                try socket.sendObj(shapes)
                received.closedCleanly = try socket.recvObj(registry: registry) == nil
                return received
            }
            let run = try runPeer(.pybson, ["classes-send", "classes", "--exact"] + server.target)
            let received = try server.value()
            #expect(run.status == 0, "\(run.stderr)")
            try #require(run.records.map(\.name) == Expected.names, "\(run.stderr)")
            // Every reply, written by BSONEncoder, loads in py-bson as the object it sent,
            // byte for byte what py-bson writes for that object.
            for record in run.records {
                #expect(record.ok == true && record.equal == true && record.bytesEqual == true, "\(record.name ?? "?")")
            }
            #expect(run.records.map(\.replyClass) == ["Point", "Polygon", "Reading", "dict", "dict"])
            #expect(received.point == Expected.point)
            #expect(received.polygon == Expected.polygon)
            #expect(received.reading == Expected.reading)
            #expect(received.holderLabel == Expected.holder.label)
            #expect(received.holderOrigin == Expected.holderOrigin)
            #expect(received.holderPath == Expected.holderPath)
            #expect(received.holderShape == Expected.holderShape)
            #expect(received.shapesPoint == Expected.shapesPoint)
            #expect(received.shapesPolygon == Expected.shapesPolygon)
            #expect(received.closedCleanly)
            // What py-bson sent is what our encoder writes for the same values.
            for (record, encoded) in zip(run.records, try Expected.encodedSuite()) {
                #expect(try record.sentBytes() == encoded, "\(record.name ?? "?")")
            }
        }

        @Test("an unregistered py-bson class: unknownClass, or the plain document on request; the stream stays in step")
        func unregisteredClass() throws {
            let registry = Self.registry
            let server = try ScriptedServer { socket -> [String] in
                var outcomes: [String] = []
                do {
                    _ = try socket.recvObj(registry: registry)
                    outcomes.append("decoded")
                } catch let error as BSONError {
                    outcomes.append("\(error.code)|\(error.message)")
                }
                let plain = try socket.recvObj(registry: registry, unregistered: .returnDocument)
                let secret = plain?.document?["secret"].map { "\($0)" } ?? "-"
                let className = plain?.document?[BSONClassRegistry.classNameKey].map { "\($0)" } ?? "-"
                outcomes.append("\(secret)|\(className)")
                let point = try socket.recvObj(registry: registry)?.object as? Point
                outcomes.append(point.map { "Point(\($0.x), \($0.y))" } ?? "no point")
                return outcomes
            }
            let run = try runPeer(.pybson, ["classes-send", "unregistered", "--no-reply"] + server.target)
            let outcomes = try server.value()
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.records.map(\.name) == ["mystery", "mystery-again", "point-after"])
            try #require(outcomes.count == 3)
            #expect(outcomes[0].hasPrefix("\(BSONError.Code.unknownClass)|"), "\(outcomes[0])")
            #expect(outcomes[0].contains("Mystery"))
            #expect(outcomes[1] == "\(BSONValue.string("hidden"))|\(BSONValue.string("Mystery"))")
            #expect(outcomes[2] == "Point(7, 8)")
        }

        @Test("our BSONClassNamed values arrive in py-bson as instances of its classes", arguments: Transport.allCases)
        func swiftObjectsArrive(_ transport: Transport) throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let script: @Sendable (BSONSocket) throws -> Bool = { socket in
                try socket.sendObj(Expected.point)
                try socket.sendObj(Expected.polygon)
                try socket.sendObj(Expected.reading)
                try socket.sendObj(Expected.holder)
                try socket.sendObj(Expected.shapes)
                try socket.sendObj(SwiftOnly(note: "swift"))
                try socket.sendObj(Point(x: 7, y: 8))
                // The peer hangs up once it has read everything.
                return try socket.recvObj() == nil
            }
            let run: PeerRun
            let closedCleanly: Bool
            switch transport {
            case .tcp:
                let server = try ScriptedServer(script)
                run = try runPeer(.pybson, ["classes-recv", "from-swift"] + server.target)
                closedCleanly = try server.value()
            case .unix:
                // The same conversation over a Unix socket, served by hand.
                let path = directory.file("classes.sock")
                let listener = try BSONListener.listen(unixPath: path)
                defer { listener.close() }
                let peer = try PeerProcess(.pybson, ["classes-recv", "from-swift", "--unix", path])
                defer { peer.stop() }
                let socket = try listener.accept(timeout: .seconds(60))
                defer { socket.close() }
                try socket.setReceiveTimeout(.seconds(60))
                closedCleanly = try script(socket)
                let status = peer.wait(timeout: 60)
                var records: [PeerRecord] = []
                for line in peer.stdout.all(timeout: 10).split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                    records.append(try JSONDecoder().decode(PeerRecord.self, from: Data(line)))
                }
                run = PeerRun(status: status, records: records, stderr: peer.stderr.text)
            }
            #expect(run.status == 0, "\(run.stderr)")
            try #require(run.records.map(\.name) == Expected.names + ["swift-only", "point-after"], "\(run.stderr)")
            #expect(run.records.allSatisfy { $0.ok == true }, "\(run.records.filter { $0.ok != true }.map(\.name))")
            #expect(run.records.map(\.loadedClass) == ["Point", "Polygon", "Reading", "dict", "dict", nil, "Point"])
            // Byte for byte what py-bson itself writes for those objects.
            #expect(run.records.prefix(5).allSatisfy { $0.bytesEqual == true })
            // py-bson has no class for SwiftOnly: MissingClassDefinition, and the next frame reads.
            #expect(run.records[5].error?.contains("MissingClassDefinition") == true)
            #expect(run.records[5].error?.contains("SwiftOnly") == true)
            #expect(closedCleanly)
        }
    }
}
