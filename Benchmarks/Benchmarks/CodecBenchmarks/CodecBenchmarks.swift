// Codec benchmarks on the MongoDB driver-benchmark documents (flat_bson, deep_bson,
// full_bson), in the style of the driver-benchmark specification: one iteration is 10,000
// operations on the same document. So `throughput` is in iterations per second (multiply
// by 10,000 for documents per second), `wallClock` is the time of 10,000 operations, and
// `mallocCountTotal` counts the allocations of 10,000 operations.
//
//   cd Benchmarks && swift package --scratch-path .build-bench benchmark
//   cd Benchmarks && swift package --scratch-path .build-bench benchmark --filter 'decode'
//
// Parsing the Extended JSON files and encoding them happens once, here, before any
// benchmark runs; only the operation itself is inside the measured closure.
//
// For the comparison with pymongo and with raw libbson, see ../../compare_codec.py.

import BSONCodec
import BSONSocket
import Benchmark
import CodecBenchSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// A benchmark name without spaces or slashes: package-benchmark writes static threshold
/// files under names with those replaced by "_" but looks them up by the name as given, so
/// only names that need no replacing can be checked (`make bench-check`).
func named(_ description: String) -> String {
    String(description.map { $0 == " " || $0 == "/" ? "_" : $0 })
}

/// Operations per benchmark iteration (the driver-benchmark specification's count).
let operationsPerIteration = 10_000

let benchmarks: @Sendable () -> Void = {
    // Static p90 thresholds live in Benchmarks/Thresholds/ (`make bench-thresholds` writes
    // them, `make bench-check` compares a new run with them). The tolerances below say how
    // far a p90 may move before the check fails. The threshold files keep only the malloc
    // counts, which are deterministic: on the shared 2-core machines this suite runs on, the
    // time p90s of unchanged code moved by up to 6x between runs (the time tolerances here
    // apply if someone records time thresholds on a quiet machine).
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 20,
        thresholds: [
            .mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 200]),
            .cpuTotal: .init(relative: [.p90: 60.0]),
            .wallClock: .init(relative: [.p90: 150.0]),
            .throughput: .init(relative: [.p90: 60.0]),
        ]
    )

    let documents: [DriverBenchDocument]
    do {
        documents = try DriverBenchData.loadAll()
    } catch {
        fatalError("cannot load the driver-benchmark documents from \(DriverBenchData.directory): \(error)")
    }

    transportBenchmarks()

    for entry in documents {
        let bytes = entry.bytes
        let document = entry.document
        let label = "\(entry.name)_bson (\(bytes.count) B)"

        Benchmark(named("decode \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try BSONDocument(bytes: bytes))
            }
        }

        Benchmark(named("encode \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try document.encoded())
            }
        }

        // The lazy view's decode: every element checked, no value built.
        Benchmark(named("view decode \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                let view = try BSONView(bytes: bytes)
                try view.validate()
                blackHole(view)
            }
        }

        // Foundation's JSON on the same data as relaxed Extended JSON text.
        let json = Data(document.extendedJSON(.relaxed).utf8)
        let object = try! JSONSerialization.jsonObject(with: json)
        Benchmark(named("JSONSerialization decode \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try JSONSerialization.jsonObject(with: json))
            }
        }
        Benchmark(named("JSONSerialization encode \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try JSONSerialization.data(withJSONObject: object))
            }
        }

        Benchmark(named("validate \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                try BSONDocument.validate(bytes: bytes)
            }
        }

        // The lazy path: a view over the received bytes, then one key. Three positions,
        // because the view walks every element before the one it looks for.
        for (position, key) in entry.lookupKeys {
            Benchmark(named("view lookup \(position) key \(label)")) { (benchmark: Benchmark) throws in
                for _ in 0..<operationsPerIteration {
                    let view = try BSONView(bytes: bytes)
                    blackHole(try view[key])
                }
            }
        }

        codableBenchmarks(entry, label: label)

        // The eager path the view replaces: decode everything, then subscript (the last
        // key, the view's slowest case).
        let lastKey = entry.keys[entry.keys.count - 1]
        Benchmark(named("decode + subscript last key \(label)")) { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                let decoded = try BSONDocument(bytes: bytes)
                blackHole(decoded[lastKey])
            }
        }
    }
}

/// Codable: the document's bytes into its Swift model with `BSONDecoder`, and back with
/// `BSONEncoder` (the models of CodecBenchSupport encode to exactly the document's bytes).
func codableBenchmarks(_ entry: DriverBenchDocument, label: String) {
    switch entry.name {
    case "flat": codableBenchmarks(entry, label: label, as: FlatBench.self)
    case "deep": codableBenchmarks(entry, label: label, as: DeepBench.self)
    case "full": codableBenchmarks(entry, label: label, as: FullBench.self)
    default: break
    }
}

func codableBenchmarks<Model: Codable>(_ entry: DriverBenchDocument, label: String, as type: Model.Type) {
    let bytes = entry.bytes
    let decoder = BSONDecoder()
    let encoder = BSONEncoder()
    guard let model = try? decoder.decode(Model.self, from: bytes) else {
        fatalError("\(Model.self) cannot read \(entry.name)_bson")
    }
    Benchmark(named("codable decode \(label)")) { (benchmark: Benchmark) throws in
        for _ in 0..<operationsPerIteration {
            blackHole(try decoder.decode(Model.self, from: bytes))
        }
    }
    Benchmark(named("codable encode \(label)")) { (benchmark: Benchmark) throws in
        for _ in 0..<operationsPerIteration {
            blackHole(try encoder.encode(model))
        }
    }
}
