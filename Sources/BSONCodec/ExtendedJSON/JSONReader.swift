/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// It accepts exactly the JSON grammar: no comments, no trailing commas, no single quotes,
/// no `NaN`/`Infinity` literals, no leading zeros, no raw control characters in strings,
/// `\u` escapes with surrogates only in valid pairs, and well-formed UTF-8 only. Nesting is
/// limited so that hostile input cannot exhaust the stack. Every failure is a ``BSONError``
/// with code ``BSONError/Code/invalidExtendedJSON`` that names the line, column and byte
/// offset.
struct JSONReader {
    private let input: UnsafeBufferPointer<UInt8>
    private let maxNesting: Int
    private var position = 0

    private init(input: UnsafeBufferPointer<UInt8>, maxNesting: Int) {
        self.input = input
        self.maxNesting = maxNesting
    }

    /// Parses `input`, which must hold exactly one JSON object (surrounded by optional
    /// whitespace).
    ///
    /// - Parameters:
    ///   - input: UTF-8 bytes.
    ///   - maxNesting: How many objects and arrays may nest (the outermost object counts
    ///     as 1).
    static func parseObject(_ input: UnsafeBufferPointer<UInt8>, maxNesting: Int) throws(BSONError) -> JSONNode {
        if let bad = UTF8Validation.firstInvalidOffset(input) {
            throw ExtendedJSONError.make("invalid UTF-8: byte 0x\(ExtendedJSONError.hex(input[bad])) does not start or continue a well-formed sequence", at: bad, in: input)
        }
        var reader = JSONReader(input: input, maxNesting: maxNesting)
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF {
            throw reader.error("a byte order mark is not allowed before JSON text", at: 0)
        }
        reader.skipWhitespace()
        guard reader.position < input.count else {
            throw reader.error("expected a JSON object but the input is empty", at: reader.position)
        }
        guard input[reader.position] == UInt8(ascii: "{") else {
            throw reader.error(
                "expected '{': an Extended JSON document must be a JSON object, not \(reader.describeCurrent())",
                at: reader.position)
        }
        let node = try reader.parseValue(nesting: 0)
        reader.skipWhitespace()
        guard reader.position == input.count else {
            throw reader.error("unexpected \(reader.describeCurrent()) after the end of the JSON object", at: reader.position)
        }
        return node
    }

    // MARK: Values

