import BSONCodec
import Testing
import TestSupport

// The decoder's two UTF-8 shortcuts -- the inlined ASCII pre-check in
// `UTF8Validation.isValid` and the short-string path of `UTF8Validation.string(fromValidated:)`
// -- must give exactly the answers of the slow paths they stand in front of.

@Suite("UTF-8 fast paths")
struct UTF8FastPathTests {
    /// Bytes that hit every branch of a UTF-8 scanner: ASCII (NUL included), continuation
    /// bytes, every lead-byte class with its special second-byte ranges, and bytes that are
    /// never valid.
    static let interestingBytes: [UInt8] = [
        0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
        0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
    ]

    /// 50,000 seeded random strings of 0 to 24 bytes (across the 8-byte word boundaries of
    /// the ASCII check), mostly ASCII with a few interesting bytes mixed in.
    static func randomByteStrings() -> [[UInt8]] {
        var random = SplitMix64(seed: 0x5EED_0F_0038)
        var result: [[UInt8]] = []
        for _ in 0..<50_000 {
            let length = Int(random.next() % 25)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                if random.next() % 4 == 0 {
                    bytes.append(interestingBytes[Int(random.next() % UInt64(interestingBytes.count))])
                } else {
                    bytes.append(UInt8(truncatingIfNeeded: random.next() % 0x80))
                }
            }
            result.append(bytes)
        }
        return result
    }

    @Test("isValid agrees with the full scanner and with the standard library")
    func isValidAgrees() {
        var mismatches: [String] = []
        for bytes in Self.randomByteStrings() {
            bytes.withUnsafeBufferPointer { buffer in
                let fast = UTF8Validation.isValid(buffer)
                let scanner = UTF8Validation.firstInvalidOffset(buffer) == nil
                let standard = String(validating: buffer, as: UTF8.self) != nil
                if (fast != scanner || fast != standard) && mismatches.count < 10 {
                    mismatches.append("\(hexString(bytes)): isValid \(fast), scanner \(scanner), stdlib \(standard)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("string(fromValidated:) equals String(decoding:as:) byte for byte")
    func stringsAgree() {
        var samples: [[UInt8]] = Self.randomByteStrings().filter { bytes in
            bytes.withUnsafeBufferPointer { UTF8Validation.isValid($0) }
        }
        // Multi-byte characters at and around the 15-byte small-string limit.
        for prefix in 0...16 {
            for character in ["é", "€", "😀", "\u{0}"] {
                samples.append(Array(String(repeating: "a", count: prefix).utf8) + Array(character.utf8))
            }
        }
        var mismatches: [String] = []
        for bytes in samples {
            bytes.withUnsafeBufferPointer { buffer in
                let fast = UTF8Validation.string(fromValidated: buffer)
                let reference = String(decoding: buffer, as: UTF8.self)
                if !fast.utf8.elementsEqual(reference.utf8) || !fast.utf8.elementsEqual(bytes), mismatches.count < 10 {
                    mismatches.append(hexString(bytes))
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
