#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Encodes `Encodable` Swift values as BSON documents.
///
/// ```swift
/// struct Greeting: Codable { var type: String; var count: Int; var sent: Date }
/// let bytes = try BSONEncoder().encode(Greeting(type: "hello", count: 1, sent: .now))
/// let document = try BSONEncoder().encodeDocument(Greeting(type: "hello", count: 1, sent: .now))
/// ```
///
/// ``encode(_:)`` writes the bytes directly, without building a ``BSONDocument`` first;
/// ``encodeDocument(_:)`` builds the document. Both give the same BSON for the same value.
///
/// How Swift values become BSON:
/// - Structs and classes become embedded documents, arrays and sets become arrays; enums
///   follow Swift's synthesized forms (`{"caseName": {"_0": …}}`, raw values for raw-value
///   enums).
/// - Dictionaries follow the standard library's `Encodable` form: `String` keys, `Int` keys
///   and `CodingKeyRepresentable` keys (such as `String`-backed enums that declare it) give a
///   document keyed by the key's string (`[7: "a"]` → `{"7": "a"}`); any other key type
///   (`Int64`, `UUID`, a plain enum) gives an array of alternating keys and values
///   (`[k1, v1, k2, v2]`). A dictionary's keys come out in its iteration order, which Swift
///   does not keep stable between processes: encode ordered data as arrays or structs when
///   the bytes must be reproducible.
/// - `String` → string, `Bool` → bool, `Double` and `Float` → double; integers by
///   ``integerEncodingStrategy``.
/// - `Date`, `Data` and `UUID` by their strategies; `URL` as its absolute string.
/// - ``BSONValue``, ``BSONDocument`` and the BSON value types (``BSONObjectID``,
///   ``BSONBinary``, ``BSONTimestamp``, ``BSONDecimal128``, ``BSONRegex``, ``BSONDBPointer``,
///   ``BSONCodeWithScope``, ``BSONDatetime``) as themselves.
/// - A type that adopts ``BSONClassNamed`` gets py-bson's class-name field after its own
///   fields (see ``BSONClassNamed``).
/// - `nil` optionals: properties that the synthesized code writes with `encodeIfPresent`
///   are left out; `encodeNil` writes null; `nil` elements of arrays are null.
///
/// The top-level value must encode as a document (a keyed container, or a single value
/// that is itself a document). A value that encodes nothing becomes an empty document.
///
/// The encoder is a value: configure a copy per use or share one; it is `Sendable`.
public struct BSONEncoder: Sendable {
    /// How `Date` values are written. Default ``bsonDatetime``.
    public enum DateEncodingStrategy: Sendable {
        /// A BSON datetime (type 0x09): milliseconds since 1970, rounded toward the past
        /// (see ``BSONDatetime/init(_:)``). The default.
        case bsonDatetime
        /// An int64 holding milliseconds since 1970, rounded toward the past.
        case millisecondsSince1970
        /// A double holding seconds since 1970.
        case secondsSince1970
        /// A string `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC with milliseconds (rounded toward the
        /// past). Dates outside the years 0000–9999 cannot be written this way and fail.
        case iso8601
        /// `Date`'s own `Encodable` form (a double of seconds since 2001-01-01).
        case deferredToDate
        /// A closure that encodes the date into the encoder it is given. A closure that
        /// writes nothing leaves an empty document.
        case custom(@Sendable (Date, any Encoder) throws -> Void)
    }

    /// How `Data` values are written. Default ``binary``.
    public enum DataEncodingStrategy: Sendable {
        /// BSON binary data of subtype 0 (generic). The default.
        case binary
        /// A string holding the bytes in standard, padded base64.
        case base64
        /// `Data`'s own `Encodable` form (an array of integers, one per byte).
        case deferredToData
        /// A closure that encodes the bytes into the encoder it is given.
        case custom(@Sendable (Data, any Encoder) throws -> Void)
    }

    /// How `UUID` values are written. Default ``binary``.
    public enum UUIDEncodingStrategy: Sendable, Hashable {
        /// BSON binary data of subtype 4 holding the 16 bytes in RFC 4122 order (what
        /// py-bson and pymongo's standard representation write). The default.
        case binary
        /// A string in the RFC 4122 text form, lowercase (as Python's `str(uuid)` prints it).
        case string
    }

    /// Which BSON integer type a Swift integer becomes. Default ``fixedWidth``.
    public enum IntegerEncodingStrategy: Sendable, Hashable {
        /// The type follows the Swift type: `Int8`, `Int16`, `Int32`, `UInt8` and `UInt16`
        /// become int32; `Int`, `Int64`, `UInt32`, `UInt` and `UInt64` become int64. The
        /// default.
        case fixedWidth
        /// The type follows the value, as py-bson does: int32 when the value fits in 32 bits,
        /// else int64.
        case smallestFitting
    }

    /// How the encoder derives the BSON key of each coding key. Default ``useDefaultKeys``.
    public enum KeyEncodingStrategy: Sendable {
        /// Each key's `stringValue` as it is. The default.
        case useDefaultKeys
        /// camelCase keys become snake_case, with the rules `JSONEncoder` documents
        /// (`myURLValue` → `my_url_value`; leading and trailing underscores kept). This also
        /// changes the keys of `[String: T]` dictionaries, as it does in `JSONEncoder`.
        case convertToSnakeCase
        /// A closure given the coding path down to the key (the key last) that returns the
        /// key to write.
        case custom(@Sendable ([any CodingKey]) -> any CodingKey)
    }

