import BSONSocket
import Foundation
import Synchronization

/// Where a server listens: TCP on 127.0.0.1 or a Unix socket in a temporary directory.
enum Transport: String, CaseIterable, Sendable, CustomStringConvertible {
    case tcp
    case unix

    var description: String { rawValue }
}

/// What happened on one connection to the ``SwiftEchoServer``.
struct ConnectionLog: Sendable {
    /// Every document received (and echoed), in order.
    var documents: [BSONDocument] = []
    /// Frames that arrived whole but did not decode; each was answered with
    /// `{"error": CODE}` and the connection went on.
    var rejected: [BSONError] = []
    /// `nil` while the connection is open; then the way it ended.
    var outcome: Outcome?

    enum Outcome: Sendable {
        /// The peer closed cleanly between documents (`recvObj` returned `nil`).
        case closedCleanly
        /// A receive or send threw.
        case failed(BSONError)
    }

    var error: BSONError? {
        if case .failed(let error)? = outcome { return error }
        return nil
    }
}

/// An in-process echo server built on the BSONSocket listener API, serving connections one
/// after another on a thread of its own: `recvObj`, record, `sendObj` the same document.
final class SwiftEchoServer: Sendable {
    let listener: BSONListener
    private let logs = PackageMutex<[ConnectionLog]>([])
    private let finished = Atomic<Bool>(false)
    /// The connection being served, so that stop() can wake it.
    private let current = PackageMutex<BSONSocket?>(nil)

    /// Starts listening (127.0.0.1 with a free port, or `unixPath`) and serving.
    init(_ transport: Transport, directory: TemporaryDirectory) throws {
        switch transport {
        case .tcp: listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
        case .unix: listener = try BSONListener.listen(unixPath: directory.file("swift.sock"))
        }
        let thread = Thread { [self] in
            serve()
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// The peer arguments that reach this server.
    var target: [String] {
        switch listener.localAddress {
        case .unix(let path): ["--unix", path]
        case let address: ["--host", address.host ?? "127.0.0.1", "--port", String(address.port ?? 0)]
        }
    }

    private func serve() {
        // Bounded: at most 100 connections, each accept waiting at most two minutes.
        for _ in 0..<100 {
            let connection: BSONSocket
            do {
                connection = try listener.accept(timeout: .seconds(120))
            } catch {
                if error.code == .connectionAborted { continue }
                return  // closed by stop(), or timed out
            }
            handle(connection)
        }
    }

    /// Errors about a frame's contents, after which the stream is still in step.
    private static let decodingCodes: Set<BSONError.Code> = [
        .malformed, .invalidUTF8, .unknownType, .invalidBoolean, .nestingTooDeep,
    ]

    private func handle(_ connection: BSONSocket) {
        current.withLock { $0 = connection }
        defer {
            current.withLock { $0 = nil }
            connection.close()
        }
        let index = logs.withLock { logs in
            logs.append(ConnectionLog())
            return logs.count - 1
        }
        do throws(BSONError) {
            try connection.setReceiveTimeout(.seconds(60))
            try connection.setSendTimeout(.seconds(60))
            // Bounded: at most 100,000 documents a connection.
            for _ in 0..<100_000 {
                let document: BSONDocument
                do throws(BSONError) {
                    guard let received = try connection.recvObj() else {
                        logs.withLock { $0[index].outcome = .closedCleanly }
                        return
                    }
                    document = received
                } catch where Self.decodingCodes.contains(error.code) {
                    // The frame was consumed whole: say so and read the next one.
                    logs.withLock { $0[index].rejected.append(error) }
                    try connection.sendObj(["error": .string(error.code.description)])
                    continue
                }
                logs.withLock { $0[index].documents.append(document) }
                try connection.sendObj(document)
            }
        } catch {
            logs.withLock { $0[index].outcome = .failed(error) }
        }
    }

    /// The connections so far, once `count` of them have ended (waits at most `timeout`
    /// seconds; returns what there is then).
    func connections(ended count: Int, timeout: Double = 30) -> [ConnectionLog] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let snapshot = logs.withLock { $0 }
            if snapshot.filter({ $0.outcome != nil }).count >= count || Date() >= deadline { return snapshot }
            usleep(10_000)
        }
    }

    /// Closes the listener (waking a blocked accept) and waits, bounded, for the thread.
    func stop() {
        listener.close()
        current.withLock { $0?.close() }
        let deadline = Date(timeIntervalSinceNow: 10)
        while !finished.load(ordering: .acquiring) && Date() < deadline { usleep(10_000) }
    }
}
