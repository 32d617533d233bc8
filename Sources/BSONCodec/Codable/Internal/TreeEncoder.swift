/// The `Encoder` handed to `encode(to:)` by the document encoder: one value slot.
struct TreeEncoder: Encoder {
    let run: TreeEncodingRun
    let slot: TreeSlot

    var codingPath: [any CodingKey] { slot.path }
    var userInfo: [CodingUserInfoKey: Any] { run.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        guard case .document(let document) = run.container(of: slot, array: false) else {
            preconditionFailure("a keyed container is a document")
        }
        return KeyedEncodingContainer(TreeKeyedContainer<Key>(run: run, document: document))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        guard case .array(let array) = run.container(of: slot, array: true) else {
            preconditionFailure("an unkeyed container is an array")
        }
        return TreeUnkeyedContainer(run: run, array: array)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        TreeSingleValueContainer(run: run, slot: slot)
    }
}

/// A document of the tree.
struct TreeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let run: TreeEncodingRun
    let document: TreeDocument

    var codingPath: [any CodingKey] { document.path }

    @inline(__always)
    private func put(_ value: BSONValue, _ original: Any, _ key: Key) throws {
        do {
            let name = try run.keyName(key, in: document)
            document.fields.append((name, .value(value)))
        } catch {
            throw error.encodingError(original, path: codingPath + [key])
        }
    }

    mutating func encodeNil(forKey key: Key) throws { try put(.null, Never?.none as Any, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try put(.bool(value), value, key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try put(.string(value), value, key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try put(.double(value), value, key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try put(.double(Double(value)), value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let path = codingPath + [key]
        let document = self.document
        do {
            let name = try run.keyName(key, in: document)
            try run.item(
                for: value, path: path,
                insert: { document.fields.append((name, $0)) },
                remove: { slot in
                    document.fields.removeAll { if case .slot(let held) = $0.item { held === slot } else { false } }
                })
        } catch {
            throw run.convert(error, value: value, path: path)
        }
    }

    private func nested(_ key: Key, array: Bool) -> TreeItem {
        let path = codingPath + [key]
        let name: String
        do {
            name = try run.keyName(key, in: document)
        } catch {
            run.record(error, path: path)
            name = key.stringValue
        }
        let item: TreeItem = array ? .array(TreeArray(path: path)) : .document(TreeDocument(path: path, classTag: nil))
        document.fields.append((name, item))
        return item
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        guard case .document(let child) = nested(key, array: false) else { preconditionFailure("made as a document") }
        return KeyedEncodingContainer(TreeKeyedContainer<NestedKey>(run: run, document: child))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        guard case .array(let child) = nested(key, array: true) else { preconditionFailure("made as an array") }
        return TreeUnkeyedContainer(run: run, array: child)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(name: BSONCodingKey.superKey.stringValue, key: BSONCodingKey.superKey)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let name: String
        do {
            name = try run.keyName(key, in: document)
        } catch {
            run.record(error, path: codingPath + [key])
            name = key.stringValue
        }
        return superEncoder(name: name, key: key)
    }

    private func superEncoder(name: String, key: any CodingKey) -> any Encoder {
        let slot = TreeSlot(path: codingPath + [key], classTag: nil)
        document.fields.append((name, .slot(slot)))
        return TreeEncoder(run: run, slot: slot)
    }
}

/// An array of the tree.
struct TreeUnkeyedContainer: UnkeyedEncodingContainer {
    let run: TreeEncodingRun
    let array: TreeArray

    var codingPath: [any CodingKey] { array.path }
    var count: Int { array.items.count }

    private func put(_ value: BSONValue) {
        array.items.append(.value(value))
    }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.double(value)) }
    mutating func encode(_ value: Float) throws { put(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: Int8) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: Int16) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: Int32) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: Int64) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: UInt) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: UInt8) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: UInt16) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: UInt32) throws { put(run.configuration.integerValue(value)) }
    mutating func encode(_ value: UInt64) throws { put(run.configuration.integerValue(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [BSONCodingKey(intValue: array.items.count)]
        let array = self.array
        do {
            try run.item(
                for: value, path: path,
                insert: { array.items.append($0) },
                remove: { slot in
                    array.items.removeAll { if case .slot(let held) = $0 { held === slot } else { false } }
                })
        } catch {
            throw run.convert(error, value: value, path: path)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = TreeDocument(path: codingPath + [BSONCodingKey(intValue: array.items.count)], classTag: nil)
        array.items.append(.document(child))
        return KeyedEncodingContainer(TreeKeyedContainer<NestedKey>(run: run, document: child))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = TreeArray(path: codingPath + [BSONCodingKey(intValue: array.items.count)])
        array.items.append(.array(child))
        return TreeUnkeyedContainer(run: run, array: child)
    }

    mutating func superEncoder() -> any Encoder {
        let slot = TreeSlot(path: codingPath + [BSONCodingKey(intValue: array.items.count)], classTag: nil)
        array.items.append(.slot(slot))
        return TreeEncoder(run: run, slot: slot)
    }
}

/// One value of the tree.
struct TreeSingleValueContainer: SingleValueEncodingContainer {
    let run: TreeEncodingRun
    let slot: TreeSlot

    var codingPath: [any CodingKey] { slot.path }

    private func put(_ value: BSONValue, _ original: Any) throws {
        do {
            try run.put(value, into: slot)
        } catch {
            throw error.encodingError(original, path: codingPath)
        }
    }

    mutating func encodeNil() throws { try put(.null, Never?.none as Any) }
    mutating func encode(_ value: Bool) throws { try put(.bool(value), value) }
    mutating func encode(_ value: String) throws { try put(.string(value), value) }
    mutating func encode(_ value: Double) throws { try put(.double(value), value) }
    mutating func encode(_ value: Float) throws { try put(.double(Double(value)), value) }
    mutating func encode(_ value: Int) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: Int8) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: Int16) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: Int32) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: Int64) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: UInt) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: UInt8) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: UInt16) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: UInt32) throws { try put(run.configuration.integerValue(value), value) }
    mutating func encode(_ value: UInt64) throws { try put(run.configuration.integerValue(value), value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let kind = run.kinds.kind(of: T.self)
        if kind == .classNamed, slot.classTag == nil, case .empty = slot.content {
            slot.classTag = bsonClassName(of: value)
        }
        do {
            try run.fill(slot, with: value, kind: kind)
        } catch {
            throw run.convert(error, value: value, path: codingPath)
        }
    }
}
