import BSONCodec
import Testing

@Suite("Truncation at every byte")
struct TruncationTests {
    /// Documents holding all 21 types (and the awkward values).
    static let inputs: [(String, [UInt8])] = [
        ("allTypes", try! Corpus.allTypes.encoded()),
        ("awkward", try! Corpus.awkward.encoded()),
    ]

    @Test("every proper prefix is rejected by decode, validate and the view", arguments: [0, 1])
    func everyPrefix(input: Int) {
        let (name, bytes) = Self.inputs[input]
        var accepted: [Int] = []
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            let decoded = decodeError(prefix)
            let validated = validateError(prefix)
            if decoded == nil || validated == nil { accepted.append(length) }
            #expect(decoded?.code == validated?.code && decoded?.offset == validated?.offset)
            // The header no longer matches the byte count, so even a view refuses it.
            #expect(throws: BSONError.self) { try BSONView(bytes: prefix) }
        }
        #expect(accepted.isEmpty, "\(name): prefixes accepted: \(accepted)")
    }

    @Test("every prefix with its length header patched to the prefix length is rejected", arguments: [0, 1])
    func everyPatchedPrefix(input: Int) {
        let (name, bytes) = Self.inputs[input]
        let keys = (try? BSONDocument(bytes: bytes))?.keys ?? []
        var accepted: [Int] = []
        for length in 4..<bytes.count {
            var prefix = Array(bytes[0..<length])
            prefix.replaceSubrange(0..<4, with: Wire.int32(Int32(length)))
            let decoded = decodeError(prefix)
            let validated = validateError(prefix)
            if decoded == nil || validated == nil { accepted.append(length) }
            #expect(decoded?.code == validated?.code)
            #expect(decoded?.offset == validated?.offset)
            #expect(decoded?.keyPath == validated?.keyPath)
            if let offset = decoded?.offset { #expect((0..<max(length, 1)).contains(offset), "offset \(offset) outside \(length) bytes") }
            // The view may accept the header (when the prefix ends in 0x00); every lookup must
            // then either find a value, find nothing or throw, and validate() must throw.
            if let view = try? BSONView(bytes: prefix) {
                #expect(throws: BSONError.self) { try view.validate() }
                for key in keys.prefix(8) + ["", "missing"] {
                    _ = try? view[key]
                    _ = try? view.type(forKey: key)
                }
                _ = try? view.keys
            }
        }
        #expect(accepted.isEmpty, "\(name): patched prefixes accepted: \(accepted)")
    }
}
