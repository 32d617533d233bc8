import NIOCore

// How a connection's bytes flow past the decoder: a budget in bytes for the documents that
// wait for their consumer, and the end of a connection that delivers what was sent before
// it closes.

/// The parts of a connection's pipeline that its ``BSONConnection`` works with.
struct ConnectionFlow: Sendable {
    let budget: InboundBudget
    let delivered: EventLoopFuture<Void>
}

/// Bytes of decoded documents that wait for the consumer of one connection, and whether
/// reading is held back because of them.
///
/// The decoder adds each document's frame length as it passes the document on; the
/// receiving task takes the lengths back in the same order as it takes the documents (the
/// stream is first in, first out, and has one consumer). Once ``highWatermark`` bytes wait,
/// ``InboundBudgetHandler`` stops asking the socket for more; it asks again when the
/// consumer has brought them down to ``lowWatermark``. SwiftNIO's own watermarks count
/// documents, so without this a connection holding sixteen 16 MiB documents would hold
/// 256 MiB.
final class InboundBudget: Sendable {
    private struct State {
        var lengths: [Int] = []
        var head = 0
        var bytes = 0
        var readHeld = false
        var resume: (@Sendable () -> Void)?
    }

    let lowWatermark: Int
    let highWatermark: Int
    private let state = PackageMutex(State())

    init(lowWatermark: Int, highWatermark: Int) {
        self.lowWatermark = lowWatermark
        self.highWatermark = highWatermark
    }

    /// The bytes now waiting (for tests and messages).
    var bytesWaiting: Int { state.withLock { $0.bytes } }

    /// A decoded document of `length` bytes is on its way to the consumer.
    func produced(_ length: Int) {
        state.withLock { state in
            state.lengths.append(length)
            state.bytes += length
        }
    }

    /// The consumer took the oldest waiting document; resumes reading when it was held back
    /// and the bytes waiting fell to the low watermark.
    func consumed() {
        let resume = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.head < state.lengths.count else { return nil }
            state.bytes -= state.lengths[state.head]
            state.head += 1
            if state.head >= 64 && state.head * 2 >= state.lengths.count {
                state.lengths.removeFirst(state.head)
                state.head = 0
            }
            guard state.readHeld, state.bytes <= lowWatermark else { return nil }
            state.readHeld = false
            return state.resume
        }
        resume?()
    }

    /// Whether a read may go to the socket now; when not, the read is held until
    /// ``consumed()`` lets it go through `resume`.
    func admitRead(orResumeWith resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.bytes >= highWatermark else { return true }
            state.readHeld = true
            state.resume = resume
            return false
        }
    }
}

/// Holds back reads while the connection's ``InboundBudget`` is spent. Sits between the
/// decoder and the async channel's handler, where the reads the consumer's demand causes
/// pass on their way to the socket.
final class InboundBudgetHandler: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let budget: InboundBudget

    init(budget: InboundBudget) {
        self.budget = budget
    }

    func read(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let admitted = budget.admitRead {
            eventLoop.execute { loopBound.value.read() }
        }
        if admitted { context.read() }
    }
}

/// Makes the end of a connection deliver what was sent: sits just in front of the async
/// channel's handler, which asks to close the output once its writer is finished (every
/// document sent has been written into the pipeline by then).
///
/// SwiftNIO's output close waits for pending writes, but when the peer has already closed
/// its side, SwiftNIO makes it a full close, which fails the pending writes — the replies to
/// a peer that half-closed were lost that way. So the close is held until a write of nothing,
/// queued behind every document, has completed (writes complete in order), and only then
/// passed on. ``delivered`` tells the connection how that went.
final class DeliveryHandler: ChannelDuplexHandler {
    typealias InboundIn = BSONDocument
    typealias InboundOut = BSONDocument
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Succeeds when every byte written before the output close reached the socket and the
    /// output was shut down; fails when the connection ended first.
    let delivered: EventLoopPromise<Void>
    private let sendTimeout: TimeAmount?
    private var settled = false
    private var closing = false
    private var timer: Scheduled<Void>?

    init(eventLoop: any EventLoop, sendTimeout: TimeAmount?) {
        delivered = eventLoop.makePromise(of: Void.self)
        self.sendTimeout = sendTimeout
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output, !closing else {
            context.close(mode: mode, promise: promise)
            return
        }
        closing = true
        armTimer(context: context)
        let flushed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: flushed)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        flushed.futureResult.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success:
                handler.settle(.success(()))
                context.close(mode: .output, promise: promise)
            case .failure(let error):
                handler.settle(.failure(error))
                context.close(mode: .all, promise: promise)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Ended before the output close was asked for: the peer closed or reset the
        // connection, or something closed it outright. Nothing was waiting on this close, so
        // there is no delivery to fail; a wait that is in progress fails with its write.
        if !closing { settle(.success(())) }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The peer took bytes: the wait for the rest starts afresh.
        if closing && !settled { armTimer(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// While the output close waits for what is queued: at most the send timeout without
    /// progress, then the connection is closed and the wait fails.
    private func armTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        guard let sendTimeout else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: sendTimeout) {
            let (handler, context) = loopBound.value
            handler.settle(.failure(BSONError(
                .timedOut,
                "the peer took nothing of what was sent for \(sendTimeout.nanoseconds / 1_000_000) ms while the "
                    + "connection waited to deliver it before closing (sendTimeout)")))
            context.close(mode: .all, promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if closing {
            settle(.failure(ChannelError.ioOnClosedChannel))
        } else {
            settle(.success(()))
        }
    }

    private func settle(_ result: Result<Void, any Error>) {
        guard !settled else { return }
        settled = true
        timer?.cancel()
        timer = nil
        delivered.completeWith(result)
    }
}
