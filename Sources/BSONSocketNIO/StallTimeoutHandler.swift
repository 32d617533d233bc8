import NIOCore

/// Closes a connection whose peer stalls: the first handler of the pipeline (nearest the
/// socket), where it sees the reads this side asks for and the bytes that arrive.
///
/// "Waiting for the peer" means a read is outstanding (a `read` passed by on its way to the
/// socket and no bytes came back yet) or the channel is not writable (the peer does not take
/// what was sent). While the consumer is slow and the async channel holds reads back, no
/// read is outstanding, so this side's own slowness never counts against the peer.
///
/// - idle timeout: waiting for the peer for this long without a byte arriving;
/// - frame timeout: an unfinished frame (as the decoder reports through ``FrameProgress``)
///   older than this, checked while a read is outstanding;
/// - send timeout: the channel not writable (the peer takes nothing of what was sent) for
///   this long without a break.
///
/// One timer per connection, re-armed only when it fires, so the steady state costs two
/// clock reads per read cycle and no scheduling.
final class StallTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idleTimeout: TimeAmount?
    private let frameTimeout: TimeAmount?
    private let sendTimeout: TimeAmount?
    private let progress: FrameProgress
    private var readOutstanding = false
    private var waitingSince: NIODeadline?
    private var unwritableSince: NIODeadline?
    private var timer: Scheduled<Void>?
    private var armedDeadline: NIODeadline?
    private var finished = false

    init(idleTimeout: TimeAmount?, frameTimeout: TimeAmount?, sendTimeout: TimeAmount?, progress: FrameProgress) {
        precondition(idleTimeout != nil || frameTimeout != nil || sendTimeout != nil, "a stall handler needs a timeout")
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.sendTimeout = sendTimeout
        self.progress = progress
    }

    func read(context: ChannelHandlerContext) {
        readOutstanding = true
        update(context: context)
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readOutstanding = false
        waitingSince = nil
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        update(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            waitingSince = nil
            unwritableSince = nil
        } else if unwritableSince == nil {
            unwritableSince = context.eventLoop.now
        }
        update(context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        finished = true
        timer?.cancel()
        timer = nil
        armedDeadline = nil
    }

    /// Starts the waiting clock when this side begins to wait, and makes sure a timer runs
    /// for the earliest deadline that applies.
    private func update(context: ChannelHandlerContext) {
        guard !finished else { return }
        let waiting = readOutstanding || !context.channel.isWritable
        if !waiting {
            waitingSince = nil
        } else if waitingSince == nil {
            waitingSince = context.eventLoop.now
        }
        guard let deadline = nextDeadline() else { return }
        if let armedDeadline, armedDeadline <= deadline { return }
        timer?.cancel()
        arm(context: context, at: deadline)
    }

    /// The earliest moment a timeout could be due, or `nil` when none applies now.
    private func nextDeadline() -> NIODeadline? {
        var deadline: NIODeadline?
        if let idleTimeout, let waitingSince { deadline = waitingSince + idleTimeout }
        if readOutstanding, let frameTimeout, let since = progress.partialFrameSince {
            let frameDeadline = since + frameTimeout
            deadline = deadline.map { min($0, frameDeadline) } ?? frameDeadline
        }
        if let sendTimeout, let unwritableSince {
            let sendDeadline = unwritableSince + sendTimeout
            deadline = deadline.map { min($0, sendDeadline) } ?? sendDeadline
        }
        return deadline
    }

    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        armedDeadline = deadline
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        armedDeadline = nil
        guard !finished else { return }
        let now = context.eventLoop.now
        if let idleTimeout, let since = waitingSince, now >= since + idleTimeout {
            expire(context: context, BSONError(
                .timedOut,
                "the peer sent nothing for \(Self.describe(idleTimeout)) while the connection waited for it "
                    + "(idleTimeout); the connection was closed"))
            return
        }
        if readOutstanding, let frameTimeout, let since = progress.partialFrameSince, now >= since + frameTimeout {
            expire(context: context, BSONError(
                .timedOut,
                "a frame began \(Self.describe(frameTimeout)) ago and is still incomplete (frameTimeout); "
                    + "the connection was closed and the partial frame dropped"))
            return
        }
        if let sendTimeout, let since = unwritableSince, now >= since + sendTimeout {
            expire(context: context, BSONError(
                .timedOut,
                "the peer took nothing of what was sent for \(Self.describe(sendTimeout)) (sendTimeout); "
                    + "the connection was closed"))
            return
        }
        // Nothing is due (the clocks moved on since the timer was armed); every deadline that
        // still applies lies ahead. None applies while reads are held back: the next read
        // re-arms.
        if let deadline = nextDeadline() { arm(context: context, at: deadline) }
    }

    private func expire(context: ChannelHandlerContext, _ error: BSONError) {
        stop()
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}

extension TimeAmount {
    /// A Swift `Duration` as a SwiftNIO `TimeAmount` (nanosecond precision, saturating).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }
}
