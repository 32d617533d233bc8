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
import Benchmark
import CodecBenchSupport

/// Operations per benchmark iteration (the driver-benchmark specification's count).
let operationsPerIteration = 10_000

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 20
    )

    let documents: [DriverBenchDocument]
    do {
        documents = try DriverBenchData.loadAll()
    } catch {
        fatalError("cannot load the driver-benchmark documents from \(DriverBenchData.directory): \(error)")
    }

    for entry in documents {
        let bytes = entry.bytes
        let document = entry.document
        let label = "\(entry.name)_bson (\(bytes.count) B)"

        Benchmark("decode \(label)") { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try BSONDocument(bytes: bytes))
            }
        }

        Benchmark("encode \(label)") { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                blackHole(try document.encoded())
            }
        }

        Benchmark("validate \(label)") { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                try BSONDocument.validate(bytes: bytes)
            }
        }

        // The lazy path: a view over the received bytes, then one key. Three positions,
        // because the view walks every element before the one it looks for.
        for (position, key) in entry.lookupKeys {
            Benchmark("view lookup \(position) key \(label)") { (benchmark: Benchmark) throws in
                for _ in 0..<operationsPerIteration {
                    let view = try BSONView(bytes: bytes)
                    blackHole(try view[key])
                }
            }
        }

        // The eager path the view replaces: decode everything, then subscript (the last
        // key, the view's slowest case).
        let lastKey = entry.keys[entry.keys.count - 1]
        Benchmark("decode + subscript last key \(label)") { (benchmark: Benchmark) throws in
            for _ in 0..<operationsPerIteration {
                let decoded = try BSONDocument(bytes: bytes)
                blackHole(decoded[lastKey])
            }
        }
    }
}
