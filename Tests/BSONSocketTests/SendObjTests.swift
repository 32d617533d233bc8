import BSONSocket
import Foundation
import Glibc
import SystemPackage
import Testing

/// sendObj: literal order, dictionaries, nothing written on an encoding error, a vanished
/// peer is an error (never SIGPIPE), and concurrent senders never interleave.
@Suite("sendObj", .timeLimit(.minutes(3)))
struct SendObjTests {
    @Test("a dictionary literal is a BSONDocument and keeps its written order")
    func literalKeepsOrder() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendObj(["type": "greeting", "message": "Hello server!", "a": 1])
        let received = try #require(try pair.server.recvObj())
        #expect(received.keys == ["type", "message", "a"])
    }

    @Test("a [String: Any] dictionary converts, keys in byte order")
    func anyDictionary() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let dictionary: [String: Any] = ["z": 1, "a": "text", "m": [1.5, true], "nested": ["k": Int64(1) << 40]]
        try pair.client.sendObj(dictionary)
        let received = try #require(try pair.server.recvObj())
        #expect(received.keys == ["a", "m", "nested", "z"])
        #expect(received["z"] == .int32(1))
        #expect(received["nested"] == ["k": .int64(1 << 40)])
    }

    private struct Opaque {}

    @Test("an unsupported value throws unknownSerializer and writes nothing", arguments: Transport.allCases)
    func unsupportedValueWritesNothing(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let dictionary: [String: Any] = ["fine": 1, "deep": ["list": [1, Opaque()]]]
        let error = #expect(throws: BSONError.self) { try pair.client.sendObj(dictionary) }
        #expect(error?.code == .unknownSerializer)
        #expect(error?.keyPath == ["deep", "list", "1"])
        #expect(bytesArrive(on: pair.server.number, within: 200) == false, "the peer saw bytes")
        try pair.client.sendObj(["next": 1])
        #expect(try pair.server.recvObj() == ["next": 1])
    }

    @Test("an unsupported value on a bare FileDescriptor writes nothing")
    func unsupportedValueDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let error = #expect(throws: BSONError.self) { try left.sendObj(["bad": Opaque()]) }
        #expect(error?.code == .unknownSerializer)
        #expect(bytesArrive(on: right.rawValue, within: 200) == false)
    }

    @Test("an encoding error (a key with NUL) writes nothing")
    func encodingErrorWritesNothing() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let error = #expect(throws: BSONError.self) { try pair.client.sendObj(["bad\u{0}key": 1]) }
        #expect(error?.code == .invalidKey)
        #expect(bytesArrive(on: pair.server.number, within: 200) == false)
    }

    @Test("sending to a closed peer throws brokenPipe or connectionReset; the process survives",
          arguments: Transport.allCases)
    func closedPeer(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        pair.server.close()
        var failure: BSONError?
        for _ in 0..<1000 where failure == nil {
            do {
                try pair.client.sendObj(documentOfLength(10_000))
            } catch {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect([.brokenPipe, .connectionReset].contains(error.code), "\(error)")
        #expect(error.errno != nil)
        #expect(error.message.contains("send failed"))
    }

    @Test("with SIGPIPE at its default action, a vanished peer is an error on sockets and pipes")
    func noSIGPIPEDeath() async {
        await #expect(processExitsWith: .success) {
            // Default action (terminate) and not blocked: a SIGPIPE would end this process.
            signal(SIGPIPE, SIG_DFL)
            var sigpipe = sigset_t()
            sigemptyset(&sigpipe)
            sigaddset(&sigpipe, SIGPIPE)
            pthread_sigmask(SIG_UNBLOCK, &sigpipe, nil)
            // A socket whose peer is gone: MSG_NOSIGNAL.
            let (a, b) = try BSONSocket.pair()
            b.close()
            do {
                try a.sendObj(["x": 1])
                try a.sendObj(["x": 2])
                exit(2)
            } catch {
                let code = (error as? BSONError)?.code
                guard code == .brokenPipe || code == .connectionReset else { exit(3) }
            }
            // A pipe whose reader is gone: write with SIGPIPE held back.
            let (reader, writer) = try FileDescriptor.pipe()
            try reader.close()
            do {
                try writer.sendObj(["x": 1])
                exit(4)
            } catch {
                guard (error as? BSONError)?.code == .brokenPipe else { exit(5) }
            }
            // The SIGPIPE raised by the pipe write was consumed, not left pending.
            var pending = sigset_t()
            sigpending(&pending)
            guard sigismember(&pending, SIGPIPE) == 0 else { exit(6) }
            exit(0)
        }
    }

    @Test("control: in the same setup, a plain write to a closed pipe does die of SIGPIPE")
    func sigpipeControl() async {
        await #expect(processExitsWith: .signal(SIGPIPE)) {
            signal(SIGPIPE, SIG_DFL)
            var sigpipe = sigset_t()
            sigemptyset(&sigpipe)
            sigaddset(&sigpipe, SIGPIPE)
            pthread_sigmask(SIG_UNBLOCK, &sigpipe, nil)
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { exit(2) }
            close(ends[0])
            var byte: UInt8 = 1
            _ = write(ends[1], &byte, 1)
            exit(0)
        }
    }

    @Test("concurrent senders never interleave frames", arguments: [Transport.socketPair, .tcp])
    func concurrentSenders(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let senders = 4
        let perSender = 50
        let payloadSize = 1 << 20
        let peers = (0..<senders).map { sender in
            Peer { () throws -> Void in
                for sequence in 0..<perSender {
                    try pair.client.sendObj(Self.concurrentDocument(sender: sender, sequence: sequence, size: payloadSize))
                }
            }
        }
        var seen = Set<Int>()
        for _ in 0..<(senders * perSender) {
            let document = try #require(try pair.server.recvObj())
            guard case .int32(let sender)? = document["sender"], case .int32(let sequence)? = document["sequence"],
                case .binary(let payload)? = document["payload"]
            else {
                Issue.record("unexpected document \(document.keys)")
                return
            }
            let expected = Self.payload(sender: Int(sender), sequence: Int(sequence), size: payloadSize)
            let intact = payload.data.count == expected.count
                && payload.data.withUnsafeBytes { a in expected.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
            #expect(intact, "payload of sender \(sender) sequence \(sequence) damaged")
            #expect(seen.insert(Int(sender) * perSender + Int(sequence)).inserted)
        }
        #expect(seen.count == senders * perSender)
        for peer in peers { try peer.value(within: .seconds(120)) }
    }

    @Test("concurrent senders on one bare FileDescriptor never interleave")
    func concurrentSendersDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        let writer = left.rawValue
        let peers = (0..<4).map { sender in
            Peer { () throws -> Void in
                let descriptor = FileDescriptor(rawValue: writer)
                for sequence in 0..<20 {
                    try descriptor.sendObj(Self.concurrentDocument(sender: sender, sequence: sequence, size: 300_000))
                }
            }
        }
        var count = 0
        for _ in 0..<80 {
            let document = try #require(try right.recvObj())
            guard case .int32(let sender)? = document["sender"], case .int32(let sequence)? = document["sequence"],
                case .binary(let payload)? = document["payload"]
            else {
                Issue.record("unexpected document")
                return
            }
            #expect(payload.data == Self.payload(sender: Int(sender), sequence: Int(sequence), size: 300_000))
            count += 1
        }
        #expect(count == 80)
        for peer in peers { try peer.value(within: .seconds(120)) }
    }

    static func payload(sender: Int, sequence: Int, size: Int) -> [UInt8] {
        let fill = UInt8(truncatingIfNeeded: sender &* 61 &+ sequence &* 7 &+ 1)
        var bytes = [UInt8](repeating: fill, count: size)
        bytes[0] = UInt8(sender)
        bytes[1] = UInt8(sequence)
        bytes[size - 1] = fill &+ 1
        return bytes
    }

    static func concurrentDocument(sender: Int, sequence: Int, size: Int) -> BSONDocument {
        [
            "sender": .int32(Int32(sender)),
            "sequence": .int32(Int32(sequence)),
            "payload": .binary(BSONBinary(data: payload(sender: sender, sequence: sequence, size: size))),
        ]
    }

    @Test("sendFrame sends a received frame on unchanged, and refuses what is not one frame")
    func sendFrame() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let frame = try multiTypeDocument().encoded()
        try pair.client.sendFrame(frame)
        let received = try #require(try pair.server.recvFrame())
        try pair.server.sendFrame(received)
        #expect(try pair.client.recvFrame() == frame)
        let error = #expect(throws: BSONError.self) { try pair.client.sendFrame(frame + [0]) }
        #expect(error?.code == .malformed)
        #expect(bytesArrive(on: pair.server.number, within: 100) == false)
    }
}
