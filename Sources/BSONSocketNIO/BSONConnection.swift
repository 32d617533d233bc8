public import NIOCore
import Synchronization

/// One BSON connection, client or server side, as an async/await value: an async sequence
/// of received documents, sends that wait when the peer does not keep up, and a
/// request/response helper.
///
/// A connection is lent to a closure (``BSONClient/withConnection(host:port:connectTimeout:configuration:eventLoopGroup:_:)``,
/// ``BSONServer/run(_:)``) and closed when the closure returns; do not keep it beyond that.
///
/// ```swift
/// try await BSONClient.withConnection(host: "127.0.0.1", port: 8080) { connection in
///     let reply = try await connection.request(["type": "greeting", "message": "Hello server!"])
///     print(reply)
/// }
/// ```
///
/// **Receiving** is single-consumer: iterate ``inbound``, or call ``receive()`` or
/// ``request(_:)``, from one task at a time (concurrent ``request(_:)`` calls are fine: they
/// take turns). Two receives at once is a programming error and traps. **Sending** may
/// happen from any number of tasks; each document goes out whole, never interleaved.
///
/// **Errors** are ``BSONError``s (SwiftNIO's are translated), or `CancellationError` when
/// the waiting task is cancelled. A frame that breaks the framing rules, a document that
/// does not decode, or a timeout closes the connection, and the receiving side sees that
/// error. Cancelling a receive also closes the connection: a reply may be on its way, and
/// the next receive would take it for the answer to something else.
public struct BSONConnection: Sendable {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let receiver: Receiver
    private let turns: AsyncSemaphore
    /// Completes when everything sent before the output close reached the socket.
    private let delivered: EventLoopFuture<Void>?

    /// The limits and timeouts in force.
    public let configuration: BSONConnectionConfiguration
    /// The peer's address (`nil` when the system did not report one).
    public let remoteAddress: BSONSocketAddress?
    /// This side's address (`nil` when the system did not report one).
    public let localAddress: BSONSocketAddress?

    init(
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<BSONDocument>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        configuration: BSONConnectionConfiguration,
        flow: ConnectionFlow
    ) {
        self.channel = channel
        self.outbound = outbound
        self.delivered = flow.delivered
        self.receiver = Receiver(iterator: inbound.makeAsyncIterator(), channel: channel, budget: flow.budget)
        self.turns = AsyncSemaphore(permits: 1)
        self.configuration = configuration
        self.remoteAddress = channel.remoteAddress.flatMap(BSONSocketAddress.init(nio:))
        self.localAddress = channel.localAddress.flatMap(BSONSocketAddress.init(nio:))
    }

    /// How many documents have been received so far.
    public var documentsReceived: Int { receiver.count.load(ordering: .relaxed) }

    /// Receives the next document.
    ///
    /// - Returns: The document, or `nil` when the peer closed the connection cleanly between
    ///   documents.
    /// - Throws: ``BSONError``: ``BSONError/Code/frameTooSmall``, ``BSONError/Code/frameTooLarge``,
    ///   ``BSONError/Code/malformed`` and the other decoding codes for a frame that breaks the
    ///   rules; ``BSONError/Code/truncated`` when the peer closed inside a frame;
    ///   ``BSONError/Code/timedOut`` after a timeout; ``BSONError/Code/connectionReset`` and the
    ///   other transport codes. `CancellationError` when the task is cancelled (the connection
    ///   is closed then).
    public func receive() async throws -> BSONDocument? {
        try await receiver.next()
    }

    /// Encodes `document` and sends it as one frame; waits while the peer does not take
    /// what was sent before.
    ///
    /// The document is encoded whole on the calling task before anything is written, so an
    /// encoding error sends nothing and leaves the connection usable.
    ///
    /// - Parameter document: The document; a dictionary literal works too.
    /// - Throws: The encoder's ``BSONError`` (``BSONError/Code/invalidKey``,
    ///   ``BSONError/Code/invalidValue``, ``BSONError/Code/nestingTooDeep``) with nothing
    ///   sent; ``BSONError/Code/closed`` when the connection is closed; `CancellationError`.
    public func send(_ document: BSONDocument) async throws {
        let frame = try encode(document)
        do {
            try await outbound.write(frame)
        } catch {
            throw BSONError.translating(error, while: "sending a document")
        }
    }

