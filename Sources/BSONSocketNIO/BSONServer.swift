public import NIOCore
public import NIOPosix
import Synchronization

/// A BSON server on SwiftNIO: one async handler per connection, on TCP or a Unix domain
/// socket.
///
/// ```swift
/// let server = try await BSONServer.bind(host: "127.0.0.1", port: 8080)
/// try await server.run { connection in
///     for try await document in connection.inbound {
///         try await connection.send(document)          // echo
///     }
/// }
/// ```
///
/// ``bind(host:port:configuration:eventLoopGroup:)`` binds at once (so ``localAddress``
/// holds the port the system chose); ``run(_:)`` accepts connections until ``shutdown(gracePeriod:)``
/// is called or its task is cancelled, and returns when every connection has ended.
///
/// Each connection gets its own child task running the handler with a ``BSONConnection``;
/// the connection is closed when the handler returns or throws. Timeouts, frame limits and
/// inbound buffering come from ``Configuration/connection``: a peer that stalls is cut off
/// after the idle or read timeout, a hostile frame closes its connection with a typed
/// ``BSONError``, and a slow handler makes its connection stop reading rather than buffer
/// without bound. Other connections are not affected by any of this.
public final class BSONServer: Sendable {
    /// How the server treats connections. The names, meanings and defaults are those of
    /// `BSONThreadedServer.Configuration` (see `BSONServerDefaults`): switching engines
    /// changes no limit.
    public struct Configuration: Sendable {
        /// Limits, timeouts and buffering of every connection. The default is
        /// ``BSONConnectionConfiguration``'s: a 30-second frame timeout and send timeout, no
        /// idle timeout, TCP keepalive on.
        public var connection: BSONConnectionConfiguration
        /// How many connections are served at once; default 1,024. What happens to further
        /// connections is ``whenFull``'s choice.
        public var maxConnections: Int
        /// What the server does with a connection that arrives while ``maxConnections`` are
        /// being served; default ``BSONServerFullPolicy/refuse`` (closed at once).
        /// ``BSONServerFullPolicy/wait`` stops accepting until a connection ends.
        public var whenFull: BSONServerFullPolicy
        /// How many connections may wait to be accepted (the listen backlog); default 128.
        public var backlog: Int
        /// Called for each event worth logging, on whichever thread the event happened;
        /// default: nothing.
        public var onEvent: @Sendable (Event) -> Void

        /// Creates a configuration; every parameter has the default described on its property.
        public init(
            connection: BSONConnectionConfiguration = .init(),
            maxConnections: Int = BSONServerDefaults.maxConnections,
            whenFull: BSONServerFullPolicy = .refuse,
            backlog: Int = 128,
            onEvent: @escaping @Sendable (Event) -> Void = { _ in }
        ) {
            BSONServerDefaults.checkMaxConnections(maxConnections)
            precondition(backlog > 0, "backlog must be positive")
            self.connection = connection
            self.maxConnections = maxConnections
            self.whenFull = whenFull
            self.backlog = backlog
            self.onEvent = onEvent
        }
    }

    /// Something that happened on the server; the same type as `BSONThreadedServer`'s
    /// events.
    public typealias Event = BSONServerEvent

    /// Serves one connection; the connection is closed when it returns or throws.
    public typealias Handler = @Sendable (BSONConnection) async throws -> Void

    private typealias ChildChannel = WrappedChannel

    private struct State {
        var started = false
        var shutdownRequested = false
        var nextConnection = 0
        var connections: [Int: any Channel] = [:]
    }

    private let serverChannel: NIOAsyncChannel<ChildChannel, Never>
    private let unclaimed: UnclaimedChildren
    private let configuration: Configuration
    private let state = PackageMutex(State())
    private let shutdownRequests: AsyncStream<Duration>
    private let shutdownContinuation: AsyncStream<Duration>.Continuation

