/// Writes BSON values as Extended JSON v2 text: compact (no whitespace at all), keys and
/// values in document order, duplicate keys kept, wrapper keys in the order the
/// specification gives.
struct ExtendedJSONWriter {
    private(set) var output: [UInt8] = []
    let mode: ExtendedJSONMode

    init(mode: ExtendedJSONMode) {
        self.mode = mode
        output.reserveCapacity(64)
    }

    /// The text written so far.
    var text: String { String(decoding: output, as: UTF8.self) }

    mutating func write(_ document: BSONDocument) {
        output.append(UInt8(ascii: "{"))
        var first = true
        for field in document.fields {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            writeString(field.key)
            output.append(UInt8(ascii: ":"))
            write(field.value)
        }
        output.append(UInt8(ascii: "}"))
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    mutating func write(_ value: BSONValue) {
        switch value {
        case .double(let number):
            if !number.isFinite {
                openWrapper("$numberDouble")
                writeString(number.isNaN ? "NaN" : number < 0 ? "-Infinity" : "Infinity")
                closeWrapper()
            } else if mode == .relaxed {
                writeRaw(ExtendedJSONFormats.doubleText(number))
            } else {
                openWrapper("$numberDouble")
                writeString(ExtendedJSONFormats.doubleText(number))
                closeWrapper()
            }
        case .string(let text):
            writeString(text)
        case .document(let document):
            write(document)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element)
            }
            output.append(UInt8(ascii: "]"))
        case .binary(let binary):
            openWrapper("$binary")
            output.append(UInt8(ascii: "{"))
            writeKey("base64")
            writeString(ExtendedJSONFormats.base64(binary.data))
            output.append(UInt8(ascii: ","))
            writeKey("subType")
            writeString(ExtendedJSONFormats.hexByte(binary.subtype.rawValue))
            output.append(UInt8(ascii: "}"))
            closeWrapper()
        case .undefined:
            openWrapper("$undefined")
            writeRaw("true")
            closeWrapper()
        case .objectID(let id):
            writeObjectID(id)
        case .bool(let flag):
            writeRaw(flag ? "true" : "false")
        case .datetime(let datetime):
            openWrapper("$date")
            if mode == .relaxed, let iso = ExtendedJSONFormats.relaxedDate(datetime) {
                writeString(iso)
            } else {
                openWrapper("$numberLong")
                writeString(String(datetime.millisecondsSinceEpoch))
                closeWrapper()
            }
            closeWrapper()
        case .null:
            writeRaw("null")
        case .regex(let regex):
            openWrapper("$regularExpression")
            output.append(UInt8(ascii: "{"))
            writeKey("pattern")
            writeString(regex.pattern)
            output.append(UInt8(ascii: ","))
            writeKey("options")
            // The specification requires the option letters in alphabetical order.
            writeString(ExtendedJSONFormats.sortedRegexOptions(regex.options))
            output.append(UInt8(ascii: "}"))
            closeWrapper()
        case .dbPointer(let pointer):
            openWrapper("$dbPointer")
            output.append(UInt8(ascii: "{"))
            writeKey("$ref")
            writeString(pointer.ref)
            output.append(UInt8(ascii: ","))
            writeKey("$id")
            writeObjectID(pointer.id)
            output.append(UInt8(ascii: "}"))
            closeWrapper()
        case .javascript(let code):
            openWrapper("$code")
            writeString(code)
            closeWrapper()
        case .symbol(let symbol):
            openWrapper("$symbol")
            writeString(symbol)
            closeWrapper()
        case .javascriptWithScope(let codeWithScope):
            openWrapper("$code")
            writeString(codeWithScope.code)
            output.append(UInt8(ascii: ","))
            writeKey("$scope")
            write(codeWithScope.scope)
            closeWrapper()
        case .int32(let number):
            if mode == .relaxed {
                writeRaw(String(number))
            } else {
                openWrapper("$numberInt")
                writeString(String(number))
                closeWrapper()
            }
        case .timestamp(let timestamp):
            openWrapper("$timestamp")
            output.append(UInt8(ascii: "{"))
            writeKey("t")
            writeRaw(String(timestamp.timestamp))
            output.append(UInt8(ascii: ","))
            writeKey("i")
            writeRaw(String(timestamp.increment))
            output.append(UInt8(ascii: "}"))
            closeWrapper()
        case .int64(let number):
            if mode == .relaxed {
                writeRaw(String(number))
            } else {
                openWrapper("$numberLong")
                writeString(String(number))
                closeWrapper()
            }
        case .decimal128(let decimal):
            openWrapper("$numberDecimal")
            writeString(decimal.description)
            closeWrapper()
        case .minKey:
            openWrapper("$minKey")
            writeRaw("1")
            closeWrapper()
        case .maxKey:
            openWrapper("$maxKey")
            writeRaw("1")
            closeWrapper()
        }
    }

    private mutating func writeObjectID(_ id: BSONObjectID) {
        openWrapper("$oid")
        writeString(id.hexString)
        closeWrapper()
    }

    /// Writes `{"key":` — the start of a one-key wrapper object.
    private mutating func openWrapper(_ key: StaticString) {
        output.append(UInt8(ascii: "{"))
        writeKey(key)
    }

    private mutating func closeWrapper() {
        output.append(UInt8(ascii: "}"))
    }

    /// Writes `"key":` for a key that needs no escaping.
    private mutating func writeKey(_ key: StaticString) {
        output.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(UInt8(ascii: "\""))
        output.append(UInt8(ascii: ":"))
    }

    private mutating func writeRaw(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    /// Writes `text` as a JSON string: `"` and `\` escaped, control characters below U+0020
    /// as `\b \f \n \r \t` or `\u00XX` (so U+0000 is `\u0000`), everything else, non-ASCII
    /// included, as its UTF-8 bytes.
    mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "\\"))
            case 0x08: appendEscape(UInt8(ascii: "b"))
            case 0x0C: appendEscape(UInt8(ascii: "f"))
            case 0x0A: appendEscape(UInt8(ascii: "n"))
            case 0x0D: appendEscape(UInt8(ascii: "r"))
            case 0x09: appendEscape(UInt8(ascii: "t"))
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(contentsOf: ExtendedJSONFormats.hexByte(byte).utf8)
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ letter: UInt8) {
        output.append(UInt8(ascii: "\\"))
        output.append(letter)
    }
}
