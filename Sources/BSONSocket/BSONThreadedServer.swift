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
    /// How the server treats connections.
    public struct Configuration: Sendable {
        /// How many connections are served at once (each has a thread); default 64. What
        /// happens to further connections is ``whenFull``'s choice.
        public var maxConnections: Int
        /// What the server does with a connection that arrives while ``maxConnections`` are
        /// being served; default ``BSONServerFullPolicy/refuse``.
        public var whenFull: BSONServerFullPolicy
        /// How long one receive may wait for the peer before the server closes the
        /// connection; default `nil` (no limit). It applies between documents (an idle
        /// client) and inside one (a peer that sends a header and stalls).
        public var idleTimeout: Duration?
        /// How long one frame may take to arrive once its first byte is here; default 30
        /// seconds, `nil` for no limit. A peer that trickles a frame (a header, then a byte a
        /// second) resets no idle clock with this: it is cut off when the frame's time is
        /// up, and the memory for its frame is released (see ``BSONSocket/setFrameTimeout(_:)``).
        public var frameTimeout: Duration?
        /// Limits for decoding received documents; default ``BSONDecodingOptions/default``.
        public var decodingOptions: BSONDecodingOptions
        /// Limits for received frames; default ``BSONFrameLimits/default``.
        public var frameLimits: BSONFrameLimits
        /// Called on the connection's thread for each event worth logging; default: nothing.
        public var onEvent: @Sendable (Event) -> Void

        /// Creates a configuration; every parameter has the default described on its
        /// property.
        public init(
            maxConnections: Int = 64,
            whenFull: BSONServerFullPolicy = .refuse,
            idleTimeout: Duration? = nil,
            frameTimeout: Duration? = .seconds(30),
            decodingOptions: BSONDecodingOptions = .default,
            frameLimits: BSONFrameLimits = .default,
            onEvent: @escaping @Sendable (Event) -> Void = { _ in }
        ) {
            precondition(maxConnections > 0, "maxConnections must be positive")
            precondition(idleTimeout.map { $0 > .zero } ?? true, "idleTimeout must be positive or nil")
            precondition(frameTimeout.map { $0 > .zero } ?? true, "frameTimeout must be positive or nil")
            self.maxConnections = maxConnections
            self.whenFull = whenFull
            self.idleTimeout = idleTimeout
            self.frameTimeout = frameTimeout
            self.decodingOptions = decodingOptions
            self.frameLimits = frameLimits
            self.onEvent = onEvent
        }
    }

    /// Something that happened on the server.
    public enum Event: Sendable, CustomStringConvertible {
        /// A connection was accepted; its number counts from 1.
        case accepted(connection: Int, peer: String)
        /// A connection ended cleanly after `documents` documents.
        case closed(connection: Int, documents: Int)
        /// A connection ended because of an error (including an idle or frame timeout).
        case failed(connection: Int, error: BSONError)
        /// A connection was closed at once because ``Configuration/maxConnections`` were
        /// being served (``BSONServerFullPolicy/refuse``).
        case refused(peer: String, open: Int)
        /// Accepting failed; the server keeps accepting unless it was stopped.
        case acceptFailed(BSONError)

        public var description: String {
            switch self {
            case .accepted(let connection, let peer): "connection \(connection) from \(peer) accepted"
            case .closed(let connection, let documents): "connection \(connection) closed after \(documents) documents"
            case .failed(let connection, let error): "connection \(connection) ended: \(error)"
            case .acceptFailed(let error): "accept failed: \(error)"
            case .refused(let peer, let open):
                "connection from \(peer) refused: \(open) connections are being served (maxConnections)"
            }
        }
    }

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

    /// Stops accepting, closes every connection (waking threads blocked in a receive) and
    /// waits up to `timeout` for all threads to finish.
    ///
    /// - Parameter timeout: How long to wait for the threads; default 5 seconds.
    /// - Returns: `true` when every thread finished in time.
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) -> Bool {
        let open = state.withLock { state -> [BSONSocket] in
            state.stopped = true
            return Array(state.connections.values)
        }
        listener.close()
        for connection in open { connection.close() }
        // Wake an accept loop waiting for a free slot.
        slots.signal()
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        return finished.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds))) == .success
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        let waits = configuration.whenFull == .wait
        while !isStopped {
            if waits { slots.wait() }
            if isStopped { break }
            let connection: BSONSocket
            do {
                connection = try listener.accept()
            } catch {
                if waits { slots.signal() }
                if isStopped || listener.isClosed { break }
                configuration.onEvent(.acceptFailed(error))
                // A persistent failure (such as running out of descriptors) must not spin.
                Thread.sleep(forTimeInterval: 0.05)
                continue
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
                serve(connection, number: number)
                state.withLock { _ = $0.connections.removeValue(forKey: number) }
                connection.close()
                slots.signal()
                finished.leave()
            }
        }
    }

    private func serve(_ connection: BSONSocket, number: Int) {
        let peer = (try? connection.remoteAddress.description) ?? "unknown peer"
        configuration.onEvent(.accepted(connection: number, peer: peer))
        var documents = 0
        do throws(BSONError) {
            if let idle = configuration.idleTimeout {
                try connection.setReceiveTimeout(idle)
            }
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
                if let reply { try connection.sendObj(reply) }
            }
            configuration.onEvent(.closed(connection: number, documents: documents))
        } catch {
            if isStopped && error.code == .closed {
                configuration.onEvent(.closed(connection: number, documents: documents))
            } else {
                configuration.onEvent(.failed(connection: number, error: error))
            }
        }
    }
}

/// What a server does with a connection that arrives while it serves as many as it may.
public enum BSONServerFullPolicy: String, Sendable, Hashable, CaseIterable {
    /// Accept it and close it at once: the peer sees the connection end before any reply
    /// (a clean close, or a reset if it had sent data), and the listen backlog keeps
    /// draining, so a crowd of idle connections cannot leave new peers waiting unanswered.
    case refuse
    /// Leave it in the listen backlog until a connection ends. When the backlog is full the
    /// system drops further connection attempts, which then time out in the peer.
    case wait
}