    /// Encodes every document and sends them together, with one flush (fewer system calls
    /// than a `send` each, for pipelining).
    ///
    /// - Parameter documents: The documents, sent in order.
    /// - Throws: As ``send(_:)``; all documents are encoded before any is sent.
    public func send(contentsOf documents: some Sequence<BSONDocument>) async throws {
        let frames = try documents.map { (document) throws(BSONError) in try encode(document) }
        guard !frames.isEmpty else { return }
        do {
            try await outbound.write(contentsOf: frames)
        } catch {
            throw BSONError.translating(error, while: "sending \(frames.count) documents")
        }
    }

    /// Sends an already-encoded frame (from a ``BSONFrameDecoder``, say) after checking that
    /// it is exactly one frame by the framing rules.
    ///
    /// - Parameter frame: Exactly one BSON document's bytes.
    /// - Throws: ``BSONError`` from the framing rules with nothing sent, or as ``send(_:)``.
    public func sendFrame(_ frame: ByteBuffer) async throws {
        try frame.checkIsOneBSONFrame(limits: configuration.frameLimits)
        do {
            try await outbound.write(frame)
        } catch {
            throw BSONError.translating(error, while: "sending a frame")
        }
    }

    /// Sends `document` and returns the next document received: the reply of a peer that
    /// answers each document with one.
    ///
    /// Concurrent calls take turns, so each gets the reply to its own document. Waits at most
    /// ``BSONConnectionConfiguration/requestTimeout`` for the reply, if one is set.
    ///
    /// - Parameter document: The request.
    /// - Returns: The reply.
    /// - Throws: As ``send(_:)`` and ``receive()``; ``BSONError/Code/closed`` when the peer
    ///   closed the connection instead of replying; ``BSONError/Code/timedOut`` when the
    ///   request timeout expired (the connection is closed then).
    public func request(_ document: BSONDocument) async throws -> BSONDocument {
        let frame = try encode(document)
        try await turns.acquire()
        defer { turns.release() }
        do {
            try await outbound.write(frame)
        } catch {
            throw BSONError.translating(error, while: "sending a request")
        }
        guard let reply = try await receive(timeout: configuration.requestTimeout) else {
            throw BSONError(.closed, "the peer closed the connection instead of replying")
        }
        return reply
    }

    /// Receives the next document, waiting at most `timeout`.
    ///
    /// A timeout closes the connection (a late document could not be told apart from the
    /// answer to a later request), and this call and any later receive throw
    /// ``BSONError/Code/timedOut``.
    ///
    /// - Parameter timeout: How long to wait; `nil` waits as ``receive()`` does.
    /// - Returns: The document, or `nil` when the peer closed cleanly between documents.
    /// - Throws: As ``receive()``, and ``BSONError/Code/timedOut``.
    public func receive(timeout: Duration?) async throws -> BSONDocument? {
        guard let timeout else { return try await receiver.next() }
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [channel] in
            channel.pipeline.fireErrorCaught(
                BSONError(.timedOut, "nothing was received within \(timeout); the connection was closed"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await receiver.next()
    }

    /// Ends the connection the way the lending closure's return does: waits until every
    /// document sent has been written to the socket (at most
    /// ``BSONConnectionConfiguration/sendTimeout`` without progress), ends the output (the
    /// peer reads everything, then a clean end), then reads and drops what the peer still
    /// sends until it closes (at most 2 seconds without a byte, 30 seconds in all). The
    /// channel itself is closed by the lender afterwards.
    ///
    /// - Throws: ``BSONError`` when the connection ended before everything sent was
    ///   written (the peer reset it, or ``BSONError/Code/timedOut`` after the send timeout).
    func finish() async throws {
        outbound.finish()
        if let delivered {
            do {
                try await delivered.get()
            } catch {
                throw BSONError.translating(error, while: "delivering what was sent before closing")
            }
        }
        await receiver.drainUntilPeerCloses(
            quiet: TimeAmount(BSONServerDefaults.lingerQuiet), limit: TimeAmount(BSONServerDefaults.lingerLimit))
    }

    /// Closes the connection now; receives and sends that wait are woken with
    /// ``BSONError/Code/closed``, and documents queued but not yet written are dropped. The
    /// lending closure's return ends the connection without dropping them.
    public func close() async {
        outbound.finish()
        try? await channel.close()
    }

    private func encode(_ document: BSONDocument) throws(BSONError) -> ByteBuffer {
        let bytes = try document.encoded(options: configuration.encodingOptions)
        return channel.allocator.buffer(bytes: bytes)
    }

    /// The received documents, in order; ends (`nil`) when the peer closes cleanly between
    /// documents, and throws what ``receive()`` throws.
    public var inbound: Inbound { Inbound(receiver: receiver) }

    /// The documents a connection receives, as an async sequence (see
    /// ``BSONConnection/inbound``). It shares the connection's one receiving position with
    /// ``BSONConnection/receive()`` and ``BSONConnection/request(_:)``.
    public struct Inbound: AsyncSequence, Sendable {
        /// A received document.
        public typealias Element = BSONDocument
        let receiver: Receiver

        /// The iterator; each `next()` is a ``BSONConnection/receive()``.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let receiver: Receiver

            /// The next document, or `nil` at a clean end.
            public mutating func next() async throws -> BSONDocument? {
                try await receiver.next()
            }
        }

        /// Makes an iterator.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(receiver: receiver)
        }
    }
}

