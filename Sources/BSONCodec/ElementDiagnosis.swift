/// Header checks for a whole document, and the explanation of an element that libbson's
/// iterator refused. Pure Swift, bounds-checked on every read: any bytes give a message,
/// never a trap.
package enum FrameChecks {
    /// Checks that `bytes` is exactly one document by its header: at least 5 bytes, the
    /// little-endian length equal to the byte count, and a final 0x00.
    ///
    /// - Returns: The document length.
    package static func checkDocumentHeader(_ bytes: UnsafeRawBufferPointer) throws(BSONError) -> Int {
        guard bytes.count >= 5 else {
            throw BSONError(.malformed, "a BSON document has at least 5 bytes; got \(bytes.count)", offset: 0)
        }
        let declared = Int(Int32(littleEndian: bytes.loadUnaligned(as: Int32.self)))
        guard declared == bytes.count else {
            if declared < 5 {
                throw BSONError(.malformed, "document declares \(declared) bytes; the smallest is 5", offset: 0)
            }
            throw BSONError(
                .malformed, "document declares \(declared) bytes but \(bytes.count) were given", offset: 0)
        }
        guard bytes[declared - 1] == 0 else {
            throw BSONError(
                .malformed,
                "document does not end with a 0x00 terminator (last byte 0x\(String(bytes[declared - 1], radix: 16)))",
                offset: declared - 1)
        }
        return declared
    }
}

/// Says precisely why an element is malformed, given the bytes of the document holding it
/// and the element's offset in that document.
enum ElementDiagnosis {
    static func explain(document: UnsafeBufferPointer<UInt8>, elementOffset: Int, documentOffset: Int) -> BSONError {
        var diagnosis = Diagnosis(bytes: document, elementOffset: elementOffset)
        let (code, message, relativeOffset) = diagnosis.run()
        return BSONError(code, message, offset: documentOffset + relativeOffset, keyPath: diagnosis.key.map { [$0] } ?? [])
    }

    private struct Diagnosis {
        let bytes: UnsafeBufferPointer<UInt8>
        let elementOffset: Int
        var key: String?

        init(bytes: UnsafeBufferPointer<UInt8>, elementOffset: Int) {
            self.bytes = bytes
            self.elementOffset = elementOffset
        }

        /// Where the element's content must end: the document's own terminator.
        var limit: Int { bytes.count - 1 }

        func int32(at offset: Int) -> Int? {
            guard offset >= 0, offset + 4 <= bytes.count else { return nil }
            return Int(Int32(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: Int32.self)))
        }

        func nulIndex(from offset: Int) -> Int? {
            var index = offset
            while index < bytes.count {
                if bytes[index] == 0 { return index }
                index += 1
            }
            return nil
        }

