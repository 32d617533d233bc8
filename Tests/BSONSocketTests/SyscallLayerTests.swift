// The DEBUG syscall probe (SyscallHooks) exists in debug builds only.
#if DEBUG
@testable import BSONSocket
import Glibc
import SystemPackage
import Testing

/// The syscall layer seen through its DEBUG probe: what each recv asked for, and planned
/// faults (EINTR, EAGAIN, short reads, ECONNRESET, EPIPE) on chosen calls. Also the errno to
/// error-code mapping and the programming-error traps.
@Suite("Syscall layer", .timeLimit(.minutes(1)))
struct SyscallLayerTests {
    @Test("no recv in a 1 MiB recvBytes asks for more than 32 KiB", arguments: [false, true])
    func recvBytesChunks(bareDescriptor: Bool) throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 16)) }
        let sender = Peer { () throws -> Void in try pair.client.sendBytes(payload) }
        let probe = SyscallProbe()
        var buffer: [UInt8] = []
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            if bareDescriptor {
                let descriptor = FileDescriptor(rawValue: pair.server.number)
                #expect(try descriptor.recvBytes(payload.count, into: &buffer))
            } else {
                #expect(try pair.server.recvBytes(payload.count, into: &buffer))
            }
        }
        try sender.value()
        #expect(buffer == payload)
        let calls = probe.records(of: .recv)
        #expect(calls.count >= 32)
        #expect(calls.allSatisfy { $0.requested <= 32 * 1024 }, "\(calls.filter { $0.requested > 32 * 1024 })")
        #expect(calls.map(\.result).reduce(0, +) == payload.count)
    }

    @Test("an injected EINTR is retried")
    func injectedEINTR() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let probe = SyscallProbe()
        probe.inject(.fail(errno: EINTR), on: .recv, number: 1)
        probe.inject(.fail(errno: EINTR), on: .recv, number: 2)
        try pair.client.sendObj(["survived": "EINTR"])
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            #expect(try pair.server.recvObj() == ["survived": "EINTR"])
        }
        let calls = probe.records(of: .recv)
        #expect(calls.prefix(2).allSatisfy { $0.injected && $0.errno == EINTR })
        #expect(calls.count >= 3)
    }

    @Test("an injected EAGAIN inside a frame is a resumable timeout on a BSONSocket")
    func injectedEAGAINSocket() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let frame = try documentOfLength(200_000, index: 1).encoded()
        let sender = Peer { () throws -> Void in try pair.client.sendBytes(frame) }
        let probe = SyscallProbe()
        probe.inject(.fail(errno: EAGAIN), on: .recv, number: 3)
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            let error = #expect(throws: BSONError.self) { try pair.server.recvFrame() }
            #expect(error?.code == .timedOut)
            #expect(try pair.server.recvFrame() == frame)
        }
        try sender.value()
    }

    @Test("an injected EAGAIN inside a frame makes a bare FileDescriptor unusable")
    func injectedEAGAINDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        try left.sendObj(["n": 1])
        let probe = SyscallProbe()
        probe.inject(.fail(errno: EAGAIN), on: .recv, number: 2)  // the body, after the header
        try SyscallHooks.withProbe(probe, on: right.rawValue) { () throws in
            let error = #expect(throws: BSONError.self) { try right.recvObj() }
            #expect(error?.code == .unusable)
            #expect(error?.offset == 4)
        }
    }

    @Test("short reads of one byte still assemble every frame", arguments: [false, true])
    func shortReads(bareDescriptor: Bool) throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let documents: [BSONDocument] = [try multiTypeDocument(), ["x": 1], documentOfLength(70_000, index: 2)]
        let sender = Peer { () throws -> Void in
            for document in documents { try pair.client.sendObj(document) }
        }
        let probe = SyscallProbe()
        for number in 1...400 { probe.inject(.limit(1), on: .recv, number: number) }
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            for document in documents {
                if bareDescriptor {
                    #expect(try FileDescriptor(rawValue: pair.server.number).recvObj() == document)
                } else {
                    #expect(try pair.server.recvObj() == document)
                }
            }
        }
        try sender.value()
        #expect(probe.records(of: .recv).prefix(400).allSatisfy { $0.result <= 1 })
    }

    @Test("an injected ECONNRESET is connectionReset; an injected EPIPE on send is brokenPipe")
    func injectedResetAndPipe() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let receiveProbe = SyscallProbe()
        receiveProbe.inject(.fail(errno: ECONNRESET), on: .recv, number: 1)
        try SyscallHooks.withProbe(receiveProbe, on: pair.server.number) { () throws in
            let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
            #expect(error?.code == .connectionReset)
            #expect(error?.errno == ECONNRESET)
            #expect(error?.message.contains("Connection reset by peer") == true)
            #expect(error?.message.contains("recv failed while") == true)
        }
        let sendProbe = SyscallProbe()
        sendProbe.inject(.fail(errno: EPIPE), on: .send, number: 1)
        try SyscallHooks.withProbe(sendProbe, on: pair.client.number) { () throws in
            let error = #expect(throws: BSONError.self) { try pair.client.sendObj(["x": 1]) }
            #expect(error?.code == .brokenPipe)
            #expect(error?.message.contains("Broken pipe") == true)
        }
        #expect(bytesArrive(on: pair.server.number, within: 50) == false)
    }

    @Test("a short write is completed by the send loop")
    func shortWrites() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let probe = SyscallProbe()
        for number in 1...10 { probe.inject(.limit(7), on: .send, number: number) }
        let document = try multiTypeDocument()
        try SyscallHooks.withProbe(probe, on: pair.client.number) { () throws in
            try pair.client.sendObj(document)
        }
        #expect(try pair.server.recvObj() == document)
        #expect(probe.records(of: .send).prefix(10).allSatisfy { $0.result == 7 })
    }

    @Test(
        "errno values map to error codes",
        arguments: [
            (ECONNRESET, BSONError.Code.connectionReset), (ECONNABORTED, .connectionAborted),
            (ECONNREFUSED, .connectionRefused), (EPIPE, .brokenPipe), (EAGAIN, .timedOut),
            (EWOULDBLOCK, .timedOut), (ETIMEDOUT, .timedOut), (EADDRINUSE, .addressInUse),
            (ENOENT, .systemCallFailed), (EINVAL, .systemCallFailed), (EMFILE, .systemCallFailed),
        ])
    func errnoMapping(code: Int32, expected: BSONError.Code) {
        let error = SystemErrno(code).bsonError("recv", while: "testing the mapping")
        #expect(error.code == expected)
        #expect(error.errno == code)
        #expect(error.message.hasPrefix("recv failed while testing the mapping: "))
        #expect(SystemErrno(ENOENT).bsonCode(missingPathIsRefused: true) == .connectionRefused)
    }

    @Test("EBADF is a programming error, not a thrown error")
    func badDescriptorTraps() async {
        await #expect(processExitsWith: .failure) {
            var buffer: [UInt8] = []
            _ = try? FileDescriptor(rawValue: 987_654).recvBytes(1, into: &buffer)
        }
    }
}
#endif
