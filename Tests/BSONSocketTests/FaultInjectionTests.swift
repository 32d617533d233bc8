// The DEBUG syscall probe (SyscallHooks) exists in debug builds only.
#if DEBUG
@testable import BSONSocket
import Glibc
import SystemPackage
import Testing

/// Every public stream operation against every fault the system can hand it, at each of the
/// first calls it makes: one table, one row per (operation, fault, call number).
///
/// A row sends two documents, A then B (or reads them), with the fault planned for the Nth
/// data call of the side under test, and checks three things:
///
/// 1. the operation either completes with exactly A's bytes, or throws a `BSONError` with
///    the code the fault calls for;
/// 2. afterwards the stream is in step (the next receive is exactly A again, when nothing
///    of it was consumed, or B; the peer of a send receives exactly B, or A then B), or the
///    side that lost its place says so with `.unusable` on its next use. Nothing is lost,
///    duplicated or silently out of step;
/// 3. the planned call was really made (a row whose fault was never reached fails).
///
/// Call 1 finds the stream between frames (nothing of A received or sent yet); calls 2…4
/// land inside A. Small documents are cut into 16-byte system calls so that they too have
/// calls inside the frame; large ones are cut into 32 KiB (receives) or 64 KiB (sends).
@Suite("Fault injection table", .timeLimit(.minutes(5)))
struct FaultInjectionTests {
    // MARK: The table

    enum Operation: String, CaseIterable, Sendable {
        case socketRecvBytes, descriptorRecvBytes
        /// A small frame, served from the read-ahead buffer.
        case socketRecvObj
        /// A 200 KB frame, whose body is read straight into its own storage.
        case socketRecvObjLarge
        case descriptorRecvObj, descriptorRecvObjLarge
        case socketRecvCodable, descriptorRecvCodable
        case socketSendObj, socketSendObjMultiMB
        case descriptorSendObj, descriptorSendObjMultiMB
        case socketSendCodable

        var sends: Bool { rawValue.contains("Send") }
        var onDescriptor: Bool { rawValue.hasPrefix("descriptor") }
        var isCodable: Bool { rawValue.hasSuffix("Codable") }
        var isRaw: Bool { rawValue.hasSuffix("RecvBytes") }
        var isLarge: Bool { rawValue.hasSuffix("Large") || rawValue.hasSuffix("MultiMB") }
    }

    enum Fault: String, CaseIterable, Sendable {
        case eintr, eagain, etimedout, econnreset, epipe, enobufs
        /// A read or write of one byte.
        case shortOne
        /// A read or write of one byte fewer than asked for.
        case shortByOne

        var probeFault: SyscallProbe.Fault {
            switch self {
            case .eintr: .fail(errno: EINTR)
            case .eagain: .fail(errno: EAGAIN)
            case .etimedout: .fail(errno: ETIMEDOUT)
            case .econnreset: .fail(errno: ECONNRESET)
            case .epipe: .fail(errno: EPIPE)
            case .enobufs: .fail(errno: ENOBUFS)
            case .shortOne: .limit(1)
            case .shortByOne: .shorten(by: 1)
            }
        }

        /// Faults the layer absorbs: the operation completes as if nothing happened.
        var isTransparent: Bool { self == .eintr || self == .shortOne || self == .shortByOne }

        /// The code of the error a failing fault surfaces as.
        var code: BSONError.Code {
            switch self {
            case .eagain, .etimedout: .timedOut
            case .econnreset: .connectionReset
            case .epipe: .brokenPipe
            case .enobufs: .systemCallFailed
            case .eintr, .shortOne, .shortByOne: preconditionFailure("\(self) does not fail")
            }
        }

        static let receiveFaults: [Fault] = [.eintr, .eagain, .etimedout, .econnreset, .enobufs, .shortOne, .shortByOne]
        static let sendFaults: [Fault] = [.eintr, .eagain, .etimedout, .econnreset, .epipe, .enobufs, .shortOne, .shortByOne]
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let operation: Operation
        let fault: Fault
        let call: Int
        var testDescription: String { "\(operation.rawValue) × \(fault.rawValue) at call \(call)" }
        /// Whether the fault comes before any byte of A moved.
        var atBoundary: Bool { call == 1 }
    }

    static let calls = 1...4

    static let rows: [Row] = Operation.allCases.flatMap { operation in
        (operation.sends ? Fault.sendFaults : Fault.receiveFaults).flatMap { fault in
            calls.map { Row(operation: operation, fault: fault, call: $0) }
        }
    }