        mutating func run() -> (BSONError.Code, String, Int) {
            guard elementOffset < limit else {
                return (.malformed, "document ends without its 0x00 terminator", min(elementOffset, bytes.count - 1))
            }
            let typeByte = bytes[elementOffset]
            if typeByte == 0 {
                return (
                    .malformed,
                    "0x00 terminator at byte \(elementOffset) of a document that declares \(bytes.count) bytes",
                    elementOffset
                )
            }
            guard let keyEnd = nulIndex(from: elementOffset + 1), keyEnd < limit else {
                return (.malformed, "key runs into the end of the document", elementOffset + 1)
            }
            key = String(decoding: bytes[(elementOffset + 1)..<keyEnd], as: UTF8.self)
            guard let type = BSONType(rawValue: typeByte) else {
                return (.unknownType, "unknown element type 0x\(hex(typeByte))", elementOffset)
            }
            let data = keyEnd + 1
            let room = limit - data
            switch type {
            case .double, .int64, .datetime, .timestamp:
                return fixed(type, size: 8, data: data, room: room)
            case .int32:
                return fixed(type, size: 4, data: data, room: room)
            case .objectID:
                return fixed(type, size: 12, data: data, room: room)
            case .decimal128:
                return fixed(type, size: 16, data: data, room: room)
            case .bool:
                guard room >= 1 else { return short(type, need: 1, data: data, room: room) }
                return (.invalidBoolean, "boolean byte is 0x\(hex(bytes[data])); only 0x00 and 0x01 are allowed", data)
            case .string, .javascript, .symbol:
                return string(type.description, at: data, room: room) ?? generic(type, data)
            case .document, .array, .javascriptWithScope:
                guard room >= 4, let length = int32(at: data) else { return short(type, need: 4, data: data, room: room) }
                let smallest = type == .javascriptWithScope ? 14 : 5
                if length < smallest {
                    return (.malformed, "\(type) declares \(length) bytes; the smallest is \(smallest)", data)
                }
                if length > room {
                    return (
                        .malformed,
                        "\(type) declares \(length) bytes but only \(room) remain before the enclosing document's end",
                        data
                    )
                }
                if type == .javascriptWithScope { return codeWithScope(data: data, length: length) }
                return generic(type, data)
            case .binary:
                guard room >= 5, let length = int32(at: data) else { return short(type, need: 5, data: data, room: room) }
                if length < 0 || length > room - 5 {
                    return (
                        .malformed,
                        "binary declares \(length) bytes but \(room - 5) remain before the enclosing document's end",
                        data
                    )
                }
                if bytes[data + 4] == 0x02 {
                    guard length >= 4, let inner = int32(at: data + 5) else {
                        return (.malformed, "binary subtype 2 needs a 4-byte inner length; it has \(length) bytes", data)
                    }
                    return (
                        .malformed,
                        "binary subtype 2 inner length is \(inner) but the outer length \(length) implies \(length - 4)",
                        data + 5
                    )
                }
                return generic(type, data)
            case .regex:
                guard let patternEnd = nulIndex(from: data), patternEnd < limit else {
                    return (.malformed, "regular expression pattern is not NUL-terminated inside the document", data)
                }
                guard let optionsEnd = nulIndex(from: patternEnd + 1), optionsEnd < limit else {
                    return (.malformed, "regular expression options are not NUL-terminated inside the document", patternEnd + 1)
                }
                return generic(type, data)
            case .dbPointer:
                if let problem = string("DBPointer namespace", at: data, room: room) { return problem }
                return short(type, need: 4 + (int32(at: data) ?? 0) + 12, data: data, room: room)
            case .undefined, .null, .minKey, .maxKey:
                return generic(type, data)
            }
        }

        func fixed(_ type: BSONType, size: Int, data: Int, room: Int) -> (BSONError.Code, String, Int) {
            room < size ? short(type, need: size, data: data, room: room) : generic(type, data)
        }

        func short(_ type: BSONType, need: Int, data: Int, room: Int) -> (BSONError.Code, String, Int) {
            (
                .malformed,
                "\(type) value needs \(need) bytes but only \(max(room, 0)) remain before the enclosing document's end",
                min(data, bytes.count - 1)
            )
        }

        /// Problems with a length-prefixed, NUL-terminated string at `offset`, or `nil`.
        func string(_ what: String, at offset: Int, room: Int) -> (BSONError.Code, String, Int)? {
            guard room >= 4, let length = int32(at: offset) else {
                return (.malformed, "\(what) needs a 4-byte length; only \(max(room, 0)) bytes remain", offset)
            }
            if length < 1 {
                return (.malformed, "\(what) length is \(length); it must be at least 1 (it counts the final NUL)", offset)
            }
            if length > room - 4 {
                return (
                    .malformed,
                    "\(what) length \(length) runs past the enclosing document's end (\(room - 4) bytes remain)",
                    offset
                )
            }
            if bytes[offset + 4 + length - 1] != 0 {
                return (.malformed, "\(what) does not end with a NUL byte", offset + 4 + length - 1)
            }
            return nil
        }

        func codeWithScope(data: Int, length: Int) -> (BSONError.Code, String, Int) {
            let end = data + length
            if let problem = string("code-with-scope code", at: data + 4, room: length - 4) { return problem }
            let codeLength = int32(at: data + 4) ?? 0
            let scope = data + 8 + codeLength
            guard let scopeLength = int32(at: scope), scope + 4 <= end else {
                return (.malformed, "code with scope has no room for its scope document", scope)
            }
            return (
                .malformed,
                "code with scope declares \(length) bytes but its parts take \(8 + codeLength + scopeLength)",
                scope
            )
        }

        func generic(_ type: BSONType, _ data: Int) -> (BSONError.Code, String, Int) {
            (.malformed, "malformed \(type) element", data)
        }

        func hex(_ byte: UInt8) -> String {
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
    }
}
