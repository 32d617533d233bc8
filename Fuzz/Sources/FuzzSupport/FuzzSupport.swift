// Shared pieces of the fuzz targets: a deterministic generator seeded from the input (so
// that a crashing input replays exactly), and the way a broken property is reported.
public import BSONCodec
internal import CFuzzDriver
#if canImport(Glibc)
internal import Glibc
#endif

/// SplitMix64: a tiny deterministic generator. Seeded from the fuzz input's own bytes, so
/// the "random" choices of a run (split points, probe keys) are part of the input.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A seed from up to 8 bytes (little-endian); fewer bytes give a shorter seed.
    public init<C: Collection<UInt8>>(seedBytes bytes: C) {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for (index, byte) in bytes.prefix(8).enumerated() { seed ^= UInt64(byte) << (8 * UInt64(index)) }
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (`bound` > 0).
    public mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}

/// Stops the process so that libFuzzer records the input as a crash. A broken property is
/// a bug in the library (or in the property), never something to continue past.
public func propertyFailed(_ message: @autoclosure () -> String, input: [UInt8]) -> Never {
    let shown = input.prefix(64).map { String($0, radix: 16) }.joined(separator: " ")
    fatalError("property violated: \(message()) [input \(input.count) bytes: \(shown)\(input.count > 64 ? " …" : "")]")
}

extension BSONDocument {
    /// The document's bytes, or `nil` when it cannot be encoded.
    public var encodedOrNil: [UInt8]? { try? encoded() }
}

/// A libFuzzer input as a Swift array.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Runs libFuzzer's driver on `target` with this process's command line, and returns its
/// exits with its status. Every fuzz target's `main` is this call.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    exit(fuzz_run_driver(CommandLine.argc, CommandLine.unsafeArgv, target))
}
