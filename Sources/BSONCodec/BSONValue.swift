/// One BSON value: a case for each of the 21 BSON types.
///
/// Values are lossless: decoding a document and encoding it again gives back the same
/// bytes, so doubles keep their exact bits (NaN payloads, −0.0), Decimal128 keeps its
/// exact bits, and the deprecated types are carried as they are.
///
/// Equality is exact, not numeric: `.int32(1) != .int64(1)`, `.double(.nan) == .double(.nan)`
/// when the bits agree, and `.double(0.0) != .double(-0.0)`.
///
/// Literals: string, integer (``int32(_:)`` when the value fits, else ``int64(_:)``, the
/// rule py-bson uses), floating-point, boolean, array, dictionary (a nested document) and
/// `nil` (``null``) literals all make values.
public enum BSONValue: Sendable {
    /// 0x01, a 64-bit IEEE 754 binary floating-point number.
    case double(Double)
    /// 0x02, a UTF-8 string (may contain NUL characters).
    case string(String)
    /// 0x03, an embedded document.
    case document(BSONDocument)
    /// 0x04, an array. Arrays are written with the keys "0", "1", …; other keys on input
    /// are accepted and replaced by these.
    case array([BSONValue])
    /// 0x05, binary data with a subtype.
    case binary(BSONBinary)
    /// 0x06, undefined (deprecated).
    case undefined
    /// 0x07, an ObjectID.
    case objectID(BSONObjectID)
    /// 0x08, a boolean.
    case bool(Bool)
    /// 0x09, a UTC datetime in milliseconds since the epoch.
    case datetime(BSONDatetime)
    /// 0x0A, null.
    case null
    /// 0x0B, a regular expression.
    indirect case regex(BSONRegex)
    /// 0x0C, a DBPointer (deprecated).
    indirect case dbPointer(BSONDBPointer)
    /// 0x0D, JavaScript code.
    case javascript(String)
    /// 0x0E, a symbol (deprecated).
    case symbol(String)
    /// 0x0F, JavaScript code with a scope document (deprecated).
    indirect case javascriptWithScope(BSONCodeWithScope)
    /// 0x10, a 32-bit signed integer.
    case int32(Int32)
    /// 0x11, a timestamp (also py-bson's unsigned 64-bit integers).
    case timestamp(BSONTimestamp)
    /// 0x12, a 64-bit signed integer.
    case int64(Int64)
    /// 0x13, a 128-bit decimal.
    case decimal128(BSONDecimal128)
    /// 0xFF, the min key.
    case minKey
    /// 0x7F, the max key.
    case maxKey

    /// The BSON type of this value.
    public var type: BSONType {
        switch self {
        case .double: .double
        case .string: .string
        case .document: .document
        case .array: .array
        case .binary: .binary
        case .undefined: .undefined
        case .objectID: .objectID
        case .bool: .bool
        case .datetime: .datetime
        case .null: .null
        case .regex: .regex
        case .dbPointer: .dbPointer
        case .javascript: .javascript
        case .symbol: .symbol
        case .javascriptWithScope: .javascriptWithScope
        case .int32: .int32
        case .timestamp: .timestamp
        case .int64: .int64
        case .decimal128: .decimal128
        case .minKey: .minKey
        case .maxKey: .maxKey
        }
    }
}

// MARK: - Accessors

extension BSONValue {
    /// The string of a ``string(_:)`` value; `nil` for any other case.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value of a ``double(_:)``; `nil` for any other case.
    public var doubleValue: Double? {
        if case .double(let value) = self { return value }
        return nil
    }

    /// The value of an ``int32(_:)``; `nil` for any other case.
    public var int32Value: Int32? {
        if case .int32(let value) = self { return value }
        return nil
    }

    /// The value of an ``int64(_:)``; `nil` for any other case.
    public var int64Value: Int64? {
        if case .int64(let value) = self { return value }
        return nil
    }

    /// The value of an ``int32(_:)`` or ``int64(_:)`` as `Int`; `nil` for any other case.
    public var intValue: Int? {
        switch self {
        case .int32(let value): Int(value)
        case .int64(let value): Int(exactly: value)
        default: nil
        }
    }

