// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-bson-socket",
    products: [
        .library(name: "BSONCodec", targets: ["BSONCodec"]),
        .library(name: "BSONSocket", targets: ["BSONSocket"]),
        .library(name: "BSONSocketNIO", targets: ["BSONSocketNIO"]),
        .executable(name: "bson-socket", targets: ["bson-socket"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibBSON",
            pkgConfig: "libbson-1.0",
            providers: [.apt(["libbson-dev", "pkg-config"])]
        ),
        .target(
            name: "BSONCodec",
            dependencies: ["CLibBSON"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BSONSocket",
            dependencies: [
                "BSONCodec",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        // SwiftNIO handlers and the async/await client and server; no system calls of its own.
        .target(
            name: "BSONSocketNIO",
            dependencies: [
                "BSONCodec",
                "BSONSocket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "bson-socket",
            dependencies: [
                "BSONCodec",
                "BSONSocket",
                "BSONSocketNIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers the test targets share (a seeded generator, descriptor limits); tests only.
        .target(
            name: "TestSupport",
            dependencies: ["BSONCodec"],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BSONCodecTests",
            dependencies: ["BSONCodec", "TestSupport"],
            resources: [.copy("Resources")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BSONSocketTests",
            dependencies: ["BSONSocket", "BSONCodec", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["BSONCodec", "bson-socket"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BSONSocketNIOTests",
            dependencies: [
                "BSONSocketNIO",
                "BSONSocket",
                "BSONCodec",
                "TestSupport",
                "bson-socket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: ["BSONSocket", "BSONCodec"],
            swiftSettings: strictSettings
        ),
    ]
)
