/// What both servers — the blocking ``BSONThreadedServer`` and the SwiftNIO `BSONServer` —
/// share: the defaults of their limits, what happens when they are full, and the events they
/// report. Switching engines changes none of these.

/// The defaults both servers' configurations start from, in one place (see SECURITY.md).
public enum BSONServerDefaults {
    /// How many connections are served at once.
    public static let maxConnections = 1024
    /// How long one frame may take to arrive once its first byte is here.
    public static let frameTimeout: Duration? = .seconds(30)
    /// How long a send may wait for the peer to take data without any progress.
    public static let sendTimeout: Duration? = .seconds(30)
    /// How long a connection may wait for its peer in either direction; none.
    public static let idleTimeout: Duration? = nil
    /// TCP keepalive on every connection.
    public static let keepalive: BSONKeepalive? = .default
    /// How long open connections may go on after a shutdown request before they are closed.
    public static let gracePeriod: Duration = .seconds(5)
    /// When the grace period has ended, how long the connections still open (which stop
    /// receiving then) have to deliver what they sent before they are closed outright.
    public static let closingAllowance: Duration = .seconds(1)
    /// The most a duration option may be (a year): beyond that, the clocks of the system
    /// calls and of SwiftNIO would overflow, and no real deployment means it.
    public static let longestDuration: Duration = .seconds(365 * 24 * 3600)
    /// When a connection is closed with unread input, how long it keeps reading (and
    /// dropping) the peer's bytes with none arriving, so that what it sent is not reset away.
    public static let lingerQuiet: Duration = .seconds(2)
    /// …and how long at most.
    public static let lingerLimit: Duration = .seconds(30)
    /// The largest `maxConnections` accepted.
    public static let mostConnections = 1_000_000

    /// Checks the rules every server timeout follows: positive, or `nil` for none, and at
    /// most ``longestDuration``. Traps with `name` in the message otherwise (a programming
    /// error; the command-line tool checks its options before it gets here).
    package static func checkTimeout(_ timeout: Duration?, _ name: StaticString) {
        guard let timeout else { return }
        precondition(timeout > .zero, "\(name) must be positive or nil")
        precondition(timeout <= longestDuration, "\(name) must be at most a year")
    }

    /// Checks `maxConnections`: 1 through ``mostConnections``.
    package static func checkMaxConnections(_ value: Int) {
        precondition((1...mostConnections).contains(value), "maxConnections must be between 1 and \(mostConnections)")
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

/// Something that happened on a server, worded the same for both engines.
public enum BSONServerEvent: Sendable, CustomStringConvertible {
    /// A connection was accepted; its number counts from 1.
    case accepted(connection: Int, peer: String)
    /// A connection ended cleanly after `documents` documents, every reply delivered.
    case closed(connection: Int, documents: Int)
    /// A connection ended because of an error (a hostile frame, a timeout, a reset, or the
    /// handler's own error).
    case failed(connection: Int, error: BSONError)
    /// A connection was closed at once because `maxConnections` were being served
    /// (``BSONServerFullPolicy/refuse``).
    case refused(peer: String, open: Int)
    /// Accepting failed. The server keeps accepting unless it was stopped; while the failure
    /// lasts (descriptors or memory used up) it waits a second between attempts and reports
    /// only the first failure of the episode.
    case acceptFailed(BSONError)
    /// Accepting works again after `failures` failed attempts.
    case acceptRecovered(failures: Int)

    /// One line for a log.
    public var description: String {
        switch self {
        case .accepted(let connection, let peer): "connection \(connection) from \(peer) accepted"
        case .closed(let connection, let documents):
            "connection \(connection) closed after \(documents) \(documents == 1 ? "document" : "documents")"
        case .failed(let connection, let error): "connection \(connection) ended: \(error)"
        case .refused(let peer, let open):
            "connection from \(peer) refused: \(open) connections are being served (maxConnections)"
        case .acceptFailed(let error): "accept failed: \(error); retrying every second while it lasts"
        case .acceptRecovered(let failures):
            "accepting again after \(failures) failed \(failures == 1 ? "attempt" : "attempts")"
        }
    }
}

/// TCP keepalive: after ``idle`` without traffic, the system probes the peer every
/// ``interval``; after ``probes`` unanswered probes the connection fails (a receive or send
/// on it reports ``BSONError/Code/timedOut``). A peer that vanished — powered off, cable
/// pulled, its packets dropped — is noticed within about `idle + probes × interval`, even
/// when no timeout of the server's own is set. Unix domain sockets have no keepalive; the
/// setting is ignored there.
public struct BSONKeepalive: Sendable, Hashable {
    /// Time without traffic before the first probe (whole seconds, 1 through 32,767).
    public var idle: Duration
    /// Time between probes (whole seconds, 1 through 32,767).
    public var interval: Duration
    /// Unanswered probes before the connection fails (1 through 127).
    public var probes: Int

    /// A keepalive setting; `interval` defaults to a quarter of `idle` (at least a second),
    /// so that a dead peer is noticed within about twice `idle`.
    public init(idle: Duration, interval: Duration? = nil, probes: Int = 4) {
        let idleSeconds = Self.wholeSeconds(idle)
        precondition((1...32767).contains(idleSeconds), "keepalive idle time must be 1 to 32767 seconds")
        let interval = interval ?? .seconds(Swift.max(1, (idleSeconds + 3) / 4))
        precondition((1...32767).contains(Self.wholeSeconds(interval)), "keepalive interval must be 1 to 32767 seconds")
        precondition((1...127).contains(probes), "keepalive probes must be 1 to 127")
        self.idle = idle
        self.interval = interval
        self.probes = probes
    }

    /// The default: first probe after 60 seconds, then every 15 seconds, 4 probes (a dead
    /// peer is noticed within about two minutes).
    public static let `default` = BSONKeepalive(idle: .seconds(60))

    /// Seconds rounded up (the kernel counts whole seconds).
    static func wholeSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(clamping: seconds) + (attoseconds > 0 ? 1 : 0)
    }

    /// The `setsockopt` calls (level, name, value) that apply `keepalive`, or turn
    /// keepalive off for `nil`; both engines set exactly these.
    package static func socketOptions(_ keepalive: BSONKeepalive?) -> [(level: Int32, name: Int32, value: Int32)] {
        guard let keepalive else { return [(Syscalls.levelSocket, Syscalls.optionKeepalive, 0)] }
        return [
            (Syscalls.levelSocket, Syscalls.optionKeepalive, 1),
            (Syscalls.levelTCP, Syscalls.optionKeepaliveIdle, Int32(wholeSeconds(keepalive.idle))),
            (Syscalls.levelTCP, Syscalls.optionKeepaliveInterval, Int32(wholeSeconds(keepalive.interval))),
            (Syscalls.levelTCP, Syscalls.optionKeepaliveCount, Int32(keepalive.probes)),
        ]
    }
}
