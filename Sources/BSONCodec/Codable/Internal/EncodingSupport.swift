#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

// What the direct (stream) encoder and the document (tree) encoder share: turning scalars
// and strategy-driven Foundation values into BSON values, key conversion, and errors.

/// Thrown by a container of the direct encoder that is used after a later sibling was
/// started; the encoder then starts over with the document encoder, which can follow any
/// order.
struct OutOfOrderSignal: Error {}

extension BSONEncoder {
    /// The BSON integer for `value` by ``integerEncodingStrategy``.
    @inline(__always)
    func integerValue<Integer: FixedWidthInteger>(_ value: Integer) -> BSONValue {
        if Integer.bitWidth < 32 || (Integer.bitWidth == 32 && Integer.isSigned) {
            return .int32(Int32(truncatingIfNeeded: value))
        }
        if integerEncodingStrategy == .smallestFitting, let small = Int32(exactly: value) { return .int32(small) }
        if let large = Int64(exactly: value) { return .int64(large) }
        // Only unsigned values above Int64.max get here: py-bson's unsigned 64-bit form.
        return .timestamp(BSONTimestamp(uint64: UInt64(truncatingIfNeeded: value)))
    }

    /// The BSON value of a value of `kind` that needs no `Encoder`, or `nil` for values that
    /// go through one (other types, class-named types, custom and deferred strategies).
    // swiftlint:disable:next cyclomatic_complexity
    func simpleValue<T>(_ value: T, kind: TypeKind) throws(EncodingFailure) -> BSONValue? {
        switch kind {
        case .other, .classNamed: return nil
        case .string: return .string(unsafeBitCast(value, to: String.self))
        case .bool: return .bool(unsafeBitCast(value, to: Bool.self))
        case .double: return .double(unsafeBitCast(value, to: Double.self))
        case .float: return .double(Double(unsafeBitCast(value, to: Float.self)))
        case .int: return integerValue(unsafeBitCast(value, to: Int.self))
        case .int8: return integerValue(unsafeBitCast(value, to: Int8.self))
        case .int16: return integerValue(unsafeBitCast(value, to: Int16.self))
        case .int32: return integerValue(unsafeBitCast(value, to: Int32.self))
        case .int64: return integerValue(unsafeBitCast(value, to: Int64.self))
        case .uint: return integerValue(unsafeBitCast(value, to: UInt.self))
        case .uint8: return integerValue(unsafeBitCast(value, to: UInt8.self))
        case .uint16: return integerValue(unsafeBitCast(value, to: UInt16.self))
        case .uint32: return integerValue(unsafeBitCast(value, to: UInt32.self))
        case .uint64: return integerValue(unsafeBitCast(value, to: UInt64.self))
        case .date: return try dateValue(unsafeBitCast(value, to: Date.self))
        case .data: return dataValue(unsafeBitCast(value, to: Data.self))
        case .uuid: return uuidValue(unsafeBitCast(value, to: UUID.self))
        case .url: return .string(unsafeBitCast(value, to: URL.self).absoluteString)
        case .bsonValue: return unsafeBitCast(value, to: BSONValue.self)
        case .bsonDocument: return .document(unsafeBitCast(value, to: BSONDocument.self))
        case .objectID: return .objectID(unsafeBitCast(value, to: BSONObjectID.self))
        case .binary: return .binary(unsafeBitCast(value, to: BSONBinary.self))
        case .timestamp: return .timestamp(unsafeBitCast(value, to: BSONTimestamp.self))
        case .decimal128: return .decimal128(unsafeBitCast(value, to: BSONDecimal128.self))
        case .regex: return .regex(unsafeBitCast(value, to: BSONRegex.self))
        case .dbPointer: return .dbPointer(unsafeBitCast(value, to: BSONDBPointer.self))
        case .codeWithScope: return .javascriptWithScope(unsafeBitCast(value, to: BSONCodeWithScope.self))
        case .datetime: return .datetime(unsafeBitCast(value, to: BSONDatetime.self))
        }
    }

    func dateValue(_ date: Date) throws(EncodingFailure) -> BSONValue? {
        switch dateEncodingStrategy {
        case .bsonDatetime:
            return .datetime(BSONDatetime(date))
        case .millisecondsSince1970:
            return .int64(BSONDatetime(date).millisecondsSinceEpoch)
        case .secondsSince1970:
            return .double(date.timeIntervalSince1970)
        case .iso8601:
            guard let text = BSONDatetime(date).iso8601String else {
                throw EncodingFailure("the date \(date) is outside the years 0000–9999 that an ISO-8601 string can hold")
            }
            return .string(text)
        case .deferredToDate, .custom:
            return nil
        }
    }

