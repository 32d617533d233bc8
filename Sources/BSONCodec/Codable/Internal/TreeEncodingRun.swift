/// A place for one value in the document encoder's tree.
final class TreeSlot {
    enum Content {
        case empty
        case value(BSONValue)
        case document(TreeDocument)
        case array(TreeArray)
    }

    var content: Content = .empty
    var classTag: String?
    let path: [any CodingKey]

    init(path: [any CodingKey], classTag: String?) {
        self.path = path
        self.classTag = classTag
    }
}

/// A document in the document encoder's tree; fields keep their order.
final class TreeDocument {
    var fields: [(key: String, item: TreeItem)] = []
    let classTag: String?
    let path: [any CodingKey]

    init(path: [any CodingKey], classTag: String?) {
        self.path = path
        self.classTag = classTag
    }
}

/// An array in the document encoder's tree.
final class TreeArray {
    var items: [TreeItem] = []
    let path: [any CodingKey]

    init(path: [any CodingKey]) {
        self.path = path
    }
}

/// One field or element: a finished value, or a node that may still change.
enum TreeItem {
    case value(BSONValue)
    case slot(TreeSlot)
    case document(TreeDocument)
    case array(TreeArray)
}

/// One call of ``BSONEncoder/encodeDocument(_:)`` (and the fallback of
/// ``BSONEncoder/encode(_:)``): builds a tree of containers that stay open until the end,
/// so that any order of container use works, then turns it into a ``BSONDocument``.
final class TreeEncodingRun {
    let configuration: BSONEncoder
    let userInfo: [CodingUserInfoKey: Any]
    let maxDepth: Int
    var kinds = TypeKindCache()
    var failure: (any Error)?

    init(configuration: BSONEncoder) {
        self.configuration = configuration
        userInfo = configuration.plainUserInfo
        maxDepth = configuration.options.maxDepth
    }

    func encodeTopLevel<T: Encodable>(_ value: T) throws -> BSONDocument {
        let kind = kinds.kind(of: T.self)
        let root = TreeSlot(path: [], classTag: kind == .classNamed ? bsonClassName(of: value) : nil)
        do {
            try fill(root, with: value, kind: kind)
        } catch {
            throw convert(error, value: value, path: [])
        }
        if let failure { throw failure }
        let result: BSONValue
        do {
            result = try finish(root, depth: -1)
        } catch {
            throw convert(error, value: value, path: [])
        }
        if let failure { throw failure }
        guard case .document(let document) = result else {
            throw EncodingFailure.topLevel(found: StreamEncodingRun.describe(result.type)).encodingError(value, path: [])
        }
        return document
    }

    func convert(_ error: any Error, value: Any, path: @autoclosure () -> [any CodingKey]) -> any Error {
        if let failure = error as? EncodingFailure { return failure.encodingError(value, path: path()) }
        return error
    }

    func record(_ failure: EncodingFailure, path: [any CodingKey]) {
        if self.failure == nil { self.failure = failure.encodingError(failure.message, path: path) }
    }

    /// Encodes `value` into `slot` through its strategy or its own `encode(to:)`.
    func fill<T: Encodable>(_ slot: TreeSlot, with value: T, kind: TypeKind) throws {
        if let simple = try configuration.simpleValue(value, kind: kind) {
            try put(simple, into: slot)
            return
        }
        let encoder = TreeEncoder(run: self, slot: slot)
        if try configuration.encodeThroughStrategy(value, kind: kind, to: encoder) { return }
        try value.encode(to: encoder)
    }

    /// The single value of `slot`.
    func put(_ value: BSONValue, into slot: TreeSlot) throws(EncodingFailure) {
        guard case .empty = slot.content else {
            preconditionFailure("a single value container was asked to encode a second value for the same value")
        }
        var value = value
        if let tag = slot.classTag {
            guard case .document(var document) = value else {
                throw EncodingFailure.classNamedNotDocument(tag, found: StreamEncodingRun.describe(value.type))
            }
            if document.contains(key: BSONClassRegistry.classNameKey) { throw EncodingFailure.classNameField(tag) }
            document.append(.string(tag), forKey: BSONClassRegistry.classNameKey)
            value = .document(document)
        }
        slot.content = .value(value)
    }

    /// The document or array of `slot`'s value, made on first request.
    func container(of slot: TreeSlot, array: Bool) -> TreeItem {
        switch slot.content {
        case .empty:
            if array {
                if let tag = slot.classTag { record(.classNamedNotDocument(tag, found: "an array"), path: slot.path) }
                let created = TreeArray(path: slot.path)
                slot.content = .array(created)
                return .array(created)
            }
            let created = TreeDocument(path: slot.path, classTag: slot.classTag)
            slot.content = .document(created)
            return .document(created)
        case .document(let document):
            precondition(!array, "an unkeyed container was requested for a value that already has a keyed container")
            return .document(document)
        case .array(let existing):
            precondition(array, "a keyed container was requested for a value that already has an unkeyed container")
            return .array(existing)
        case .value:
            preconditionFailure(
                "a container was requested for a value that was already encoded through a single value container")
        }
    }

