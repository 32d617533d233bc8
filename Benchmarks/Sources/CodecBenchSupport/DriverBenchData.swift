public import BSONCodec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One of the MongoDB driver-benchmark documents (flat_bson, deep_bson, full_bson), made
/// ready for a benchmark: the parsed document, its encoded bytes, and three of its
/// top-level keys for lookups.
public struct DriverBenchDocument: Sendable {
    /// "flat", "deep" or "full".
    public let name: String
    /// The document as our Extended JSON parser read it, with a top-level `_id` moved
    /// first (where pymongo writes it).
    public let document: BSONDocument
    /// `document.encoded()`: what a peer would receive.
    public let bytes: [UInt8]
    /// The top-level keys in order.
    public let keys: [String]

    /// The first, middle (index count / 2) and last top-level key, with a label for each.
    /// For a document of two keys the middle key is the last one.
    public var lookupKeys: [(position: String, key: String)] {
        [("first", keys[0]), ("middle", keys[keys.count / 2]), ("last", keys[keys.count - 1])]
    }
}

/// Loads the driver-benchmark documents from `Data/driver-bench/` of this repository.
public enum DriverBenchData {
    /// The documents, in the order the driver-benchmark specification lists them.
    public static let names = ["flat", "deep", "full"]

    /// The folder holding `flat_bson.json` and the others: `$BSON_BENCH_DATA` when set,
    /// else `Data/driver-bench` of the repository this file was compiled from.
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["BSON_BENCH_DATA"], !override.isEmpty {
            return override
        }
        // #filePath is …/Benchmarks/Sources/CodecBenchSupport/DriverBenchData.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Data/driver-bench").path
    }

    /// Reads and parses `<name>_bson.json`, then encodes it once.
    public static func load(_ name: String) throws -> DriverBenchDocument {
        let path = directory + "/" + name + "_bson.json"
        let text = try Data(contentsOf: URL(fileURLWithPath: path))
        var document = try BSONDocument(extendedJSON: [UInt8](text))
        // pymongo's bson.encode always writes a top-level "_id" first. Putting it first here
        // too gives both sides the same bytes to decode and the same bytes to produce
        // (compare_codec.py checks this); the values are unchanged.
        if let id = document.removeValue(forKey: "_id") {
            document = BSONDocument([(key: "_id", value: id)] + document.elements)
        }
        let bytes = try document.encoded()
        guard !document.isEmpty else {
            throw BenchDataError(message: "\(path) holds an empty document; the benchmarks need keys")
        }
        return DriverBenchDocument(name: name, document: document, bytes: bytes, keys: document.keys)
    }

    /// All three documents, in ``names`` order.
    public static func loadAll() throws -> [DriverBenchDocument] {
        try names.map { try load($0) }
    }
}

/// A data file that cannot serve as a benchmark input.
public struct BenchDataError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
