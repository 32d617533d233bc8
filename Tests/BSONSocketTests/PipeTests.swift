import BSONSocket
import Glibc
import SystemPackage
import Testing

/// swift-system descriptors that are not sockets: a pipe carries documents with read and
/// write, and a pipe whose reader is gone is an error, not a SIGPIPE.
@Suite("Pipes", .timeLimit(.minutes(1)))
struct PipeTests {
    @Test("documents and raw bytes go through a pipe")
    func throughAPipe() throws {
        let (reader, writer) = try FileDescriptor.pipe()
        defer {
            try? reader.close()
            try? writer.close()
        }
        let documents: [BSONDocument] = [try multiTypeDocument(), documentOfLength(100_000, index: 3), [:]]
        let writing = writer.rawValue
        let sender = Peer { () throws -> Void in
            let descriptor = FileDescriptor(rawValue: writing)
            for document in documents { try descriptor.sendObj(document) }
            try descriptor.sendBytes([1, 2, 3])
            try descriptor.close()
        }
        for document in documents {
            #expect(try reader.recvObj() == document)
        }
        var raw: [UInt8] = []
        #expect(try reader.recvBytes(10, into: &raw) == false)
        #expect(raw == [1, 2, 3])
        #expect(try reader.recvObj() == nil)
        try sender.value()
    }

    @Test("writing to a pipe whose reader is gone is brokenPipe; the process survives and no SIGPIPE is left pending")
    func closedReader() throws {
        let (reader, writer) = try FileDescriptor.pipe()
        defer { try? writer.close() }
        try reader.close()
        let error = #expect(throws: BSONError.self) { try writer.sendObj(["nobody": "listens"]) }
        #expect(error?.code == .brokenPipe)
        #expect(error?.errno == EPIPE)
        #expect(error?.message.contains("write failed") == true)
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }
}