    /// The address the server listens on; for TCP, the port is the one the system chose
    /// when `port` was 0. `"listening on \(server.localAddress)"` prints like the blocking
    /// server's.
    public let localAddress: BSONSocketAddress

    private init(
        serverChannel: NIOAsyncChannel<ChildChannel, Never>, unclaimed: UnclaimedChildren, configuration: Configuration
    ) throws(BSONError) {
        self.serverChannel = serverChannel
        self.unclaimed = unclaimed
        self.configuration = configuration
        guard let address = serverChannel.channel.localAddress.flatMap(BSONSocketAddress.init(nio:)) else {
            serverChannel.channel.close(promise: nil)
            unclaimed.closeAll()
            throw BSONError(.systemCallFailed, "the listening socket has no local address")
        }
        self.localAddress = address
        (shutdownRequests, shutdownContinuation) = AsyncStream.makeStream(of: Duration.self)
    }

    deinit {
        // A server bound but never run (or dropped after run returned) stops listening and
        // closes what it accepted.
        serverChannel.channel.close(promise: nil)
        unclaimed.closeAll()
    }

    /// Listens for TCP connections.
    ///
    /// - Parameters:
    ///   - host: The local address to bind; default `"127.0.0.1"` (loopback only).
    ///   - port: The TCP port; default 0, which lets the system choose one (read it from
    ///     ``localAddress``).
    ///   - configuration: Connection limits, timeouts and the event callback.
    ///   - eventLoopGroup: Where the I/O runs; default `MultiThreadedEventLoopGroup.singleton`.
    /// - Returns: The server, bound and listening; call ``run(_:)``.
    /// - Throws: ``BSONError`` with ``BSONError/Code/addressInUse`` when the port is taken,
    ///   ``BSONError/Code/hostNotFound`` when `host` does not resolve, or
    ///   ``BSONError/Code/systemCallFailed``.
    public static func bind(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> BSONServer {
        precondition((0...65535).contains(port), "port must be between 0 and 65535, got \(port)")
        let connection = configuration.connection
        let unclaimed = UnclaimedChildren()
        let channel: NIOAsyncChannel<ChildChannel, Never>
        do {
            channel = try await makeBootstrap(eventLoopGroup, configuration: configuration, isTCP: true).bind(
                host: host, port: port, serverBackPressureStrategy: acceptBuffering
            ) { child in
                child.eventLoop.makeCompletedFuture {
                    let wrapped = try BSONClient.wrap(child, configuration: connection)
                    unclaimed.add(wrapped)
                    return wrapped
                }
            }
        } catch {
            throw BSONError.translating(error, while: "listening on \(host):\(port)")
        }
        return try BSONServer(serverChannel: channel, unclaimed: unclaimed, configuration: configuration)
    }

    /// Listens on a Unix domain socket, creating the socket file at `unixPath`.
    ///
    /// A socket file already at the path that nobody accepts on (left by a server that did
    /// not clean up) is removed first; a live server there is an error, as is any other
    /// kind of file. The socket file is removed when the server stops, if the path still
    /// names it (the rules of ``BSONListener/listen(unixPath:backlog:)``).
    ///
    /// - Parameters:
    ///   - unixPath: Where to create the socket file (at most 107 bytes of UTF-8).
    ///   - configuration: Connection limits, timeouts and the event callback.
    ///   - eventLoopGroup: Where the I/O runs; default `MultiThreadedEventLoopGroup.singleton`.
    /// - Returns: The server, bound and listening; call ``run(_:)``.
    /// - Throws: ``BSONError`` with ``BSONError/Code/addressInUse`` when a server listens
    ///   there already or another file is in the way; ``BSONError/Code/systemCallFailed``
    ///   for a missing directory, a path that is too long, or no permission.
    public static func bind(
        unixPath: String,
        configuration: Configuration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> BSONServer {
        try UnixSocketFile.removeStaleSocket(at: unixPath)
        let connection = configuration.connection
        let unclaimed = UnclaimedChildren()
        let channel: NIOAsyncChannel<ChildChannel, Never>
        do {
            channel = try await makeBootstrap(eventLoopGroup, configuration: configuration, isTCP: false).bind(
                unixDomainSocketPath: unixPath, serverBackPressureStrategy: acceptBuffering
            ) { child in
                child.eventLoop.makeCompletedFuture {
                    let wrapped = try BSONClient.wrap(child, configuration: connection)
                    unclaimed.add(wrapped)
                    return wrapped
                }
            }
        } catch {
            throw BSONError.translating(error, while: "listening on the Unix socket \"\(unixPath)\"")
        }
        if let file = UnixSocketFile(boundAt: unixPath) {
            channel.channel.closeFuture.whenComplete { _ in file.remove() }
        }
        return try BSONServer(serverChannel: channel, unclaimed: unclaimed, configuration: configuration)
    }

    /// Accepted connections that may wait for the accept loop before the listening socket
    /// stops accepting for a while.
    private static let acceptBuffering = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
        lowWatermark: 4, highWatermark: 32)

    private static func makeBootstrap(
        _ group: any EventLoopGroup, configuration: Configuration, isTCP: Bool
    ) -> ServerBootstrap {
        let connection = configuration.connection
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: UInt(connection.maxMessagesPerRead))
            // A peer that half-closes still gets every reply (see BSONConnectionConfiguration).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: connection.writeBufferWaterMark)
        if isTCP {
            for (option, value) in connection.keepaliveOptions {
                bootstrap = bootstrap.childChannelOption(option, value: value)
            }
        }
        return bootstrap
    }

