import ArgumentParser
import BSONSocket
import Foundation

/// `bson-socket demo`: the seed's whole example in one process.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the example: an echo server and a client on 127.0.0.1 exchange three documents.",
        discussion: """
            A threaded server listens on 127.0.0.1 on a port the system picks. It answers every \
            document with {echo: <the document>, server_time: <its clock>, status: "received"}. A client \
            connects, sends three messages (a greeting, some numbers, a nested document with an \
            ObjectID and binary data) and prints each reply as relaxed Extended JSON. Then both sides \
            close and the command exits.
            """
    )

    @Option(help: "The address the demo server listens on.")
    var host: String = "127.0.0.1"

    func run() throws {
        let listener = try BSONListener.listen(host: host, port: 0)
        let server = BSONThreadedServer(
            listener: listener,
            configuration: .init(onEvent: { event in
                if case .failed = event { printError("server: \(event)") }
            })
        ) { message in
            print("server received: \(message)")
            return SeedExample.reply(to: message)
        }
        server.start()
        defer { server.stop() }
        print("server listening on \(listener.localAddress)")

        let client = try BSONSocket.connect(host: host, port: listener.localPort ?? 0, timeout: .seconds(5))
        defer { client.close() }
        try client.setReceiveTimeout(.seconds(10))
        for message in SeedExample.messages() {
            print("client sends:    \(message)")
            try client.sendObj(message)
            guard let reply = try client.recvObj() else {
                throw ToolFailure("the server closed the connection before replying")
            }
            print("client received: \(reply)")
            guard reply["status"] == "received", reply["echo"] == .document(message) else {
                throw ToolFailure("the reply does not echo the message")
            }
        }
        print("demo finished: 3 messages sent, 3 replies received")
    }
}
