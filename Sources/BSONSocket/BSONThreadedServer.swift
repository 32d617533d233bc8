import Foundation
import Synchronization

/// A blocking BSON server with one thread per connection: the counterpart of a py-bson
/// server that calls `recvobj` and `sendobj` in a loop.
///
/// Each connection reads documents with ``BSONStreamIO/recvObj(options:limits:)``, passes each
/// to the handler and sends back what the handler returns (nothing when it returns `nil`).
/// A connection ends when the peer closes it between documents, when it stays idle longer
/// than ``Configuration/idleTimeout``, when one frame takes longer than
/// ``Configuration/frameTimeout`` to arrive, or at the first error (reported through
/// ``Configuration/onEvent``; a peer that sent a malformed or oversized document is
/// disconnected, since the protocol has no way to answer with an error).
///
/// ```swift
/// let server = try BSONThreadedServer(listener: .listen(port: 0)) { document in document }
/// server.start()
/// // … later
/// server.stop()
/// ```
public final class BSONThreadedServer: Sendable {
    /// How the server treats connections. The names, meanings and defaults are the
    /// SwiftNIO `BSONServer`'s (`BSONServer.Configuration` and its
    /// `BSONConnectionConfiguration`): switching engines changes no limit.
    public struct Configuration: Sendable {
        /// How many connections are served at once (each has a thread); default 1,024. What
        /// happens to further connections is ``whenFull``'s choice.
        public var maxConnections: Int
        /// What the server does with a connection that arrives while ``maxConnections`` are
        /// being served; default ``BSONServerFullPolicy/refuse``.
        public var whenFull: BSONServerFullPolicy
        /// How long a connection may wait for its peer, in either direction, without any
        /// progress before it is closed; default `nil` (no limit). It applies between
        /// documents (an idle client), inside one (a peer that sends a header and stalls),
        /// and while a reply waits for a peer that does not read.
        public var idleTimeout: Duration?
        /// How long one frame may take to arrive once its first byte is here; default 30
        /// seconds, `nil` for no limit. A peer that trickles a frame (a header, then a byte a
        /// second) resets no idle clock with this: it is cut off when the frame's time is
        /// up, and the memory for its frame is released (see ``BSONSocket/setFrameTimeout(_:)``).
        public var frameTimeout: Duration?
        /// How long sending a reply may wait for the peer to take bytes without any progress
        /// before the connection is closed with ``BSONError/Code/timedOut``; default 30
        /// seconds, `nil` for no limit. A peer that sends but never reads gives its slot
        /// back after this long.
        public var sendTimeout: Duration?
        /// TCP keepalive on every TCP connection, so that a vanished peer is noticed even
        /// with no timeout set; default ``BSONKeepalive/default``, `nil` for none.
        public var keepalive: BSONKeepalive?
        /// Limits for decoding received documents; default ``BSONDecodingOptions/default``.
        public var decodingOptions: BSONDecodingOptions
        /// Limits for encoding replies; default ``BSONEncodingOptions/default``.
        public var encodingOptions: BSONEncodingOptions
        /// Limits for received frames; default ``BSONFrameLimits/default``.
        public var frameLimits: BSONFrameLimits
        /// Called on the connection's thread for each event worth logging; default: nothing.
        public var onEvent: @Sendable (Event) -> Void

        /// Creates a configuration; every parameter has the default described on its
        /// property.
        public init(
            maxConnections: Int = BSONServerDefaults.maxConnections,
            whenFull: BSONServerFullPolicy = .refuse,
            idleTimeout: Duration? = BSONServerDefaults.idleTimeout,
            frameTimeout: Duration? = BSONServerDefaults.frameTimeout,
            sendTimeout: Duration? = BSONServerDefaults.sendTimeout,
            keepalive: BSONKeepalive? = BSONServerDefaults.keepalive,
            decodingOptions: BSONDecodingOptions = .default,
            encodingOptions: BSONEncodingOptions = .default,
            frameLimits: BSONFrameLimits = .default,
            onEvent: @escaping @Sendable (Event) -> Void = { _ in }
        ) {
            BSONServerDefaults.checkMaxConnections(maxConnections)
            BSONServerDefaults.checkTimeout(idleTimeout, "idleTimeout")
            BSONServerDefaults.checkTimeout(frameTimeout, "frameTimeout")
            BSONServerDefaults.checkTimeout(sendTimeout, "sendTimeout")
            self.maxConnections = maxConnections
            self.whenFull = whenFull
            self.idleTimeout = idleTimeout
            self.frameTimeout = frameTimeout
            self.sendTimeout = sendTimeout
            self.keepalive = keepalive
            self.decodingOptions = decodingOptions
            self.encodingOptions = encodingOptions
            self.frameLimits = frameLimits
            self.onEvent = onEvent
        }
    }