    @Test("the table has a row for every operation × fault × call")
    func tableSize() {
        // 8 receive operations × 7 faults × 4 calls + 5 send operations × 8 faults × 4 calls.
        #expect(Self.rows.count == 8 * 7 * 4 + 5 * 8 * 4)
        print("FAULT TABLE: \(Self.rows.count) rows")
    }

    // MARK: Documents

    struct Message: Codable, Equatable, Sendable {
        var i: Int32
        var s: String
    }

    /// A's bytes for `operation`: ~120 bytes, 200 KB or 3 MiB.
    static func firstFrame(_ operation: Operation) throws -> [UInt8] {
        if operation.isCodable { return try BSONEncoder().encode(Message(i: 1, s: String(repeating: "a", count: 100))) }
        if operation.rawValue.hasSuffix("MultiMB") { return try documentOfLength(3 << 20, index: 3).encoded() }
        if operation.isLarge { return try documentOfLength(200_000, index: 2).encoded() }
        let document: BSONDocument = ["i": .int32(1), "s": .string(String(repeating: "a", count: 100))]
        return try document.encoded()
    }

    /// B's bytes: small.
    static func secondFrame(_ operation: Operation) throws -> [UInt8] {
        if operation.isCodable { return try BSONEncoder().encode(Message(i: 2, s: "next")) }
        let document: BSONDocument = ["i": .int32(2), "next": true]
        return try document.encoded()
    }

    /// Plans the row's fault, and cuts the other calls of a small-document row to 16 bytes
    /// and those of a large send to 64 KiB (a blocking send on a Unix socket would otherwise
    /// take all 3 MiB in one call). Large receives are cut by the layer itself (32 KiB).
    static func plan(_ row: Row) -> SyscallProbe {
        let probe = SyscallProbe()
        let kind: DataSyscall = row.operation.sends ? .send : .recv
        let cut: Int? = row.operation.isLarge ? (row.operation.sends ? 64 * 1024 : nil) : 16
        if let cut {
            for number in 1...2000 where number != row.call { probe.inject(.limit(cut), on: kind, number: number) }
        }
        probe.inject(row.fault.probeFault, on: kind, number: row.call)
        return probe
    }

    // MARK: Running a row

    @Test("each operation completes, or throws its typed error and stays in step or says it is unusable",
          arguments: rows)
    func row(_ row: Row) throws {
        if row.operation.sends {
            try sendRow(row)
        } else if row.operation.isRaw {
            try rawReceiveRow(row)
        } else {
            try frameReceiveRow(row)
        }
    }

    /// One frame received by the operation, re-encoded for comparison; `nil` at a clean end.
    private func receiveOne(_ operation: Operation, _ socket: BSONSocket) throws -> [UInt8]? {
        let descriptor = FileDescriptor(rawValue: socket.number)
        switch operation {
        case .socketRecvObj, .socketRecvObjLarge: return try socket.recvObj()?.encoded()
        case .descriptorRecvObj, .descriptorRecvObjLarge: return try descriptor.recvObj()?.encoded()
        case .socketRecvCodable: return try socket.recvObj(as: Message.self).map { try BSONEncoder().encode($0) }
        case .descriptorRecvCodable: return try descriptor.recvObj(as: Message.self).map { try BSONEncoder().encode($0) }
        default: preconditionFailure("not a frame receive: \(operation)")
        }
    }

    private func frameReceiveRow(_ row: Row) throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let (a, b) = (try Self.firstFrame(row.operation), try Self.secondFrame(row.operation))
        let sender = Peer { () throws -> Void in
            try pair.client.sendBytes(a + b)
            try pair.client.shutdown(.write)  // a receive after B sees a clean end
        }
        let probe = Self.plan(row)
        var results: [Result<[UInt8]?, any Error>] = []
        SyscallHooks.withProbe(probe, on: pair.server.number) {
            for _ in 0..<3 { results.append(Result { try receiveOne(row.operation, pair.server) }) }
        }
        #expect(probe.records(of: .recv).count >= row.call, "the planned call was never made: \(probe.records)")
        defer {
            pair.server.close()  // releases a sender still blocked on a large A
            _ = try? sender.value()
        }

