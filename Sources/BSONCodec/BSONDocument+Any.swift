internal import Foundation

// Conversion between BSONDocument and `[String: Any]`, for code written in the style of
// py-bson (`sendobj({"a": 1})`) and for JSONSerialization-like consumers.

extension BSONDocument {
    /// Converts a dictionary of Swift values into a document.
    ///
    /// Swift dictionaries have no order, so keys are written in ascending order of their
    /// UTF-8 bytes (deterministic output); use ``init(orderedPairs:)`` or a document literal
    /// to choose the order.
    ///
    /// Supported values, at any depth:
    /// - `BSONValue`, `BSONDocument` and every value type of this package
    ///   (`BSONObjectID`, `BSONBinary`, `BSONTimestamp`, `BSONDecimal128`, `BSONRegex`,
    ///   `BSONDBPointer`, `BSONCodeWithScope`, `BSONDatetime`);
    /// - `String`, `Substring`, `Bool`, `Double`, `Float`;
    /// - signed integers: int32 when the value fits, else int64 (py-bson's rule);
    /// - unsigned integers: the same, and values from 2^63 to 2^64−1 as a timestamp (type
    ///   0x11), which is how py-bson sends them;
    /// - `Date` (datetime, rounded to the millisecond toward the past), `Data` and
    ///   `[UInt8]` (binary subtype 0), `UUID` (binary subtype 4);
    /// - `[String: Any]` and `KeyValuePairs<String, Any>` (documents), `[Any]` (arrays);
    /// - `NSNull` and `nil` optionals (null).
    ///
    /// - Throws: ``BSONError`` with code ``BSONError/Code/unknownSerializer`` naming the key
    ///   path and the Swift type of the first value that has no BSON form; nothing is
    ///   converted then.
    public init(_ dictionary: [String: Any]) throws(BSONError) {
        self = try AnyConversion.document(fromDictionary: dictionary, path: [])
    }

    /// Converts ordered pairs of Swift values into a document, keeping their order (see
    /// ``init(_:)-(Dictionary<String,Any>)`` for the supported values).
    public init(orderedPairs: KeyValuePairs<String, Any>) throws(BSONError) {
        self = try AnyConversion.document(fromPairs: orderedPairs.map { ($0.key, $0.value) }, path: [])
    }

    /// The document as Swift values: `String`, `Int` (int32 and int64), `Double`, `Bool`,
    /// `[String: Any]` (documents), `[Any]` (arrays), `Date` (datetime), `Data` (binary
    /// subtype 0), `UUID` (binary subtype 4 with 16 bytes), `NSNull` (null); every other
    /// type stays its BSON value type (`BSONObjectID`, `BSONBinary`, `BSONTimestamp`, …).
    ///
    /// Where a key repeats, the first value wins, as in ``dictionary``.
    public var anyDictionary: [String: Any] {
        var result = [String: Any](minimumCapacity: fields.count)
        for field in fields where result[field.key] == nil {
            result[field.key] = field.value.anyValue
        }
        return result
    }
}

extension BSONValue {
    /// The value as a plain Swift value (see ``BSONDocument/anyDictionary``).
    public var anyValue: Any {
        switch self {
        case .double(let value): value
        case .string(let value): value
        case .document(let value): value.anyDictionary
        case .array(let values): values.map(\.anyValue)
        case .binary(let binary):
            if let uuid = binary.uuid {
                uuid
            } else if binary.subtype == .generic {
                Data(binary.data)
            } else {
                binary
            }
        case .undefined: BSONValue.undefined
        case .objectID(let value): value
        case .bool(let value): value
        case .datetime(let value): value.date
        case .null: NSNull()
        case .regex(let value): value
        case .dbPointer(let value): value
        case .javascript: self
        case .symbol: self
        case .javascriptWithScope(let value): value
        case .int32(let value): Int(value)
        case .timestamp(let value): value
        case .int64(let value): Int(value)
        case .decimal128(let value): value
        case .minKey, .maxKey: self
        }
    }

    /// Converts one Swift value (see ``BSONDocument/init(_:)-(Dictionary<String,Any>)`` for
    /// the supported types).
    ///
    /// - Throws: ``BSONError`` with code ``BSONError/Code/unknownSerializer``.
    public init(any value: Any) throws(BSONError) {
        self = try AnyConversion.value(from: value, path: [])
    }
}

