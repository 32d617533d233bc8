// The Swift side of the transport benchmark (driven by ../../compare_transport.py).
//
//   transport-bench generate SMALL_FILE LARGE_FILE [SMALL_COUNT LARGE_COUNT]
//                             writes the two document sets, frames back to back
//   transport-bench serve SMALL_FILE
//                             a long-lived worker: answers each line on stdin with one JSON line
//       recv MODE ADDRESS SET COUNT WARMUP    one timed receive (MODE: obj frame borrow fd-obj fd-frame)
//       verify MODE ADDRESS SET COUNT OUTPUT  receives COUNT documents, writes what it got
//       ping ADDRESS COUNT WARMUP             ping-pong client; round-trip times in ns
//       mem COUNT WARMUP                      BSONDocument(bytes:) over the small set in memory:
//                                             the decode alone, no socket
//   transport-bench once MODE ADDRESS SET COUNT
//                             one receive with no warm-up, then exit (for perf stat / strace)
//       recv nio ADDRESS SET COUNT WARMUP     the same stream through a SwiftNIO pipeline
//       verify nio ADDRESS SET COUNT OUTPUT
//       nio-ping ADDRESS COUNT WARMUP         ping-pong with BSONClient.request
//   transport-bench nio-echo-server
//                             BSONServer echo on 127.0.0.1; prints `port N`; runs until stdin ends
//   transport-bench echo-server
//                             BSONThreadedServer echo on 127.0.0.1; prints `port N`; runs
//                             until stdin ends
//
// ADDRESS is tcp:127.0.0.1:PORT or unix:PATH; SET is 0 (small) or 1 (large). The sender
// (c/transport_bench.c) accepts, reads an 8-byte request (set, count) and writes the set's
// pre-encoded frames, cycling, in large writes, then closes.

import BSONSocket

import Foundation

func serve(smallSet: String) throws {
    let frames = try DocumentSet.load(smallSet)
    let documents = try frames.map { try BSONDocument(bytes: $0) }
    // Bounded: at most a million requests; ends at end of input or "quit".
    for _ in 0..<1_000_000 {
        guard let line = readLine(), line != "quit" else { return }
        let words = line.split(separator: " ").map(String.init)
        do {
            switch words.first {
            case "recv" where words.count == 6 && words[1] == "nio":
                guard let set = Int(words[3]), let count = Int(words[4]), let warmup = Int(words[5]), count > 0, warmup >= 0
                else { throw UsageError(description: "bad request") }
                let time = try nioReceive(address: try Address(words[2]), set: set, count: count, warmup: warmup)
                emitLine(timingLine(task: "nio", count: count, time: time))
            case "verify" where words.count == 6 && words[1] == "nio":
                guard let set = Int(words[3]), let count = Int(words[4]), count > 0 else {
                    throw UsageError(description: "bad request")
                }
                try nioVerify(address: try Address(words[2]), set: set, count: count, output: words[5])
                emitLine("{\"side\": \"swift\", \"task\": \"verify-nio\", \"ok\": true}")
            case "nio-ping" where words.count == 4:
                guard let count = Int(words[2]), let warmup = Int(words[3]), count > 0, warmup >= 0 else {
                    throw UsageError(description: "bad request")
                }
                let samples = try nioPingPong(
                    address: try Address(words[1]), documents: documents, count: count, warmup: warmup)
                emitLine(pingLine(samples))
            case "recv" where words.count == 6:
                guard let mode = ReceiveMode(rawValue: words[1]), let set = Int(words[3]), let count = Int(words[4]),
                    let warmup = Int(words[5]), count > 0, warmup >= 0
                else { throw UsageError(description: "bad request") }
                let time = try receive(mode: mode, address: try Address(words[2]), set: set, count: count, warmup: warmup)
                emitLine(timingLine(task: mode.rawValue, count: count, time: time))
            case "mem" where words.count == 3:
                guard let count = Int(words[1]), let warmup = Int(words[2]), count > 0, warmup >= 0 else {
                    throw UsageError(description: "bad request")
                }
                let time = try decodeFromMemory(frames, count: count, warmup: warmup)
                emitLine(timingLine(task: "mem", count: count, time: time))
            case "verify" where words.count == 6:
                guard let mode = ReceiveMode(rawValue: words[1]), let set = Int(words[3]), let count = Int(words[4]),
                    count > 0
                else { throw UsageError(description: "bad request") }
                try verify(mode: mode, address: try Address(words[2]), set: set, count: count, output: words[5])
                emitLine("{\"side\": \"swift\", \"task\": \"verify-\(mode.rawValue)\", \"ok\": true}")
            case "ping" where words.count == 4:
                guard let count = Int(words[2]), let warmup = Int(words[3]), count > 0, warmup >= 0 else {
                    throw UsageError(description: "bad request")
                }
                let samples = try pingPong(
                    address: try Address(words[1]), documents: documents, count: count, warmup: warmup)
                emitLine(pingLine(samples))
            default:
                throw UsageError(description: "bad request")
            }
        } catch {
            emitLine("{\"error\": \"\(jsonSafe(line)): \(jsonSafe(String(describing: error)))\"}")
        }
    }
}

func main() throws {
    let arguments = Array(CommandLine.arguments.dropFirst())
    switch arguments.first {
    case "generate" where arguments.count == 3 || arguments.count == 5:
        let smallCount = arguments.count == 5 ? Int(arguments[3]) ?? 0 : 1000
        let largeCount = arguments.count == 5 ? Int(arguments[4]) ?? 0 : 8
        guard smallCount > 0, largeCount > 0 else { throw UsageError(description: "counts must be positive") }
        for (name, path, count) in [("small", arguments[1], smallCount), ("large", arguments[2], largeCount)] {
            let frames = try DocumentSet.generate(name, count: count)
            try Data(frames.joined()).write(to: URL(fileURLWithPath: path))
        }
    case "generate-wrapped" where arguments.count == 4:
        // FILE PER_ENVELOPE COUNT: COUNT envelopes of PER_ENVELOPE field-rich documents each
        // (62 gives documents of about 64 KiB).
        guard let per = Int(arguments[2]), let count = Int(arguments[3]), per > 0, count > 0 else {
            throw UsageError(description: "usage: transport-bench generate-wrapped FILE PER_ENVELOPE COUNT")
        }
        var rng = SplitMix64(seed: 0x5EED_0003)
        var frames: [[UInt8]] = []
        for index in 0..<count {
            frames.append(try DocumentSet.largeDocument(index, &rng, count: per).encoded())
        }
        try Data(frames.joined()).write(to: URL(fileURLWithPath: arguments[1]))
    case "serve" where arguments.count == 2:
        try serve(smallSet: arguments[1])
    case "once" where arguments.count == 5:
        guard let mode = ReceiveMode(rawValue: arguments[1]), let set = Int(arguments[3]), let count = Int(arguments[4]),
            count > 0
        else { throw UsageError(description: "usage: transport-bench once MODE ADDRESS SET COUNT") }
        let time = try receive(mode: mode, address: try Address(arguments[2]), set: set, count: count, warmup: 0)
        emitLine("{\"side\": \"swift\", \"task\": \"\(mode.rawValue)\", \"docs\": \(count), \"ns\": \(time.wall)}")
    case "echo-server" where arguments.count == 1:
        try runEchoServer()
    case "nio-echo-server" where arguments.count == 1:
        try runNIOEchoServer()
    default:
        throw UsageError(
            description: "usage: transport-bench generate SMALL LARGE [N M] | serve SMALL | once MODE ADDRESS SET COUNT | echo-server")
    }
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("transport-bench: \(error)\n".utf8))
    exit(1)
}
