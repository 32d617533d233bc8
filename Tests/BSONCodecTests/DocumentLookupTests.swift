import BSONCodec
import Testing

// `BSONDocument`'s subscript compares keys byte for byte. It rejects with Swift's `==` first
// (equal bytes imply `==`), so these pin down the cases where `==` and bytes disagree.

@Suite("Document key lookup")
struct DocumentLookupTests {
    static let precomposed = "\u{E9}"  // é as C3 A9
    static let decomposed = "e\u{301}"  // e + combining acute, 65 CC 81: `==` to the above

    @Test("canonically equivalent keys are different keys")
    func canonicalEquivalents() {
        let both = BSONDocument([(key: Self.decomposed, value: 1), (key: Self.precomposed, value: 2)])
        #expect(both[Self.precomposed] == .int32(2))
        #expect(both[Self.decomposed] == .int32(1))

        let onlyDecomposed = BSONDocument([(key: Self.decomposed, value: 1)])
        #expect(onlyDecomposed[Self.precomposed] == nil)
        #expect(!onlyDecomposed.contains(key: Self.precomposed))
        #expect(onlyDecomposed.dictionary[Self.decomposed] != nil)
    }

    @Test("the first of duplicate keys wins; keys differing in length or one byte do not match")
    func duplicatesAndNearMisses() {
        let document = BSONDocument([
            (key: "ab", value: 1), (key: "a", value: 2), (key: "abc", value: 3), (key: "a", value: 4), (key: "", value: 5),
        ])
        #expect(document["a"] == .int32(2))
        #expect(document["ab"] == .int32(1))
        #expect(document["abc"] == .int32(3))
        #expect(document[""] == .int32(5))
        #expect(document["abd"] == nil)
        #expect(document["A"] == nil)
    }
}
