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
/// cancelled. When the closure returns, every document it sent is delivered first (see
/// ``BSONConnectionConfiguration``: the output is ended after the last write, never
/// dropped). Any server that reads and writes self-delimited BSON documents works: a
/// ``BSONServer``, a blocking ``BSONThreadedServer``, py-bson's `recvobj`/`sendobj`.
public enum BSONClient {
    /// Connects over TCP and runs `body` with the connection.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address; default `"127.0.0.1"`.
    ///   - port: The server's TCP port.
    ///   - connectTimeout: How long connecting may take; default 10 seconds.
    ///   - configuration: Limits, timeouts and buffering; default
    ///     ``BSONConnectionConfiguration/init(frameLimits:decodingOptions:encodingOptions:idleTimeout:frameTimeout:sendTimeout:requestTimeout:keepalive:inboundLowWatermark:inboundHighWatermark:inboundLowWatermarkBytes:inboundHighWatermarkBytes:outboundLowWatermarkBytes:outboundHighWatermarkBytes:maxMessagesPerRead:)``
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
        let bootstrap = makeBootstrap(
            eventLoopGroup, connectTimeout: connectTimeout, configuration: configuration, isTCP: true)
        let channel: WrappedChannel
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
        let bootstrap = makeBootstrap(
            eventLoopGroup, connectTimeout: .seconds(10), configuration: configuration, isTCP: false)
        let channel: WrappedChannel
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
        _ group: any EventLoopGroup, connectTimeout: Duration, configuration: BSONConnectionConfiguration, isTCP: Bool
    ) -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.maxMessagesPerRead, value: UInt(configuration.maxMessagesPerRead))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.writeBufferWaterMark, value: configuration.writeBufferWaterMark)
        if isTCP {
            for (option, value) in configuration.keepaliveOptions {
                bootstrap = bootstrap.channelOption(option, value: value)
            }
        }
        return bootstrap
    }

    /// Puts the BSON handlers and the async channel on a new channel (on its event loop).
    static func wrap(_ channel: any Channel, configuration: BSONConnectionConfiguration) throws -> WrappedChannel {
        let budget = InboundBudget(
            lowWatermark: configuration.inboundLowWatermarkBytes, highWatermark: configuration.inboundHighWatermarkBytes)
        let delivered = try channel.pipeline.syncOperations.addBSONHandlers(
            configuration: configuration, budget: budget, eventLoop: channel.eventLoop)!
        let wrapped = try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                backPressureStrategy: .init(
                    lowWatermark: configuration.inboundLowWatermark,
                    highWatermark: configuration.inboundHighWatermark),
                isOutboundHalfClosureEnabled: true,
                inboundType: BSONDocument.self,
                outboundType: ByteBuffer.self))
        return WrappedChannel(async: wrapped, flow: ConnectionFlow(budget: budget, delivered: delivered.futureResult))
    }

    private static func run<Result: Sendable>(
        _ channel: WrappedChannel,
        configuration: BSONConnectionConfiguration,
        _ body: (BSONConnection) async throws -> Result
    ) async throws -> Result {
        try await channel.async.executeThenClose { inbound, outbound in
            let connection = BSONConnection(
                channel: channel.async.channel, inbound: inbound, outbound: outbound, configuration: configuration,
                flow: channel.flow)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                // What the closure sent before it failed is delivered too, unless it is being
                // cancelled (then the connection is closed at once).
                if !Task.isCancelled { try? await connection.finish() }
                throw error
            }
            try await connection.finish()
            return result
        }
    }
}

/// A connection's async channel and the parts of its pipeline its ``BSONConnection`` uses.
struct WrappedChannel: Sendable {
    let async: NIOAsyncChannel<BSONDocument, ByteBuffer>
    let flow: ConnectionFlow
}

extension BSONConnectionConfiguration {
    /// The outbound watermarks as SwiftNIO's channel option.
    var writeBufferWaterMark: ChannelOptions.Types.WriteBufferWaterMark {
        .init(low: outboundLowWatermarkBytes, high: outboundHighWatermarkBytes)
    }

    /// ``keepalive`` as SwiftNIO socket options: the same `setsockopt` calls the blocking
    /// engine makes (TCP channels only).
    var keepaliveOptions: [(ChannelOptions.Types.SocketOption, SocketOptionValue)] {
        BSONKeepalive.socketOptions(keepalive).map { option in
            (.init(level: SocketOptionLevel(option.level), name: option.name), SocketOptionValue(option.value))
        }
    }
}
