import BSONCodec
import Foundation
import Testing

@Suite("BSONDatetime and Date")
struct DatetimeTests {
    /// Milliseconds around the epoch, before 1970, now, after 9999, and near the limits of
    /// what a `Date` holds to the millisecond.
    static let milliseconds: [Int64] = [
        0, 1, -1, 999, -999, 1000, -1000, 1001, -1001, 123, -123, 1_500, -1_500,
        -86_400_000, -62_135_596_800_000,  // 0001-01-01
        -62_135_596_800_001, -377_705_116_800_000,  // year -10000
        1_700_000_000_123, 1_234_567_890_987,
        253_402_300_799_999,  // 9999-12-31T23:59:59.999
        253_402_300_800_000,  // 10000-01-01
        4_102_444_800_001, 32_503_680_000_001,
    ]

    @Test("a Date built from whole milliseconds converts back exactly", arguments: milliseconds)
    func wholeMilliseconds(milliseconds: Int64) {
        let viaDatetime = BSONDatetime(millisecondsSinceEpoch: milliseconds).date
        #expect(BSONDatetime(viaDatetime).millisecondsSinceEpoch == milliseconds)
        let viaSeconds = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        #expect(BSONDatetime(viaSeconds).millisecondsSinceEpoch == milliseconds)
    }

    @Test("every millisecond of a window around the epoch and around now round-trips")
    func sweep() {
        var failures: [Int64] = []
        for base in [-3_000_000_000, 0, 1_700_000_000_000, 253_402_300_000_000] as [Int64] {
            for offset in Int64(-20_000)...Int64(20_000) {
                let milliseconds = base + offset
                if BSONDatetime(BSONDatetime(millisecondsSinceEpoch: milliseconds).date).millisecondsSinceEpoch != milliseconds {
                    failures.append(milliseconds)
                }
            }
        }
        #expect(failures.count == 0, "first failures: \(failures.prefix(5))")
    }

    @Test("sub-millisecond digits truncate toward the past, also before 1970")
    func truncation() {
        let cases: [(seconds: Double, milliseconds: Int64)] = [
            (0.0015, 1), (-0.0015, -2), (0.0009, 0), (-0.0009, -1), (1.2345, 1234), (-1.2345, -1235),
            (1_700_000_000.1239, 1_700_000_000_123), (-1_700_000_000.1231, -1_700_000_000_124),
            (0.0005, 0), (-0.0005, -1), (0.9995, 999), (-0.9995, -1000),
        ]
        for (seconds, milliseconds) in cases {
            #expect(BSONDatetime(Date(timeIntervalSince1970: seconds)).millisecondsSinceEpoch == milliseconds, "\(seconds)")
        }
        // From the reference date too, which is how Date stores its value.
        #expect(BSONDatetime(Date(timeIntervalSinceReferenceDate: 0.0004)).millisecondsSinceEpoch == 978_307_200_000)
        #expect(BSONDatetime(Date(timeIntervalSinceReferenceDate: -0.0004)).millisecondsSinceEpoch == 978_307_199_999)
    }

    @Test("Dates beyond the Int64 range clamp; infinities clamp")
    func clamping() {
        #expect(BSONDatetime(Date(timeIntervalSince1970: 1e300)).millisecondsSinceEpoch == .max)
        #expect(BSONDatetime(Date(timeIntervalSince1970: -1e300)).millisecondsSinceEpoch == .min)
        #expect(BSONDatetime(Date.distantFuture).millisecondsSinceEpoch == 64_092_211_200_000)
        #expect(BSONDatetime(Date.distantPast).millisecondsSinceEpoch == -62_135_769_600_000)
    }

    @Test("Int64.min and Int64.max survive the wire", arguments: [Int64.min, .max])
    func extremes(milliseconds: Int64) throws {
        let document: BSONDocument = ["d": .datetime(BSONDatetime(millisecondsSinceEpoch: milliseconds))]
        let bytes = try document.encoded()
        #expect(bytes == Wire.document(Wire.element(0x09, "d", Wire.int64(milliseconds))))
        #expect(try BSONDocument(bytes: bytes) == document)
        #expect(BSONDatetime(millisecondsSinceEpoch: milliseconds).iso8601String == nil)
    }

    @Test("ISO-8601 text for years 0 through 9999")
    func iso8601() {
        let cases: [(Int64, String?)] = [
            (0, "1970-01-01T00:00:00.000Z"), (-1, "1969-12-31T23:59:59.999Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"), (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"), (253_402_300_800_000, nil),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"), (-62_167_219_200_001, nil),
        ]
        for (milliseconds, text) in cases {
            #expect(BSONDatetime(millisecondsSinceEpoch: milliseconds).iso8601String == text, "\(milliseconds)")
        }
        #expect(BSONDatetime(millisecondsSinceEpoch: 253_402_300_800_000).description.contains("253402300800000"))
    }

    @Test("ISO-8601 dates agree with Foundation's Gregorian calendar from 1600 to 9999")
    func calendarAgreement() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // From 1600-01-01 to 9999-12-31, every 997th day at a time of day that moves too.
        var mismatches: [String] = []
        for (step, days) in stride(from: Int64(-135_140), through: 2_932_896, by: 997).enumerated() {
            let milliseconds = days * 86_400_000 + Int64(step % 86_400) * 1_000 + Int64(step % 1000)
            let datetime = BSONDatetime(millisecondsSinceEpoch: milliseconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: datetime.date)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!, step % 1000)
            if datetime.iso8601String != expected { mismatches.append("\(milliseconds): \(datetime) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("ordering follows the milliseconds")
    func ordering() {
        #expect(BSONDatetime(millisecondsSinceEpoch: -1) < BSONDatetime(millisecondsSinceEpoch: 0))
        #expect(BSONDatetime(millisecondsSinceEpoch: .min) < BSONDatetime(millisecondsSinceEpoch: .max))
    }
}
