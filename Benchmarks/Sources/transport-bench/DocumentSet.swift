// The documents every contender of the transport benchmark receives: generated here once,
// deterministically, written to a file of frames back to back, and read from that file by
// every program (the C sender, the C, Swift and Python receivers and echo clients).

import BSONSocket

import Foundation

/// SplitMix64: a tiny, fully specified generator, so the same seed gives the same documents
/// on every machine and every run.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A double with two decimals in `0..<scale`, exactly representable in every language's
    /// parser and printer alike (bits are what matter here, and they round-trip).
    mutating func amount(_ scale: Int) -> Double { Double(below(scale * 100)) / 100 }
}

enum DocumentSet {
    /// The two sets: `small` for the ~1 KB stream and the ping-pong, `large` for the
    /// receive path of frames bigger than the read-ahead buffer.
    static let names = ["small", "large"]

    private static let words = [
        "socket", "frame", "buffer", "stream", "packet", "header", "length", "value", "document", "array",
        "string", "double", "decimal", "binary", "object", "cursor", "thread", "kernel", "window", "timeout",
        "latency", "payload", "checksum", "replica", "shard", "index", "query", "update", "insert", "delete",
    ]
    private static let cities = ["Zürich", "São Paulo", "東京", "Kraków", "Reykjavík", "Montréal", "Århus", "Ōsaka"]
    private static let streets = ["Bahnhofstrasse", "Rua Augusta", "Floriańska", "Laugavegur", "Rue Sainte-Catherine"]
    private static let events = ["login", "logout", "purchase", "refund", "upgrade", "downgrade", "comment"]
    private static let firstNames = ["Ada", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances"]

    /// Milliseconds of 2020-01-01T00:00:00Z.
    private static let epoch2020: Int64 = 1_577_836_800_000

    private static func sentence(_ rng: inout SplitMix64, words count: Int) -> String {
        var parts: [String] = []
        for _ in 0..<count { parts.append(rng.pick(words)) }
        return parts.joined(separator: " ")
    }

    private static func datetime(_ rng: inout SplitMix64) -> BSONValue {
        // Up to about six years after 2020, to the millisecond.
        .datetime(BSONDatetime(millisecondsSinceEpoch: epoch2020 + Int64(rng.below(189_216_000_000))))
    }

    /// One field-rich document of about 1 KB: strings (some not ASCII), 32- and 64-bit
    /// integers, doubles, booleans, a null, datetimes, a nested document two levels deep,
    /// arrays of scalars and an array of documents.
    ///
    /// Every integer that fits 32 bits is an int32 and every int64 is outside that range,
    /// the rule py-bson and pymongo encode Python ints by, so that both Python libraries
    /// decode and re-encode these documents to the same bytes (the driver checks it).
    static func smallDocument(_ index: Int, _ rng: inout SplitMix64) -> BSONDocument {
        let first = rng.pick(firstNames)
        var tags: [BSONValue] = []
        for _ in 0..<(3 + rng.below(4)) { tags.append(.string(rng.pick(words))) }
        var readings: [BSONValue] = []
        for _ in 0..<6 { readings.append(.double(rng.amount(1000))) }
        var counters: [BSONValue] = []
        for _ in 0..<6 { counters.append(.int32(Int32(rng.below(1_000_000)))) }
        var history: [BSONValue] = []
        for _ in 0..<3 {
            history.append(.document([
                "at": datetime(&rng),
                "event": .string(rng.pick(events)),
                "amount": .double(rng.amount(5000)),
                "ok": .bool(rng.below(4) != 0),
            ]))
        }
        let city = rng.pick(cities)
        return [
            "_id": .int64((1 << 40) + Int64(index)),
            "seq": .int32(Int32(index)),
            "name": .string("\(first) \(rng.pick(words).capitalized) #\(rng.below(100_000))"),
            "email": .string("\(first.lowercased()).\(rng.pick(words))@example.org"),
            "active": .bool(rng.below(2) == 0),
            "score": .double(rng.amount(100)),
            "balance": .double(rng.amount(1_000_000) - 500_000),
            "visits": .int32(Int32(rng.below(100_000))),
            "bytesServed": .int64(Int64(1) << 33 + Int64(rng.below(1 << 30))),
            "created": datetime(&rng),
            "updated": datetime(&rng),
            "note": .null,
            "address": .document([
                "street": .string("\(rng.pick(streets)) \(1 + rng.below(200))"),
                "city": .string(city),
                "zip": .string(String(10_000 + rng.below(90_000))),
                "geo": .document(["lat": .double(rng.amount(180) - 90), "lon": .double(rng.amount(360) - 180)]),
            ]),
            "tags": .array(tags),
            "readings": .array(readings),
            "counters": .array(counters),
            "history": .array(history),
            "bio": .string("\(first) from \(city): " + sentence(&rng, words: 28 + rng.below(20))),
        ]
    }

    /// One document of about 1 MiB: an envelope around `count` small documents, so that the
    /// large frames are field-rich too.
    static func largeDocument(_ index: Int, _ rng: inout SplitMix64, count: Int) -> BSONDocument {
        var items: [BSONValue] = []
        items.reserveCapacity(count)
        for item in 0..<count { items.append(.document(smallDocument(index * count + item, &rng))) }
        return ["_id": .int64((1 << 41) + Int64(index)), "batch": .int32(Int32(index)), "items": .array(items)]
    }

    /// The encoded frames of a set.
    static func generate(_ name: String, count: Int) throws -> [[UInt8]] {
        var rng = SplitMix64(seed: name == "small" ? 0x5EED_0001 : 0x5EED_0002)
        var frames: [[UInt8]] = []
        for index in 0..<count {
            let document = name == "small" ? smallDocument(index, &rng) : largeDocument(index, &rng, count: 1021)
            frames.append(try document.encoded())
        }
        return frames
    }

    /// Splits a file of frames back to back into frames (and checks each header).
    static func load(_ path: String) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 5 else { throw UsageError(description: "\(path): trailing bytes") }
            let length = Int(
                Int32(littleEndian: bytes[offset..<(offset + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
            guard length >= 5, offset + length <= bytes.count else {
                throw UsageError(description: "\(path): bad frame header at byte \(offset)")
            }
            frames.append(Array(bytes[offset..<(offset + length)]))
            offset += length
        }
        return frames
    }
}
