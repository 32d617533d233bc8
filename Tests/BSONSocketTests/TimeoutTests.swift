import BSONSocket
import Glibc
import SystemPackage
import Testing

/// Receive and send timeouts: a BSONSocket resumes a frame after a receive timeout; a bare
/// FileDescriptor, which cannot keep the bytes, says the stream is unusable and how much
/// of the frame had arrived; at a frame boundary a timeout is plain and retryable.
@Suite("Timeouts", .timeLimit(.minutes(1)))
struct TimeoutTests {
    @Test("a timeout between frames is a plain timedOut; the next call works", arguments: Transport.allCases)
    func timeoutAtBoundary(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.server.setReceiveTimeout(.milliseconds(100))
        let clock = ContinuousClock()
        let started = clock.now
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .timedOut)
        #expect(error?.errno == EAGAIN)
        #expect(clock.now - started >= .milliseconds(90))
        try pair.client.sendObj(["late": true])
        #expect(try pair.server.recvObj() == ["late": true])
    }

    @Test(
        "a timeout inside a frame loses nothing: the next recvObj resumes it",
        arguments: Transport.allCases, [2, 4, 100, 70_000, 200_000])
    func resumeMidFrame(_ transport: Transport, arrived: Int) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        let document = documentOfLength(300_000, index: 4)
        let frame = try document.encoded()
        try pair.server.setReceiveTimeout(.milliseconds(100))
        // The first part may be larger than the socket buffer, so it is sent from a thread
        // while the receiver takes it in; every receive ends in a timeout once it is all in.
        let sender = Peer { () throws -> Void in try pair.client.sendBytes(Array(frame[..<arrived])) }
        var timeouts = 0
        var last: BSONError?
        for _ in 0..<200 {
            let senderDone = sender.isFinished
            let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
            #expect(error?.code == .timedOut)
            timeouts += 1
            last = error
            if senderDone { break }
        }
        try sender.value()
        #expect(last?.message.contains("\(arrived) of") == true, "\(String(describing: last))")
        #expect(last?.message.contains("kept") == true)
        // A second timeout in the same frame keeps everything too.
        let again = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(again?.code == .timedOut)
        #expect(again?.message.contains("\(arrived) of") == true)
        try pair.server.setReceiveTimeout(socketSafetyTimeout)
        let rest = Peer { () throws -> Void in try pair.client.sendBytes(Array(frame[arrived...])) }
        #expect(try pair.server.recvObj() == document)
        try rest.value()
        #expect(timeouts >= 1)
        // And the stream is in step.
        try pair.client.sendObj(["next": 1])
        #expect(try pair.server.recvObj() == ["next": 1])
    }

    @Test("after a timeout inside a frame, recvBytes gets that frame's bytes first")
    func recvBytesAfterInterruptedFrame() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        let frame = try multiTypeDocument().encoded()
        try pair.client.sendBytes(Array(frame[..<50]))
        try pair.server.setReceiveTimeout(.milliseconds(100))
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .timedOut)
        try pair.client.sendBytes(Array(frame[50...]))
        var raw: [UInt8] = []
        #expect(try pair.server.recvBytes(frame.count, into: &raw))
        #expect(raw == frame)
    }

    @Test("a bare FileDescriptor timing out inside a frame says it is unusable and how much had arrived")
    func descriptorMidFrame() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        setTimeout(right.rawValue, SO_RCVTIMEO, microseconds: 100_000)
        let frame = try documentOfLength(1000, index: 8).encoded()
        try left.sendBytes(Array(frame[..<300]))
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .unusable)
        #expect(error?.errno == EAGAIN)
        #expect(error?.offset == 300)
        #expect(error?.message.contains("300 of 1000 bytes") == true)
        // No silent desync: every later frame receive on this descriptor refuses.
        try left.sendBytes(Array(frame[300...]))
        try left.sendObj(["next": 1])
        let next = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(next?.code == .unusable)
        #expect(next?.message.contains("lost its place") == true)
        // Raw bytes still come through: the rest of the frame, then the next document.
        var raw: [UInt8] = []
        #expect(try right.recvBytes(700, into: &raw))
        #expect(raw == Array(frame[300...]))
    }

    @Test("a bare FileDescriptor timing out inside the header is unusable too")
    func descriptorMidHeader() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        setTimeout(right.rawValue, SO_RCVTIMEO, microseconds: 100_000)
        try left.sendBytes([0x30, 0x00])
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .unusable)
        #expect(error?.message.contains("2 of the 4 header bytes") == true)
    }

    @Test("a bare FileDescriptor timing out between frames is a plain, retryable timedOut")
    func descriptorAtBoundary() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        setTimeout(right.rawValue, SO_RCVTIMEO, microseconds: 100_000)
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .timedOut)
        try left.sendObj(["fine": true])
        #expect(try right.recvObj() == ["fine": true])
    }

    @Test("the unusable mark follows the open file, not the number")
    func descriptorMarkIsPerFile() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        setTimeout(right.rawValue, SO_RCVTIMEO, microseconds: 100_000)
        try left.sendBytes([0x30, 0x00, 0x00, 0x00, 0x01])
        #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(throws: BSONError.self) { try right.recvObj() }
        // Put a fresh socket under the same number (dup2 replaces it atomically, so no other
        // test can get the number in between): the old mark must not apply to it.
        let (freshLeft, freshRight) = try descriptorPair()
        defer {
            try? freshLeft.close()
            try? freshRight.close()
        }
        #expect(dup2(freshRight.rawValue, right.rawValue) == right.rawValue)
        try freshLeft.sendObj(["fresh": true])
        #expect(try right.recvObj() == ["fresh": true])
    }

    @Test("a send timeout before any byte left is timedOut and retryable")
    func sendTimeoutBeforeAnyByte() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.setSendTimeout(.milliseconds(50))
        var sent = 0
        var failure: BSONError?
        let small = try BSONDocument(["n": 1]).encoded()
        while failure == nil && sent < 1_000_000 {
            do {
                try pair.client.sendBytes(small)
                sent += 1
            } catch {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect(error.code == .timedOut, "\(error)")
        // Drain what was sent; the next send works and the stream is in step.
        for _ in 0..<sent { #expect(try pair.server.recvObj() == ["n": 1]) }
        try pair.client.sendObj(["after": 1])
        #expect(try pair.server.recvObj() == ["after": 1])
    }

    @Test("a send timeout part-way through a frame makes the send side unusable")
    func sendTimeoutPartWay() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.setSendTimeout(.milliseconds(100))
        let big = documentOfLength(8 << 20, index: 1)
        let error = #expect(throws: BSONError.self) { try pair.client.sendObj(big) }
        #expect(error?.code == .unusable)
        #expect(error?.errno == EAGAIN)
        #expect((error?.offset ?? 0) > 0)
        let next = #expect(throws: BSONError.self) { try pair.client.sendObj(["n": 1]) }
        #expect(next?.code == .unusable)
        // Receiving is not affected.
        try pair.server.sendObj(["still": "receiving"])
        #expect(try pair.client.recvObj() == ["still": "receiving"])
    }

    @Test("timeouts read back as set; nil means none")
    func timeoutProperties() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.setReceiveTimeout(.milliseconds(1500))
        #expect(try pair.client.receiveTimeout == .milliseconds(1500))
        try pair.client.setSendTimeout(.seconds(2))
        #expect(try pair.client.sendTimeout == .seconds(2))
        try pair.client.setReceiveTimeout(nil)
        #expect(try pair.client.receiveTimeout == nil)
    }
}
