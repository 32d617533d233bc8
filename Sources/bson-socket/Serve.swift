import ArgumentParser
import BSONSocket
import BSONSocketNIO
import Dispatch
import Foundation
import Synchronization

/// `bson-socket serve`: a BSON server on TCP or a Unix socket.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve BSON documents over TCP or a Unix domain socket.",
        discussion: """
            The first line on standard output is `listening on HOST:PORT` (or `listening on PATH` with \
            --unix), so a script can start the server with --port 0 and read the port it got. Each \
            connection is served on its own thread: every document received is answered according \
            to --reply (with --engine threads, on its own thread). Connection events go to standard error. SIGINT or SIGTERM stops the server: \
            it closes the listener and every connection, removes its Unix socket file, and exits 0.

            Limits against hostile peers: a frame larger than --max-size is refused from its header; a \
            frame must be complete --frame-timeout seconds (default 30) after its first byte; \
            --idle-timeout closes connections that wait longer than that for their peer; beyond \
            --max-connections, new connections are closed at once (--when-full refuse) or left waiting.

            --reply echo   sends every document back unchanged (byte for byte)
            --reply seed   answers {echo: <document>, server_time: <now>, status: "received"}
            """
    )

    enum Reply: String, ExpressibleByArgument, CaseIterable {
        case echo, seed
    }

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The TCP port; 0 lets the system choose one.")
    var port: Int = 0

    @Option(help: "Listen on this Unix domain socket path instead of TCP.")
    var unix: String?

    @Option(help: "How to answer each document: echo or seed.")
    var reply: Reply = .echo

    @Option(help: "How many connections are served at once.")
    var maxConnections: Int = 64

    @Option(help: "A connection beyond --max-connections: refuse (closed at once) or wait (until one ends).")
    var whenFull: WhenFull = .refuse

    /// `--when-full`: the library's ``BSONServerFullPolicy`` as a command-line value.
    enum WhenFull: String, ExpressibleByArgument, CaseIterable {
        case refuse, wait
        var policy: BSONServerFullPolicy { self == .refuse ? .refuse : .wait }
    }

    @Option(help: "Close a connection after waiting this many seconds for its peer (0: never).")
    var idleTimeout: Double = 0

    @Option(help: "Close a connection whose frame is not complete this many seconds after its first byte (0: never).")
    var frameTimeout: Double = 30

    @Option(help: "The largest document accepted, in bytes.")
    var maxSize: Int = BSONFrameLimits.defaultMaximumFrameLength

    @Flag(help: "Do not log connection events to standard error.")
    var quiet = false

    @Option(help: "The implementation: nio (SwiftNIO event loops) or threads (a blocking thread per connection).")
    var engine: Engine = .defaultEngine

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must not be negative") }
        guard frameTimeout >= 0, frameTimeout.isFinite else { throw ValidationError("--frame-timeout must not be negative") }
        guard maxSize >= BSONFrameLimits.minimumFrameLength, maxSize <= Int(Int32.max) else {
            throw ValidationError("--max-size must be between 5 and \(Int32.max)")
        }
    }

    /// Seconds from the command line as a duration; 0 means none.
    static func duration(_ seconds: Double) -> Duration? {
        seconds > 0 ? .microseconds(Int64((seconds * 1_000_000).rounded(.up))) : nil
    }

    func run() throws {
        switch engine {
        case .threads: try runThreads()
        case .nio: try runNIO()
        }
    }

    private func runThreads() throws {
        let listener = try unix.map { try BSONListener.listen(unixPath: $0) } ?? BSONListener.listen(host: host, port: port)
        let quiet = quiet
        let handler: BSONThreadedServer.Handler
        switch reply {
        case .echo: handler = { $0 }
        case .seed: handler = { SeedExample.reply(to: $0) }
        }
        let server = BSONThreadedServer(
            listener: listener,
            configuration: .init(
                maxConnections: maxConnections,
                whenFull: whenFull.policy,
                idleTimeout: Self.duration(idleTimeout),
                frameTimeout: Self.duration(frameTimeout),
                frameLimits: BSONFrameLimits(maximumFrameLength: maxSize),
                onEvent: { event in if !quiet { printError(event.description) } }
            ),
            handler: handler)

        // Stop on SIGINT/SIGTERM: handled on a dispatch queue, not in a signal handler.
        let stopped = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stopped.signal() }
            source.resume()
            sources.append(source)
        }

        server.start()
        // Unbuffered, so a script reading the port sees the line at once.
        printLine("listening on \(listener.localAddress)")
        stopped.wait()
        server.stop()
        _ = sources
    }
}

extension Serve {
    /// The same server on SwiftNIO: `BSONServer` with the same options, output and events.
    private func runNIO() throws {
        let quiet = quiet
        let respond: @Sendable (BSONDocument) async throws -> BSONDocument?
        switch reply {
        case .echo: respond = { $0 }
        case .seed: respond = { SeedExample.reply(to: $0) }
        }
        let configuration = BSONServer.Configuration(
            connection: BSONConnectionConfiguration(
                frameLimits: BSONFrameLimits(maximumFrameLength: maxSize),
                idleTimeout: Self.duration(idleTimeout),
                readTimeout: Self.duration(frameTimeout)),
            maxConnections: maxConnections,
            whenFull: whenFull.policy,
            onEvent: { event in if !quiet { printError(event.description) } })
        let (host, port, unix) = (host, port, unix)
        try runBlocking {
            let server: BSONServer
            if let unix {
                server = try await BSONServer.bind(unixPath: unix, configuration: configuration)
            } else {
                server = try await BSONServer.bind(host: host, port: port, configuration: configuration)
            }
            // Stop on SIGINT/SIGTERM: handled on a dispatch queue, not in a signal handler.
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { server.shutdown(gracePeriod: .seconds(1)) }
                source.resume()
                sources.append(source)
            }
            defer { for source in sources { source.cancel() } }
            // Unbuffered, so a script reading the port sees the line at once.
            printLine("listening on \(server.localAddress)")
            try await server.run(replyingWith: respond)
        }
    }
}

/// Which implementation `serve` and `send` use.
enum Engine: String, ExpressibleByArgument, CaseIterable {
    /// SwiftNIO (BSONSocketNIO): event loops, async/await.
    case nio
    /// Blocking sockets (BSONSocket): a thread per connection.
    case threads

    /// The engine used when --engine is not given.
    static let defaultEngine = Engine.threads
}

/// Runs `body` on the concurrency pool and blocks the calling thread (the main thread of a
/// synchronous command) until it finishes; rethrows its error.
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    let outcome = PackageMutex<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let result: Result<Void, any Error>
        do {
            try await body()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }!.get()
}

