import BSONCodec
import Testing

@Suite("Smoke")
struct SmokeTests {
    @Test("a literal document survives encode and decode")
    func roundTrip() throws {
        let document: BSONDocument = ["a": 1, "b": "hello", "c": [1, 2.5, true], "d": ["x": nil]]
        let bytes = try document.encoded()
        #expect(try BSONDocument(bytes: bytes) == document)
    }
}
