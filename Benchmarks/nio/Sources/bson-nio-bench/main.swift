import BSONSocketNIO
import Foundation
import NIOCore
import NIOEmbedded
import NIOExtras
import NIOPosix
import Synchronization

// The harness: see Package.swift for the commands. Every figure is the best of several
// runs (the machine is shared), measured with the monotonic clock.

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "decode": try runDecode()
case "echo": try runEcho(engines: Array(arguments.dropFirst()))
case "serve": try runServe(engine: arguments.dropFirst().first ?? "nio")
default:
    say("usage: bson-nio-bench decode | echo [nio|threads …] | serve nio|threads")
    exit(2)
}

/// Writes a line to standard output at once (unbuffered, so a parent reading a pipe sees it).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

// MARK: - decode

/// A decoder that knows nothing of BSON: the 4-byte little-endian length counts the frame,
/// so it slices `length` bytes when they are all there. The floor for any self-length framing.
struct RawLengthDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self),
            buffer.readableBytes >= Int(length)
        else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Feeds `stream` into a channel with `handler` in reads of 64 KiB (a socket read's largest
/// size in SwiftNIO) and drains what comes out; returns frames per second.
func framesPerSecond<Out>(
    _ label: String, stream: [UInt8], frames: Int, as: Out.Type, rounds: Int = 7,
    _ makeHandler: () -> any ChannelInboundHandler
) throws -> Double {
    var best = 0.0
    for _ in 0..<rounds {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(makeHandler())
        var chunks: [ByteBuffer] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 65536)
            chunks.append(ByteBuffer(bytes: stream[offset..<end]))
            offset = end
        }
        var count = 0
        let began = ContinuousClock.now
        for chunk in chunks {
            try channel.writeInbound(chunk)
            while let _: Out = try channel.readInbound() { count += 1 }
        }
        let elapsed = seconds(ContinuousClock.now - began)
        precondition(count == frames, "\(label): \(count) frames, expected \(frames)")
        _ = try channel.finish()
        best = max(best, Double(count) / elapsed)
    }
    return best
}

func runDecode() throws {
    let shapes: [(String, BSONDocument)] = [
        ("tiny {i: int32} (12 B)", ["i": .int32(7)]),
        ("seed greeting (54 B)", ["type": "greeting", "message": "Hello server!"]),
        ("mixed (≈250 B)", [
            "type": "data", "values": [1, 2, 3, 4, 5], "average": 3.0, "ok": true,
            "nested": ["list": [1, "two", 3.0, nil], "flag": true, "big": .int64(1 << 40)],
            "name": .string(String(repeating: "n", count: 100)),
        ]),
        ("binary 4 KiB", ["blob": .binary(BSONBinary(data: [UInt8](repeating: 9, count: 4096)))]),
    ]
    say("decode: frames/s through each decoder, 64 KiB reads, best of 7 (3 for the strict ones)")
    say("| document | raw length-only (NIO) | LengthFieldBasedFrameDecoder | BSONFrameDecoder(.framing) | ratio to raw | BSONFrameDecoder(.strict) | BSONDocumentDecoder |")
    say("|---|---|---|---|---|---|---|")
    for (name, document) in shapes {
        let frame = try document.encoded()
        let frames = max(20_000, 32 << 20 / frame.count / 4)
        let stream = [UInt8](repeating: 0, count: 0) + (0..<frames).flatMap { _ in frame }
        // The same payloads with a prefix that counts only what follows it, for NIOExtras.
        var extrasFrame = frame
        withUnsafeBytes(of: UInt32(frame.count - 4).littleEndian) { extrasFrame.replaceSubrange(0..<4, with: $0) }
        let extrasStream = (0..<frames).flatMap { _ in extrasFrame }

        let raw = try framesPerSecond("raw", stream: stream, frames: frames, as: ByteBuffer.self) {
            ByteToMessageHandler(RawLengthDecoder())
        }
        let extras = try framesPerSecond("extras", stream: extrasStream, frames: frames, as: ByteBuffer.self) {
            ByteToMessageHandler(
                LengthFieldBasedFrameDecoder(lengthFieldBitLength: .fourBytes, lengthFieldEndianness: .little))
        }
        let framing = try framesPerSecond("framing", stream: stream, frames: frames, as: ByteBuffer.self) {
            ByteToMessageHandler(BSONFrameDecoder(validation: .framing))
        }
        let strict = try framesPerSecond("strict", stream: stream, frames: frames, as: ByteBuffer.self, rounds: 3) {
            ByteToMessageHandler(BSONFrameDecoder(validation: .strict))
        }
        let documents = try framesPerSecond("documents", stream: stream, frames: frames, as: BSONDocument.self, rounds: 3) {
            ByteToMessageHandler(BSONDocumentDecoder())
        }
        func f(_ value: Double) -> String { String(format: "%.2f M", value / 1e6) }
        say("| \(name) | \(f(raw)) | \(f(extras)) | \(f(framing)) | \(String(format: "%.2f", framing / raw)) | \(f(strict)) | \(f(documents)) |")
    }
}

