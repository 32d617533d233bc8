#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Decodes `Decodable` Swift values from BSON documents.
///
/// ```swift
/// struct Greeting: Codable { var type: String; var count: Int; var sent: Date }
/// let greeting = try BSONDecoder().decode(Greeting.self, from: bytes)
/// ```
///
/// Decoding from bytes checks the whole document with the same strict rules as
/// ``BSONDocument/init(bytes:options:)-([UInt8],_)``, then reads the values straight from the
/// checked bytes: no ``BSONDocument`` is built, and keys are compared as bytes. Decoding from
/// a ``BSONDocument`` writes it out first (with libbson) and reads those bytes, so both paths
/// give the same values and the same errors.
///
/// What each Swift type accepts:
/// - Integers: int32 and int64, range-checked (an int64 too large for `Int32` is an error,
///   not a truncation); `UInt64` and `UInt` also accept type 0x11, py-bson's unsigned
///   64-bit integer (``BSONTimestamp/uint64``).
/// - `Double` and `Float`: double, and int32 or int64 values that convert exactly; `Float`
///   from a finite double outside its range is an error.
/// - `String`: string (and the deprecated symbol). `Bool`: bool.
/// - `Date`, `Data`, `UUID`: by their strategies; `URL`: a string holding a URL.
/// - ``BSONValue``: any value; ``BSONDocument``: a document; each BSON value type
///   (``BSONObjectID``, ``BSONBinary``, ``BSONTimestamp``, ``BSONDecimal128``, ``BSONRegex``,
///   ``BSONDBPointer``, ``BSONCodeWithScope``, ``BSONDatetime``): its own BSON type. These are
///   the way to receive BSON types that have no natural Swift type (min/max keys,
///   JavaScript, …): declare the property as ``BSONValue`` or the value type.
/// - Optionals: `decodeIfPresent` (what synthesized code uses for optional properties)
///   gives `nil` for an absent key and for null; `decodeNil(forKey:)` is `true` only for
///   null; `contains(_:)` tells absent from present.
/// - Where a key appears twice in a document, the first pair wins (as in ``BSONDocument``).
///
/// Errors are `DecodingError`s with the coding path of the value at fault and a message
/// naming the BSON type found (`expected an int32 or int64, found string`). Bytes that are
/// not a valid document give `DecodingError.dataCorrupted` whose `underlyingError` is the
/// ``BSONError`` that ``BSONDocument/init(bytes:options:)-([UInt8],_)`` throws.
public struct BSONDecoder: Sendable {
    /// How `Date` values are read. Default ``bsonDatetime``.
    public enum DateDecodingStrategy: Sendable {
        /// A BSON datetime (type 0x09). The default.
        case bsonDatetime
        /// A number of milliseconds since 1970 (int32, int64 or double).
        case millisecondsSince1970
        /// A number of seconds since 1970 (double, int32 or int64).
        case secondsSince1970
        /// An ISO-8601 / RFC 3339 string with a UTC offset (`Z` or `±HH:MM`), with or
        /// without fractional seconds (digits past milliseconds are dropped).
        case iso8601
        /// `Date`'s own `Decodable` form (a double of seconds since 2001-01-01).
        case deferredToDate
        /// A closure that reads the date from the decoder it is given.
        case custom(@Sendable (any Decoder) throws -> Date)
    }

    /// How `Data` values are read. Default ``binary``.
    public enum DataDecodingStrategy: Sendable {
        /// BSON binary data of any subtype (the payload bytes). The default.
        case binary
        /// A string of standard, padded base64.
        case base64
        /// `Data`'s own `Decodable` form (an array of integers, one per byte).
        case deferredToData
        /// A closure that reads the bytes from the decoder it is given.
        case custom(@Sendable (any Decoder) throws -> Data)
    }

    /// How `UUID` values are read. Default ``binary``.
    public enum UUIDDecodingStrategy: Sendable, Hashable {
        /// BSON binary data of subtype 4 with 16 bytes. Subtype 3 (the legacy form whose
        /// byte order depends on the driver that wrote it) is refused: read it as
        /// ``BSONBinary``. The default.
        case binary
        /// A string in the RFC 4122 text form (either case).
        case string
    }

    /// How the decoder matches document keys to coding keys. Default ``useDefaultKeys``.
    public enum KeyDecodingStrategy: Sendable {
        /// Keys are compared byte for byte with each coding key's `stringValue`. The
        /// default.
        case useDefaultKeys
        /// Each document key is converted from snake_case to camelCase first, with the rules
        /// `JSONDecoder` documents (`my_url_value` → `myUrlValue`).
        case convertFromSnakeCase
        /// A closure given the coding path down to a document key (that key last, as a
        /// string key) that returns the key to match.
        case custom(@Sendable ([any CodingKey]) -> any CodingKey)
    }

