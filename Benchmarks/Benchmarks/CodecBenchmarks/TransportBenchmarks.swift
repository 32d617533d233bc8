// Transport benchmarks in the ordo-one suite: the blocking socket API over real sockets in
// this process, for the malloc counts and the p90 thresholds of `make bench-check`. The
// cross-language transport comparison (py-bson, pymongo, C, NIO) is bench.py's.
//
//   stream: one iteration receives 1,000 documents with `recvObj()` from a Unix socketpair
//           whose other end a helper thread fills with the pre-encoded frames
//   ping-pong: one iteration is 100 `sendObj` + `recvObj` exchanges with a
//           `BSONThreadedServer` echo on 127.0.0.1 TCP (decode + encode on both ends)

import BSONCodec
import BSONSocket
import Benchmark
import CodecBenchSupport

import Foundation

/// The driver-benchmark documents of the single/multi-document tasks, parsed by our Extended
/// JSON reader: small_doc (~250 B as BSON) and tweet (~1.5 KB).
func transportDocuments() -> [(name: String, document: BSONDocument)] {
    ["small_doc", "tweet"].map { name in
        let path = DriverBenchData.directory + "/single_and_multi_document/" + name + ".json"
        guard let text = FileManager.default.contents(atPath: path),
            let document = try? BSONDocument(extendedJSON: [UInt8](text))
        else { fatalError("cannot read \(path)") }
        return (name, document)
    }
}

let documentsPerStream = 1_000
let exchangesPerIteration = 100

func transportBenchmarks() {
    for (name, document) in transportDocuments() {
        guard let frame = try? document.encoded() else { fatalError("cannot encode \(name)") }
        let stream = [UInt8]([[UInt8]](repeating: frame, count: documentsPerStream).joined())
        let label = "\(name) (\(frame.count) B)"

        Benchmark(named("transport stream recvObj Unix socketpair \(label) x\(documentsPerStream)")) { (benchmark: Benchmark) throws in
            let (sender, receiver) = try BSONSocket.pair()
            defer {
                sender.close()
                receiver.close()
            }
            try receiver.setReceiveTimeout(.seconds(30))
            let writer = Thread { try? sender.sendBytes(stream) }
            writer.start()
            benchmark.startMeasurement()
            for _ in 0..<documentsPerStream {
                guard let received = try receiver.recvObj() else { throw BSONError(.truncated, "stream ended early") }
                blackHole(received)
            }
            benchmark.stopMeasurement()
        }

        Benchmark(named("transport ping-pong TCP BSONThreadedServer \(label) x\(exchangesPerIteration)")) { (benchmark: Benchmark) throws in
            let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
            let server = BSONThreadedServer(listener: listener, configuration: .init(maxConnections: 2)) { $0 }
            server.start()
            defer { server.stop() }
            let client = try BSONSocket.connect(host: "127.0.0.1", port: listener.localPort ?? 0, timeout: .seconds(10))
            defer { client.close() }
            try client.setReceiveTimeout(.seconds(30))
            benchmark.startMeasurement()
            for _ in 0..<exchangesPerIteration {
                try client.sendObj(document)
                guard let reply = try client.recvObj() else { throw BSONError(.truncated, "the echo server closed") }
                blackHole(reply)
            }
            benchmark.stopMeasurement()
        }
    }
}