    func dataValue(_ data: Data) -> BSONValue? {
        switch dataEncodingStrategy {
        case .binary: return .binary(BSONBinary(data: [UInt8](data), subtype: .generic))
        case .base64: return .string(ExtendedJSONFormats.base64([UInt8](data)))
        case .deferredToData, .custom: return nil
        }
    }

    func uuidValue(_ uuid: UUID) -> BSONValue {
        switch uuidEncodingStrategy {
        case .binary: return .binary(BSONBinary(uuid: uuid))
        case .string: return .string(uuid.uuidString.lowercased())
        }
    }

    /// Calls the custom or deferred strategy for a `Date` or `Data` value of `kind` with
    /// `encoder`; returns `false` when the kind has no such strategy set.
    func encodeThroughStrategy<T: Encodable>(_ value: T, kind: TypeKind, to encoder: any Encoder) throws -> Bool {
        switch kind {
        case .date:
            let date = unsafeBitCast(value, to: Date.self)
            switch dateEncodingStrategy {
            case .deferredToDate: try date.encode(to: encoder)
            case .custom(let write): try write(date, encoder)
            default: return false
            }
            return true
        case .data:
            let data = unsafeBitCast(value, to: Data.self)
            switch dataEncodingStrategy {
            case .deferredToData: try data.encode(to: encoder)
            case .custom(let write): try write(data, encoder)
            default: return false
            }
            return true
        default:
            return false
        }
    }

    /// The BSON key for `key`, by ``keyEncodingStrategy``; `path` is the coding path of the
    /// container (the key not included).
    @inline(__always)
    func keyString(_ key: some CodingKey, path: @autoclosure () -> [any CodingKey]) -> String {
        switch keyEncodingStrategy {
        case .useDefaultKeys: return key.stringValue
        case .convertToSnakeCase: return SnakeCase.fromCamelCase(key.stringValue)
        case .custom(let convert): return convert(path() + [key]).stringValue
        }
    }

    /// `userInfo` as the `Encoder` protocol spells it.
    var plainUserInfo: [CodingUserInfoKey: Any] {
        // The common case, without allocating a dictionary for every call.
        if userInfo.isEmpty { return [:] }
        var info = [CodingUserInfoKey: Any](minimumCapacity: userInfo.count)
        for (key, value) in userInfo { info[key] = value }
        return info
    }
}

/// A value the encoder cannot write; becomes `EncodingError.invalidValue` with the coding
/// path where it happened.
struct EncodingFailure: Error {
    var message: String
    var underlying: BSONError?

    init(_ message: String, underlying: BSONError? = nil) {
        self.message = message
        self.underlying = underlying
    }

    init(_ error: BSONError) {
        self.message = error.message + (error.keyPath.isEmpty ? "" : " (at \"\(error.dottedKeyPath)\")")
        self.underlying = error
    }

    func encodingError(_ value: Any, path: [any CodingKey]) -> EncodingError {
        .invalidValue(value, EncodingError.Context(codingPath: path, debugDescription: message, underlyingError: underlying))
    }

    static func nesting(_ maxDepth: Int) -> EncodingFailure {
        EncodingFailure(
            "documents are nested more than \(maxDepth) levels deep (the encoding limit)",
            underlying: BSONError(.nestingTooDeep, "documents are nested more than \(maxDepth) levels deep (the encoding limit)"))
    }

    static func nulInKey(_ key: String) -> EncodingFailure {
        EncodingFailure(
            "the key \"\(key)\" contains a NUL character, which BSON keys cannot hold",
            underlying: BSONError(.invalidKey, "a key cannot contain a NUL byte", keyPath: [key]))
    }

    static func classNameField(_ name: String) -> EncodingFailure {
        EncodingFailure(
            "\(name) encodes a field named \"\(BSONClassRegistry.classNameKey)\"; the encoder adds that field itself")
    }

    static func classNamedNotDocument(_ name: String, found: String) -> EncodingFailure {
        EncodingFailure("\(name) adopts BSONClassNamed, so it must encode as a document, but it encoded \(found)")
    }

    static func topLevel(found: String) -> EncodingFailure {
        EncodingFailure("the top-level value must encode as a BSON document, but it encoded \(found)")
    }
}

/// The class name written for `value` (its dynamic type's, so that a subclass is named).
@inline(__always)
func bsonClassName<T>(of value: T) -> String {
    (type(of: value) as! any BSONClassNamed.Type).bsonClassName
}