    /// The value of a ``bool(_:)``; `nil` for any other case.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The document of a ``document(_:)`` value; `nil` for any other case.
    public var documentValue: BSONDocument? {
        if case .document(let value) = self { return value }
        return nil
    }

    /// The elements of an ``array(_:)`` value; `nil` for any other case.
    public var arrayValue: [BSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The first value under `key` when this is a ``document(_:)``; `nil` otherwise.
    public subscript(key: String) -> BSONValue? {
        documentValue?[key]
    }

    /// The element at `index` when this is an ``array(_:)`` and the index is in range;
    /// `nil` otherwise.
    public subscript(index: Int) -> BSONValue? {
        guard case .array(let values) = self, values.indices.contains(index) else { return nil }
        return values[index]
    }
}

// MARK: - Equality

extension BSONValue: Hashable {
    public static func == (lhs: BSONValue, rhs: BSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.document(let a), .document(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.binary(let a), .binary(let b)): a == b
        case (.undefined, .undefined), (.null, .null), (.minKey, .minKey), (.maxKey, .maxKey): true
        case (.objectID(let a), .objectID(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.datetime(let a), .datetime(let b)): a == b
        case (.regex(let a), .regex(let b)): a == b
        case (.dbPointer(let a), .dbPointer(let b)): a == b
        case (.javascript(let a), .javascript(let b)): a.utf8.elementsEqual(b.utf8)
        case (.symbol(let a), .symbol(let b)): a.utf8.elementsEqual(b.utf8)
        case (.javascriptWithScope(let a), .javascriptWithScope(let b)): a == b
        case (.int32(let a), .int32(let b)): a == b
        case (.timestamp(let a), .timestamp(let b)): a == b
        case (.int64(let a), .int64(let b)): a == b
        case (.decimal128(let a), .decimal128(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        switch self {
        case .double(let value): hasher.combine(value.bitPattern)
        case .string(let value), .javascript(let value), .symbol(let value): hasher.combine(value)
        case .document(let value): hasher.combine(value)
        case .array(let value): hasher.combine(value)
        case .binary(let value): hasher.combine(value)
        case .undefined, .null, .minKey, .maxKey: break
        case .objectID(let value): hasher.combine(value)
        case .bool(let value): hasher.combine(value)
        case .datetime(let value): hasher.combine(value)
        case .regex(let value): hasher.combine(value)
        case .dbPointer(let value): hasher.combine(value)
        case .javascriptWithScope(let value): hasher.combine(value)
        case .int32(let value): hasher.combine(value)
        case .timestamp(let value): hasher.combine(value)
        case .int64(let value): hasher.combine(value)
        case .decimal128(let value): hasher.combine(value)
        }
    }
}

// MARK: - Literals

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }

    /// An integer literal becomes ``int32(_:)`` when it fits in 32 bits, else ``int64(_:)``.
    public init(integerLiteral value: Int64) { self.init(value) }

    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }

    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self = .document(BSONDocument(fields: elements.map { BSONField(key: $0.0, value: $0.1) }))
    }

    public init(nilLiteral: ()) { self = .null }

    /// ``int32(_:)`` when `value` fits in 32 bits, else ``int64(_:)`` (py-bson's rule).
    public init(_ value: some BinaryInteger & SignedInteger) {
        if let small = Int32(exactly: value) {
            self = .int32(small)
        } else {
            self = .int64(Int64(value))
        }
    }
}

// MARK: - Convenience initialisers

extension BSONValue {
    /// ``string(_:)``.
    public init(_ value: String) { self = .string(value) }
    /// ``double(_:)``.
    public init(_ value: Double) { self = .double(value) }
    /// ``bool(_:)``.
    public init(_ value: Bool) { self = .bool(value) }
    /// ``document(_:)``.
    public init(_ value: BSONDocument) { self = .document(value) }
    /// ``datetime(_:)``.
    public init(_ value: BSONDatetime) { self = .datetime(value) }
    /// ``objectID(_:)``.
    public init(_ value: BSONObjectID) { self = .objectID(value) }
    /// ``binary(_:)``.
    public init(_ value: BSONBinary) { self = .binary(value) }
}