    private mutating func parseValue(nesting: Int) throws(BSONError) -> JSONNode {
        guard position < input.count else { throw error("unexpected end of input; expected a value", at: position) }
        let start = position
        switch input[position] {
        case UInt8(ascii: "{"):
            return JSONNode(value: .object(try parseObjectBody(nesting: nesting + 1)), offset: start)
        case UInt8(ascii: "["):
            return JSONNode(value: .array(try parseArrayBody(nesting: nesting + 1)), offset: start)
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try parseString()), offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: .number(try parseNumber()), offset: start)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return JSONNode(value: .bool(true), offset: start)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return JSONNode(value: .bool(false), offset: start)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return JSONNode(value: .null, offset: start)
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error(
                "NaN and Infinity are not JSON values; write {\"$numberDouble\": \"NaN\"} or {\"$numberDouble\": \"Infinity\"}",
                at: start)
        default:
            throw error("unexpected \(describeCurrent()); expected a value", at: start)
        }
    }

    private mutating func parseObjectBody(nesting: Int) throws(BSONError) -> [JSONMember] {
        try checkNesting(nesting)
        position += 1  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return members
        }
        while true {
            skipWhitespace()
            guard position < input.count else { throw error("unexpected end of input inside an object; expected a key", at: position) }
            guard input[position] == UInt8(ascii: "\"") else {
                if input[position] == UInt8(ascii: "}"), !members.isEmpty {
                    throw error("trailing comma before '}'", at: position)
                }
                throw error("expected a string key in double quotes, found \(describeCurrent())", at: position)
            }
            let keyOffset = position
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\", found \(describeCurrent())", at: position)
            }
            position += 1
            skipWhitespace()
            let value = try parseValue(nesting: nesting)
            members.append(JSONMember(key: key, keyOffset: keyOffset, node: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return members
            case nil:
                throw error("unexpected end of input inside an object; expected ',' or '}'", at: position)
            default:
                throw error("expected ',' or '}' after an object member, found \(describeCurrent())", at: position)
            }
        }
    }

    private mutating func parseArrayBody(nesting: Int) throws(BSONError) -> [JSONNode] {
        try checkNesting(nesting)
        position += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "]"), !elements.isEmpty {
                throw error("trailing comma before ']'", at: position)
            }
            elements.append(try parseValue(nesting: nesting))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return elements
            case nil:
                throw error("unexpected end of input inside an array; expected ',' or ']'", at: position)
            default:
                throw error("expected ',' or ']' after an array element, found \(describeCurrent())", at: position)
            }
        }
    }

    private func checkNesting(_ nesting: Int) throws(BSONError) {
        guard nesting <= maxNesting else {
            throw error("objects and arrays are nested more than \(maxNesting) levels deep", at: position)
        }
    }

    // MARK: Strings

    /// Parses the string starting at the opening quote under `position`.
    private mutating func parseString() throws(BSONError) -> String {
        let open = position
        position += 1
        let contentStart = position
        // Fast path: no escapes, so the bytes are the string (already validated as UTF-8).
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: input[contentStart..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw controlCharacterError(byte) }
            position += 1
        }
        guard position < input.count else { throw error("unterminated string", at: open) }
        var bytes = [UInt8](UnsafeBufferPointer(rebasing: input[contentStart..<position]))
        while position < input.count {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &bytes)
            case 0..<0x20:
                throw controlCharacterError(byte)
            default:
                bytes.append(byte)
                position += 1
            }
        }
        throw error("unterminated string", at: open)
    }

    private func controlCharacterError(_ byte: UInt8) -> BSONError {
        error("control character U+00\(ExtendedJSONError.hex(byte)) must be escaped inside a string", at: position)
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(BSONError) {
        let start = position
        position += 1  // backslash
        guard position < input.count else { throw error("unterminated escape sequence", at: start) }
        let letter = input[position]
        position += 1
        switch letter {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: start)
            var scalarValue = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u")
                else {
                    throw error("lone high surrogate \\u\(String(unit, radix: 16, uppercase: true)) is not followed by a low surrogate", at: start)
                }
                let lowStart = position
                position += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error(
                        "high surrogate \\u\(String(unit, radix: 16, uppercase: true)) is followed by \\u\(String(low, radix: 16, uppercase: true)), not a low surrogate",
                        at: lowStart)
                }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw error("lone low surrogate \\u\(String(unit, radix: 16, uppercase: true)) without a high surrogate before it", at: start)
            }
            // Every value here is a valid scalar: surrogates were paired or rejected above.
            Self.appendUTF8(scalarValue, to: &bytes)
        default:
            position -= 1
            throw error("invalid escape sequence \\\(describeByte(letter)) in a string", at: start)
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(BSONError) -> UInt16 {
        // `position` is just after the "u".
        guard position + 4 <= input.count else { throw error("\\u escape needs four hexadecimal digits", at: escapeStart) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = ExtendedJSONFormats.hexValue(input[position]) else {
                throw error("\\u escape needs four hexadecimal digits, found \(describeCurrent())", at: position)
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    /// Appends the UTF-8 form of the scalar `value` (not a surrogate, at most U+10FFFF).
    private static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | value >> 6))
            bytes.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | value >> 12))
            bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | value >> 18))
            bytes.append(UInt8(0x80 | value >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        }
    }

    // MARK: Numbers and literals

    private mutating func parseNumber() throws(BSONError) -> JSONNumber {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else {
            throw error("expected a digit after '-', found \(describeCurrent())", at: position)
        }
        position += 1
        if first == UInt8(ascii: "0") {
            if let next = peek(), isDigit(next) { throw error("leading zeros are not allowed in JSON numbers", at: start) }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let digit = peek(), isDigit(digit) else {
                throw error("expected a digit after the decimal point, found \(describeCurrent())", at: position)
            }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), isDigit(digit) else {
                throw error("expected a digit in the exponent, found \(describeCurrent())", at: position)
            }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        return JSONNumber(text: text, isInteger: isInteger)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(BSONError) {
        let start = position
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            position + count <= input.count && (0..<count).allSatisfy { input[position + $0] == expected[$0] }
        }
        guard matches else { throw error("invalid literal; expected \(literal)", at: start) }
        position += count
    }

    // MARK: Helpers

    private func peek() -> UInt8? { position < input.count ? input[position] : nil }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    /// The character under `position`, quoted, for messages ("end of input" past the end).
    private func describeCurrent() -> String {
        guard position < input.count else { return "end of input" }
        return describeByte(input[position])
    }

    private func describeByte(_ byte: UInt8) -> String {
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 {
            // A multi-byte character: show the whole scalar when it decodes.
            var end = position + 1
            while end < input.count, input[end] & 0xC0 == 0x80 { end += 1 }
            let text = String(decoding: UnsafeBufferPointer(rebasing: input[position..<end]), as: UTF8.self)
            return "'\(text)'"
        }
        return "byte 0x\(ExtendedJSONError.hex(byte))"
    }

    private func error(_ message: String, at offset: Int) -> BSONError {
        ExtendedJSONError.make(message, at: offset, in: input)
    }
}
