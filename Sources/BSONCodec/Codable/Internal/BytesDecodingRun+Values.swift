#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

// Reading one value as a Swift type: the scalars, the strategy-driven Foundation types,
// this package's value types, and the dispatch for values that arrive through a generic
// `decode(_:)`.

extension BytesDecodingRun {
    // MARK: Scalars

    @inline(__always)
    func unboxBool(_ element: BSONElement) throws(UnboxFailure) -> Bool {
        guard element.type == 0x08 else { throw .mismatch(expected: "a bool", found: element.type) }
        return base[Int(element.offset)] != 0
    }

    @inline(__always)
    func unboxString(_ element: BSONElement) throws(UnboxFailure) -> String {
        // Symbols (deprecated) hold a string too; pymongo reads them as `str`.
        guard element.type == 0x02 || element.type == 0x0E else {
            throw .mismatch(expected: "a string", found: element.type)
        }
        return string(Int(element.offset))
    }

    @inline(__always)
    func unboxDouble(_ element: BSONElement) throws(UnboxFailure) -> Double {
        switch element.type {
        case 0x01:
            return double(Int(element.offset))
        case 0x10:
            return Double(int32(Int(element.offset)))
        case 0x12:
            let value = int64(Int(element.offset))
            guard let exact = Double(exactly: value) else {
                throw .corrupted("int64 value \(value) cannot be represented exactly as Double")
            }
            return exact
        default:
            throw .mismatch(expected: "a double, int32 or int64", found: element.type)
        }
    }

    func unboxFloat(_ element: BSONElement) throws(UnboxFailure) -> Float {
        switch element.type {
        case 0x01:
            let value = double(Int(element.offset))
            if value.isFinite, abs(value) > Double(Float.greatestFiniteMagnitude) {
                throw .corrupted("double value \(value) does not fit in Float")
            }
            return Float(value)
        case 0x10, 0x12:
            let value = element.type == 0x10 ? Int64(int32(Int(element.offset))) : int64(Int(element.offset))
            guard let exact = Float(exactly: value) else {
                throw .corrupted("\(Self.typeName(element.type)) value \(value) cannot be represented exactly as Float")
            }
            return exact
        default:
            throw .mismatch(expected: "a double, int32 or int64", found: element.type)
        }
    }

    @inline(__always)
    func unboxInteger<Integer: FixedWidthInteger>(_ element: BSONElement, as type: Integer.Type) throws(UnboxFailure)
        -> Integer
    {
        // py-bson's unsigned 64-bit integers (type 0x11) are accepted where they can fit.
        let acceptsUInt64 = !Integer.isSigned && Integer.bitWidth == 64
        switch element.type {
        case 0x10:
            let value = int32(Int(element.offset))
            guard let result = Integer(exactly: value) else {
                throw .corrupted("int32 value \(value) does not fit in \(Integer.self)")
            }
            return result
        case 0x12:
            let value = int64(Int(element.offset))
            guard let result = Integer(exactly: value) else {
                throw .corrupted("int64 value \(value) does not fit in \(Integer.self)")
            }
            return result
        case 0x11 where acceptsUInt64:
            return Integer(truncatingIfNeeded: uint64(Int(element.offset)))
        default:
            throw .mismatch(
                expected: acceptsUInt64 ? "an int32, int64 or uint64 (type 0x11)" : "an int32 or int64", found: element.type)
        }
    }

    // MARK: BSON values

    /// The value as a ``BSONValue``; documents and arrays are built from the run's index
    /// (the bytes were checked when it was made).
    func materialize(_ element: BSONElement) -> BSONValue {
        let offset = Int(element.offset)
        switch element.type {
        case 0x01: return .double(double(offset))
        case 0x02: return .string(string(offset))
        case 0x03: return .document(document(ofRange: Int(element.child)))
        case 0x04: return .array(array(ofRange: Int(element.child)))
        case 0x05: return .binary(binary(offset))
        case 0x06: return .undefined
        case 0x07: return .objectID(BSONObjectID(unsafeBytesAt: base + offset))
        case 0x08: return .bool(base[offset] != 0)
        case 0x09: return .datetime(BSONDatetime(millisecondsSinceEpoch: int64(offset)))
        case 0x0A: return .null
        case 0x0B:
            let (pattern, next) = cString(offset)
            let (options, _) = cString(next)
            return .regex(BSONRegex(pattern: pattern, options: options))
        case 0x0C:
            let ref = string(offset)
            return .dbPointer(BSONDBPointer(ref: ref, id: BSONObjectID(unsafeBytesAt: base + offset + 4 + Int(int32(offset)))))
        case 0x0D: return .javascript(string(offset))
        case 0x0E: return .symbol(string(offset))
        case 0x0F:
            let code = string(offset + 4)
            return .javascriptWithScope(BSONCodeWithScope(code: code, scope: document(ofRange: Int(element.child))))
        case 0x10: return .int32(int32(offset))
        case 0x11: return .timestamp(BSONTimestamp(uint64: uint64(offset)))
        case 0x12: return .int64(int64(offset))
        case 0x13: return .decimal128(BSONDecimal128(high: uint64(offset + 8), low: uint64(offset)))
        case 0xFF: return .minKey
        default: return .maxKey
        }
    }

