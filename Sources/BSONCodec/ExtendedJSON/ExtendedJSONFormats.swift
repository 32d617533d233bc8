/// The text forms Extended JSON uses inside its type wrappers: doubles, integers, base64,
/// hexadecimal subtypes, UUIDs and ISO-8601 dates. Pure Swift, no allocation beyond the
/// result.
enum ExtendedJSONFormats {
    // MARK: Regular-expression options

    /// The option characters of a regular expression in ascending order, as Extended JSON
    /// requires them. Whole Unicode scalars are sorted, not UTF-8 bytes: sorting the bytes
    /// of a character outside ASCII would tear it apart and turn the options into invalid
    /// UTF-8 (repaired to U+FFFD, silently changing the value). For ASCII options the two
    /// orders are the same.
    static func sortedRegexOptions(_ options: String) -> String {
        var sorted = String.UnicodeScalarView()
        sorted.append(contentsOf: options.unicodeScalars.sorted())
        return String(sorted)
    }

    // MARK: Doubles

    /// The shortest decimal text that reads back as exactly `value` (which must be finite).
    ///
    /// The layout is Python's `repr` (the one PyMongo, the reference implementation, writes
    /// into `$numberDouble`): plain notation with at least one fractional digit when the
    /// decimal exponent is from −4 to 15 (`"1.0"`, `"-0.0"`, `"0.0001"`,
    /// `"9007199254740993.0"`), otherwise scientific notation with a lowercase `e`, a sign
    /// and at least two exponent digits (`"1e+16"`, `"1.2345678901234568e+18"`, `"1e-05"`,
    /// `"5e-324"`). Either form is a JSON *non-integer*, so relaxed output reads back as a
    /// double.
    static func doubleText(_ value: Double) -> String {
        precondition(value.isFinite, "only finite doubles have a decimal form")
        // Swift's description has the shortest round-trip digits; only its layout differs
        // from the one chosen here, so take the digits and the exponent from it.
        var digits: [UInt8] = []
        var pointPosition = 0  // digits before the decimal point, in the mantissa as written
        var sawPoint = false
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in value.magnitude.description.utf8 {
            switch byte {
            case UInt8(ascii: "."):
                sawPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "-") where inExponent:
                exponentSign = -1
            case UInt8(ascii: "+"):
                break
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                } else {
                    digits.append(byte)
                    if !sawPoint { pointPosition += 1 }
                }
            default:
                preconditionFailure("unexpected character in Double.description")
            }
        }
        exponent *= exponentSign
        // Normalise to digits d1 d2 … with value 0.d1d2… × 10^(pointPosition + exponent).
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        var text = value.sign == .minus ? "-" : ""
        guard !digits.isEmpty else { return text + "0.0" }
        let scientificExponent = pointPosition + exponent - 1
        let characters = digits.map { Character(Unicode.Scalar($0)) }
        if (-4...15).contains(scientificExponent) {
            if scientificExponent >= 0 {
                let integerCount = scientificExponent + 1
                for index in 0..<integerCount { text.append(index < characters.count ? characters[index] : "0") }
                text.append(".")
                if characters.count > integerCount {
                    text.append(contentsOf: characters[integerCount...])
                } else {
                    text.append("0")
                }
            } else {
                text += "0." + String(repeating: "0", count: -scientificExponent - 1)
                text.append(contentsOf: characters)
            }
        } else {
            text.append(characters[0])
            if characters.count > 1 {
                text.append(".")
                text.append(contentsOf: characters[1...])
            }
            text += scientificExponent < 0 ? "e-" : "e+"
            let magnitude = String(abs(scientificExponent))
            if magnitude.count < 2 { text += "0" }
            text += magnitude
        }
        return text
    }

    /// Reads the text of a `$numberDouble` wrapper: `"Infinity"`, `"-Infinity"`, `"NaN"`, or
    /// a decimal number (an optional `-`, digits with an optional fraction, an optional
    /// exponent; a bare leading or trailing point such as `".5"` or `"1."` is accepted).
    /// Returns `nil` for anything else, and for numbers too large for a double.
    static func parseDouble(_ text: String) -> Double? {
        switch text {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default: break
        }
        let utf8 = Array(text.utf8)
        var index = 0
        if index < utf8.count, utf8[index] == UInt8(ascii: "-") { index += 1 }
        var mantissaDigits = 0
        while index < utf8.count, isDigit(utf8[index]) {
            index += 1
            mantissaDigits += 1
        }
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            while index < utf8.count, isDigit(utf8[index]) {
                index += 1
                mantissaDigits += 1
            }
        }
        guard mantissaDigits > 0 else { return nil }
        if index < utf8.count, utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E") {
            index += 1
            if index < utf8.count, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") { index += 1 }
            var exponentDigits = 0
            while index < utf8.count, isDigit(utf8[index]) {
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == utf8.count, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    // MARK: Integers

    /// Reads `-?[0-9]+` as a fixed-width integer; `nil` for other text or when out of range.
    static func parseInteger<Integer: FixedWidthInteger & SignedInteger>(_ text: String, as type: Integer.Type) -> Integer? {
        var utf8 = Substring(text).utf8[...]
        if utf8.first == UInt8(ascii: "-") { utf8 = utf8.dropFirst() }
        guard !utf8.isEmpty, utf8.allSatisfy(isDigit) else { return nil }
        return Integer(text, radix: 10)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Base64

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 (RFC 4648 section 4) with `=` padding.
    static func base64(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(base64Alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (remaining == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(base64Alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(base64Alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(remaining == 2 ? base64Alphabet[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes padded standard base64. Rejects (with a reason) other alphabets, missing or
    /// misplaced padding, whitespace, and unused bits that are not zero (so that every byte
    /// string has exactly one accepted spelling).
    static func decodeBase64(_ text: String) -> Result<[UInt8], Base64Failure> {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return .failure(.length(input.count)) }
        var output = [UInt8]()
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            var chunk: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                let isLastQuad = index + 4 == input.count
                if byte == UInt8(ascii: "=") {
                    guard isLastQuad, offset >= 2 else { return .failure(.misplacedPadding(index + offset)) }
                    padding += 1
                    chunk <<= 6
                    continue
                }
                guard padding == 0, let value = base64Value(byte) else {
                    return .failure(padding > 0 ? .misplacedPadding(index + offset) : .character(byte, index + offset))
                }
                chunk = chunk << 6 | UInt32(value)
            }
            output.append(UInt8(truncatingIfNeeded: chunk >> 16))
            if padding < 2 { output.append(UInt8(truncatingIfNeeded: chunk >> 8)) }
            if padding < 1 { output.append(UInt8(truncatingIfNeeded: chunk)) }
            if padding == 1, chunk & 0xFF != 0 { return .failure(.nonZeroTrailingBits) }
            if padding == 2, chunk & 0xFFFF != 0 { return .failure(.nonZeroTrailingBits) }
            index += 4
        }
        return .success(output)
    }

    /// Why base64 text was refused.
    enum Base64Failure: Error {
        case length(Int)
        case character(UInt8, Int)
        case misplacedPadding(Int)
        case nonZeroTrailingBits

        var reason: String {
            switch self {
            case .length(let count):
                "its length \(count) is not a multiple of 4 (base64 must be padded with '=')"
            case .character(let byte, let index):
                byte >= 0x20 && byte < 0x7F
                    ? "'\(Character(Unicode.Scalar(byte)))' at index \(index) is not a base64 character"
                    : "byte 0x\(ExtendedJSONError.hex(byte)) at index \(index) is not a base64 character"
            case .misplacedPadding(let index):
                "padding '=' is misplaced at index \(index)"
            case .nonZeroTrailingBits:
                "the bits after the last byte are not zero (not the canonical encoding)"
            }
        }
    }

    private static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    // MARK: Hexadecimal

    /// The value of one hexadecimal digit (either case), or `nil`.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Two lowercase hexadecimal digits.
    static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: false)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// A binary subtype written as one or two hexadecimal digits (either case).
    static func parseSubtype(_ text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard (1...2).contains(utf8.count) else { return nil }
        var value: UInt8 = 0
        for byte in utf8 {
            guard let digit = hexValue(byte) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// The 16 bytes of a UUID written in the RFC 4122 text form
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hexadecimal digits in either case, hyphens
    /// required); `nil` otherwise.
    static func parseUUID(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        var index = 0
        while index < 36 {
            if [8, 13, 18, 23].contains(index) {
                guard utf8[index] == UInt8(ascii: "-") else { return nil }
                index += 1
                continue
            }
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1])
            else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    // MARK: Dates

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for a datetime in the years 1970 through 9999, the form
    /// relaxed Extended JSON uses: milliseconds appear (always three digits) only when they
    /// are not zero, as the specification recommends. `nil` outside those years.
    static func relaxedDate(_ datetime: BSONDatetime) -> String? {
        let millisPerDay: Int64 = 86_400_000
        let milliseconds = datetime.millisecondsSinceEpoch
        guard milliseconds >= 0 else { return nil }
        let days = milliseconds / millisPerDay
        let millisOfDay = milliseconds % millisPerDay
        let (year, month, day) = BSONDatetime.civilDate(fromDaysSinceEpoch: days)
        guard year <= 9999 else { return nil }
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(millisOfDay / 3_600_000, 2) + ":" + pad(millisOfDay / 60_000 % 60, 2) + ":"
        text += pad(millisOfDay / 1000 % 60, 2)
        let fraction = millisOfDay % 1000
        if fraction != 0 { text += "." + pad(fraction, 3) }
        return text + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Reads an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, also
    /// accepting `±HHMM` offsets and lowercase `t`/`z`) as milliseconds since the epoch.
    /// Fraction digits past the third are dropped. Returns a reason on failure.
    static func parseISODate(_ text: String) -> Result<Int64, DateFailure> {
        let utf8 = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= utf8.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<width {
                let byte = utf8[index + offset]
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < utf8.count, characters.utf8.contains(utf8[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else {
            return .failure(.layout)
        }
        guard expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return .failure(.layout) }
        var milliseconds: Int64 = 0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < utf8.count, isDigit(utf8[index]) {
                if digits < 3 { milliseconds = milliseconds * 10 + Int64(utf8[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return .failure(.layout) }
            for _ in digits..<max(digits, 3) { milliseconds *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if expect("Zz") {
            // UTC
        } else if index < utf8.count, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
            let sign: Int64 = utf8[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2) else { return .failure(.layout) }
            _ = expect(":")
            guard let offsetMinutesPart = number(2), offsetHours <= 23, offsetMinutesPart <= 59 else {
                return .failure(.layout)
            }
            offsetMinutes = sign * (offsetHours * 60 + offsetMinutesPart)
        } else {
            return .failure(.layout)
        }
        guard index == utf8.count else { return .failure(.layout) }
        guard (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day), hour <= 23, minute <= 59,
            second <= 59
        else { return .failure(.range) }
        let days = BSONDatetime.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60
        return .success(seconds * 1000 + milliseconds)
    }

    /// Why a date string was refused.
    enum DateFailure: Error {
        case layout
        case range

        var reason: String {
            switch self {
            case .layout: "is not an ISO-8601 date-time of the form YYYY-MM-DDTHH:MM:SS[.sss](Z|+HH:MM|-HH:MM)"
            case .range: "has a month, day, hour, minute or second out of range"
            }
        }
    }

    private static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
