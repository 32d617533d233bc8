// The Swift side of the ping-pong latency test: a `BSONSocket` client that sends one
// document and waits for its echo, and a `BSONThreadedServer` that echoes.

import BSONSocket

import Foundation

/// Sends each document of `documents` in turn (cycling), waits for the echo, and returns
/// the round-trip time of each of the `count` timed exchanges, in nanoseconds. Every echo
/// is compared with what was sent, outside the timed region.
func pingPong(address: Address, documents: [BSONDocument], count: Int, warmup: Int) throws -> [UInt64] {
    let socket = try address.connect()
    defer { socket.close() }
    try socket.setReceiveTimeout(.seconds(30))
    var samples = [UInt64](repeating: 0, count: count)
    for index in 0..<(warmup + count) {
        let document = documents[index % documents.count]
        let start = monotonicNanoseconds()
        try socket.sendObj(document)
        guard let reply = try socket.recvObj() else {
            throw UsageError(description: "the echo server closed the connection after \(index) exchanges")
        }
        let end = monotonicNanoseconds()
        if index >= warmup { samples[index - warmup] = end - start }
        guard reply == document else { throw UsageError(description: "exchange \(index): the echo differs") }
    }
    return samples
}

/// Runs a threaded echo server on 127.0.0.1 (a port the system picks) until standard input
/// ends; prints `port N` first.
func runEchoServer() throws {
    let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
    let server = BSONThreadedServer(listener: listener, configuration: .init(maxConnections: 8)) { document in document }
    server.start()
    emitLine("port \(listener.localPort ?? 0)")
    // Bounded: the driver closes our standard input at the end of the run.
    while readLine() != nil {}
    server.stop()
}
