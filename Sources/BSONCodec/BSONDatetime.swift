#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A BSON UTC datetime (type 0x09): signed milliseconds since the Unix epoch.
///
/// Every `Int64` is a valid value, including dates before 1970 and after the year 9999.
/// Conversion to and from `Date` is exact at millisecond precision: a datetime made from a
/// `Date` that holds a whole number of milliseconds gives back the same `Date`, and a
/// `Date` with sub-millisecond digits is rounded toward the past, as pymongo does. (py-bson
/// 0.5.10 rounds to the nearest millisecond instead, half to even, so a Python peer and this
/// package can disagree by one millisecond about a value with sub-millisecond digits.)
public struct BSONDatetime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z; negative before it.
    public var millisecondsSinceEpoch: Int64

    /// Creates a datetime from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Creates a datetime from a `Date`, rounding sub-millisecond digits toward the past.
    ///
    /// A `Date` outside the range of `Int64` milliseconds (about ±292 million years) is
    /// clamped to that range.
    public init(_ date: Date) {
        let milliseconds = date.timeIntervalSince1970 * 1000
        guard milliseconds.isFinite else {
            self.millisecondsSinceEpoch = milliseconds < 0 || milliseconds.isNaN ? .min : .max
            return
        }
        // A Date made from whole milliseconds can land a hair off them: Date keeps seconds
        // since 2001 in a Double, so the value was rounded to that Double's resolution, and
        // again on the way to seconds since 1970 and to milliseconds. Snap to the nearest
        // millisecond when it is within those rounding errors, otherwise truncate toward
        // the past.
        let nearest = milliseconds.rounded()
        let storageError = 1000 * date.timeIntervalSinceReferenceDate.ulp
        let tolerance = Swift.max(1e-6, 8 * milliseconds.ulp + storageError)
        let chosen = abs(milliseconds - nearest) <= tolerance ? nearest : milliseconds.rounded(.down)
        if chosen >= 9.223372036854775807e18 {
            self.millisecondsSinceEpoch = .max
        } else if chosen < -9.223372036854775808e18 {
            self.millisecondsSinceEpoch = .min
        } else {
            self.millisecondsSinceEpoch = Int64(chosen)
        }
    }

    /// The datetime as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000)
    }

    public static func < (lhs: BSONDatetime, rhs: BSONDatetime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// ISO-8601 text in UTC with milliseconds for years 0 through 9999, otherwise the
    /// millisecond count.
    public var description: String {
        iso8601String ?? "\(millisecondsSinceEpoch) ms since 1970"
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` for years 0000 through 9999; `nil` outside them.
    public var iso8601String: String? {
        let millisPerDay: Int64 = 86_400_000
        var days = millisecondsSinceEpoch / millisPerDay
        var millisOfDay = millisecondsSinceEpoch % millisPerDay
        if millisOfDay < 0 {
            millisOfDay += millisPerDay
            days -= 1
        }
        let (year, month, day) = Self.civilDate(fromDaysSinceEpoch: days)
        guard (0...9999).contains(year) else { return nil }
        let hour = millisOfDay / 3_600_000
        let minute = millisOfDay / 60_000 % 60
        let second = millisOfDay / 1000 % 60
        let millis = millisOfDay % 1000
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T"
            + "\(Self.pad(hour, 2)):\(Self.pad(minute, 2)):\(Self.pad(second, 2)).\(Self.pad(millis, 3))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Proleptic Gregorian calendar date of a day count since 1970-01-01 (the days-to-civil
    /// algorithm by eras of 400 years).
    package static func civilDate(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (inverse of
    /// ``civilDate(fromDaysSinceEpoch:)``).
    package static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let monthShifted = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthShifted + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
