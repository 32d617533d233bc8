public import NIOCore
public import NIOPosix

/// Connects to a BSON server with SwiftNIO and lends the connection to a closure.
///
/// ```swift
/// let reply = try await BSONClient.withConnection(host: "127.0.0.1", port: 8080) { connection in
///     try await connection.request(["type": "greeting", "message": "Hello server!"])
/// }
/// ```
///
/// The connection is closed when the closure returns or throws, and when its task is
/// cancelled. Any server that reads and writes self-delimited BSON documents works: a
/// ``BSONServer``, a blocking ``BSONThreadedServer``, py-bson's `recvobj`/`sendobj`.
public enum BSONClient {
    /// Connects over TCP and runs `body` with the connection.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address; default `"127.0.0.1"`.
    ///   - port: The server's TCP port.
    ///   - connectTimeout: How long connecting may take; default 10 seconds.
    ///   - configuration: Limits, timeouts and buffering; default
    ///     ``BSONConnectionConfiguration/init(frameLimits:decodingOptions:encodingOptions:idleTimeout:readTimeout:requestTimeout:inboundLowWatermark:inboundHighWatermark:maxMessagesPerRead:)``
    ///     with its defaults.
    ///   - eventLoopGroup: Where the connection's I/O runs; default SwiftNIO's shared
    ///     `MultiThreadedEventLoopGroup.singleton`.
    ///   - body: Uses the connection; it is closed when `body` returns.
    /// - Returns: What `body` returns.
    /// - Throws: ``BSONError`` with ``BSONError/Code/connectionRefused``,
    ///   ``BSONError/Code/hostNotFound`` or ``BSONError/Code/timedOut`` when connecting fails;
    ///   otherwise what `body` throws.
    public static func withConnection<Result: Sendable>(
        host: String = "127.0.0.1",
        port: Int,
        connectTimeout: Duration = .seconds(10),
        configuration: BSONConnectionConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (BSONConnection) async throws -> Result
    ) async throws -> Result {
        precondition((1...65535).contains(port), "port must be between 1 and 65535, got \(port)")
        let bootstrap = makeBootstrap(eventLoopGroup, connectTimeout: connectTimeout, configuration: configuration)
        let channel: NIOAsyncChannel<BSONDocument, ByteBuffer>
        do {
            channel = try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try wrap(channel, configuration: configuration) }
            }
        } catch {
            throw BSONError.translating(error, while: "connecting to \(host):\(port)")
        }
        return try await run(channel, configuration: configuration, body)
    }

    /// Connects to a Unix domain socket and runs `body` with the connection.
    ///
    /// - Parameters:
    ///   - unixPath: The server's socket file.
    ///   - configuration: Limits, timeouts and buffering.
    ///   - eventLoopGroup: Where the connection's I/O runs; default
    ///     `MultiThreadedEventLoopGroup.singleton`.
    ///   - body: Uses the connection; it is closed when `body` returns.
    /// - Returns: What `body` returns.
    /// - Throws: ``BSONError`` with ``BSONError/Code/connectionRefused`` when nobody listens at
    ///   `unixPath` (or there is no such file); otherwise what `body` throws.
    public static func withConnection<Result: Sendable>(
        unixPath: String,
        configuration: BSONConnectionConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (BSONConnection) async throws -> Result
    ) async throws -> Result {
        let bootstrap = makeBootstrap(eventLoopGroup, connectTimeout: .seconds(10), configuration: configuration)
        let channel: NIOAsyncChannel<BSONDocument, ByteBuffer>
        do {
            channel = try await bootstrap.connect(unixDomainSocketPath: unixPath) { channel in
                channel.eventLoop.makeCompletedFuture { try wrap(channel, configuration: configuration) }
            }
        } catch {
            throw BSONError.translating(
                error, while: "connecting to the Unix socket \"\(unixPath)\"", missingPathIsRefused: true)
        }
        return try await run(channel, configuration: configuration, body)
    }

    private static func makeBootstrap(
        _ group: any EventLoopGroup, connectTimeout: Duration, configuration: BSONConnectionConfiguration
    ) -> ClientBootstrap {
        ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.maxMessagesPerRead, value: UInt(configuration.maxMessagesPerRead))
    }

    /// Puts the BSON handlers and the async channel on a new channel (on its event loop).
    static func wrap(
        _ channel: any Channel, configuration: BSONConnectionConfiguration
    ) throws -> NIOAsyncChannel<BSONDocument, ByteBuffer> {
        try channel.pipeline.syncOperations.addBSONConnectionHandlers(configuration: configuration)
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                backPressureStrategy: .init(
                    lowWatermark: configuration.inboundLowWatermark,
                    highWatermark: configuration.inboundHighWatermark),
                inboundType: BSONDocument.self,
                outboundType: ByteBuffer.self))
    }

    private static func run<Result: Sendable>(
        _ channel: NIOAsyncChannel<BSONDocument, ByteBuffer>,
        configuration: BSONConnectionConfiguration,
        _ body: (BSONConnection) async throws -> Result
    ) async throws -> Result {
        try await channel.executeThenClose { inbound, outbound in
            try await body(
                BSONConnection(
                    channel: channel.channel, inbound: inbound, outbound: outbound, configuration: configuration))
        }
    }
}