/// The receiving position of one connection: SwiftNIO's inbound iterator, used by one
/// receive at a time (checked).
final class Receiver: @unchecked Sendable {
    // Touched only by the receive that set `busy`, so never by two tasks at once.
    private var iterator: NIOAsyncChannelInboundStream<BSONDocument>.AsyncIterator
    private let busy = Atomic<Bool>(false)
    private let channel: any Channel
    private let budget: InboundBudget?
    let count = Atomic<Int>(0)

    init(
        iterator: NIOAsyncChannelInboundStream<BSONDocument>.AsyncIterator, channel: any Channel,
        budget: InboundBudget?
    ) {
        self.iterator = iterator
        self.channel = channel
        self.budget = budget
    }

    /// After this side ended its output: takes and drops documents until the peer closes,
    /// nothing came for `quiet`, or `limit` passed; then the channel is closed. Does nothing
    /// when another receive is under way (it will see the end).
    func drainUntilPeerCloses(quiet: TimeAmount, limit: TimeAmount) async {
        guard !busy.exchange(true, ordering: .acquiring) else { return }
        defer { busy.store(false, ordering: .releasing) }
        let end = NIODeadline.now() + limit
        let channel = channel
        while true {
            let timer = channel.eventLoop.scheduleTask(deadline: min(.now() + quiet, end)) { channel.close(promise: nil) }
            defer { timer.cancel() }
            guard case .some(.some) = try? await iterator.next() else { return }
            budget?.consumed()
        }
    }

    func next() async throws -> BSONDocument? {
        let wasBusy = busy.exchange(true, ordering: .acquiring)
        precondition(
            !wasBusy,
            "two receives at once on one BSONConnection: iterate `inbound`, or call `receive()` or "
                + "`request(_:)`, from one task at a time")
        defer { busy.store(false, ordering: .releasing) }
        do {
            let document = try await iterator.next()
            if document != nil {
                count.add(1, ordering: .relaxed)
                budget?.consumed()
            }
            return document
        } catch is CancellationError {
            // The inbound stream is finished for good; the peer may still be sending.
            channel.close(promise: nil)
            throw CancellationError()
        } catch {
            throw BSONError.translating(error, while: "receiving a document")
        }
    }
}

extension BSONSocketAddress {
    /// A SwiftNIO socket address in this package's terms.
    init?(nio address: SocketAddress) {
        switch address {
        case .v4:
            self = .ipv4(host: address.ipAddress ?? "", port: address.port ?? 0)
        case .v6:
            self = .ipv6(host: address.ipAddress ?? "", port: address.port ?? 0)
        case .unixDomainSocket:
            self = .unix(path: address.pathname ?? "")
        }
    }
}