// MARK: - serve (child process)

func runServe(engine: String) throws {
    switch engine {
    case "threads":
        let listener = try BSONListener.listen(host: "127.0.0.1", port: 0, backlog: 4096)
        let server = BSONThreadedServer(
            listener: listener, configuration: .init(maxConnections: 4096)) { $0 }
        server.start()
        say("listening on \(listener.localAddress)")
                while true { sleep(3600) }
    default:
        let done = DispatchSemaphore(value: 0)
        Task {
            let server = try await BSONServer.bind(configuration: .init(backlog: 4096))
            say("listening on \(server.localAddress)")
                        try await server.run(replyingWith: { $0 })
            done.signal()
        }
        done.wait()
    }
}

// MARK: - echo

/// Starts `bson-nio-bench serve ENGINE` and returns it with its port.
func startServer(_ engine: String) throws -> (Process, Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["serve", engine]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    var line = Data()
    while true {
        let byte = out.fileHandleForReading.readData(ofLength: 1)
        if byte.isEmpty || byte.first == 0x0A { break }
        line.append(byte)
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let port = Int(text.split(separator: ":").last ?? "") else { fatalError("no port from \(text)") }
    return (process, port)
}

/// Round trips per second over `connections` NIO connections for `duration`: each
/// connection sends a document, waits for its echo, checks it, and repeats.
func echoRate(port: Int, connections: Int, duration: Duration) async throws -> Double {
    let document: BSONDocument = ["type": "greeting", "message": "Hello server!", "n": .int32(1)]
    let stop = Shared()
    let total = Shared()
    let ready = Shared()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<connections {
            group.addTask {
                try await Task.sleep(for: .milliseconds(index / 100 * 20))
                try await BSONClient.withConnection(port: port, connectTimeout: .seconds(60)) { connection in
                    ready.add(1)
                    while ready.value < connections { try await Task.sleep(for: .milliseconds(5)) }
                    var count = 0
                    while stop.value == 0 {
                        let reply = try await connection.request(document)
                        precondition(reply == document)
                        count += 1
                    }
                    total.add(count)
                }
            }
        }
        while ready.value < connections { try await Task.sleep(for: .milliseconds(10)) }
        let began = ContinuousClock.now
        try await Task.sleep(for: duration)
        stop.add(1)
        let elapsed = seconds(ContinuousClock.now - began)
        try await group.waitForAll()
        return Double(total.value) / elapsed
    }
}

/// An integer shared by tasks.
final class Shared: Sendable {
    private let storage = Atomic<Int>(0)
    func add(_ amount: Int) { storage.add(amount, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}

func runEcho(engines: [String]) throws {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    let engines = engines.isEmpty ? ["nio", "threads"] : engines
    let counts = [1, 10, 100, 1000]
    let done = DispatchSemaphore(value: 0)
    let outcome = Mutex<[String: [Int: Double]]>([:])
    Task {
        defer { done.signal() }
        do {
            for engine in engines {
                for connections in counts {
                    let (process, port) = try startServer(engine)
                    defer {
                        // SIGKILL: a child started from a pool thread inherits a mask that
                        // blocks SIGTERM, and this server has no handler for it.
                        kill(process.processIdentifier, SIGKILL)
                        process.waitUntilExit()
                    }
                    var best = 0.0
                    for _ in 0..<3 {
                        best = max(best, try await echoRate(port: port, connections: connections, duration: .seconds(3)))
                    }
                    outcome.withLock { $0[engine, default: [:]][connections] = best }
                    say("echo \(engine) \(connections) connections: \(Int(best)) documents/s")
                }
            }
        } catch {
            say("echo failed: \(error)")
        }
    }
    done.wait()
    let results = outcome.withLock { $0 }
    say("| connections | " + engines.joined(separator: " | ") + " |")
    say("|---|" + engines.map { _ in "---" }.joined(separator: "|") + "|")
    for connections in counts {
        say("| \(connections) | " + engines.map { "\(Int(results[$0]?[connections] ?? 0))" }.joined(separator: " | ") + " |")
    }
}