        let first = results[0]
        let fault = row.fault
        if fault.isTransparent {
            #expect(try first.get() == a)
            #expect(try results[1].get() == b)
            #expect(try results[2].get() == nil)
            return
        }
        let error = try #require(first.failure as? BSONError, "expected a BSONError, got \(first)")
        let resumesInPlace = fault == .eagain && !row.operation.onDescriptor
        if row.atBoundary || resumesInPlace {
            // Nothing of A was consumed (or the partial frame was kept): the stream is in step.
            #expect(error.code == fault.code, "\(error)")
            #expect(try results[1].get() == a)
            #expect(try results[2].get() == b)
        } else {
            // Part of A was consumed and cannot be kept: the receive side says it is unusable.
            let expected: BSONError.Code = fault == .eagain ? .unusable : fault.code
            #expect(error.code == expected, "\(error)")
            let next = try #require(results[1].failure as? BSONError, "expected .unusable, got \(results[1])")
            #expect(next.code == .unusable, "\(next)")
        }
    }

    private func rawReceiveRow(_ row: Row) throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let payload = try Self.firstFrame(row.operation) + Self.secondFrame(row.operation)
        try pair.client.sendBytes(payload)
        try pair.client.shutdown(.write)
        let probe = Self.plan(row)
        let descriptor = FileDescriptor(rawValue: pair.server.number)
        var buffer: [UInt8] = []
        var failure: BSONError?
        try SyscallHooks.withProbe(probe, on: pair.server.number) { () throws in
            do throws(BSONError) {
                let complete =
                    row.operation.onDescriptor
                    ? try descriptor.recvBytes(payload.count, into: &buffer)
                    : try pair.server.recvBytes(payload.count, into: &buffer)
                #expect(complete)
            } catch {
                failure = error
                // What arrived before the fault was appended; the rest follows it, in order.
                let rest = payload.count - buffer.count
                let complete =
                    row.operation.onDescriptor
                    ? try descriptor.recvBytes(rest, into: &buffer) : try pair.server.recvBytes(rest, into: &buffer)
                #expect(complete)
            }
        }
        #expect(probe.records(of: .recv).count >= row.call, "the planned call was never made: \(probe.records)")
        #expect(buffer == payload, "bytes lost or duplicated: \(buffer.count) of \(payload.count)")
        if row.fault.isTransparent {
            #expect(failure == nil)
        } else {
            #expect(failure?.code == row.fault.code, "\(String(describing: failure))")
        }
    }

    private func sendRow(_ row: Row) throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let (a, b) = (try Self.firstFrame(row.operation), try Self.secondFrame(row.operation))
        // The peer reads frames until the stream ends: cleanly, or inside a frame.
        let receiver = Peer { () -> (frames: [[UInt8]], end: BSONError?) in
            var frames: [[UInt8]] = []
            do throws(BSONError) {
                while frames.count < 3, let frame = try pair.client.recvFrame() { frames.append(frame) }
                return (frames, nil)
            } catch {
                return (frames, error)
            }
        }
        let probe = Self.plan(row)
        let descriptor = FileDescriptor(rawValue: pair.server.number)
        func send(_ frame: [UInt8]) throws {
            switch row.operation {
            case .socketSendObj, .socketSendObjMultiMB: try pair.server.sendObj(try BSONDocument(bytes: frame))
            case .descriptorSendObj, .descriptorSendObjMultiMB: try descriptor.sendObj(try BSONDocument(bytes: frame))
            case .socketSendCodable: try pair.server.sendObj(try BSONDecoder().decode(Message.self, from: frame))
            default: preconditionFailure("not a send: \(row.operation)")
            }
        }
        var first: Result<Void, any Error> = .success(())
        var second: Result<Void, any Error> = .success(())
        SyscallHooks.withProbe(probe, on: pair.server.number) {
            first = Result { try send(a) }
            second = Result { try send(b) }
        }
        #expect(probe.records(of: .send).count >= row.call, "the planned call was never made: \(probe.records)")
        pair.server.close()  // the peer's read ends here
        let received = try receiver.value()

        let fault = row.fault
        if fault.isTransparent {
            #expect(throws: Never.self) { try first.get() }
            #expect(throws: Never.self) { try second.get() }
            #expect(received.frames == [a, b])
            #expect(received.end == nil)
            return
        }
        let error = try #require(first.failure as? BSONError, "expected a BSONError, got \(first)")
        if row.atBoundary {
            // Nothing of A went out: A failed whole, B goes through, the peer is in step.
            #expect(error.code == fault.code, "\(error)")
            #expect(throws: Never.self) { try second.get() }
            #expect(received.frames == [b])
            #expect(received.end == nil)
        } else {
            // Part of A went out: the send side says so, now and on every later send.
            let expected: BSONError.Code = fault == .eagain ? .unusable : fault.code
            #expect(error.code == expected, "\(error)")
            #expect((error.offset ?? 0) > 0, "the error says how much was sent: \(error)")
            let next = try #require(second.failure as? BSONError, "expected .unusable, got \(second)")
            #expect(next.code == .unusable, "\(next)")
            // The peer got no whole frame; it sees the connection end inside A.
            #expect(received.frames.isEmpty)
            #expect(received.end?.code == .truncated, "\(String(describing: received.end))")
        }
    }
}
#endif