    /// Something that happened on the server; the same type as `BSONServer`'s events.
    public typealias Event = BSONServerEvent

    /// Turns a received document into the reply, or `nil` for no reply. Called on the
    /// connection's thread; it may throw to end the connection.
    public typealias Handler = @Sendable (BSONDocument) throws -> BSONDocument?

    private struct State {
        var running = false
        var stopped = false
        var nextConnection = 0
        var connections: [Int: BSONSocket] = [:]
        var acceptThreadDone = true
    }

    /// The listener the server accepts from (closed by ``stop()``).
    public let listener: BSONListener
    private let configuration: Configuration
    private let handler: Handler
    private let state = PackageMutex(State())
    private let slots: DispatchSemaphore
    private let finished = DispatchGroup()

    /// Creates a server; call ``start()`` to begin accepting.
    ///
    /// - Parameters:
    ///   - listener: Where connections come from; the server owns it from now on.
    ///   - configuration: Connection limits and the event callback.
    ///   - handler: The reply to each document.
    public init(listener: BSONListener, configuration: Configuration = .init(), handler: @escaping Handler) {
        self.listener = listener
        self.configuration = configuration
        self.handler = handler
        self.slots = DispatchSemaphore(value: configuration.maxConnections)
    }

    /// How many connections are being served now.
    public var activeConnections: Int { state.withLock { $0.connections.count } }

    /// Starts accepting on a thread of its own and returns at once. Calling it again does
    /// nothing.
    public func start() {
        let begin = state.withLock { state -> Bool in
            guard !state.running, !state.stopped else { return false }
            state.running = true
            state.acceptThreadDone = false
            return true
        }
        guard begin else { return }
        finished.enter()
        Thread.detachNewThread { [self] in
            acceptLoop()
            state.withLock { $0.acceptThreadDone = true }
            finished.leave()
        }
    }

