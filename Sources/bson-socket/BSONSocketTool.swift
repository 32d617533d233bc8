import ArgumentParser
import Glibc

/// The `bson-socket` command: exchange BSON documents over sockets, and convert them.
@main
struct BSONSocketTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bson-socket",
        abstract: "Exchange BSON documents over TCP and Unix sockets, and convert BSON to and from Extended JSON.",
        discussion: """
            A message on the wire is one BSON document and nothing else: its own 4-byte little-endian \
            length, then the rest. Peers using Python's py-bson (sock.sendobj/recvobj) or pymongo's \
            bson module with the same framing talk to these commands directly.
            """,
        subcommands: [Demo.self, Serve.self, Send.self, Convert.self]
    )

    /// Runs the command with SIGPIPE ignored, so that no closed pipe ends the process: a
    /// `serve` whose log reader went away keeps serving, and output into a closed pipe
    /// ends the command quietly with status 141 (see `OutputBuffer.flush`).
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        main(nil)
    }
}
