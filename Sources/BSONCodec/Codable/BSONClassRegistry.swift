import Synchronization

/// The Swift types that py-bson class names resolve to: Swift's side of py-bson's
/// `import_class` table.
///
/// ```swift
/// let registry = BSONClassRegistry()
/// registry.register(Point.self)
/// switch try registry.decode(document) {
/// case .object(let object): print(object as? Point)
/// case .document(let plain): print(plain)
/// }
/// ```
///
/// A registry is safe to use from any thread; registering while other threads decode is
/// fine.
public final class BSONClassRegistry: Sendable {
    /// The name of py-bson's class-name field: `"$$__CLASS_NAME__$$"`.
    public static let classNameKey = "$$__CLASS_NAME__$$"

    /// What ``decode(_:decoder:unregistered:)`` does with a class name that nothing is
    /// registered under.
    public enum UnregisteredClassPolicy: Sendable, Hashable {
        /// Throw a ``BSONError`` with code ``BSONError/Code/unknownClass``, as py-bson raises
        /// `MissingClassDefinition`. The default.
        case throwError
        /// Return the document as it is.
        case returnDocument
    }

    /// What ``decode(_:decoder:unregistered:)`` produced.
    public enum Decoded {
        /// An instance of the registered type.
        case object(any BSONClassNamed)
        /// The document itself: it has no class-name field, or (with
        /// ``UnregisteredClassPolicy/returnDocument``) its name is not registered.
        case document(BSONDocument)

        /// The object, or `nil` for a plain document.
        public var object: (any BSONClassNamed)? {
            if case .object(let object) = self { object } else { nil }
        }

        /// The plain document, or `nil` for an object.
        public var document: BSONDocument? {
            if case .document(let document) = self { document } else { nil }
        }
    }

    private let types = PackageMutex<[String: any BSONClassNamed.Type]>([:])

    /// Creates a registry holding `types`, each under its ``BSONClassNamed/bsonClassName``.
    public init(_ types: [any BSONClassNamed.Type] = []) {
        for type in types { register(type) }
    }

    /// A process-wide registry, like py-bson's single global table, for programs that want
    /// one. Nothing uses it implicitly: pass it as ``BSONDecoder/classRegistry`` or call its
    /// `decode` methods. Empty until something registers there.
    public static let shared = BSONClassRegistry()

    /// Registers `type` under `name`, replacing any type registered under that name (the
    /// last registration wins, as in py-bson).
    ///
    /// - Parameters:
    ///   - type: The type to decode documents with that class name as.
    ///   - name: The class name; default `type.bsonClassName`.
    public func register(_ type: any BSONClassNamed.Type, as name: String? = nil) {
        let key = name ?? type.bsonClassName
        types.withLock { $0[key] = type }
    }

    /// Removes the type registered under `name` and returns it (`nil` when there was none).
    @discardableResult
    public func unregister(name: String) -> (any BSONClassNamed.Type)? {
        types.withLock { $0.removeValue(forKey: name) }
    }

    /// The type registered under `name`, or `nil`.
    public func type(named name: String) -> (any BSONClassNamed.Type)? {
        types.withLock { $0[name] }
    }

    /// The registered class names, sorted.
    public var names: [String] {
        types.withLock { $0.keys.sorted() }
    }

    /// Decodes `document` as the type registered under its class name.
    ///
    /// - Parameters:
    ///   - document: A document, normally with a `"$$__CLASS_NAME__$$"` string field (the
    ///     first such field is used when it repeats).
    ///   - decoder: The decoder to use; its ``BSONDecoder/classRegistry`` is set to this
    ///     registry for the call. Default `BSONDecoder()`.
    ///   - unregistered: What to do with a name nothing is registered under; default
    ///     ``UnregisteredClassPolicy/throwError``.
    /// - Returns: ``Decoded/object(_:)`` with the instance, or ``Decoded/document(_:)`` for a
    ///   document without a class-name field (py-bson gives a plain `dict` then) or an
    ///   unregistered name with ``UnregisteredClassPolicy/returnDocument``.
    /// - Throws: ``BSONError`` with ``BSONError/Code/unknownClass`` for an unregistered name
    ///   (under the default policy) or a class-name field that is not a string;
    ///   `DecodingError` when the registered type cannot decode the document.
    public func decode(
        _ document: BSONDocument, decoder: BSONDecoder = BSONDecoder(),
        unregistered: UnregisteredClassPolicy = .throwError
    ) throws -> Decoded {
        guard let type = try resolve(document[Self.classNameKey], unregistered: unregistered) else {
            return .document(document)
        }
        var decoder = decoder
        decoder.classRegistry = self
        return .object(try Self.decode(type, from: document, decoder: decoder))
    }