    /// Binary data at `offset`; subtype 2 without its inner length, as the strict reader
    /// gives it.
    func binary(_ offset: Int) -> BSONBinary {
        let length = Int(int32(offset))
        let subtype = base[offset + 4]
        let data =
            subtype == 0x02
            ? [UInt8](UnsafeBufferPointer(start: base + offset + 9, count: length - 4))
            : [UInt8](UnsafeBufferPointer(start: base + offset + 5, count: length))
        return BSONBinary(data: data, subtype: BSONBinary.Subtype(subtype))
    }

    /// The payload bytes of the binary value at `offset` (subtype 2 without its inner length).
    func binaryPayload(_ offset: Int) -> (subtype: UInt8, bytes: UnsafeBufferPointer<UInt8>) {
        let length = Int(int32(offset))
        let subtype = base[offset + 4]
        if subtype == 0x02 { return (subtype, UnsafeBufferPointer(start: base + offset + 9, count: length - 4)) }
        return (subtype, UnsafeBufferPointer(start: base + offset + 5, count: length))
    }

    /// The document whose elements are range `index` of the index.
    func document(ofRange index: Int) -> BSONDocument {
        let range = ranges[index]
        var fields: [BSONField] = []
        fields.reserveCapacity(Int(range.count))
        for position in Int(range.first)..<Int(range.first + range.count) {
            let entry = entries[position]
            let key = UTF8Validation.string(
                fromValidated: UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength)))
            fields.append(BSONField(key: key, value: materialize(entry.element)))
        }
        return BSONDocument(fields: fields)
    }

    /// The values of the array whose elements are range `index` of the index.
    func array(ofRange index: Int) -> [BSONValue] {
        let range = ranges[index]
        var values: [BSONValue] = []
        values.reserveCapacity(Int(range.count))
        for position in Int(range.first)..<Int(range.first + range.count) {
            values.append(materialize(entries[position].element))
        }
        return values
    }

    // MARK: Generic values

    /// Decodes the value `element` as `type`. `parent` and `component` give its coding path
    /// (no component for the outermost document).
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func decodeValue<T: Decodable>(
        _ type: T.Type, _ element: BSONElement, parent: Int32, _ label: CodingPathArena.Label
    ) throws -> T {
        let kind = kinds.kind(of: T.self)
        do {
            switch kind {
            case .other, .classNamed:
                let mark = paths.count
                let node = paths.push(label, parent: parent)
                defer { paths.truncate(to: mark) }
                if kind == .classNamed, element.type == 0x03 {
                    return try decodeClassNamed(type, element, node: node)
                }
                return try T(from: BytesDecoder(run: self, element: element, node: node))
            case .string: return unsafeBitCast(try unboxString(element), to: T.self)
            case .bool: return unsafeBitCast(try unboxBool(element), to: T.self)
            case .double: return unsafeBitCast(try unboxDouble(element), to: T.self)
            case .float: return unsafeBitCast(try unboxFloat(element), to: T.self)
            case .int: return unsafeBitCast(try unboxInteger(element, as: Int.self), to: T.self)
            case .int8: return unsafeBitCast(try unboxInteger(element, as: Int8.self), to: T.self)
            case .int16: return unsafeBitCast(try unboxInteger(element, as: Int16.self), to: T.self)
            case .int32: return unsafeBitCast(try unboxInteger(element, as: Int32.self), to: T.self)
            case .int64: return unsafeBitCast(try unboxInteger(element, as: Int64.self), to: T.self)
            case .uint: return unsafeBitCast(try unboxInteger(element, as: UInt.self), to: T.self)
            case .uint8: return unsafeBitCast(try unboxInteger(element, as: UInt8.self), to: T.self)
            case .uint16: return unsafeBitCast(try unboxInteger(element, as: UInt16.self), to: T.self)
            case .uint32: return unsafeBitCast(try unboxInteger(element, as: UInt32.self), to: T.self)
            case .uint64: return unsafeBitCast(try unboxInteger(element, as: UInt64.self), to: T.self)
            case .date: return unsafeBitCast(try unboxDate(element, parent: parent, label), to: T.self)
            case .data: return unsafeBitCast(try unboxData(element, parent: parent, label), to: T.self)
            case .uuid: return unsafeBitCast(try unboxUUID(element), to: T.self)
            case .url: return unsafeBitCast(try unboxURL(element), to: T.self)
            case .bsonValue: return unsafeBitCast(materialize(element), to: T.self)
            case .bsonDocument:
                guard element.type == 0x03 else { throw UnboxFailure.mismatch(expected: "a document", found: element.type) }
                return unsafeBitCast(document(ofRange: Int(element.child)), to: T.self)
            default:
                return try unboxNative(type, kind, element)
            }
        } catch let failure as UnboxFailure {
            throw failure.decodingError(T.self, path: path(parent, label))
        }
    }

    /// One of the BSON value types (ObjectID, binary, …): only its own BSON type.
    private func unboxNative<T>(_ type: T.Type, _ kind: TypeKind, _ element: BSONElement) throws(UnboxFailure) -> T {
        let wanted: UInt8
        let name: String
        switch kind {
        case .objectID: (wanted, name) = (0x07, "an objectID")
        case .binary: (wanted, name) = (0x05, "binary data")
        case .timestamp: (wanted, name) = (0x11, "a timestamp")
        case .decimal128: (wanted, name) = (0x13, "a decimal128")
        case .regex: (wanted, name) = (0x0B, "a regex")
        case .dbPointer: (wanted, name) = (0x0C, "a dbPointer")
        case .codeWithScope: (wanted, name) = (0x0F, "a javascriptWithScope")
        default: (wanted, name) = (0x09, "a datetime")
        }
        guard element.type == wanted else { throw .mismatch(expected: name, found: element.type) }
        switch materialize(element) {
        case .objectID(let value): return unsafeBitCast(value, to: T.self)
        case .binary(let value): return unsafeBitCast(value, to: T.self)
        case .timestamp(let value): return unsafeBitCast(value, to: T.self)
        case .decimal128(let value): return unsafeBitCast(value, to: T.self)
        case .regex(let value): return unsafeBitCast(value, to: T.self)
        case .dbPointer(let value): return unsafeBitCast(value, to: T.self)
        case .javascriptWithScope(let value): return unsafeBitCast(value, to: T.self)
        case .datetime(let value): return unsafeBitCast(value, to: T.self)
        default: preconditionFailure("the type byte was checked")
        }
    }

    // MARK: Foundation types

    private func unboxDate(_ element: BSONElement, parent: Int32, _ label: CodingPathArena.Label) throws -> Date {
        let offset = Int(element.offset)
        switch configuration.dateDecodingStrategy {
        case .bsonDatetime:
            guard element.type == 0x09 else { throw UnboxFailure.mismatch(expected: "a datetime", found: element.type) }
            return BSONDatetime(millisecondsSinceEpoch: int64(offset)).date
        case .millisecondsSince1970:
            return Date(timeIntervalSince1970: try number(element, unit: "milliseconds") / 1000)
        case .secondsSince1970:
            return Date(timeIntervalSince1970: try number(element, unit: "seconds"))
        case .iso8601:
            guard element.type == 0x02 else {
                throw UnboxFailure.mismatch(expected: "a string (an ISO-8601 date)", found: element.type)
            }
            let text = string(offset)
            switch ExtendedJSONFormats.parseISODate(text) {
            case .success(let milliseconds): return BSONDatetime(millisecondsSinceEpoch: milliseconds).date
            case .failure(let failure): throw UnboxFailure.corrupted("\"\(text)\" \(failure.reason)")
            }
        case .deferredToDate:
            return try nested(element, parent: parent, label) { try Date(from: $0) }
        case .custom(let read):
            return try nested(element, parent: parent, label) { try read($0) }
        }
    }

    private func number(_ element: BSONElement, unit: String) throws(UnboxFailure) -> Double {
        switch element.type {
        case 0x01: return double(Int(element.offset))
        case 0x10: return Double(int32(Int(element.offset)))
        case 0x12: return Double(int64(Int(element.offset)))
        default: throw .mismatch(expected: "a number of \(unit) (double, int32 or int64)", found: element.type)
        }
    }

    private func unboxData(_ element: BSONElement, parent: Int32, _ label: CodingPathArena.Label) throws -> Data {
        switch configuration.dataDecodingStrategy {
        case .binary:
            guard element.type == 0x05 else { throw UnboxFailure.mismatch(expected: "binary data", found: element.type) }
            return Data(binaryPayload(Int(element.offset)).bytes)
        case .base64:
            guard element.type == 0x02 else { throw UnboxFailure.mismatch(expected: "a base64 string", found: element.type) }
            switch ExtendedJSONFormats.decodeBase64(string(Int(element.offset))) {
            case .success(let bytes): return Data(bytes)
            case .failure(let failure): throw UnboxFailure.corrupted("the string is not valid base64: \(failure.reason)")
            }
        case .deferredToData:
            return try nested(element, parent: parent, label) { try Data(from: $0) }
        case .custom(let read):
            return try nested(element, parent: parent, label) { try read($0) }
        }
    }

    private func unboxUUID(_ element: BSONElement) throws(UnboxFailure) -> UUID {
        switch configuration.uuidDecodingStrategy {
        case .binary:
            guard element.type == 0x05 else {
                throw .mismatch(expected: "binary data of subtype 4 (a UUID)", found: element.type)
            }
            let (subtype, bytes) = binaryPayload(Int(element.offset))
            guard subtype == 0x04, bytes.count == 16 else {
                throw .corrupted(
                    "expected binary data of subtype 4 with 16 bytes (a UUID), found subtype "
                        + "\(BSONBinary.Subtype(subtype)) with \(bytes.count) bytes")
            }
            let b = bytes
            return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
        case .string:
            guard element.type == 0x02 else { throw .mismatch(expected: "a string (a UUID)", found: element.type) }
            let text = string(Int(element.offset))
            guard let uuid = UUID(uuidString: text) else { throw .corrupted("\"\(text)\" is not a UUID") }
            return uuid
        }
    }

    private func unboxURL(_ element: BSONElement) throws(UnboxFailure) -> URL {
        guard element.type == 0x02 else { throw .mismatch(expected: "a string (a URL)", found: element.type) }
        let text = string(Int(element.offset))
        guard let url = URL(string: text) else { throw .corrupted("\"\(text)\" is not a valid URL") }
        return url
    }

    /// Runs `body` with a decoder positioned at `element` (custom and deferred strategies).
    private func nested<R>(
        _ element: BSONElement, parent: Int32, _ label: CodingPathArena.Label,
        _ body: (BytesDecoder) throws -> R
    ) throws -> R {
        let mark = paths.count
        let node = paths.push(label, parent: parent)
        defer { paths.truncate(to: mark) }
        return try body(BytesDecoder(run: self, element: element, node: node))
    }

    // MARK: Class-named types

    /// A ``BSONClassNamed`` type from a document: checks the class-name field and, with a
    /// registry, decodes a registered subclass named there instead.
    private func decodeClassNamed<T: Decodable>(_ type: T.Type, _ element: BSONElement, node: Int32) throws -> T {
        let decoder = BytesDecoder(run: self, element: element, node: node)
        let fields = self.fields(of: element, node: node)
        let tagIndex = find(BSONClassRegistry.classNameKey, in: fields)
        guard tagIndex >= 0 else { return try T(from: decoder) }
        let (tag, tagLabel) = field(tagIndex)
        let tagPath = path(node, tagLabel)
        guard tag.type == 0x02 else {
            throw DecodingError.typeMismatch(
                String.self,
                DecodingError.Context(
                    codingPath: tagPath,
                    debugDescription: "expected a string (a py-bson class name), found \(Self.typeName(tag.type))"))
        }
        let name = string(Int(tag.offset))
        let expected = (T.self as! any BSONClassNamed.Type).bsonClassName
        if name.utf8.elementsEqual(expected.utf8) { return try T(from: decoder) }
        if let registered = configuration.classRegistry?.type(named: name) {
            if let subtype = registered as? T.Type { return try subtype.init(from: decoder) }
            throw DecodingError.typeMismatch(
                T.self,
                DecodingError.Context(
                    codingPath: path(node),
                    debugDescription: "expected a \(expected) document, found one tagged \"\(name)\", which is registered "
                        + "to \(registered), not a kind of \(T.self)"))
        }
        throw DecodingError.typeMismatch(
            T.self,
            DecodingError.Context(
                codingPath: path(node),
                debugDescription: "expected a document tagged \"\(expected)\", found one tagged \"\(name)\""))
    }
}
