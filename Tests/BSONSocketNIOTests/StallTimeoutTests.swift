import BSONSocketNIO
import NIOCore
import NIOEmbedded
import Testing

/// The idle and read timeouts of the connection pipeline, on an embedded event loop whose
/// clock the tests move by hand.
@Suite("Idle and read timeouts")
struct StallTimeoutTests {
    func pipeline(idle: Duration?, read: Duration?) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addBSONConnectionHandlers(
            configuration: BSONConnectionConfiguration(idleTimeout: idle, frameTimeout: read))
        activate(channel)
        return channel
    }

    func expectTimedOut(_ channel: EmbeddedChannel, _ comment: Comment? = nil) {
        do {
            try channel.throwIfErrorCaught()
            Issue.record("no timeout error", sourceLocation: #_sourceLocation)
        } catch let error as BSONError {
            #expect(error.code == .timedOut, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(!channel.isActive)
    }

    @Test("A peer that sends nothing while a read is outstanding is cut off after the idle timeout")
    func idle() throws {
        let channel = try pipeline(idle: .seconds(1), read: nil)
        channel.read()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2))
        expectTimedOut(channel)
    }

    @Test("Bytes arriving restart the idle clock")
    func idleRestarts() throws {
        let channel = try pipeline(idle: .seconds(1), read: nil)
        for _ in 0..<5 {
            channel.read()
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(800))
            try channel.writeInbound(ByteBuffer(bytes: Samples.frame(["ping": 1])))
            #expect(try channel.readInbound(as: BSONDocument.self) == ["ping": 1])
        }
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    @Test("Time while this side holds reads back (a slow consumer) never counts against the peer")
    func backpressureDoesNotCount() throws {
        let channel = try pipeline(idle: .seconds(1), read: .seconds(1))
        // Half a frame arrives, then no read is asked for (the consumer is busy).
        try channel.writeInbound(ByteBuffer(bytes: Samples.frame(["a": 1]).prefix(6)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
        // Once this side reads again, the peer has the rest of the read timeout... which has
        // passed for the frame; it is cut off then, not before.
        channel.read()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        expectTimedOut(channel)
    }

    @Test("A frame trickling in a byte at a time is cut off after the read timeout")
    func frameTimeoutTrickle() throws {
        let channel = try pipeline(idle: .seconds(10), read: .seconds(1))
        let frame = Samples.frame(["slow": "loris"])
        for byte in frame.prefix(6) {
            channel.read()
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            channel.read()
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(190))
        }
        // 6 × 190 ms > 1 s: the idle clock was restarted by every byte, the frame's was not.
        expectTimedOut(channel)
    }

    @Test("A header then silence: read timeout fires; between frames only the idle timeout applies")
    func headerThenStall() throws {
        let stalled = try pipeline(idle: nil, read: .milliseconds(500))
        stalled.read()
        try stalled.writeInbound(ByteBuffer(bytes: Samples.header(100)))
        stalled.read()
        stalled.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        #expect(stalled.isActive)
        stalled.embeddedEventLoop.advanceTime(by: .milliseconds(2))
        expectTimedOut(stalled)

        let quiet = try pipeline(idle: nil, read: .milliseconds(500))
        quiet.read()
        quiet.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(quiet.isActive, "no frame started: the read timeout does not apply")
        #expect(try quiet.finish().isClean)
    }
}
