import BSONCodec
import Foundation
import Testing

@Suite("bson-socket convert")
struct ConvertTests {
    /// Documents covering every type, as the tool's BSON input.
    static let documents: [BSONDocument] = [
        [:],
        ["type": "greeting", "message": "Hello server!", "n": 1, "big": .int64(1 << 40)],
        [
            "double": 1.5, "string": "ünïcødé 🎉", "doc": ["a": [1, 2, ["b": nil]]],
            "binary": .binary(BSONBinary(data: [0, 1, 2, 255], subtype: .userDefined)),
            "undefined": .undefined, "oid": .objectID(BSONObjectID(hex: "5f0f1e2d3c4b5a6978695a4b")!),
            "bool": false, "date": .datetime(BSONDatetime(millisecondsSinceEpoch: -1234)),
            "regex": .regex(BSONRegex(pattern: "^a.*b$", options: "ix")),
            "dbpointer": .dbPointer(BSONDBPointer(ref: "db.c", id: BSONObjectID(hex: "000102030405060708090a0b")!)),
            "code": .javascript("function() {}"), "symbol": .symbol("sym"),
            "cws": .javascriptWithScope(BSONCodeWithScope(code: "x", scope: ["x": 1])),
            "int32": .int32(-7), "timestamp": .timestamp(BSONTimestamp(uint64: 1 << 63 | 5)),
            "int64": .int64(.min), "decimal": .decimal128(try! BSONDecimal128("1.50E-3")),
            "min": .minKey, "max": .maxKey, "nan": .double(.nan), "negzero": .double(-0.0),
        ],
    ]

    static var bsonStream: [UInt8] {
        documents.flatMap { try! $0.encoded() }
    }

    @Test("BSON to canonical Extended JSON and back gives the same bytes", arguments: ["ejson", "relaxed"])
    func roundTrip(mode: String) throws {
        let json = try ToolRunner.run(["convert", "--from", "bson", "--to", mode], input: Self.bsonStream)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdoutText.split(separator: "\n").count == Self.documents.count)
        let back = try ToolRunner.run(["convert", "--from", "ejson", "--to", "bson"], input: json.stdout)
        #expect(back.status == 0, "\(back.stderr)")
        // These documents hold no value that the relaxed form would narrow (such as an int64
        // that fits in 32 bits), so both forms give back the same bytes.
        #expect(back.stdout == Self.bsonStream)
    }

    @Test("canonical output is one line a document, the library's formatting")
    func canonicalLines() throws {
        let result = try ToolRunner.run(["convert", "--from", "bson", "--to", "ejson"], input: Self.bsonStream)
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.map(String.init) == Self.documents.map { $0.extendedJSON(.canonical) })
    }

    @Test("an invalid document stops the run with its index and offset; earlier ones are written")
    func invalidBSON() throws {
        var stream = try Self.documents[1].encoded()
        let good = stream.count
        // Second document: a string whose only byte is not UTF-8.
        stream += [0x0E, 0, 0, 0, 0x02, 0x61, 0, 0x02, 0, 0, 0, 0x80, 0, 0]
        stream += try Self.documents[0].encoded()
        let result = try ToolRunner.run(["convert", "--from", "bson", "--to", "ejson"], input: stream)
        #expect(result.status == 1)
        #expect(result.stdoutText == Self.documents[1].extendedJSON(.canonical) + "\n")
        #expect(result.stderr.contains("document 1"))
        #expect(result.stderr.contains("at byte \(good + 11)"))
        #expect(result.stderr.contains("UTF-8"))
    }

    @Test("a truncated last document is reported, not dropped")
    func truncatedBSON() throws {
        let stream = try Self.documents[1].encoded()
        let result = try ToolRunner.run(["convert", "--from", "bson", "--to", "ejson"], input: Array(stream.dropLast(3)))
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("document 0"))
    }

    @Test("a hostile length header is refused before reading on")
    func hostileHeader() throws {
        let result = try ToolRunner.run(["convert", "--from", "bson", "--to", "ejson"], input: [0xFF, 0xFF, 0xFF, 0x7F, 0])
        #expect(result.status == 1)
        #expect(result.stderr.contains("document 0 at byte 0"))
    }

    @Test("invalid Extended JSON names the document and its line")
    func invalidExtendedJSON() throws {
        let input = Array("{\"a\": 1}\n\n{\"b\": {\"$numberInt\": \"x\"}}\n{\"c\": 2}\n".utf8)
        let result = try ToolRunner.run(["convert", "--from", "ejson", "--to", "relaxed"], input: input)
        #expect(result.status == 1)
        #expect(result.stdoutText == "{\"a\":1}\n")
        #expect(result.stderr.contains("document 1 on line 3"))
    }

    @Test("empty input converts to empty output")
    func emptyInput() throws {
        for from in ["bson", "ejson"] {
            let result = try ToolRunner.run(["convert", "--from", from, "--to", "ejson"])
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("a file argument is read like standard input")
    func fileArgument() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convert-\(UUID().uuidString).bson")
        try Data(Self.bsonStream).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try ToolRunner.run(["convert", "--from", "bson", "--to", "bson", url.path])
        #expect(result.status == 0)
        #expect(result.stdout == Self.bsonStream)
    }

    @Test("--help explains the formats")
    func help() throws {
        let result = try ToolRunner.run(["convert", "--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("--from"))
        #expect(result.stdoutText.contains("relaxed"))
    }
}
