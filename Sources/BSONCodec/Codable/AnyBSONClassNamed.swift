/// A value of any ``BSONClassNamed`` type, resolved by its py-bson class name when decoded:
/// the way to hold objects whose type only the document says, as py-bson's decoder does.
///
/// ```swift
/// struct Drawing: Codable { var shapes: [AnyBSONClassNamed] }   // Circle, Square, …
/// let decoder = BSONDecoder(classRegistry: BSONClassRegistry([Circle.self, Square.self]))
/// let drawing = try decoder.decode(Drawing.self, from: bytes)
/// drawing.shapes[0].base as? Circle
/// ```
///
/// Decoding reads the `"$$__CLASS_NAME__$$"` field and decodes the rest of the value as the
/// type registered under that name, in the registry found in the decoder's
/// `userInfo[.bsonClassRegistry]` (``BSONDecoder/classRegistry`` puts it there). Encoding
/// writes the wrapped value with its class-name field, with any encoder.
public struct AnyBSONClassNamed: Codable {
    /// The wrapped value.
    public var base: any BSONClassNamed

    /// Wraps `base`.
    public init(_ base: any BSONClassNamed) {
        self.base = base
    }

    /// Reads the class name and decodes the value as the registered type.
    ///
    /// - Throws: `DecodingError.keyNotFound` without a class-name field;
    ///   `DecodingError.dataCorrupted` (its underlying error a ``BSONError`` with code
    ///   ``BSONError/Code/unknownClass``) when no registry is available or the name is not
    ///   registered; what the registered type's `init(from:)` throws.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: BSONCodingKey.self)
        let name = try fields.decode(String.self, forKey: BSONCodingKey.className)
        guard let registry = decoder.userInfo[.bsonClassRegistry] as? BSONClassRegistry else {
            throw Self.unknown(
                "no BSONClassRegistry to resolve the py-bson class name \"\(name)\" (set BSONDecoder.classRegistry)",
                decoder)
        }
        guard let type = registry.type(named: name) else {
            throw Self.unknown("no Swift type is registered for the py-bson class name \"\(name)\"", decoder)
        }
        base = try Self.make(type, from: decoder)
    }

    /// Writes the wrapped value and its class-name field.
    public func encode(to encoder: any Encoder) throws {
        try Self.write(base, to: encoder)
    }

    private static func make<T: BSONClassNamed>(_ type: T.Type, from decoder: any Decoder) throws -> any BSONClassNamed {
        try type.init(from: decoder)
    }

    private static func write<T: BSONClassNamed>(_ value: T, to encoder: any Encoder) throws {
        if ForeignCoding.isNative(encoder) {
            // This package's encoders add the class-name field to class-named values.
            var single = encoder.singleValueContainer()
            try single.encode(value)
            return
        }
        try value.encode(to: encoder)
        var fields = encoder.container(keyedBy: BSONCodingKey.self)
        try fields.encode(bsonClassName(of: value), forKey: BSONCodingKey.className)
    }

    private static func unknown(_ message: String, _ decoder: any Decoder) -> DecodingError {
        .dataCorrupted(
            DecodingError.Context(
                codingPath: decoder.codingPath + [BSONCodingKey.className], debugDescription: message,
                underlyingError: BSONError(.unknownClass, message)))
    }
}