    /// Decodes the bytes of one document as the type registered under its class name (see
    /// ``decode(_:decoder:unregistered:)``); the bytes are checked once and the type is read
    /// straight from them.
    ///
    /// - Throws: As ``decode(_:decoder:unregistered:)``, and `DecodingError.dataCorrupted`
    ///   (with the ``BSONError`` as its underlying error) for bytes that are not a valid
    ///   document.
    public func decode(
        bytes: [UInt8], decoder: BSONDecoder = BSONDecoder(), unregistered: UnregisteredClassPolicy = .throwError
    ) throws -> Decoded {
        // An array value cannot change during the call, so it is read in place.
        try bytes.withUnsafeBytes { try decode(run: $0, copying: false, decoder: decoder, unregistered: unregistered) }
    }

    /// Decodes the bytes of one document as the type registered under its class name (see
    /// ``decode(bytes:decoder:unregistered:)-([UInt8],_,_)``). The bytes are copied first, so
    /// the buffer may be reused as soon as this returns.
    ///
    /// - Throws: As ``decode(bytes:decoder:unregistered:)-([UInt8],_,_)``.
    public func decode(
        bytes: UnsafeRawBufferPointer, decoder: BSONDecoder = BSONDecoder(),
        unregistered: UnregisteredClassPolicy = .throwError
    ) throws -> Decoded {
        try decode(run: bytes, copying: true, decoder: decoder, unregistered: unregistered)
    }

    /// ``decode(bytes:decoder:unregistered:)-(UnsafeRawBufferPointer,_,_)`` for a frame that
    /// the transport lends for the call: the bytes are read in place (and copied only if a
    /// decoded value kept a decoder or container).
    package func decode(
        receivedFrame bytes: UnsafeRawBufferPointer, decoder: BSONDecoder, unregistered: UnregisteredClassPolicy
    ) throws -> Decoded {
        try decode(run: bytes, copying: false, decoder: decoder, unregistered: unregistered)
    }

    /// One decoding run over `bytes`: the tag is found in the run's index of the outermost
    /// document, then the registered type (or the plain document) is read from the same run.
    private func decode(
        run bytes: UnsafeRawBufferPointer, copying: Bool, decoder: BSONDecoder, unregistered: UnregisteredClassPolicy
    ) throws -> Decoded {
        var decoder = decoder
        decoder.classRegistry = self
        var run = try BytesDecodingRun(bytes: bytes, copying: copying, configuration: decoder, trusted: false)
        defer { BytesDecodingRun.keepBytesIfShared(&run) }
        let tag = run.topLevelValue(rawKey: Self.classNameKey)
        guard let type = try resolve(tag, unregistered: unregistered) else {
            return .document(try run.decodeTopLevel(BSONDocument.self))
        }
        return .object(try Self.decode(type, run: run))
    }

    /// The registered type for a class-name field's value; `nil` for a plain document.
    private func resolve(_ tag: BSONValue?, unregistered: UnregisteredClassPolicy) throws -> (any BSONClassNamed.Type)? {
        guard let tag else { return nil }
        guard case .string(let name) = tag else {
            throw BSONError(
                .unknownClass, "the \"\(Self.classNameKey)\" field holds \(tag.type), not a class name string",
                keyPath: [Self.classNameKey])
        }
        if let type = type(named: name) { return type }
        if unregistered == .returnDocument { return nil }
        throw BSONError(
            .unknownClass, "no Swift type is registered for the py-bson class name \"\(name)\"", keyPath: [Self.classNameKey])
    }

    private static func decode<T: BSONClassNamed>(
        _ type: T.Type, from document: BSONDocument, decoder: BSONDecoder
    ) throws -> any BSONClassNamed {
        try decoder.decode(type, from: document)
    }

    private static func decode<T: BSONClassNamed>(_ type: T.Type, run: BytesDecodingRun) throws -> any BSONClassNamed {
        try run.decodeTopLevel(type)
    }
}
