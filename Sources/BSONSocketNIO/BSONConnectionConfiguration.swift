/// How a ``BSONConnection`` reads, writes and times out; shared by ``BSONClient`` and
/// ``BSONServer``. The timeouts and limits have the names, meanings and defaults of
/// `BSONThreadedServer.Configuration` (see `BSONServerDefaults`).
///
/// **Memory per connection** is bounded in bytes. Received bytes are decoded as they
/// arrive, and decoded documents wait in the connection's inbound buffer until the consumer
/// takes them. Once ``inboundHighWatermarkBytes`` bytes of documents (or
/// ``inboundHighWatermark`` documents) wait, the connection stops reading from the socket
/// (the peer's sends then back up in the kernel and, through TCP, at the peer) until the
/// consumer has brought them down to ``inboundLowWatermarkBytes`` (and
/// ``inboundLowWatermark`` documents). A read that was already under way finishes first, so
/// at most `maxMessagesPerRead` reads of at most 64 KiB each (SwiftNIO's adaptive receive
/// buffer) arrive past the high watermark. Add one unfinished frame, which holds only the
/// bytes that arrived (never the size its header announces). Outbound, a send waits while
/// more than ``outboundHighWatermarkBytes`` bytes are queued for the socket. The bound is
/// therefore about `inboundHighWatermarkBytes` + `maxMessagesPerRead` × 64 KiB + one frame in,
/// `outboundHighWatermarkBytes` + one frame out.
///
/// **Nothing sent is lost.** Every document a send returned for is delivered before the end
/// of the connection that follows it, unless the peer resets it: when the lending closure
/// returns (``BSONClient``) or the handler does (``BSONServer``), the connection waits until
/// everything queued has been written to the socket (at most ``sendTimeout`` without
/// progress), ends its output, then reads and drops what the peer still sends until the
/// peer closes (at most 2 seconds without a byte, 30 in all), and closes.
public struct BSONConnectionConfiguration: Sendable {
    /// The accepted frame lengths; default ``BSONFrameLimits/default``.
    public var frameLimits: BSONFrameLimits
    /// Limits for decoding received documents; default ``BSONDecodingOptions/default``.
    public var decodingOptions: BSONDecodingOptions
    /// Limits for encoding sent documents; default ``BSONEncodingOptions/default``.
    public var encodingOptions: BSONEncodingOptions
    /// How long the connection may wait for the peer, in either direction, without any
    /// progress before it is closed with ``BSONError/Code/timedOut``; default `nil` (no
    /// limit).
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
    public var frameTimeout: Duration?
    /// How long sending may wait for the peer to take bytes without any progress before the
    /// connection is closed with ``BSONError/Code/timedOut``; default 30 seconds, `nil` for
    /// no limit. A peer that sends but never reads is cut off after this long; it also
    /// bounds how long the end of a connection waits for what was sent to go out.
    public var sendTimeout: Duration?
    /// How long ``BSONConnection/request(_:)`` waits for the reply before the connection is
    /// closed with ``BSONError/Code/timedOut``; default `nil` (no limit).
    public var requestTimeout: Duration?
    /// TCP keepalive (a vanished peer is noticed even with no timeout set); default
    /// ``BSONKeepalive/default``, `nil` for none. Ignored on Unix domain sockets.
    public var keepalive: BSONKeepalive?
    /// Reading resumes once no more than this many received documents wait for the
    /// consumer; default 2.
    public var inboundLowWatermark: Int
    /// Reading pauses once this many received documents wait for the consumer; default 16.
    public var inboundHighWatermark: Int
    /// Reading resumes once no more than this many bytes of received documents wait for
    /// the consumer; default 256 KiB.
    public var inboundLowWatermarkBytes: Int
    /// Reading pauses once this many bytes of received documents wait for the consumer;
    /// default 1 MiB. One document larger than this is still received whole.
    public var inboundHighWatermarkBytes: Int
    /// A waiting send resumes once no more than this many bytes are queued for the socket;
    /// default 32 KiB.
    public var outboundLowWatermarkBytes: Int
    /// Sends wait once this many bytes are queued for the socket; default 256 KiB. One
    /// document larger than this is still sent whole.
    public var outboundHighWatermarkBytes: Int
    /// How many socket reads one readiness event may make (SwiftNIO's
    /// `ChannelOptions.maxMessagesPerRead`); default 4.
    public var maxMessagesPerRead: Int

    /// The frame timeout under its earlier name.
    @available(*, deprecated, renamed: "frameTimeout")
    public var readTimeout: Duration? {
        get { frameTimeout }
        set { frameTimeout = newValue }
    }

    /// Creates a configuration; every parameter has the default described on its property.
    public init(
        frameLimits: BSONFrameLimits = .default,
        decodingOptions: BSONDecodingOptions = .default,
        encodingOptions: BSONEncodingOptions = .default,
        idleTimeout: Duration? = BSONServerDefaults.idleTimeout,
        frameTimeout: Duration? = BSONServerDefaults.frameTimeout,
        sendTimeout: Duration? = BSONServerDefaults.sendTimeout,
        requestTimeout: Duration? = nil,
        keepalive: BSONKeepalive? = BSONServerDefaults.keepalive,
        inboundLowWatermark: Int = 2,
        inboundHighWatermark: Int = 16,
        inboundLowWatermarkBytes: Int = 256 << 10,
        inboundHighWatermarkBytes: Int = 1 << 20,
        outboundLowWatermarkBytes: Int = 32 << 10,
        outboundHighWatermarkBytes: Int = 256 << 10,
        maxMessagesPerRead: Int = 4
    ) {
        BSONServerDefaults.checkTimeout(idleTimeout, "idleTimeout")
        BSONServerDefaults.checkTimeout(frameTimeout, "frameTimeout")
        BSONServerDefaults.checkTimeout(sendTimeout, "sendTimeout")
        BSONServerDefaults.checkTimeout(requestTimeout, "requestTimeout")
        precondition(
            inboundLowWatermark >= 0 && inboundLowWatermark < inboundHighWatermark,
            "the watermarks need 0 <= inboundLowWatermark < inboundHighWatermark")
        precondition(
            inboundLowWatermarkBytes >= 0 && inboundLowWatermarkBytes < inboundHighWatermarkBytes,
            "the watermarks need 0 <= inboundLowWatermarkBytes < inboundHighWatermarkBytes")
        precondition(
            outboundLowWatermarkBytes >= 0 && outboundLowWatermarkBytes < outboundHighWatermarkBytes,
            "the watermarks need 0 <= outboundLowWatermarkBytes < outboundHighWatermarkBytes")
        precondition(maxMessagesPerRead > 0, "maxMessagesPerRead must be positive")
        self.frameLimits = frameLimits
        self.decodingOptions = decodingOptions
        self.encodingOptions = encodingOptions
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.sendTimeout = sendTimeout
        self.requestTimeout = requestTimeout
        self.keepalive = keepalive
        self.inboundLowWatermark = inboundLowWatermark
        self.inboundHighWatermark = inboundHighWatermark
        self.inboundLowWatermarkBytes = inboundLowWatermarkBytes
        self.inboundHighWatermarkBytes = inboundHighWatermarkBytes
        self.outboundLowWatermarkBytes = outboundLowWatermarkBytes
        self.outboundHighWatermarkBytes = outboundHighWatermarkBytes
        self.maxMessagesPerRead = maxMessagesPerRead
    }
}
