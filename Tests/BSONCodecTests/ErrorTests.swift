import BSONCodec
import Testing

@Suite("BSONError")
struct ErrorTests {
    @Test("the error is one pointer wide")
    func size() {
        #expect(MemoryLayout<BSONError>.size == MemoryLayout<Int>.size)
        #expect(MemoryLayout<BSONError?>.size == MemoryLayout<Int>.size)
    }

    @Test("the description names the code, the offset and the key path")
    func description() throws {
        // {"a": code "c" with scope {"s": "x\xFF"}}: the bad byte at 29.
        let (bytes, start, _) = TextPlace.scopeString.document(with: [0x78, 0xFF])
        let error = try #require(decodeError(bytes))
        #expect(error.code == .invalidUTF8)
        #expect(error.offset == start + 1)
        #expect(error.keyPath == ["a", "$scope", "s"])
        #expect(error.dottedKeyPath == "a.$scope.s")
        let text = error.description
        #expect(text.contains("invalidUTF8"), "\(text)")
        #expect(text.contains("byte \(start + 1)"), "\(text)")
        #expect(text.contains("a.$scope.s"), "\(text)")
        #expect(text.contains("0xff"), "\(text)")
    }

    @Test("descriptions without an offset, with an errno, with neither")
    func otherDescriptions() {
        let keyOnly = BSONError(.invalidKey, "bad key", keyPath: ["x", "y"])
        #expect(keyOnly.description == "BSONError.invalidKey: bad key (key \"x.y\")")
        let withErrno = BSONError(.systemCallFailed, "recv failed", errno: 104)
        #expect(withErrno.description == "BSONError.systemCallFailed: recv failed [errno 104]")
        let plain = BSONError(.closed, "closed")
        #expect(plain.description == "BSONError.closed: closed")
        let offsetOnly = BSONError(.malformed, "m", offset: 3)
        #expect(offsetOnly.description == "BSONError.malformed: m (at byte 3)")
        #expect(plain.offset == nil && plain.keyPath.isEmpty && plain.errno == nil)
        #expect(withErrno.errno == 104)
    }

    @Test("the source location is recorded")
    func sourceLocation() {
        let error = BSONError(.malformed, "here"); let line = #line
        #expect(error.line == line)
        #expect(error.file.hasSuffix("ErrorTests.swift"))
    }

    @Test("codes are distinct and compare by value")
    func codes() {
        let codes: [BSONError.Code] = [
            .malformed, .invalidUTF8, .unknownType, .invalidBoolean, .nestingTooDeep, .invalidKey, .invalidValue,
            .unknownSerializer, .invalidExtendedJSON, .closed, .truncated, .frameTooSmall, .frameTooLarge,
            .connectionReset, .connectionAborted, .connectionRefused, .brokenPipe, .timedOut, .hostNotFound,
            .addressInUse, .unusable, .systemCallFailed,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(Set(codes.map(\.description)).count == codes.count)
        #expect(BSONError.Code.malformed == .malformed)
        #expect(BSONError.Code.malformed != .truncated)
    }

    @Test("decoding errors are caught as any Error too")
    func existential() {
        func untyped() throws {
            _ = try BSONDocument(bytes: [1, 2, 3] as [UInt8])
        }
        do {
            try untyped()
            Issue.record("three bytes decoded")
        } catch {
            #expect((error as? BSONError)?.code == .malformed)
        }
    }
}

@Suite("Decimal128")
struct Decimal128Tests {
    @Test(
        "text round trips through libbson",
        arguments: [
            "1.5E+3", "-0", "0", "NaN", "Infinity", "-Infinity", "0E-6176", "1E-6176", "0.001", "-1.5E-10",
            "9999999999999999999999999999999999", "-9999999999999999999999999999999999",
            "9.999999999999999999999999999999999E+6144", "1.000000000000000000000000000000000E-6143", "123.456",
        ])
    func roundTrip(text: String) throws {
        let value = try BSONDecimal128(text)
        #expect(value.description == text)
        let document: BSONDocument = ["d": .decimal128(value)]
        #expect(try BSONDocument(bytes: try document.encoded()) == document)
    }

    @Test("known bit patterns")
    func bits() throws {
        let cases: [(String, UInt64, UInt64)] = [
            ("1", 0x3040_0000_0000_0000, 1),
            ("-0", 0xB040_0000_0000_0000, 0),
            ("NaN", 0x7C00_0000_0000_0000, 0),
            ("Infinity", 0x7800_0000_0000_0000, 0),
            ("-Infinity", 0xF800_0000_0000_0000, 0),
            ("0E-6176", 0, 0),
            ("1.5E+3", 0x3044_0000_0000_0000, 15),
            ("9999999999999999999999999999999999", 0x3041_ED09_BEAD_87C0, 0x378D_8E63_FFFF_FFFF),
            ("9.999999999999999999999999999999999E+6144", 0x5FFF_ED09_BEAD_87C0, 0x378D_8E63_FFFF_FFFF),
        ]
        for (text, high, low) in cases {
            let value = try BSONDecimal128(text)
            #expect(value.high == high, "\(text)")
            #expect(value.low == low, "\(text)")
            #expect(BSONDecimal128(high: high, low: low).description == text)
        }
    }

    @Test("other spellings libbson accepts", arguments: [("1.50", "1.50"), ("+1", "1"), ("inf", "Infinity"), ("-inf", "-Infinity"), ("1e3", "1E+3")])
    func spellings(input: String, canonical: String) throws {
        #expect(try BSONDecimal128(input).description == canonical)
    }

    @Test(
        "invalid or inexact text is .invalidValue",
        arguments: [
            "", "abc", "1.2.3", "1e", "--1", " 1", "1 ", "1,5", "NaNx", "Infinity1", "1\u{0}2", "\u{0}",
            "12345678901234567890123456789012345", "0x10", "1E", "E1", ".",
        ])
    func invalid(text: String) {
        do {
            let value = try BSONDecimal128(text)
            Issue.record("accepted \(text.debugDescription) as \(value)")
        } catch {
            #expect(error.code == .invalidValue)
            #expect(text.isEmpty || error.message.contains(text), "\(error.message)")
        }
    }
}