    /// The key to write for `key` in `document`; refuses NUL and the class-name field.
    func keyName(_ key: some CodingKey, in document: TreeDocument) throws(EncodingFailure) -> String {
        let name = configuration.keyString(key, path: document.path)
        if Writer.containsNUL(name) { throw .nulInKey(name) }
        if let tag = document.classTag, name.utf8.elementsEqual(BSONClassRegistry.classNameKey.utf8) {
            throw .classNameField(tag)
        }
        return name
    }

    /// Adds a field or element whose value is `value`, through a slot when it needs an
    /// encoder.
    func item<T: Encodable>(for value: T, path: [any CodingKey], insert: (TreeItem) -> Void, remove: (TreeSlot) -> Void)
        throws
    {
        let kind = kinds.kind(of: T.self)
        if let simple = try configuration.simpleValue(value, kind: kind) {
            insert(.value(simple))
            return
        }
        let slot = TreeSlot(path: path, classTag: kind == .classNamed ? bsonClassName(of: value) : nil)
        insert(.slot(slot))
        do {
            try fill(slot, with: value, kind: kind)
        } catch {
            remove(slot)
            throw error
        }
    }

    // MARK: Finishing

    /// The BSON value of `slot`, held by a document at nesting level `depth`.
    func finish(_ slot: TreeSlot, depth: Int) throws -> BSONValue {
        switch slot.content {
        case .empty:
            guard depth < maxDepth else { throw nesting(slot.path) }
            var fields: [BSONField] = []
            if let tag = slot.classTag { fields.append(BSONField(key: BSONClassRegistry.classNameKey, value: .string(tag))) }
            return .document(BSONDocument(fields: fields))
        case .value(let value):
            try checkDepth(value, depth: depth, path: slot.path)
            return value
        case .document(let document):
            guard depth < maxDepth else { throw nesting(slot.path) }
            return .document(try finish(document, depth: depth + 1))
        case .array(let array):
            guard depth < maxDepth else { throw nesting(slot.path) }
            return .array(try finish(array, depth: depth + 1))
        }
    }

    func finish(_ document: TreeDocument, depth: Int) throws -> BSONDocument {
        var fields: [BSONField] = []
        fields.reserveCapacity(document.fields.count + 1)
        for (key, item) in document.fields {
            fields.append(BSONField(key: key, value: try finish(item, depth: depth, path: document.path + [BSONCodingKey(stringValue: key)])))
        }
        if let tag = document.classTag { fields.append(BSONField(key: BSONClassRegistry.classNameKey, value: .string(tag))) }
        return BSONDocument(fields: fields)
    }

    func finish(_ array: TreeArray, depth: Int) throws -> [BSONValue] {
        var values: [BSONValue] = []
        values.reserveCapacity(array.items.count)
        for (index, item) in array.items.enumerated() {
            values.append(try finish(item, depth: depth, path: array.path + [BSONCodingKey(intValue: index)]))
        }
        return values
    }

    private func finish(_ item: TreeItem, depth: Int, path: [any CodingKey]) throws -> BSONValue {
        switch item {
        case .value(let value):
            try checkDepth(value, depth: depth, path: path)
            return value
        case .slot(let slot):
            return try finish(slot, depth: depth)
        case .document(let document):
            guard depth < maxDepth else { throw nesting(document.path) }
            return .document(try finish(document, depth: depth + 1))
        case .array(let array):
            guard depth < maxDepth else { throw nesting(array.path) }
            return .array(try finish(array, depth: depth + 1))
        }
    }

    /// Refuses a finished value that nests past the limit, or holds a key or regular
    /// expression the direct encoder would refuse, so that both encoders agree.
    private func checkDepth(_ value: BSONValue, depth: Int, path: [any CodingKey]) throws {
        switch value {
        case .document, .array, .javascriptWithScope, .regex: break
        default: return
        }
        var scratch = ByteBuffer(capacity: 64)
        defer { scratch.deallocate() }
        do {
            try scratch.appendPayload(value, depth: depth, maxDepth: maxDepth)
        } catch {
            throw EncodingFailure(error).encodingError(value, path: path + error.keyPath.map { BSONCodingKey(stringValue: $0) })
        }
    }

    private func nesting(_ path: [any CodingKey]) -> any Error {
        EncodingFailure.nesting(maxDepth).encodingError(EncodingFailure.nesting(maxDepth).message, path: path)
    }
}