    /// How many connections are being served now.
    public var activeConnections: Int { state.withLock { $0.connections.count } }

    /// Accepts connections and serves each with `handler` in a task of its own, until
    /// ``shutdown(gracePeriod:)`` or cancellation; returns when every connection has ended.
    ///
    /// Call it once. A connection ends when its handler returns or throws (the connection is
    /// then closed), when the peer closes it, or when it breaks a rule (a hostile frame, a
    /// timeout); each end is reported through ``Configuration/onEvent``. A handler's error
    /// ends only its own connection.
    ///
    /// - Parameter handler: Serves one connection.
    /// - Throws: `CancellationError` when the task was cancelled (every connection has been
    ///   closed by then).
    public func run(_ handler: @escaping Handler) async throws {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        precondition(first, "BSONServer.run may be called only once")
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await self.acceptAndServe(handler)
                    return true
                }
                group.addTask {
                    await self.closeConnectionsAfterGrace()
                    return false
                }
                // When the grace period ends first, every connection has been closed and the
                // accept loop ends by itself once it has handed out (and closed) the
                // connections still buffered. It is not cancelled: a cancelled iteration of the
                // listening channel drops those connections unclosed, and SwiftNIO traps on
                // them (apple/swift-nio#2637).
                while let servingEnded = try await group.next() {
                    if servingEnded { group.cancelAll() }
                }
            }
        } onCancel: {
            shutdown(gracePeriod: .zero)
            closeOpenConnections()
        }
        try Task.checkCancellation()
    }

    /// Serves every connection with `respond`'s answer to each document it receives: a
    /// returned document is sent back, `nil` sends nothing (the blocking server's
    /// ``BSONThreadedServer/Handler`` shape).
    ///
    /// - Parameter respond: The reply to one document; throwing ends the connection.
    /// - Throws: As ``run(_:)``.
    public func run(replyingWith respond: @escaping @Sendable (BSONDocument) async throws -> BSONDocument?) async throws {
        try await run { connection in
            for try await document in connection.inbound {
                if let reply = try await respond(document) {
                    try await connection.send(reply)
                }
            }
        }
    }

    /// Stops accepting connections now, lets the connections being served go on for
    /// `gracePeriod`, then ends those still open; ``run(_:)`` returns once all have ended.
    /// Calling it again, or before ``run(_:)``, is fine.
    ///
    /// During the grace period every open connection is served as before, so documents its
    /// peer had already sent are received and answered. When the grace period ends, each
    /// connection still open stops receiving: its ``BSONConnection/inbound`` ends after the
    /// documents already received (as if the peer had closed), so a handler that loops over
    /// it answers those, returns, and its connection ends the usual way — everything it sent
    /// is delivered, then the output is closed. A connection still open
    /// `BSONServerDefaults.closingAllowance` after that is closed outright (what it had
    /// queued is dropped). The same as `BSONThreadedServer.stop(gracePeriod:timeout:)`.
    ///
    /// - Parameter gracePeriod: How long open connections go on; default 5 seconds.
    public func shutdown(gracePeriod: Duration = BSONServerDefaults.gracePeriod) {
        let first = state.withLock { state -> Bool in
            defer { state.shutdownRequested = true }
            return !state.shutdownRequested
        }
        serverChannel.channel.close(promise: nil)
        if first { shutdownContinuation.yield(gracePeriod) }
    }

    private func acceptAndServe(_ handler: @escaping Handler) async throws {
        let slots: AsyncSemaphore? = AsyncSemaphore(permits: configuration.maxConnections)
        let waits = configuration.whenFull == .wait
        // Whatever SwiftNIO set up but did not deliver is closed once accepting has ended.
        defer { unclaimed.closeAll() }
        try await serverChannel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                var accepted = inbound.makeAsyncIterator()
                while true {
                    if waits { try await slots?.acquire() }
                    let child: ChildChannel?
                    do {
                        child = try await accepted.next()
                    } catch {
                        if waits { slots?.release() }
                        throw error
                    }
                    guard let child else {
                        if waits { slots?.release() }
                        break
                    }
                    unclaimed.remove(child)
                    if isShuttingDown {
                        // Accepted before the listening channel closed: closed unserved.
                        if waits { slots?.release() }
                        group.addTask { try? await child.async.executeThenClose { _, _ in } }
                        continue
                    }
                    if !waits, let slots, !slots.tryAcquire() {
                        // Full: closed at once, so the peer learns it now and accepting goes on.
                        let peer = child.async.channel.remoteAddress.flatMap(BSONSocketAddress.init(nio:))?.description
                        configuration.onEvent(.refused(peer: peer ?? "unknown peer", open: activeConnections))
                        // Through the async channel, which must finish its writer itself.
                        group.addTask { try? await child.async.executeThenClose { _, _ in } }
                        continue
                    }
                    // Checked again under the lock that shutdown takes: a connection recorded
                    // here is one that closing the open connections will reach, and one that
                    // comes after the shutdown request is not served at all (else it would be
                    // served unseen, and run would wait for its peer to leave).
                    let number = state.withLock { state -> Int? in
                        guard !state.shutdownRequested else { return nil }
                        state.nextConnection += 1
                        state.connections[state.nextConnection] = child.async.channel
                        return state.nextConnection
                    }
                    guard let number else {
                        slots?.release()
                        group.addTask { try? await child.async.executeThenClose { _, _ in } }
                        continue
                    }
                    group.addTask {
                        await self.serve(child, number: number, handler: handler)
                        _ = self.state.withLock { $0.connections.removeValue(forKey: number) }
                        slots?.release()
                    }
                }
            }
        }
    }

    private func serve(_ child: ChildChannel, number: Int, handler: Handler) async {
        let onEvent = configuration.onEvent
        let peer = child.async.channel.remoteAddress.flatMap(BSONSocketAddress.init(nio:))?.description ?? "unknown peer"
        onEvent(.accepted(connection: number, peer: peer))
        let received = Atomic<Int>(0)
        do {
            try await child.async.executeThenClose { inbound, outbound in
                let connection = BSONConnection(
                    channel: child.async.channel, inbound: inbound, outbound: outbound,
                    configuration: configuration.connection, flow: child.flow)
                defer { received.store(connection.documentsReceived, ordering: .relaxed) }
                do {
                    try await handler(connection)
                } catch {
                    // The replies sent before the failure are delivered all the same.
                    try? await connection.finish()
                    throw error
                }
                try await connection.finish()
            }
            onEvent(.closed(connection: number, documents: received.load(ordering: .relaxed)))
        } catch {
            let documents = received.load(ordering: .relaxed)
            switch BSONError.translating(error, while: "serving connection \(number)") {
            case let error as BSONError where error.code == .closed && isShuttingDown:
                onEvent(.closed(connection: number, documents: documents))
            case let error as BSONError:
                onEvent(.failed(connection: number, error: error))
            case is CancellationError:
                onEvent(.closed(connection: number, documents: documents))
            default:
                onEvent(.failed(connection: number, error: BSONError(.invalidValue, "the handler failed: \(error)")))
            }
        }
    }

    private var isShuttingDown: Bool { state.withLock { $0.shutdownRequested } }

    /// Waits for a shutdown request, then for its grace period, then closes the input of
    /// every connection still open, and after the closing allowance closes what is left.
    /// Ends early (doing nothing more) when cancelled.
    private func closeConnectionsAfterGrace() async {
        var requests = shutdownRequests.makeAsyncIterator()
        guard let grace = await requests.next() else { return }
        do {
            try await Task.sleep(for: grace)
            closeOpenConnections(mode: .input)
            try await Task.sleep(for: BSONServerDefaults.closingAllowance)
        } catch {
            return
        }
        closeOpenConnections()
    }

    private func closeOpenConnections(mode: CloseMode = .all) {
        let open = state.withLock { Array($0.connections.values) }
        for channel in open { channel.close(mode: mode, promise: nil) }
    }
}

