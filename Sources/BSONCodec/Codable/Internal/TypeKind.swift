#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
import Synchronization

/// How the encoder and decoder treat a Swift type that reaches them through a generic
/// `encode(_:)`/`decode(_:)` call: the standard library's scalars (arrays of them arrive
/// this way), the Foundation types with strategies, this package's BSON value types (read
/// and written as BSON, not through their `Codable` forms), py-bson class-named types
/// (which get the class-name field), and everything else.
enum TypeKind: UInt8 {
    case other
    case classNamed
    case string, bool, double, float
    case int, int8, int16, int32, int64
    case uint, uint8, uint16, uint32, uint64
    case date, data, uuid, url
    case bsonValue, bsonDocument, objectID, binary, timestamp, decimal128, regex, dbPointer, codeWithScope, datetime

    /// The kind of `type`; about thirty metatype comparisons and, for the rest, one
    /// conformance check. ``TypeKindCache`` keeps the answers.
    static func classify(_ type: Any.Type) -> TypeKind {
        if type == String.self { return .string }
        if type == Int.self { return .int }
        if type == Double.self { return .double }
        if type == Bool.self { return .bool }
        if type == Int64.self { return .int64 }
        if type == Int32.self { return .int32 }
        if type == Float.self { return .float }
        if type == Int8.self { return .int8 }
        if type == Int16.self { return .int16 }
        if type == UInt.self { return .uint }
        if type == UInt8.self { return .uint8 }
        if type == UInt16.self { return .uint16 }
        if type == UInt32.self { return .uint32 }
        if type == UInt64.self { return .uint64 }
        if type == Date.self { return .date }
        if type == Data.self { return .data }
        if type == UUID.self { return .uuid }
        if type == URL.self { return .url }
        if type == BSONValue.self { return .bsonValue }
        if type == BSONDocument.self { return .bsonDocument }
        if type == BSONObjectID.self { return .objectID }
        if type == BSONBinary.self { return .binary }
        if type == BSONTimestamp.self { return .timestamp }
        if type == BSONDecimal128.self { return .decimal128 }
        if type == BSONRegex.self { return .regex }
        if type == BSONDBPointer.self { return .dbPointer }
        if type == BSONCodeWithScope.self { return .codeWithScope }
        if type == BSONDatetime.self { return .datetime }
        if type is any BSONClassNamed.Type { return .classNamed }
        return .other
    }

    private static let table = PackageMutex<[ObjectIdentifier: TypeKind]>([:])

    /// ``classify(_:)``, remembered for the life of the process (a type's kind never
    /// changes), so that each run pays for a conformance check only once per type.
    static func known(_ type: Any.Type) -> TypeKind {
        let key = ObjectIdentifier(type)
        if let kind = table.withLock({ $0[key] }) { return kind }
        let kind = classify(type)
        table.withLock { $0[key] = kind }
        return kind
    }

    /// Whether the kind is one of this package's BSON value types.
    var isBSONNative: Bool {
        switch self {
        case .bsonValue, .bsonDocument, .objectID, .binary, .timestamp, .decimal128, .regex, .dbPointer,
            .codeWithScope, .datetime:
            true
        default:
            false
        }
    }
}

/// A small cache of ``TypeKind/classify(_:)`` answers, owned by one encoding or decoding
/// run: eight entries replaced in turn, compared by metatype identity.
///
/// A conformance check costs tens of nanoseconds and a generic value passes through here
/// once per element, so an array of structs asks about the same type many times.
struct TypeKindCache {
    private var keys: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var kinds: UInt64 = 0
    private var next = 0

    @inline(__always)
    mutating func kind(of type: Any.Type) -> TypeKind {
        let key = UInt(bitPattern: ObjectIdentifier(type))
        let found: Int? = withUnsafeBytes(of: &keys) { raw in
            for index in 0..<8 where raw.load(fromByteOffset: index * MemoryLayout<UInt>.stride, as: UInt.self) == key { return index }
            return nil
        }
        if let found {
            return TypeKind(rawValue: UInt8(truncatingIfNeeded: kinds >> UInt64(found * 8)))!
        }
        let kind = TypeKind.known(type)
        let slot = next
        next = (next + 1) & 7
        withUnsafeMutableBytes(of: &keys) { raw in raw.storeBytes(of: key, toByteOffset: slot * MemoryLayout<UInt>.stride, as: UInt.self) }
        kinds = kinds & ~(0xFF << UInt64(slot * 8)) | UInt64(kind.rawValue) << UInt64(slot * 8)
        return kind
    }
}
