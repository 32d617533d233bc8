// The SwiftNIO side of the transport benchmark: the same one-way stream received through a
// NIO channel pipeline with our BSON frame decoder (`addBSONConnectionHandlers`, what
// `BSONClient` and `BSONServer` install), and ping-pong with `BSONClient`'s
// `request` against a `BSONServer` echo.

import BSONSocketNIO
import NIOCore
import NIOPosix

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Carries a result out of a task to the blocking caller.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<T, any Error>?

    func set(_ result: Result<T, any Error>) { lock.withLock { stored = result } }
    func get() -> Result<T, any Error>? { lock.withLock { stored } }
}

/// Runs `body` on the concurrency runtime and waits for it (the worker's request loop is
/// synchronous). Bounded: gives up after `limit`.
func runBlocking<T: Sendable>(limit: Duration = .seconds(120), _ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    let seconds = Double(limit.components.seconds)
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
        throw UsageError(description: "a NIO task took longer than \(seconds) s")
    }
    return try result.get()
}

/// CPU time of the whole process (NIO decodes on its event-loop thread, and the awaiting
/// task runs on another): user + system, in nanoseconds.
private func processCPUNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// The configuration of the benchmark's NIO connections: no stall timeouts (the driver
/// bounds every request), library defaults otherwise.
private let nioConfiguration = BSONConnectionConfiguration(frameTimeout: nil)

/// A NIO connection to the sender at `address`, with the library's BSON handlers on it
/// (`TCP_NODELAY` is ClientBootstrap's default; it is spelled out because the timing needs it).
private func nioConnect(_ address: Address) async throws -> NIOAsyncChannel<BSONDocument, ByteBuffer> {
    let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connectTimeout(.seconds(10))
    let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<BSONDocument, ByteBuffer>> = { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addBSONConnectionHandlers(configuration: nioConfiguration)
            return try NIOAsyncChannel<BSONDocument, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
    }
    switch address {
    case .tcp(let host, let port): return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
    case .unix(let path): return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
    }
}

/// One measurement over NIO: connect, ask for `warmup + count` documents of `set`, receive
/// them through the pipeline (decoded into `BSONDocument`s), time the last `count`, check
/// the clean end. The CPU figure is the process's.
func nioReceive(address: Address, set: Int, count: Int, warmup: Int) throws -> Timing {
    let requestBytes = request(set: set, count: warmup + count)
    return try runBlocking {
        let channel = try await nioConnect(address)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: requestBytes))
            var iterator = inbound.makeAsyncIterator()
            for index in 0..<warmup {
                guard let document = try await iterator.next() else {
                    throw UsageError(description: "the stream ended after \(index) warm-up documents")
                }
                sink(document)
            }
            let start = Timing.now()
            let startCPU = processCPUNanoseconds()
            for index in 0..<count {
                guard let document = try await iterator.next() else {
                    throw UsageError(description: "the stream ended after \(index) timed documents")
                }
                sink(document)
            }
            let wall = Timing.now().wall - start.wall
            let cpu = processCPUNanoseconds() - startCPU
            guard try await iterator.next() == nil else {
                throw UsageError(description: "the sender sent more than \(warmup + count) documents")
            }
            return Timing(wall: wall, cpu: cpu)
        }
    }
}

/// Receives `count` documents over NIO and writes each encoded again to `output` (the
/// driver compares it with the set file).
func nioVerify(address: Address, set: Int, count: Int, output: String) throws {
    let requestBytes = request(set: set, count: count)
    let written: [UInt8] = try runBlocking {
        let channel = try await nioConnect(address)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: requestBytes))
            var bytes: [UInt8] = []
            var received = 0
            for try await document in inbound {
                bytes += try document.encoded()
                received += 1
                guard received <= count else { throw UsageError(description: "more than \(count) documents") }
            }
            guard received == count else { throw UsageError(description: "the stream ended after \(received) documents") }
            return bytes
        }
    }
    try Data(written).write(to: URL(fileURLWithPath: output))
}

/// Ping-pong through `BSONClient`: `connection.request(document)` against an echo server;
/// round-trip times in ns, each echo compared with what was sent outside the timing.
func nioPingPong(address: Address, documents: [BSONDocument], count: Int, warmup: Int) throws -> [UInt64] {
    guard case .tcp(let host, let port) = address else { throw UsageError(description: "NIO ping needs TCP") }
    return try runBlocking {
        try await BSONClient.withConnection(host: host, port: port, configuration: nioConfiguration) { connection in
            var samples = [UInt64](repeating: 0, count: count)
            for index in 0..<(warmup + count) {
                let document = documents[index % documents.count]
                let start = monotonicNanoseconds()
                let reply = try await connection.request(document)
                let end = monotonicNanoseconds()
                if index >= warmup { samples[index - warmup] = end - start }
                guard reply == document else { throw UsageError(description: "exchange \(index): the echo differs") }
            }
            return samples
        }
    }
}

/// A `BSONServer` echo on 127.0.0.1 (a port the system picks) until standard input ends;
/// prints `port N` first.
func runNIOEchoServer() throws {
    let server = try runBlocking { try await BSONServer.bind(host: "127.0.0.1", port: 0) }
    guard let port = server.localAddress.port else { throw UsageError(description: "the NIO echo server has no TCP port") }
    let running = Task { try await server.run(replyingWith: { $0 }) }
    emitLine("port \(port)")
    // Bounded: the driver closes our standard input at the end of the run.
    while readLine() != nil {}
    server.shutdown(gracePeriod: .seconds(1))
    _ = try? runBlocking(limit: .seconds(10)) { try await running.value }
}