    /// How `Date` values are read. Default ``DateDecodingStrategy/bsonDatetime``.
    public var dateDecodingStrategy: DateDecodingStrategy
    /// How `Data` values are read. Default ``DataDecodingStrategy/binary``.
    public var dataDecodingStrategy: DataDecodingStrategy
    /// How `UUID` values are read. Default ``UUIDDecodingStrategy/binary``.
    public var uuidDecodingStrategy: UUIDDecodingStrategy
    /// How document keys are matched to coding keys. Default
    /// ``KeyDecodingStrategy/useDefaultKeys``.
    public var keyDecodingStrategy: KeyDecodingStrategy
    /// Values handed to every `init(from:)` through `Decoder.userInfo`. Default empty.
    public var userInfo: [CodingUserInfoKey: any Sendable]
    /// Limits for checking the bytes (``BSONDecodingOptions/maxDepth``, default 100).
    public var options: BSONDecodingOptions
    /// The py-bson class names to resolve, or `nil` (the default).
    ///
    /// With a registry, a ``BSONClassNamed`` type decoded from a document tagged with
    /// another registered name that is a subclass of it decodes as that subclass, and
    /// ``AnyBSONClassNamed`` values resolve their class through it. The registry is also
    /// visible to `init(from:)` as `userInfo[.bsonClassRegistry]`.
    public var classRegistry: BSONClassRegistry?

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - dateDecodingStrategy: Default ``DateDecodingStrategy/bsonDatetime``.
    ///   - dataDecodingStrategy: Default ``DataDecodingStrategy/binary``.
    ///   - uuidDecodingStrategy: Default ``UUIDDecodingStrategy/binary``.
    ///   - keyDecodingStrategy: Default ``KeyDecodingStrategy/useDefaultKeys``.
    ///   - userInfo: Default empty.
    ///   - options: Default ``BSONDecodingOptions/default``.
    ///   - classRegistry: Default `nil`.
    public init(
        dateDecodingStrategy: DateDecodingStrategy = .bsonDatetime,
        dataDecodingStrategy: DataDecodingStrategy = .binary,
        uuidDecodingStrategy: UUIDDecodingStrategy = .binary,
        keyDecodingStrategy: KeyDecodingStrategy = .useDefaultKeys,
        userInfo: [CodingUserInfoKey: any Sendable] = [:],
        options: BSONDecodingOptions = .default,
        classRegistry: BSONClassRegistry? = nil
    ) {
        self.dateDecodingStrategy = dateDecodingStrategy
        self.dataDecodingStrategy = dataDecodingStrategy
        self.uuidDecodingStrategy = uuidDecodingStrategy
        self.keyDecodingStrategy = keyDecodingStrategy
        self.userInfo = userInfo
        self.options = options
        self.classRegistry = classRegistry
    }

    /// Decodes a value of `type` from the bytes of exactly one BSON document, reading the
    /// checked bytes directly.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - bytes: One whole document, nothing before or after it.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` (see ``BSONDecoder``); errors thrown by the type's own
    ///   `init(from:)` pass through.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let run = try BytesDecodingRun(bytes: bytes, copying: true, configuration: self, trusted: false)
        return try run.decodeTopLevel(type)
    }

    /// Decodes a value of `type` from a frame that the transport lends for the duration of
    /// the call, reading the bytes in place instead of copying them first.
    ///
    /// The caller promises that nothing changes the bytes during the call. Should the type
    /// keep a decoder or container past its `init(from:)`, the bytes are copied before this
    /// returns, so the kept object never sees the lent buffer again.
    package func decode<T: Decodable>(_ type: T.Type, fromReceivedFrame bytes: UnsafeRawBufferPointer) throws -> T {
        var run = try BytesDecodingRun(bytes: bytes, copying: false, configuration: self, trusted: false)
        defer { BytesDecodingRun.keepBytesIfShared(&run) }
        return try run.decodeTopLevel(type)
    }

    /// Decodes a value of `type` from the bytes of exactly one BSON document (see
    /// ``decode(_:from:)-(_,UnsafeRawBufferPointer)``).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        // An array value cannot change under us (a writer elsewhere gets its own copy), so
        // its storage is read in place.
        try bytes.withUnsafeBytes { try decode(type, fromReceivedFrame: $0) }
    }

    /// Decodes a value of `type` from the bytes of exactly one BSON document (see
    /// ``decode(_:from:)-(_,UnsafeRawBufferPointer)``).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: ArraySlice<UInt8>) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, fromReceivedFrame: $0) }
    }

    /// Decodes a value of `type` from a document.
    ///
    /// The document is written out with libbson first and the bytes read as
    /// ``decode(_:from:)-(_,[UInt8])`` reads them, so both give the same results.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - document: The document.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError`; a document that cannot be written as BSON (a key containing
    ///   NUL, nesting past ``BSONDecodingOptions/maxDepth``) gives `dataCorrupted` with the
    ///   ``BSONError`` as its underlying error.
    public func decode<T: Decodable>(_ type: T.Type, from document: BSONDocument) throws -> T {
        let bytes: [UInt8]
        do {
            bytes = try document.encoded(options: BSONEncodingOptions(maxDepth: options.maxDepth))
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: error.keyPath.map { BSONCodingKey(stringValue: $0) },
                    debugDescription: "the document cannot be read as BSON: \(error.message)",
                    underlyingError: error))
        }
        // The bytes are this call's own: read them in place.
        return try bytes.withUnsafeBytes { raw in
            var run = try BytesDecodingRun(bytes: raw, copying: false, configuration: self, trusted: true)
            defer { BytesDecodingRun.keepBytesIfShared(&run) }
            return try run.decodeTopLevel(type)
        }
    }
}

extension CodingUserInfoKey {
    /// The key under which ``BSONDecoder`` passes its ``BSONDecoder/classRegistry`` to
    /// `init(from:)`; set it in another decoder's `userInfo` to let ``AnyBSONClassNamed``
    /// resolve class names there too.
    public static let bsonClassRegistry = CodingUserInfoKey(rawValue: "BSONCodec.BSONClassRegistry")!
}
