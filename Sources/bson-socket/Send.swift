import ArgumentParser
import BSONSocket
import BSONSocketNIO
import SystemPackage

/// `bson-socket send`: send Extended JSON documents to a server and print the replies.
struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send documents to a BSON server and print each reply.",
        discussion: """
            Reads one Extended JSON document a line (canonical or relaxed; blank lines are skipped) \
            from FILE or standard input, sends each as BSON, waits for the reply and prints it as one \
            line of canonical Extended JSON. Stops with status 1 at the first invalid input line, \
            error or missing reply; the replies before it have been printed.

            Example:
              echo '{"type": "greeting", "message": "Hello server!"}' | bson-socket send --port 8080
            """
    )

    @Option(help: "The server's host name or address.")
    var host: String = "127.0.0.1"

    @Option(help: "The server's TCP port.")
    var port: Int?

    @Option(help: "Connect to this Unix domain socket path instead of TCP.")
    var unix: String?

    @Option(help: "Seconds to wait for the connection and for each reply.")
    var timeout: Double = 30

    @Option(help: "The implementation: nio (SwiftNIO) or threads (a blocking socket).")
    var engine: Engine = .defaultEngine

    @Argument(help: "The input file; - or nothing reads standard input.")
    var file: String = "-"

    func validate() throws {
        if unix == nil {
            guard let port else { throw ValidationError("give --port (1-65535) or --unix PATH") }
            try OptionChecks.count(port, flag: "--port", in: 1...65535)
        }
        _ = try limit()
    }

    /// --timeout as a duration, checked.
    private func limit() throws -> Duration {
        try OptionChecks.duration(timeout, flag: "--timeout", zeroMeansNone: false)!
    }

    func run() throws {
        switch engine {
        case .threads: try runThreads()
        case .nio: try runNIO()
        }
    }

    private func runThreads() throws {
        let limit = try limit()
        let socket = try unix.map { try BSONSocket.connect(unixPath: $0) }
            ?? BSONSocket.connect(host: host, port: port ?? 0, timeout: limit)
        defer { socket.close() }
        try socket.setReceiveTimeout(limit)
        try socket.setSendTimeout(limit)

        let input = try openInput()
        defer { if file != "-" { try? input.close() } }

        var output = OutputBuffer(descriptor: .standardOutput)
        var lines = LineReader(descriptor: input)
        var index = 0
        while let (lineNumber, line) = try lines.next() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let document: BSONDocument
            do {
                document = try BSONDocument(extendedJSON: line)
            } catch {
                try output.flush()
                printError("bson-socket send: document \(index) on line \(lineNumber): \(error.message)")
                throw ExitCode(1)
            }
            let reply: BSONDocument?
            do throws(BSONError) {
                try socket.sendObj(document)
                reply = try socket.recvObj()
            } catch {
                try? output.flush()
                printError("bson-socket send: document \(index): \(error)")
                throw ExitCode(1)
            }
            guard let reply else {
                try? output.flush()
                printError("bson-socket send: the server closed the connection before replying to document \(index)")
                throw ExitCode(1)
            }
            output.append(reply.extendedJSON(.canonical))
            output.append("\n")
            try output.flush()
            index += 1
        }
        try output.flush()
    }
}

extension Send {
    private func openInput() throws -> FileDescriptor {
        guard file != "-" else { return .standardInput }
        do {
            return try FileDescriptor.open(FilePath(file), .readOnly)
        } catch {
            throw ToolFailure("cannot open \(file): \(error)")
        }
    }

    /// The same exchange over a SwiftNIO connection (`BSONClient`), with the same output and
    /// messages: each document is sent, and its reply awaited for at most --timeout.
    private func runNIO() throws {
        let limit = try limit()
        let input = try openInput()
        defer { if file != "-" { try? input.close() } }
        let (host, port, unix) = (host, port ?? 0, unix)
        try runBlocking {
            let exchange: @Sendable (BSONConnection) async throws -> Void = { connection in
                var output = OutputBuffer(descriptor: .standardOutput)
                var lines = LineReader(descriptor: input)
                var index = 0
                while let (lineNumber, line) = try lines.next() {
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    let document: BSONDocument
                    do throws(BSONError) {
                        document = try BSONDocument(extendedJSON: line)
                    } catch {
                        try output.flush()
                        printError("bson-socket send: document \(index) on line \(lineNumber): \(error.message)")
                        throw ExitCode(1)
                    }
                    let reply: BSONDocument?
                    do {
                        try await connection.send(document)
                        reply = try await connection.receive(timeout: limit)
                    } catch {
                        try? output.flush()
                        printError("bson-socket send: document \(index): \(error)")
                        throw ExitCode(1)
                    }
                    guard let reply else {
                        try? output.flush()
                        printError("bson-socket send: the server closed the connection before replying to document \(index)")
                        throw ExitCode(1)
                    }
                    output.append(reply.extendedJSON(.canonical))
                    output.append("\n")
                    try output.flush()
                    index += 1
                }
                try output.flush()
            }
            if let unix {
                try await BSONClient.withConnection(unixPath: unix, exchange)
            } else {
                try await BSONClient.withConnection(host: host, port: port, connectTimeout: limit, exchange)
            }
        }
    }
}
