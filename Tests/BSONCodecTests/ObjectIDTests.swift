import BSONCodec
import Foundation
import Testing

@Suite("ObjectID")
struct ObjectIDTests {
    @Test("hex round trip; upper-case input gives lower-case output")
    func hexRoundTrip() throws {
        let id = try #require(BSONObjectID(hex: "507f1f77bcf86cd799439011"))
        #expect(id.hexString == "507f1f77bcf86cd799439011")
        #expect(id.description == "507f1f77bcf86cd799439011")
        #expect(id.bytes == hex("507f1f77bcf86cd799439011"))
        let upper = try #require(BSONObjectID(hex: "507F1F77BCF86CD799439011"))
        #expect(upper == id)
        #expect(upper.hexString == "507f1f77bcf86cd799439011")
        #expect(BSONObjectID(hex: "000000000000000000000000")?.bytes == [UInt8](repeating: 0, count: 12))
        #expect(BSONObjectID(hex: "ffffffffffffffffffffffff")?.bytes == [UInt8](repeating: 0xFF, count: 12))
        #expect(sampleObjectID.hexString == "0102030405060708090a0b0c")
    }

    @Test(
        "invalid hex gives nil",
        arguments: [
            "", "507f1f77bcf86cd79943901", "507f1f77bcf86cd7994390111", "507f1f77bcf86cd79943901g",
            "g07f1f77bcf86cd799439011", " 07f1f77bcf86cd799439011", "507f1f77bcf86cd79943901\u{0}",
            "507f1f77bcf86cd799439é", "0x7f1f77bcf86cd799439011", "507f1f77-cf86cd799439011",
        ])
    func invalidHex(text: String) {
        #expect(BSONObjectID(hex: text) == nil)
    }

    @Test("bytes must be exactly 12")
    func byteCount() {
        #expect(BSONObjectID(bytes: [UInt8](repeating: 1, count: 11)) == nil)
        #expect(BSONObjectID(bytes: [UInt8](repeating: 1, count: 13)) == nil)
        #expect(BSONObjectID(bytes: []) == nil)
        #expect(BSONObjectID(bytes: Array(1...12))?.bytes == Array(1...12))
    }

    @Test("ordering compares the bytes")
    func ordering() throws {
        let low = try #require(BSONObjectID(hex: "000000000000000000000001"))
        let middle = try #require(BSONObjectID(hex: "000000000000000100000000"))
        let high = try #require(BSONObjectID(hex: "010000000000000000000000"))
        #expect(low < middle && middle < high)
        #expect(!(high < low))
        let tailOnly = try #require(BSONObjectID(hex: "0000000000000000ffffffff"))
        #expect(tailOnly < middle)
    }

    @Test("10,000 generated IDs are unique with non-decreasing timestamps near now", .timeLimit(.minutes(1)))
    func generated() throws {
        let before = Date()
        var seen = Set<BSONObjectID>()
        var previousSeconds: UInt32 = 0
        for _ in 0..<10_000 {
            let id = BSONObjectID()
            seen.insert(id)
            let seconds = UInt32(id.bytes[0]) << 24 | UInt32(id.bytes[1]) << 16 | UInt32(id.bytes[2]) << 8 | UInt32(id.bytes[3])
            #expect(seconds >= previousSeconds)
            previousSeconds = seconds
        }
        let after = Date()
        #expect(seen.count == 10_000)
        let stamp = try #require(seen.first).timestamp
        #expect(stamp.timeIntervalSince1970 >= before.timeIntervalSince1970.rounded(.down) - 1)
        #expect(stamp.timeIntervalSince1970 <= after.timeIntervalSince1970 + 1)
        // The five random bytes are per process: the same in every generated ID.
        let randomParts = Set(seen.map { Array($0.bytes[4..<9]) })
        #expect(randomParts.count == 1)
    }

    @Test("IDs generated on several threads at once are still unique", .timeLimit(.minutes(1)))
    func concurrentGeneration() async {
        let batches = await withTaskGroup(of: [BSONObjectID].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<2_500).map { _ in BSONObjectID() } }
            }
            var all: [[BSONObjectID]] = []
            for await batch in group { all.append(batch) }
            return all
        }
        #expect(batches.count == 4)
        #expect(Set(batches.joined()).count == 10_000)
    }

    @Test("the timestamp is the first four bytes, big-endian seconds")
    func timestamp() throws {
        let id = try #require(BSONObjectID(hex: "5f5e1000" + "0000000000000000"))
        #expect(id.timestamp == Date(timeIntervalSince1970: 0x5F5E_1000))
        let late = try #require(BSONObjectID(hex: "ffffffff" + "0000000000000000"))
        #expect(late.timestamp == Date(timeIntervalSince1970: 4_294_967_295))
    }

    @Test("an ObjectID in a document is written byte for byte")
    func inDocument() throws {
        let id = try #require(BSONObjectID(hex: "507f1f77bcf86cd799439011"))
        let bytes = try (["_id": .objectID(id)] as BSONDocument).encoded()
        #expect(bytes == hex("16 00 00 00 07 5F 69 64 00 50 7F 1F 77 BC F8 6C D7 99 43 90 11 00"))
        #expect(try BSONDocument(bytes: bytes)["_id"] == .objectID(id))
    }
}
