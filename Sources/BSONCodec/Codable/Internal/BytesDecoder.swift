/// The `Decoder` handed to `init(from:)`: one value of the bytes being decoded.
///
/// Three words (run, element, path node), so that it travels inside an `any Decoder`
/// without an allocation.
struct BytesDecoder: Decoder {
    let run: BytesDecodingRun
    let element: BSONElement
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }
    var userInfo: [CodingUserInfoKey: Any] { run.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard element.type == 0x03 else { throw mismatch(expected: "a document", type: [String: Any].self) }
        let fields = run.fields(of: element, node: node)
        return KeyedDecodingContainer(BytesKeyedContainer<Key>(run: run, fields: fields, node: node))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard element.type == 0x04 else { throw mismatch(expected: "an array", type: [Any].self) }
        return BytesUnkeyedContainer(run: run, elements: run.ranges[Int(element.child)], node: node)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BytesSingleValueContainer(run: run, element: element, node: node)
    }

    private func mismatch(expected: String, type: Any.Type) -> DecodingError {
        UnboxFailure.mismatch(expected: expected, found: element.type).decodingError(type, path: codingPath)
    }
}

/// A document's fields, looked up by key.
struct BytesKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let run: BytesDecodingRun
    let fields: FieldRange
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }

    var allKeys: [Key] { run.keys(in: fields).compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { run.find(key.stringValue, in: fields) >= 0 }

    @inline(__always)
    private func field(_ key: Key) throws -> (BSONElement, CodingPathArena.Label) {
        let index = run.find(key.stringValue, in: fields)
        guard index >= 0 else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath, debugDescription: "no value for the key \"\(key.stringValue)\""))
        }
        return run.field(index)
    }

    @inline(__always)
    private func element(_ key: Key) throws -> BSONElement {
        try field(key).0
    }

    /// The element for `key` unless it is absent or null.
    @inline(__always)
    private func presentField(_ key: Key) -> (BSONElement, CodingPathArena.Label)? {
        let index = run.find(key.stringValue, in: fields)
        guard index >= 0 else { return nil }
        let found = run.field(index)
        return found.0.type == 0x0A ? nil : found
    }

    @inline(__always)
    private func presentElement(_ key: Key) -> BSONElement? {
        presentField(key)?.0
    }

    @inline(__always)
    private func fail(_ failure: UnboxFailure, _ type: Any.Type, _ key: Key) -> DecodingError {
        failure.decodingError(type, path: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try element(key).type == 0x0A }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let element = try element(key)
        do { return try run.unboxBool(element) } catch { throw fail(error, type, key) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let element = try element(key)
        do { return try run.unboxString(element) } catch { throw fail(error, type, key) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        let element = try element(key)
        do { return try run.unboxDouble(element) } catch { throw fail(error, type, key) }
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        let element = try element(key)
        do { return try run.unboxFloat(element) } catch { throw fail(error, type, key) }
    }

    @inline(__always)
    private func integer<Integer: FixedWidthInteger>(_ type: Integer.Type, _ key: Key) throws -> Integer {
        let element = try element(key)
        do { return try run.unboxInteger(element, as: type) } catch { throw fail(error, type, key) }
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (element, label) = try field(key)
        return try run.decodeValue(type, element, parent: node, label)
    }

    // One lookup instead of the three (contains, decodeNil, decode) of the default
    // implementations.

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let element = presentElement(key) else { return nil }
        do { return try run.unboxBool(element) } catch { throw fail(error, type, key) }
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let element = presentElement(key) else { return nil }
        do { return try run.unboxString(element) } catch { throw fail(error, type, key) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let element = presentElement(key) else { return nil }
        do { return try run.unboxDouble(element) } catch { throw fail(error, type, key) }
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        guard let element = presentElement(key) else { return nil }
        do { return try run.unboxFloat(element) } catch { throw fail(error, type, key) }
    }

    @inline(__always)
    private func integerIfPresent<Integer: FixedWidthInteger>(_ type: Integer.Type, _ key: Key) throws -> Integer? {
        guard let element = presentElement(key) else { return nil }
        do { return try run.unboxInteger(element, as: type) } catch { throw fail(error, type, key) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try integerIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try integerIfPresent(type, key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let (element, label) = presentField(key) else { return nil }
        return try run.decodeValue(type, element, parent: node, label)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (element, label) = try field(key)
        let child = run.paths.push(label, parent: node)
        return try BytesDecoder(run: run, element: element, node: child).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let (element, label) = try field(key)
        let child = run.paths.push(label, parent: node)
        return try BytesDecoder(run: run, element: element, node: child).unkeyedContainer()
    }

    /// The value under "super"; null when there is none (as `JSONDecoder` does).
    func superDecoder() throws -> any Decoder {
        let index = run.find("super", in: fields)
        let element = index >= 0 ? run.field(index).0 : .null
        return BytesDecoder(run: run, element: element, node: run.paths.push(.superKey, parent: node))
    }

    /// The value under `key`; null when there is none.
    func superDecoder(forKey key: Key) throws -> any Decoder {
        let index = run.find(key.stringValue, in: fields)
        let element = index >= 0 ? run.field(index).0 : .null
        let label = run.paths.label(for: key)
        return BytesDecoder(run: run, element: element, node: run.paths.push(label, parent: node))
    }
}

/// An array's elements, read in order.
struct BytesUnkeyedContainer: UnkeyedDecodingContainer {
    let run: BytesDecodingRun
    let node: Int32
    /// The array's entries in ``BytesDecodingRun/entries``: `position` up to `end`.
    private var position: Int32
    private let end: Int32
    private(set) var currentIndex: Int = 0

    init(run: BytesDecodingRun, elements: FieldRange, node: Int32) {
        self.run = run
        self.node = node
        position = elements.first
        end = elements.first + elements.count
    }

    var codingPath: [any CodingKey] { run.path(node) }

    var count: Int? { Int(end - position) + currentIndex }

    var isAtEnd: Bool { position >= end }

    /// The next element and the entry after it.
    @inline(__always)
    private func next(_ type: Any.Type) throws -> (BSONElement, Int32) {
        guard position < end else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: run.path(node, .index(currentIndex)),
                    debugDescription: "the array has no element at index \(currentIndex) (it has \(currentIndex))"))
        }
        return (run.entries[Int(position)].element, position + 1)
    }

    @inline(__always)
    private mutating func advance(to next: Int32) {
        position = next
        currentIndex += 1
    }

    @inline(__always)
    private func fail(_ failure: UnboxFailure, _ type: Any.Type) -> DecodingError {
        failure.decodingError(type, path: run.path(node, .index(currentIndex)))
    }

    mutating func decodeNil() throws -> Bool {
        let (element, next) = try next(Never?.self)
        guard element.type == 0x0A else { return false }
        advance(to: next)
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let (element, next) = try next(type)
        do { let value = try run.unboxBool(element); advance(to: next); return value } catch { throw fail(error, type) }
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let (element, next) = try next(type)
        do { let value = try run.unboxString(element); advance(to: next); return value } catch { throw fail(error, type) }
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        let (element, next) = try next(type)
        do { let value = try run.unboxDouble(element); advance(to: next); return value } catch { throw fail(error, type) }
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        let (element, next) = try next(type)
        do { let value = try run.unboxFloat(element); advance(to: next); return value } catch { throw fail(error, type) }
    }

    @inline(__always)
    private mutating func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        let (element, next) = try next(type)
        do {
            let value = try run.unboxInteger(element, as: type)
            advance(to: next)
            return value
        } catch {
            throw fail(error, type)
        }
    }

    mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (element, next) = try next(type)
        let value = try run.decodeValue(type, element, parent: node, .index(currentIndex))
        advance(to: next)
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (element, next) = try next(KeyedDecodingContainer<NestedKey>.self)
        let child = run.paths.push(.index(currentIndex), parent: node)
        let container = try BytesDecoder(run: run, element: element, node: child).container(keyedBy: type)
        advance(to: next)
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (element, next) = try next((any UnkeyedDecodingContainer).self)
        let child = run.paths.push(.index(currentIndex), parent: node)
        let container = try BytesDecoder(run: run, element: element, node: child).unkeyedContainer()
        advance(to: next)
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let (element, next) = try next((any Decoder).self)
        let decoder = BytesDecoder(run: run, element: element, node: run.paths.push(.index(currentIndex), parent: node))
        advance(to: next)
        return decoder
    }
}

/// One value.
struct BytesSingleValueContainer: SingleValueDecodingContainer {
    let run: BytesDecodingRun
    let element: BSONElement
    let node: Int32

    var codingPath: [any CodingKey] { run.path(node) }

    @inline(__always)
    private func fail(_ failure: UnboxFailure, _ type: Any.Type) -> DecodingError {
        failure.decodingError(type, path: codingPath)
    }

    func decodeNil() -> Bool { element.type == 0x0A }

    func decode(_ type: Bool.Type) throws -> Bool {
        do { return try run.unboxBool(element) } catch { throw fail(error, type) }
    }

    func decode(_ type: String.Type) throws -> String {
        do { return try run.unboxString(element) } catch { throw fail(error, type) }
    }

    func decode(_ type: Double.Type) throws -> Double {
        do { return try run.unboxDouble(element) } catch { throw fail(error, type) }
    }

    func decode(_ type: Float.Type) throws -> Float {
        do { return try run.unboxFloat(element) } catch { throw fail(error, type) }
    }

    @inline(__always)
    private func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        do { return try run.unboxInteger(element, as: type) } catch { throw fail(error, type) }
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // The same value, so the same path: no new component.
        try run.decodeValue(type, element, parent: node, .none)
    }
}
