// swift-tools-version: 6.1
// The benchmarks of swift-bson-socket, in their own package so that `swift build` at the
// root never needs ordo-one/benchmark.
//
//   swift package --scratch-path .build-bench benchmark          ordo-one benchmarks
//   python3 compare_codec.py   (or `make bench-codec` at the root)  Swift vs pymongo vs libbson
//   python3 compare_transport.py (or `make bench-transport`)  BSONSocket vs py-bson, pymongo, C
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "swift-bson-socket-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // `name:` keeps the identity independent of the folder the repository is cloned into.
        .package(name: "swift-bson-socket", path: "../"),
        // The malloc interposer gives the malloc counts; the other default trait (the ARC
        // runtime interposer of Swift 6.3) is left off.
        // Already in the graph through the root package; named here because transport-bench
        // builds its NIO receiver from NIO's bootstrap and our BSON pipeline handlers.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The driver-benchmark documents, read from Data/driver-bench/ with our Extended
        // JSON parser; shared by both executables below.
        .target(
            name: "CodecBenchSupport",
            dependencies: [.product(name: "BSONCodec", package: "swift-bson-socket")],
            swiftSettings: swiftSettings
        ),
        // The Swift side of the cross-language comparison (compare_codec.py drives it). It
        // does not link ordo-one/benchmark, so its allocations go to the plain malloc.
        .executableTarget(
            name: "codec-compare",
            dependencies: [
                "CodecBenchSupport",
                .product(name: "BSONCodec", package: "swift-bson-socket"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift side of the transport comparison (compare_transport.py drives it):
        // receivers of the one-way stream, the ping-pong client and echo server.
        .executableTarget(
            name: "transport-bench",
            dependencies: [
                .product(name: "BSONSocket", package: "swift-bson-socket"),
                .product(name: "BSONSocketNIO", package: "swift-bson-socket"),
                .product(name: "BSONCodec", package: "swift-bson-socket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // libbson for the "raw libbson from Swift" contender only: a benchmark-local module map
        // (the library's own CLibBSON is not a product, and stays private to BSONCodec).
        .systemLibrary(
            name: "CLibBSONBench",
            pkgConfig: "libbson-1.0",
            providers: [.apt(["libbson-dev", "pkg-config"])]
        ),
        // The codec ceiling: libbson's iterator and append functions driven from Swift, with
        // no Swift values in between (bench.py drives it like c/libbson_codec.c).
        .executableTarget(
            name: "libbson-swift",
            dependencies: ["CLibBSONBench"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                "CodecBenchSupport",
                .product(name: "BSONCodec", package: "swift-bson-socket"),
                .product(name: "BSONSocket", package: "swift-bson-socket"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
