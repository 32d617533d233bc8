#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

// The small value types that BSONValue cases carry.

/// A 12-byte BSON ObjectID (type 0x07): 4 bytes of seconds since the epoch (big-endian),
/// 5 random bytes chosen per process, and a 3-byte counter.
public struct BSONObjectID: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Bytes 0...7 and 8...11 read as big-endian integers, so that comparing the integers
    // compares the bytes.
    private var head: UInt64
    private var tail: UInt32

    /// Creates a new, unique ObjectID for the current time (libbson's generator:
    /// thread-safe, with a per-process random part and an atomic counter).
    public init() {
        self.init(bytes: LibBSON.generateObjectID())!
    }

    /// Creates an ObjectID from exactly 12 bytes; `nil` for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        var head: UInt64 = 0
        var tail: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { head = head << 8 | UInt64(byte) } else { tail = tail << 8 | UInt32(byte) }
        }
        self.head = head
        self.tail = tail
    }

    /// Reads 12 bytes in wire order from `pointer` (no alignment needed).
    package init(unsafeBytesAt pointer: UnsafeRawPointer) {
        head = UInt64(bigEndian: pointer.loadUnaligned(as: UInt64.self))
        tail = UInt32(bigEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    }

    /// Calls `body` with the 12 bytes in wire order.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var wire = (head.bigEndian, tail.bigEndian)
        return try Swift.withUnsafeBytes(of: &wire) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<12])) }
    }

    /// Creates an ObjectID from 24 hexadecimal digits (either case); `nil` otherwise.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 24 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(12)
        var index = 0
        while index < 24 {
            guard let high = Self.hexValue(utf8[index]), let low = Self.hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 12 bytes in wire order.
    public var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(12)
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: head >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: tail >> UInt32(shift))) }
        return result
    }

    /// 24 lowercase hexadecimal digits.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(24)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The creation time stored in the first four bytes (whole seconds).
    public var timestamp: Date {
        Date(timeIntervalSince1970: Double(UInt32(truncatingIfNeeded: head >> 32)))
    }

    public var description: String { hexString }

    public static func < (lhs: BSONObjectID, rhs: BSONObjectID) -> Bool {
        (lhs.head, lhs.tail) < (rhs.head, rhs.tail)
    }
}

/// BSON binary data (type 0x05): a subtype byte and any number of bytes.
public struct BSONBinary: Sendable, Hashable, CustomStringConvertible {
    /// The subtype byte of binary data. Any value 0...255 can be stored; 0x80 and above
    /// are user-defined.
    public struct Subtype: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// 0x00, generic bytes.
        public static let generic = Subtype(0x00)
        /// 0x01, a function.
        public static let function = Subtype(0x01)
        /// 0x02, the old binary form whose bytes carry a second, inner length (read and
        /// written transparently: ``BSONBinary/data`` holds the bytes without it).
        public static let binaryOld = Subtype(0x02)
        /// 0x03, a UUID in a driver-specific byte order (legacy).
        public static let uuidOld = Subtype(0x03)
        /// 0x04, a UUID in standard (RFC 4122) byte order.
        public static let uuid = Subtype(0x04)
        /// 0x05, an MD5 digest.
        public static let md5 = Subtype(0x05)
        /// 0x06, encrypted BSON value.
        public static let encrypted = Subtype(0x06)
        /// 0x07, compressed time-series column.
        public static let column = Subtype(0x07)
        /// 0x08, sensitive data.
        public static let sensitive = Subtype(0x08)
        /// 0x09, a packed vector.
        public static let vector = Subtype(0x09)
        /// 0x80, the first user-defined subtype.
        public static let userDefined = Subtype(0x80)

        public var description: String { "0x" + String(rawValue, radix: 16, uppercase: false) }
    }

    /// The subtype byte.
    public var subtype: Subtype
    /// The payload bytes.
    public var data: [UInt8]

    /// Creates binary data.
    /// - Parameters:
    ///   - data: The payload bytes.
    ///   - subtype: The subtype; default ``Subtype/generic`` (0x00).
    public init(data: [UInt8], subtype: Subtype = .generic) {
        self.data = data
        self.subtype = subtype
    }

    /// Creates binary data from a `Data` value.
    public init(_ data: Data, subtype: Subtype = .generic) {
        self.init(data: [UInt8](data), subtype: subtype)
    }

    /// Creates subtype 4 binary data holding the 16 bytes of `uuid` in RFC 4122 order.
    public init(uuid: UUID) {
        let u = uuid.uuid
        self.init(
            data: [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15],
            subtype: .uuid)
    }

    /// The UUID held, when the subtype is 4 and there are exactly 16 bytes; otherwise `nil`.
    public var uuid: UUID? {
        guard subtype == .uuid, data.count == 16 else { return nil }
        let d = data
        return UUID(uuid: (d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]))
    }

    /// The payload as `Data`.
    public var foundationData: Data { Data(data) }

    public var description: String { "BSONBinary(subtype: \(subtype), \(data.count) bytes)" }
}

