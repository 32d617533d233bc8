// swift-tools-version: 6.1
// A release-mode harness for the SwiftNIO side of swift-bson-socket, apart from the
// ordo-one benchmarks in ../ (which it does not touch):
//
//   swift run -c release --scratch-path .build-nio-bench bson-nio-bench decode
//   swift run -c release --scratch-path .build-nio-bench bson-nio-bench echo
//
// `decode`: frames per second through the BSON frame decoders against SwiftNIO with a raw
// length-only decoder (swift-nio-extras' LengthFieldBasedFrameDecoder), same process, same
// bytes. `echo`: documents per second through the NIO echo server and the blocking threaded
// echo server, each in a child process, at 1, 10, 100 and 1,000 connections.
import PackageDescription

let package = Package(
    name: "swift-bson-socket-nio-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` keeps the identity independent of the folder the repository is cloned into.
        .package(name: "swift-bson-socket", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
    ],
    targets: [
        .executableTarget(
            name: "bson-nio-bench",
            dependencies: [
                .product(name: "BSONSocketNIO", package: "swift-bson-socket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ]
)