    /// Stops accepting, lets the connections being served go on for `gracePeriod`, then
    /// ends those still open, and waits up to `timeout` for every thread to end.
    ///
    /// During the grace period every open connection is served as before, so documents its
    /// peer had already sent are received and answered. When the grace period ends, each
    /// connection still open stops receiving (a receive waiting between documents ends as if
    /// the peer had closed): its thread finishes the document in hand, sends its reply and
    /// closes the connection the usual way, so nothing it sent is lost. A connection still
    /// open ``BSONServerDefaults/closingAllowance`` after that (its handler is slow, or its
    /// peer does not take the reply) is closed outright. The same as
    /// `BSONServer.shutdown(gracePeriod:)`.
    ///
    /// - Parameters:
    ///   - gracePeriod: How long open connections go on; default 5 seconds.
    ///   - timeout: How long to wait for the threads in all; default `gracePeriod` plus
    ///     ``BSONServerDefaults/closingAllowance``.
    /// - Returns: `true` when every thread finished in time.
    @discardableResult
    public func stop(gracePeriod: Duration = BSONServerDefaults.gracePeriod, timeout: Duration? = nil) -> Bool {
        state.withLock { $0.stopped = true }
        listener.close()
        // Wake an accept loop waiting for a free slot, or backing off.
        slots.signal()
        let start = DispatchTime.now()
        let total = timeout ?? gracePeriod + BSONServerDefaults.closingAllowance
        if finished.wait(timeout: start + Self.dispatchInterval(min(gracePeriod, total))) == .success { return true }
        for connection in state.withLock({ Array($0.connections.values) }) { try? connection.shutdown(.read) }
        let allowance = min(gracePeriod + BSONServerDefaults.closingAllowance, total)
        if finished.wait(timeout: start + Self.dispatchInterval(allowance)) == .success { return true }
        for connection in state.withLock({ Array($0.connections.values) }) { connection.close() }
        return finished.wait(timeout: start + Self.dispatchInterval(total)) == .success
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return .nanoseconds(overflow ? .max : Int(clamping: product + attoseconds / 1_000_000_000))
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        let waits = configuration.whenFull == .wait
        var failures = 0
        while !isStopped {
            if waits { slots.wait() }
            if isStopped { break }
            let connection: BSONSocket
            do {
                connection = try listener.accept()
            } catch {
                if waits { slots.signal() }
                if isStopped || listener.isClosed { break }
                backOff(after: error, failures: &failures)
                continue
            }
            if failures > 0 {
                configuration.onEvent(.acceptRecovered(failures: failures))
                failures = 0
            }
            if !waits, slots.wait(timeout: .now()) != .success {
                // Full: the connection is closed at once, so that the peer learns it now (a clean
                // close before any reply) and the listen backlog keeps draining.
                // Reported before the close, so that the event is in the log by the time the peer
                // sees its connection end (as BSONServer does).
                let peer = (try? connection.remoteAddress.description) ?? "unknown peer"
                configuration.onEvent(.refused(peer: peer, open: activeConnections))
                connection.close()
                continue
            }
            let number = state.withLock { state -> Int? in
                guard !state.stopped else { return nil }
                state.nextConnection += 1
                state.connections[state.nextConnection] = connection
                return state.nextConnection
            }
            guard let number else {
                connection.close()
                slots.signal()
                break
            }
            finished.enter()
            Thread.detachNewThread { [self] in
                let timedOut = serve(connection, number: number)
                state.withLock { _ = $0.connections.removeValue(forKey: number) }
                // A peer that timed out is not waited for: lingering for its unread bytes
                // would hold the slot as long as it keeps sending without reading.
                connection.close(lingering: !timedOut)
                slots.signal()
                finished.leave()
            }
        }
    }

    /// After a failed accept: reports the first failure of an episode, then waits before the
    /// next attempt — a second when the system is out of descriptors or memory (retrying at
    /// once would only spin and flood the log), 50 ms otherwise. A stop ends the wait.
    private func backOff(after error: BSONError, failures: inout Int) {
        if failures == 0 { configuration.onEvent(.acceptFailed(error)) }
        failures += 1
        let exhausted = error.errno.map(Syscalls.isResourceExhaustion) ?? false
        let slices = exhausted ? 20 : 1
        for _ in 0..<slices where !isStopped {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Serves one connection until it ends; returns whether it ended by a timeout.
    private func serve(_ connection: BSONSocket, number: Int) -> Bool {
        let peer = (try? connection.remoteAddress.description) ?? "unknown peer"
        configuration.onEvent(.accepted(connection: number, peer: peer))
        var documents = 0
        do throws(BSONError) {
            if let idle = configuration.idleTimeout {
                try connection.setReceiveTimeout(idle)
            }
            // A send waits at most the send timeout, or the idle timeout when that is shorter,
            // without progress: "no progress in either direction" means the same as on NIO.
            let sendLimit = [configuration.sendTimeout, configuration.idleTimeout].compactMap { $0 }.min()
            if let sendLimit { try connection.setSendTimeout(sendLimit) }
            try connection.setKeepalive(configuration.keepalive)
            connection.setFrameTimeout(configuration.frameTimeout)
            while let document = try connection.recvObj(
                options: configuration.decodingOptions, limits: configuration.frameLimits)
            {
                documents += 1
                let reply: BSONDocument?
                do {
                    reply = try handler(document)
                } catch let error as BSONError {
                    throw error
                } catch {
                    throw BSONError(.invalidValue, "the handler failed: \(error)")
                }
                if let reply { try connection.sendObj(reply, options: configuration.encodingOptions) }
            }
            configuration.onEvent(.closed(connection: number, documents: documents))
            return false
        } catch {
            if isStopped && error.code == .closed {
                configuration.onEvent(.closed(connection: number, documents: documents))
            } else {
                configuration.onEvent(.failed(connection: number, error: error))
            }
            return error.code == .timedOut
        }
    }
}
