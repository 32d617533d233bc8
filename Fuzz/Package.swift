// swift-tools-version: 6.1
// libFuzzer targets for swift-bson-socket, in their own package so that the root package
// never builds with the fuzzer runtime. Build and run them with `make fuzz` at the root
// (see README.md here); each executable exports `LLVMFuzzerTestOneInput` and is linked
// with `-sanitize=fuzzer,address`, which libFuzzer's own `main` drives.
import Foundation
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

// `fuzz-frames` drives `BSONFrameReader`, which is `package`-visible in swift-bson-socket;
// compiling it under that package's name lets it see the reader without making it public.
// SwiftPM names a path dependency after its folder (lowercased, as a C identifier), so the
// name is worked out from where this manifest sits: the repository root is one level up.
let rootFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
let rootPackageName: String = {
    var name = String(rootFolder.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    if let first = name.first, first.isNumber { name = "_" + name }
    return name
}()
let framesSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-package-name", rootPackageName]),
]

let package = Package(
    name: "swift-bson-socket-fuzz",
    dependencies: [
        // `name:` keeps the identity independent of the folder the repository is cloned into.
        .package(name: "swift-bson-socket", path: "../"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzDriver", .product(name: "BSONCodec", package: "swift-bson-socket")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fuzz-decode",
            dependencies: ["FuzzSupport", .product(name: "BSONCodec", package: "swift-bson-socket")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fuzz-view",
            dependencies: ["FuzzSupport", .product(name: "BSONCodec", package: "swift-bson-socket")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FramesModel",
            dependencies: [
                "FuzzSupport",
                .product(name: "BSONCodec", package: "swift-bson-socket"),
                .product(name: "BSONSocket", package: "swift-bson-socket"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fuzz-frames",
            dependencies: [
                "FuzzSupport",
                "FramesModel",
                .product(name: "BSONCodec", package: "swift-bson-socket"),
                .product(name: "BSONSocket", package: "swift-bson-socket"),
            ],
            // Without SwiftPM's own `-package-name` (this package's), the one above counts.
            packageAccess: false,
            swiftSettings: framesSettings
        ),
        .executableTarget(
            name: "fuzz-frames-nio",
            dependencies: [
                "FuzzSupport",
                "FramesModel",
                .product(name: "BSONCodec", package: "swift-bson-socket"),
                .product(name: "BSONSocket", package: "swift-bson-socket"),
                .product(name: "BSONSocketNIO", package: "swift-bson-socket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fuzz-ejson",
            dependencies: ["FuzzSupport", .product(name: "BSONCodec", package: "swift-bson-socket")],
            swiftSettings: swiftSettings
        ),
    ]
)
