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
            --unix), so a script can start the server with --port 0 and read the port it got. Every \
            document received is answered according to --reply, in order; a peer that half-closes its \
            connection (shutdown of its sending side) still gets every reply before the server closes. \
            Connection events go to standard error (a closed standard error only stops the logging). \
            SIGINT or SIGTERM stops the server: it stops accepting, lets open connections finish for up \
            to 5 seconds (every reply already sent is delivered), closes the rest, removes its Unix \
            socket file, and exits 0. Both engines have the same options, limits and defaults.

            Limits against hostile peers: a frame larger than --max-size is refused from its header; a \
            frame must be complete --frame-timeout seconds (default 30) after its first byte; a peer that \
            takes none of its replies for --send-timeout seconds (default 30) is cut off; --idle-timeout \
            closes connections that make no progress in either direction for that long; TCP keepalive \
            (--keepalive, default 60 seconds) notices peers that vanished; beyond --max-connections, new \
            connections are closed at once (--when-full refuse) or left waiting.

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

    @Option(help: "How many connections are served at once (1 to 1000000).")
    var maxConnections: Int = BSONServerDefaults.maxConnections

    @Option(help: "A connection beyond --max-connections: refuse (closed at once) or wait (until one ends).")
    var whenFull: WhenFull = .refuse

    /// `--when-full`: the library's ``BSONServerFullPolicy`` as a command-line value.
    enum WhenFull: String, ExpressibleByArgument, CaseIterable {
        case refuse, wait
        var policy: BSONServerFullPolicy { self == .refuse ? .refuse : .wait }
    }

    @Option(help: "Close a connection that makes no progress in either direction for this many seconds (0: never).")
    var idleTimeout: Double = 0

    @Option(help: "Close a connection whose frame is not complete this many seconds after its first byte (0: never).")
    var frameTimeout: Double = 30

    @Option(help: "Close a connection whose peer takes none of its replies for this many seconds (0: never).")
    var sendTimeout: Double = 30

    @Option(help: "TCP keepalive: probe a silent peer after this many seconds, noticing a vanished one within about twice that (0: off).")
    var keepalive: Double = 60

    @Option(help: "The largest document accepted, in bytes.")
    var maxSize: Int = BSONFrameLimits.defaultMaximumFrameLength

    @Flag(help: "Do not log connection events to standard error.")
    var quiet = false

    @Option(help: "The implementation: nio (SwiftNIO event loops) or threads (a blocking thread per connection).")
    var engine: Engine = .defaultEngine

    func validate() throws {
        try OptionChecks.count(port, flag: "--port", in: 0...65535)
        try OptionChecks.count(maxConnections, flag: "--max-connections", in: 1...BSONServerDefaults.mostConnections)
        _ = try limits()
        try OptionChecks.count(maxSize, flag: "--max-size", in: BSONFrameLimits.minimumFrameLength...Int(Int32.max))
    }

    /// The timeouts and keepalive of the options, checked; the same for both engines.
    private func limits() throws -> (idle: Duration?, frame: Duration?, send: Duration?, keepalive: BSONKeepalive?) {
        (
            try OptionChecks.duration(idleTimeout, flag: "--idle-timeout", zeroMeansNone: true),
            try OptionChecks.duration(frameTimeout, flag: "--frame-timeout", zeroMeansNone: true),
            try OptionChecks.duration(sendTimeout, flag: "--send-timeout", zeroMeansNone: true),
            try OptionChecks.keepalive(keepalive)
        )
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
        let limits = try limits()
        let server = BSONThreadedServer(
            listener: listener,
            configuration: .init(
                maxConnections: maxConnections,
                whenFull: whenFull.policy,
                idleTimeout: limits.idle,
                frameTimeout: limits.frame,
                sendTimeout: limits.send,
                keepalive: limits.keepalive,
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
        let limits = try limits()
        let configuration = BSONServer.Configuration(
            connection: BSONConnectionConfiguration(
                frameLimits: BSONFrameLimits(maximumFrameLength: maxSize),
                idleTimeout: limits.idle,
                frameTimeout: limits.frame,
                sendTimeout: limits.send,
                keepalive: limits.keepalive),
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
                source.setEventHandler { server.shutdown() }
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