/// A BSON timestamp (type 0x11): two unsigned 32-bit halves of one unsigned 64-bit
/// little-endian word.
///
/// MongoDB uses it for replication (seconds and an ordinal). py-bson sends Python integers
/// from 2^63 to 2^64−1 as this type; ``uint64`` is that view, so such values travel
/// byte-exact.
public struct BSONTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The high 32 bits (MongoDB: seconds since the epoch).
    public var timestamp: UInt32
    /// The low 32 bits (MongoDB: ordinal within the second).
    public var increment: UInt32

    /// Creates a timestamp from its two halves.
    public init(timestamp: UInt32, increment: UInt32) {
        self.timestamp = timestamp
        self.increment = increment
    }

    /// Creates a timestamp from the unsigned 64-bit word as it is on the wire (py-bson's
    /// representation of integers from 2^63 to 2^64−1).
    public init(uint64: UInt64) {
        self.timestamp = UInt32(truncatingIfNeeded: uint64 >> 32)
        self.increment = UInt32(truncatingIfNeeded: uint64)
    }

    /// The whole 64-bit word: `timestamp << 32 | increment`.
    public var uint64: UInt64 { UInt64(timestamp) << 32 | UInt64(increment) }

    public static func < (lhs: BSONTimestamp, rhs: BSONTimestamp) -> Bool { lhs.uint64 < rhs.uint64 }

    public var description: String { "Timestamp(\(timestamp), \(increment))" }
}

/// A BSON Decimal128 (type 0x13): an IEEE 754-2008 128-bit decimal, kept as its exact bits.
///
/// No arithmetic: the value is carried losslessly, and converted to and from text by
/// libbson (`bson_decimal128_to_string`, `bson_decimal128_from_string`).
public struct BSONDecimal128: Sendable, Hashable, CustomStringConvertible {
    /// The high 64 bits (sign, combination field, high part of the coefficient).
    public var high: UInt64
    /// The low 64 bits of the coefficient.
    public var low: UInt64

    /// Creates a value from its bits.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses decimal text such as `"1.5E+3"`, `"-0.00"`, `"NaN"`, `"-Infinity"`.
    ///
    /// Values that cannot be represented exactly (too many significant digits) and malformed
    /// text are rejected.
    ///
    /// - Throws: ``BSONError`` with code ``BSONError/Code/invalidValue``.
    public init(_ text: String) throws(BSONError) {
        guard let bits = LibBSON.decimal128(parsing: text) else {
            throw BSONError(.invalidValue, "\"\(text)\" is not a Decimal128 value that can be stored exactly")
        }
        self.init(high: bits.high, low: bits.low)
    }

    /// The value as text, in the form the Decimal128 specification gives (and Extended
    /// JSON uses).
    public var description: String { LibBSON.decimal128String(high: high, low: low) }
}

/// A BSON regular expression (type 0x0B): a pattern and its option letters.
///
/// Neither may contain a NUL byte. Options are kept as given; canonical BSON lists them
/// in alphabetical order (`ilmsux`).
public struct BSONRegex: Sendable, Hashable, CustomStringConvertible {
    /// The pattern.
    public var pattern: String
    /// The option letters.
    public var options: String

    /// Creates a regular expression.
    public init(pattern: String, options: String = "") {
        self.pattern = pattern
        self.options = options
    }

    public var description: String { "/\(pattern)/\(options)" }

    public static func == (lhs: BSONRegex, rhs: BSONRegex) -> Bool {
        lhs.pattern.utf8.elementsEqual(rhs.pattern.utf8) && lhs.options.utf8.elementsEqual(rhs.options.utf8)
    }
}

/// A deprecated BSON DBPointer (type 0x0C): a collection name and an ObjectID.
public struct BSONDBPointer: Sendable, Hashable, CustomStringConvertible {
    /// The namespace (`database.collection`).
    public var ref: String
    /// The referenced document's `_id`.
    public var id: BSONObjectID

    /// Creates a DBPointer.
    public init(ref: String, id: BSONObjectID) {
        self.ref = ref
        self.id = id
    }

    public var description: String { "DBPointer(\(ref), \(id))" }

    public static func == (lhs: BSONDBPointer, rhs: BSONDBPointer) -> Bool {
        lhs.ref.utf8.elementsEqual(rhs.ref.utf8) && lhs.id == rhs.id
    }
}

/// Deprecated BSON JavaScript code with a scope document (type 0x0F).
public struct BSONCodeWithScope: Sendable, Hashable, CustomStringConvertible {
    /// The JavaScript source.
    public var code: String
    /// The variables in scope.
    public var scope: BSONDocument

    /// Creates code with scope.
    public init(code: String, scope: BSONDocument) {
        self.code = code
        self.scope = scope
    }

    public var description: String { "CodeWithScope(\(code), \(scope))" }

    public static func == (lhs: BSONCodeWithScope, rhs: BSONCodeWithScope) -> Bool {
        lhs.code.utf8.elementsEqual(rhs.code.utf8) && lhs.scope == rhs.scope
    }
}
