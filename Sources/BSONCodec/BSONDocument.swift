/// An ordered BSON document: key/value pairs in the order they are written on the wire.
///
/// Keys may repeat (BSON allows it, and decoding keeps every pair in order). Where one
/// value per key is needed, the **first** pair with that key wins: ``subscript(_:)``,
/// ``dictionary`` and ``BSONView`` all agree on this, as libbson's `bson_iter_find` and the
/// MongoDB server do. (A Python peer that decodes into a `dict` keeps the last instead.)
///
/// ```swift
/// var doc: BSONDocument = ["type": "greeting", "count": 3, "tags": ["a", "b"]]
/// doc["count"] = .int64(4)
/// let bytes = try doc.encoded()
/// let back = try BSONDocument(bytes: bytes)
/// ```
///
/// `==` is ordered and exact; ``isEquivalent(to:)`` ignores the order of keys.
public struct BSONDocument: Sendable {
    /// One key/value pair.
    public typealias Element = (key: String, value: BSONValue)

    // A struct rather than the public tuple: arrays of tuples are destroyed element by
    // element through the runtime's generic tuple witness, arrays of structs by
    // specialised code.
    package var fields: [BSONField]

    /// An empty document.
    public init() {
        fields = []
    }

    package init(fields: [BSONField]) {
        self.fields = fields
    }

    /// A document with the given pairs, in order (duplicates kept).
    public init(_ elements: [Element]) {
        self.fields = elements.map { BSONField(key: $0.key, value: $0.value) }
    }

    /// A document with the given pairs, in order (duplicates kept).
    public init(_ pairs: some Sequence<(String, BSONValue)>) {
        self.fields = pairs.map { BSONField(key: $0.0, value: $0.1) }
    }

    /// The pairs, in order.
    public var elements: [Element] { fields.map { (key: $0.key, value: $0.value) } }

    /// The keys, in order (duplicates included).
    public var keys: [String] { fields.map(\.key) }

    /// The values, in order.
    public var values: [BSONValue] { fields.map(\.value) }

    /// The pairs as a dictionary; where a key repeats, the first value wins.
    public var dictionary: [String: BSONValue] {
        var result = [String: BSONValue](minimumCapacity: fields.count)
        for field in fields where result[field.key] == nil {
            result[field.key] = field.value
        }
        return result
    }

    /// The first value stored under `key`, or `nil`.
    ///
    /// Setting a value replaces the first pair with that key (keeping its position) or
    /// appends a new pair; setting `nil` removes every pair with that key.
    public subscript(key: String) -> BSONValue? {
        get {
            firstIndex(forKey: key).map { fields[$0].value }
        }
        set {
            if let newValue {
                if let index = firstIndex(forKey: key) {
                    fields[index].value = newValue
                } else {
                    fields.append(BSONField(key: key, value: newValue))
                }
            } else {
                fields.removeAll { $0.key.utf8.elementsEqual(key.utf8) }
            }
        }
    }

    /// Appends a pair, even when the key is already present.
    public mutating func append(_ value: BSONValue, forKey key: String) {
        fields.append(BSONField(key: key, value: value))
    }

    /// Removes every pair with `key` and returns the first value removed.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> BSONValue? {
        let old = self[key]
        self[key] = nil
        return old
    }

    /// Whether a pair with `key` exists.
    public func contains(key: String) -> Bool {
        firstIndex(forKey: key) != nil
    }

    private func firstIndex(forKey key: String) -> Int? {
        // Byte comparison: BSON keys are bytes, and Swift's `==` would treat canonically
        // equivalent but differently encoded keys as equal. Equal bytes imply `==`, though,
        // so `==` (a few instructions for short ASCII keys) rejects the keys that differ
        // before the byte-by-byte check (about 180 instructions a key) confirms a match.
        fields.firstIndex { $0.key == key && $0.key.utf8.elementsEqual(key.utf8) }
    }

    /// Whether both documents hold the same pairs regardless of key order, at every level of
    /// nesting (arrays stay ordered; among pairs with the same key, order still counts).
    public func isEquivalent(to other: BSONDocument) -> Bool {
        guard fields.count == other.fields.count else { return false }
        let mine = fields.sortedByKey()
        let theirs = other.fields.sortedByKey()
        for (a, b) in zip(mine, theirs) {
            guard a.key.utf8.elementsEqual(b.key.utf8), a.value.isEquivalent(to: b.value) else { return false }
        }
        return true
    }
}

extension [BSONField] {
    fileprivate func sortedByKey() -> [BSONField] {
        // Stable: ties keep their relative order.
        enumerated().sorted { lhs, rhs in
            let l = [UInt8](lhs.element.key.utf8)
            let r = [UInt8](rhs.element.key.utf8)
            return l == r ? lhs.offset < rhs.offset : l.lexicographicallyPrecedes(r)
        }.map(\.element)
    }
}

extension BSONValue {
    /// Equality that ignores the order of keys inside documents (see
    /// ``BSONDocument/isEquivalent(to:)``).
    public func isEquivalent(to other: BSONValue) -> Bool {
        switch (self, other) {
        case (.document(let a), .document(let b)):
            return a.isEquivalent(to: b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.javascriptWithScope(let a), .javascriptWithScope(let b)):
            return a.code.utf8.elementsEqual(b.code.utf8) && a.scope.isEquivalent(to: b.scope)
        default:
            return self == other
        }
    }
}

// MARK: - Collection

extension BSONDocument: RandomAccessCollection, MutableCollection {
    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }

    public subscript(position: Int) -> Element {
        get { (key: fields[position].key, value: fields[position].value) }
        set { fields[position] = BSONField(key: newValue.key, value: newValue.value) }
    }
}

// MARK: - Equality

extension BSONDocument: Hashable {
    /// Ordered, exact equality: the same keys (byte for byte) with equal values in the same
    /// order.
    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        guard lhs.fields.count == rhs.fields.count else { return false }
        for (a, b) in zip(lhs.fields, rhs.fields) {
            guard a.key.utf8.elementsEqual(b.key.utf8), a.value == b.value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields.count)
        for field in fields {
            hasher.combine(field.key)
            hasher.combine(field.value)
        }
    }
}

// MARK: - Literals

extension BSONDocument: ExpressibleByDictionaryLiteral {
    /// A document literal; pairs keep their written order, and duplicate keys are kept.
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.fields = elements.map { BSONField(key: $0.0, value: $0.1) }
    }
}

/// One stored key/value pair of a ``BSONDocument``.
package struct BSONField: Sendable {
    package var key: String
    package var value: BSONValue

    @inline(__always)
    package init(key: String, value: BSONValue) {
        self.key = key
        self.value = value
    }
}
