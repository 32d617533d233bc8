import BSONSocket
import SystemPackage
import Testing

/// Frame headers a hostile or broken peer might send: each is rejected with its typed error
/// as soon as the header is in (the peer sends no body and keeps the connection open, so a
/// reader that waited for the body would time out instead), and the next receive is
/// defined: `.unusable` after a bad length, the next frame after a bad terminator.
@Suite("Hostile headers", .timeLimit(.minutes(1)))
struct HostileHeaderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let announced: Int32
        let code: BSONError.Code
        var testDescription: String { name }
    }

    static let badLengths: [Case] = [
        Case(name: "length 0", announced: 0, code: .frameTooSmall),
        Case(name: "length 4", announced: 4, code: .frameTooSmall),
        Case(name: "negative length", announced: -20, code: .frameTooSmall),
        Case(name: "Int32.min", announced: .min, code: .frameTooSmall),
        Case(name: "one over the maximum", announced: Int32(BSONFrameLimits.defaultMaximumFrameLength + 1), code: .frameTooLarge),
        Case(name: "Int32.max", announced: .max, code: .frameTooLarge),
    ]

    @Test("a bad length is rejected before any body is read; the receive side is unusable after",
          arguments: Transport.allCases, badLengths)
    func badLength(_ transport: Transport, _ hostile: Case) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        // A reader that waited for a body would time out (and fail the code check) instead.
        try pair.server.setReceiveTimeout(.seconds(3))
        try pair.client.sendBytes(littleEndianBytes(hostile.announced))
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == hostile.code)
        #expect(error?.offset == 0)
        #expect(error?.message.contains("\(hostile.announced)") == true)

        try pair.client.sendObj(["after": 1])
        let next = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(next?.code == .unusable)
        #expect(next?.message.contains("\(hostile.code)") == true)
        // The send direction is not affected.
        try pair.server.sendObj(["reply": "still sending"])
        #expect(try pair.client.recvObj() == ["reply": "still sending"])
    }

    @Test("a bad length on a bare FileDescriptor: rejected, then unusable", arguments: badLengths)
    func badLengthDescriptor(_ hostile: Case) throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        try left.sendBytes(littleEndianBytes(hostile.announced))
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == hostile.code)
        try left.sendObj(["after": 1])
        let next = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(next?.code == .unusable)
        // Raw bytes are still readable: the document sent after the header.
        var raw: [UInt8] = []
        #expect(try right.recvBytes(try BSONDocument(["after": 1]).encoded().count, into: &raw))
        #expect(try BSONDocument(bytes: raw) == ["after": 1])
    }

    @Test("length 5 without the 0x00 terminator: malformed, and the next frame is read", arguments: Transport.allCases)
    func missingTerminator(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendBytes([5, 0, 0, 0, 0x01])
        try pair.client.sendObj(["next": true])
        let error = #expect(throws: BSONError.self) { try pair.server.recvObj() }
        #expect(error?.code == .malformed)
        #expect(error?.offset == 4)
        #expect(try pair.server.recvObj() == ["next": true])
    }

    @Test("length 5 without the terminator on a bare FileDescriptor")
    func missingTerminatorDescriptor() throws {
        let (left, right) = try descriptorPair()
        defer {
            try? left.close()
            try? right.close()
        }
        try left.sendBytes([5, 0, 0, 0, 0x01])
        try left.sendObj(["next": true])
        let error = #expect(throws: BSONError.self) { try right.recvObj() }
        #expect(error?.code == .malformed)
        #expect(error?.offset == 4)
        #expect(try right.recvObj() == ["next": true])
    }

    @Test("a smaller configured limit rejects a frame that the default accepts", arguments: Transport.allCases)
    func customLimit(_ transport: Transport) throws {
        let pair = try connectedPair(transport)
        defer { pair.close() }
        try pair.client.sendObj(documentOfLength(2000))
        let error = #expect(throws: BSONError.self) {
            try pair.server.recvObj(limits: BSONFrameLimits(maximumFrameLength: 1024))
        }
        #expect(error?.code == .frameTooLarge)
        #expect(error?.message.contains("2000") == true)
    }

    @Test("the smallest document, 5 bytes, is accepted")
    func smallestDocument() throws {
        let pair = try connectedPair(.socketPair)
        defer { pair.close() }
        try pair.client.sendBytes([5, 0, 0, 0, 0])
        #expect(try pair.server.recvObj() == [:])
    }
}