    /// How `Date` values are written. Default ``DateEncodingStrategy/bsonDatetime``.
    public var dateEncodingStrategy: DateEncodingStrategy
    /// How `Data` values are written. Default ``DataEncodingStrategy/binary``.
    public var dataEncodingStrategy: DataEncodingStrategy
    /// How `UUID` values are written. Default ``UUIDEncodingStrategy/binary``.
    public var uuidEncodingStrategy: UUIDEncodingStrategy
    /// Which BSON integer type Swift integers become. Default
    /// ``IntegerEncodingStrategy/fixedWidth``.
    ///
    /// Under either strategy, a `UInt` or `UInt64` above `Int64.max` is written as type 0x11
    /// with the value as its unsigned 64-bit word, which is how py-bson sends such integers
    /// (see ``BSONTimestamp/uint64``); ``BSONDecoder`` reads it back into `UInt64`.
    public var integerEncodingStrategy: IntegerEncodingStrategy
    /// How BSON keys are derived from coding keys. Default
    /// ``KeyEncodingStrategy/useDefaultKeys``.
    public var keyEncodingStrategy: KeyEncodingStrategy
    /// Values handed to every `encode(to:)` through `Encoder.userInfo`. Default empty.
    public var userInfo: [CodingUserInfoKey: any Sendable]
    /// Limits: ``BSONEncodingOptions/maxDepth`` bounds how deeply documents and arrays nest
    /// (default 100, as for ``BSONDocument/encoded(options:)``); deeper values fail, which
    /// also stops a self-referencing object graph.
    public var options: BSONEncodingOptions

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - dateEncodingStrategy: Default ``DateEncodingStrategy/bsonDatetime``.
    ///   - dataEncodingStrategy: Default ``DataEncodingStrategy/binary`` (subtype 0).
    ///   - uuidEncodingStrategy: Default ``UUIDEncodingStrategy/binary`` (subtype 4).
    ///   - integerEncodingStrategy: Default ``IntegerEncodingStrategy/fixedWidth``.
    ///   - keyEncodingStrategy: Default ``KeyEncodingStrategy/useDefaultKeys``.
    ///   - userInfo: Default empty.
    ///   - options: Default ``BSONEncodingOptions/default``.
    public init(
        dateEncodingStrategy: DateEncodingStrategy = .bsonDatetime,
        dataEncodingStrategy: DataEncodingStrategy = .binary,
        uuidEncodingStrategy: UUIDEncodingStrategy = .binary,
        integerEncodingStrategy: IntegerEncodingStrategy = .fixedWidth,
        keyEncodingStrategy: KeyEncodingStrategy = .useDefaultKeys,
        userInfo: [CodingUserInfoKey: any Sendable] = [:],
        options: BSONEncodingOptions = .default
    ) {
        self.dateEncodingStrategy = dateEncodingStrategy
        self.dataEncodingStrategy = dataEncodingStrategy
        self.uuidEncodingStrategy = uuidEncodingStrategy
        self.integerEncodingStrategy = integerEncodingStrategy
        self.keyEncodingStrategy = keyEncodingStrategy
        self.userInfo = userInfo
        self.options = options
    }

    /// Encodes `value` as the bytes of one BSON document, written directly (no
    /// ``BSONDocument`` is built).
    ///
    /// The bytes are written as `encode(to:)` runs, in one pass. A type that goes back to a
    /// container after starting a later one (legal but rare: a nested container or super
    /// encoder written to after a sibling key) cannot be followed that way; the encoder then
    /// encodes the value again through ``encodeDocument(_:)``, so such a type's
    /// `encode(to:)` runs twice. The result is the same either way.
    ///
    /// - Parameter value: A value that encodes as a document.
    /// - Returns: The document's bytes; ``BSONDocument/init(bytes:options:)-([UInt8],_)``
    ///   reads them back.
    /// - Throws: `EncodingError.invalidValue` with the coding path of the value at fault:
    ///   a top-level value that is not a document, a key containing NUL, a regular
    ///   expression containing NUL, nesting past ``options``' limit, a date that a strategy
    ///   cannot write, a document over 2 GiB. The underlying error is a ``BSONError`` where
    ///   the codec has one. Errors thrown by the value's own `encode(to:)` pass through.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let run = StreamEncodingRun(configuration: self)
        if let bytes = try run.encodeTopLevel(value) { return bytes }
        // The value used a container after a later sibling had started (legal, but out of
        // the order a direct writer can follow): encode again through the document tree.
        return try TreeEncodingRun(configuration: self).encodeTopLevel(value).encoded(options: options)
    }

    /// Encodes `value` as a ``BSONDocument``.
    ///
    /// - Parameter value: A value that encodes as a document.
    /// - Returns: The document; `encoded()` gives the same bytes as ``encode(_:)``.
    /// - Throws: The same errors as ``encode(_:)``.
    public func encodeDocument<T: Encodable>(_ value: T) throws -> BSONDocument {
        try TreeEncodingRun(configuration: self).encodeTopLevel(value)
    }
}
