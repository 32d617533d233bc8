/// A type that travels as a py-bson `BSONCoding` object: a document of its fields plus a
/// string field `"$$__CLASS_NAME__$$"` holding its class name.
///
/// py-bson (PyPI `bson` 0.5) writes an object whose class derives from `BSONCoding` as the
/// dictionary its `bson_encode()` returns with `"$$__CLASS_NAME__$$": "<class __name__>"`
/// added after the other fields, at any depth (inside documents and arrays too). Reading,
/// it turns every document that has that field — innermost first — into an instance of
/// the class registered under the name (with `import_class`), and fails with
/// `MissingClassDefinition` for a name nobody registered.
///
/// Adopting this protocol gives a Swift type the same wire shape with ``BSONEncoder``:
///
/// ```swift
/// struct Point: BSONClassNamed { var x: Int; var y: Int }
/// try BSONEncoder().encode(Point(x: 1, y: 2))
/// // {"x": 1, "y": 2, "$$__CLASS_NAME__$$": "Point"}
/// ```
///
/// - The class-name field comes last, after the fields the type wrote, for the value at the
///   top level and at any depth. For a class the name is the dynamic type's (a `Dog` held
///   in an `Animal` property is written as `"Dog"`).
/// - The type must encode as a keyed container (a document); one that encodes nothing
///   gives a document holding only the class name. A type that writes a field named
///   `"$$__CLASS_NAME__$$"` itself fails to encode.
/// - Decoding the type with ``BSONDecoder`` ignores the field when it names the type,
///   accepts a document without it, and otherwise fails with a type mismatch — unless the
///   decoder has a ``BSONDecoder/classRegistry`` in which the name is a subclass of the
///   type, which is then decoded instead.
/// - To decode whatever a tagged document names, use ``BSONClassRegistry/decode(_:decoder:unregistered:)``
///   or hold such values as ``AnyBSONClassNamed``.
///
/// The protocol refines `SendableMetatype` so that ``BSONClassRegistry`` can hand the
/// registered types to any thread; ordinary structs, enums and classes satisfy it without
/// doing anything.
public protocol BSONClassNamed: Codable, SendableMetatype {
    /// The class name written in the `"$$__CLASS_NAME__$$"` field. By default the type's
    /// name without its module (`String(describing: Self.self)`), which is what py-bson
    /// uses: Python's `__name__`.
    static var bsonClassName: String { get }
}

extension BSONClassNamed {
    /// The type's name without its module.
    public static var bsonClassName: String { String(describing: self) }
}
