/// How a ``BSONConnection`` reads, writes and times out; shared by ``BSONClient`` and
/// ``BSONServer``.
///
/// **Memory per connection.** Received bytes are decoded as they arrive, and decoded
/// documents wait in the connection's inbound buffer until the consumer takes them. Once
/// ``inboundHighWatermark`` documents are waiting, the connection stops reading from the
/// socket (the peer's sends then back up in the kernel and, through TCP, at the peer) until
/// the consumer has taken all but ``inboundLowWatermark`` of them. A read that was already
/// under way finishes first, so at most `maxMessagesPerRead` reads of at most 64 KiB each
/// (SwiftNIO's adaptive receive buffer) arrive past the high watermark. Add one unfinished
/// frame, which holds only the bytes that arrived (never the size its header announces).
/// The bound is therefore about `highWatermark` documents + `maxMessagesPerRead` × 64 KiB +
/// ``frameLimits``' maximum.
public struct BSONConnectionConfiguration: Sendable {
    /// The accepted frame lengths; default ``BSONFrameLimits/default``.
    public var frameLimits: BSONFrameLimits
    /// Limits for decoding received documents; default ``BSONDecodingOptions/default``.
    public var decodingOptions: BSONDecodingOptions
    /// Limits for encoding sent documents; default ``BSONEncodingOptions/default``.
    public var encodingOptions: BSONEncodingOptions
    /// How long the connection may wait for the peer without any progress before it is
    /// closed with ``BSONError/Code/timedOut``; default `nil` (no limit).
    ///
    /// The clock runs only while this side wants something of the peer: a read is
    /// outstanding (between documents or inside one), or the peer does not take what was
    /// sent (the socket's send buffer is full). Time spent while this side holds back reads
    /// because its own consumer is slow never counts. Any byte received starts it afresh.
    public var idleTimeout: Duration?
    /// How long one frame may take to arrive once its first byte is here, before the
    /// connection is closed with ``BSONError/Code/timedOut``; default 30 seconds, `nil` for
    /// no limit. This cuts off a peer that sends a header and stalls, or trickles a frame a
    /// byte at a time, sooner than ``idleTimeout`` would. It fires only while a read is
    /// outstanding.
    public var readTimeout: Duration?
    /// How long ``BSONConnection/request(_:)`` waits for the reply before the connection is
    /// closed with ``BSONError/Code/timedOut``; default `nil` (no limit).
    public var requestTimeout: Duration?
    /// Reading resumes once no more than this many received documents wait for the
    /// consumer; default 2.
    public var inboundLowWatermark: Int
    /// Reading pauses once this many received documents wait for the consumer; default 16.
    public var inboundHighWatermark: Int
    /// How many socket reads one readiness event may make (SwiftNIO's
    /// `ChannelOptions.maxMessagesPerRead`); default 4.
    public var maxMessagesPerRead: Int

    /// Creates a configuration; every parameter has the default described on its property.
    public init(
        frameLimits: BSONFrameLimits = .default,
        decodingOptions: BSONDecodingOptions = .default,
        encodingOptions: BSONEncodingOptions = .default,
        idleTimeout: Duration? = nil,
        readTimeout: Duration? = .seconds(30),
        requestTimeout: Duration? = nil,
        inboundLowWatermark: Int = 2,
        inboundHighWatermark: Int = 16,
        maxMessagesPerRead: Int = 4
    ) {
        precondition(idleTimeout.map { $0 > .zero } ?? true, "idleTimeout must be positive or nil")
        precondition(readTimeout.map { $0 > .zero } ?? true, "readTimeout must be positive or nil")
        precondition(requestTimeout.map { $0 > .zero } ?? true, "requestTimeout must be positive or nil")
        precondition(
            inboundLowWatermark >= 0 && inboundLowWatermark < inboundHighWatermark,
            "the watermarks need 0 <= inboundLowWatermark < inboundHighWatermark")
        precondition(maxMessagesPerRead > 0, "maxMessagesPerRead must be positive")
        self.frameLimits = frameLimits
        self.decodingOptions = decodingOptions
        self.encodingOptions = encodingOptions
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.requestTimeout = requestTimeout
        self.inboundLowWatermark = inboundLowWatermark
        self.inboundHighWatermark = inboundHighWatermark
        self.maxMessagesPerRead = maxMessagesPerRead
    }
}
