/// The `Encoder` handed to `encode(to:)` by the direct encoder: one value slot.
struct StreamEncoder: Encoder {
    let run: StreamEncodingRun
    let slot: Int
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }
    var userInfo: [CodingUserInfoKey: Any] { run.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let frame = run.openContainer(inSlot: slot, array: false)
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(run: run, frame: frame, node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        StreamUnkeyedContainer(run: run, frame: run.openContainer(inSlot: slot, array: true), node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleValueContainer(run: run, slot: slot, node: node)
    }
}

/// A document being written.
struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let run: StreamEncodingRun
    let frame: Int
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }

    @inline(__always)
    private func name(_ key: Key) -> ElementKey {
        .name(run.configuration.keyString(key, path: run.path(node)))
    }

    /// The key itself for coding paths, when a key strategy changed what is written (`none`
    /// otherwise: the path then reads the written key).
    @inline(__always)
    private func explicit(_ key: Key) -> CodingPathArena.Label {
        if case .useDefaultKeys = run.configuration.keyEncodingStrategy { return .none }
        return run.paths.label(for: key)
    }

    @inline(__always)
    private func put(_ value: BSONValue, _ original: @autoclosure () -> Any, _ key: Key) throws {
        do {
            try run.appendElement(value, key: name(key), frame: frame)
        } catch {
            throw run.convert(error, value: original(), path: run.path(node) + [key])
        }
    }

    /// A scalar element written directly (see ``StreamEncodingRun/appendScalar(_:key:frame:_:)``).
    /// `original` is boxed only for an error.
    @inline(__always)
    private func scalar(
        _ type: UInt8, _ original: @autoclosure () -> Any, _ key: Key, _ payload: (inout ByteBuffer) -> Void
    ) throws {
        do {
            try run.appendScalar(type, key: run.configuration.keyString(key, path: run.path(node)), frame: frame, payload)
        } catch {
            throw run.convert(error, value: original(), path: run.path(node) + [key])
        }
    }

    mutating func encodeNil(forKey key: Key) throws { try scalar(0x0A, Never?.none as Any, key) { _ in } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try scalar(0x08, value, key) { $0.append(value ? 1 : 0) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try scalar(0x02, value, key) { $0.appendString(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try scalar(0x01, value, key) { $0.append(littleEndian: value.bitPattern) }
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try put(.double(Double(value)), value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        if run.configuration.integerEncodingStrategy == .fixedWidth {
            try scalar(0x12, value, key) { $0.append(littleEndian: Int64(value)) }
        } else {
            try put(run.configuration.integerValue(value), value, key)
        }
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try scalar(0x10, value, key) { $0.append(littleEndian: value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        if run.configuration.integerEncodingStrategy == .fixedWidth {
            try scalar(0x12, value, key) { $0.append(littleEndian: value) }
        } else {
            try put(run.configuration.integerValue(value), value, key)
        }
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try put(run.configuration.integerValue(value), value, key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        do {
            try run.appendElement(value, key: name(key), explicit: explicit(key), frame: frame, parent: node)
        } catch {
            throw run.convert(error, value: value, path: run.path(node) + [key])
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let (id, child) = run.openNested(in: frame, key: name(key), explicit: explicit(key), parent: node, array: false)
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(run: run, frame: id, node: child))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let (id, child) = run.openNested(in: frame, key: name(key), explicit: explicit(key), parent: node, array: true)
        return StreamUnkeyedContainer(run: run, frame: id, node: child)
    }

    mutating func superEncoder() -> any Encoder {
        run.openSlot(in: frame, key: .name("super"), explicit: .none, parent: node)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        run.openSlot(in: frame, key: name(key), explicit: explicit(key), parent: node)
    }
}

/// An array being written; element keys are "0", "1", ….
struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let run: StreamEncodingRun
    let frame: Int
    let node: Int32
    private var written = 0

    init(run: StreamEncodingRun, frame: Int, node: Int32) {
        self.run = run
        self.frame = frame
        self.node = node
    }

    var codingPath: [any CodingKey] { run.path(node) }

    var count: Int {
        run.stack.lastIndex(where: { $0.id == frame }).map { run.stack[$0].count } ?? written
    }

    @inline(__always)
    private mutating func put(_ value: BSONValue, _ original: Any) throws {
        let index = count
        do {
            try run.appendElement(value, key: nil, frame: frame)
            written = index + 1
        } catch {
            throw run.convert(error, value: original, path: run.path(node) + [BSONCodingKey(intValue: index)])
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
        let index = count
        do {
            try run.appendElement(value, key: nil, explicit: .none, frame: frame, parent: node)
            written = index + 1
        } catch {
            throw run.convert(error, value: value, path: run.path(node) + [BSONCodingKey(intValue: index)])
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let index = count
        let (id, child) = run.openNested(in: frame, key: nil, explicit: .none, parent: node, array: false)
        written = index + 1
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(run: run, frame: id, node: child))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = count
        let (id, child) = run.openNested(in: frame, key: nil, explicit: .none, parent: node, array: true)
        written = index + 1
        return StreamUnkeyedContainer(run: run, frame: id, node: child)
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        written = index + 1
        return run.openSlot(in: frame, key: nil, explicit: .none, parent: node)
    }
}

/// One value.
struct StreamSingleValueContainer: SingleValueEncodingContainer {
    let run: StreamEncodingRun
    let slot: Int
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }

    @inline(__always)
    private func put(_ value: BSONValue, _ original: Any) throws {
        do {
            try run.write(value, toSlot: slot)
        } catch {
            throw run.convert(error, value: original, path: codingPath)
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
        do {
            if kind == .classNamed, let index = run.stack.lastIndex(where: { $0.id == slot }),
                run.stack[index].classTag < 0, run.stack[index].valueType == 0
            {
                run.stack[index].classTag = run.tag(bsonClassName(of: value))
            }
            // The same slot: a value that wraps another encodes as that value.
            try run.fill(slot: slot, with: value, kind: kind, node: node)
        } catch {
            throw run.convert(error, value: value, path: codingPath)
        }
    }
}