/// Connections SwiftNIO has set up for a ``BSONServer`` that its accept loop has not taken yet.
///
/// SwiftNIO's async server runs the child initializer (which wraps the connection in a
/// `NIOAsyncChannel`) and hands the result to the listening channel's inbound stream
/// *before* the connection is registered with its event loop. When the listening channel
/// closes in between, or the accept loop stops iterating, SwiftNIO drops the wrapped
/// connection. Its outbound writer, never finished, is then released when the connection
/// becomes active, and SwiftNIO traps ("Deinited NIOAsyncWriter without calling finish()"),
/// taking the whole process down; the peer's connection would have leaked as well.
///
/// So every wrapped connection is also kept here from the initializer until the accept loop
/// takes it. Once accepting has ended, ``closeAll()`` closes what is left through
/// `executeThenClose` (which finishes the writer), and a connection wrapped after that is
/// closed at once.
final class UnclaimedChildren: Sendable {
    typealias Child = WrappedChannel

    private struct State {
        var children: [ObjectIdentifier: Child] = [:]
        var accepting = true
    }

    private let state = PackageMutex(State())

    /// Keeps `child` until the accept loop takes it; called by the child initializer.
    func add(_ child: Child) {
        let kept = state.withLock { state -> Bool in
            guard state.accepting else { return false }
            state.children[ObjectIdentifier(child.async.channel)] = child
            return true
        }
        if !kept { Self.close(child) }
    }

    /// The accept loop has taken `child` and is responsible for it now.
    func remove(_ child: Child) {
        _ = state.withLock { $0.children.removeValue(forKey: ObjectIdentifier(child.async.channel)) }
    }

    /// Accepting has ended: closes every connection not taken, and any wrapped later.
    func closeAll() {
        let left = state.withLock { state -> [Child] in
            state.accepting = false
            defer { state.children = [:] }
            return Array(state.children.values)
        }
        for child in left { Self.close(child) }
    }

    private static func close(_ child: Child) {
        Task { try? await child.async.executeThenClose { _, _ in } }
    }
}