private enum AnyConversion {
    static func document(fromDictionary dictionary: [String: Any], path: [String]) throws(BSONError) -> BSONDocument {
        let sorted = dictionary.sorted { [UInt8]($0.key.utf8).lexicographicallyPrecedes([UInt8]($1.key.utf8)) }
        return try document(fromPairs: sorted.map { ($0.key, $0.value) }, path: path)
    }

    static func document(fromPairs pairs: [(String, Any)], path: [String]) throws(BSONError) -> BSONDocument {
        var fields = [BSONField]()
        fields.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            fields.append(BSONField(key: key, value: try self.value(from: value, path: path + [key])))
        }
        return BSONDocument(fields: fields)
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    static func value(from any: Any, path: [String]) throws(BSONError) -> BSONValue {
        // Optional first: an `Any` holding `nil` is null, one holding a value unwraps.
        if let optional = any as? any OptionalProtocol {
            guard let wrapped = optional.wrappedAny else { return .null }
            return try value(from: wrapped, path: path)
        }
        switch any {
        case let value as BSONValue: return value
        case let value as BSONDocument: return .document(value)
        case let value as String: return .string(value)
        case let value as Substring: return .string(String(value))
        case let value as Bool: return .bool(value)
        case let value as Int: return BSONValue(value)
        case let value as Int8: return .int32(Int32(value))
        case let value as Int16: return .int32(Int32(value))
        case let value as Int32: return .int32(value)
        case let value as Int64: return BSONValue(value)
        case let value as UInt: return unsigned(UInt64(value))
        case let value as UInt8: return .int32(Int32(value))
        case let value as UInt16: return .int32(Int32(value))
        case let value as UInt32: return unsigned(UInt64(value))
        case let value as UInt64: return unsigned(value)
        case let value as Double: return .double(value)
        case let value as Float: return .double(Double(value))
        case let value as Date: return .datetime(BSONDatetime(value))
        case let value as Data: return .binary(BSONBinary(value))
        // Only a value whose type is exactly [UInt8]: the cast also succeeds for any empty
        // array and for an [Any] that happens to hold only UInt8 values, which are arrays.
        case let value as [UInt8] where type(of: any) == [UInt8].self: return .binary(BSONBinary(data: value))
        case let value as UUID: return .binary(BSONBinary(uuid: value))
        case let value as BSONObjectID: return .objectID(value)
        case let value as BSONBinary: return .binary(value)
        case let value as BSONTimestamp: return .timestamp(value)
        case let value as BSONDecimal128: return .decimal128(value)
        case let value as BSONRegex: return .regex(value)
        case let value as BSONDBPointer: return .dbPointer(value)
        case let value as BSONCodeWithScope: return .javascriptWithScope(value)
        case let value as BSONDatetime: return .datetime(value)
        case is NSNull: return .null
        case let value as [String: Any]: return .document(try document(fromDictionary: value, path: path))
        case let value as KeyValuePairs<String, Any>:
            return .document(try document(fromPairs: value.map { ($0.key, $0.value) }, path: path))
        case let value as [Any]:
            var values = [BSONValue]()
            values.reserveCapacity(value.count)
            for (index, element) in value.enumerated() {
                values.append(try self.value(from: element, path: path + [String(index)]))
            }
            return .array(values)
        default:
            let typeName = String(reflecting: type(of: any))
            throw BSONError(
                .unknownSerializer,
                "a value of type \(typeName) has no BSON representation"
                    + (path.isEmpty ? "" : " (at \"\(path.joined(separator: "."))\")"),
                keyPath: path)
        }
    }

    private static func unsigned(_ value: UInt64) -> BSONValue {
        if let small = Int32(exactly: value) { return .int32(small) }
        if let large = Int64(exactly: value) { return .int64(large) }
        return .timestamp(BSONTimestamp(uint64: value))
    }
}

/// Lets an `Any` that holds an `Optional` be unwrapped without knowing the wrapped type.
private protocol OptionalProtocol {
    var wrappedAny: Any? { get }
}

extension Optional: OptionalProtocol {
    fileprivate var wrappedAny: Any? {
        switch self {
        case .some(let value): value
        case .none: nil
        }
    }
}
