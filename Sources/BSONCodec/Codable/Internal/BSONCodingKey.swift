/// The coding key the encoder and decoder make themselves: array positions in coding
/// paths, the `super` key, keys read from a document, and the keys of converted names.
///
/// An array position's string value is its decimal index, the key BSON writes for it (and
/// the form ``BSONError/keyPath`` uses), with `intValue` set as well.
struct BSONCodingKey: CodingKey, Sendable {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    /// The key of `superEncoder()` and `superDecoder()`.
    static let superKey = BSONCodingKey(stringValue: "super")

    /// The py-bson class-name field.
    static let className = BSONCodingKey(stringValue: BSONClassRegistry.classNameKey)
}

/// The coding paths of the values being encoded or decoded, kept as a tree of parent
/// links in one growing array so that entering a nested value costs an append of a few
/// integers, not an allocation.
///
/// A node names its key without holding a `CodingKey`: by where the key's bytes are (in the
/// document being decoded, or the one being written), by array index, or by position in a
/// side list of keys for the rare cases that have no bytes to point at. The coding path is
/// built only when someone asks for it (an error, `codingPath`).
///
/// Nodes are released in stack order with ``truncate(to:)`` once the value that pushed
/// them is done, so the array grows with the nesting depth rather than the document size.
struct CodingPathArena {
    /// How a node names its key.
    struct Label {
        enum Kind: UInt8 {
            /// No key of its own (the top level, or the same value seen again).
            case none
            /// A key whose UTF-8 bytes are at offset `a`, `b` bytes long.
            case bytes
            /// An array position `a`.
            case index
            /// Entry `a` of the decoder's converted key names.
            case entry
            /// `super`.
            case superKey
            /// Key `a` of the arena's side list.
            case explicit
        }

        let kind: Kind
        let a: Int32
        let b: Int32

        static var none: Label { Label(kind: .none, a: 0, b: 0) }
        static var superKey: Label { Label(kind: .superKey, a: 0, b: 0) }

        @inline(__always)
        static func bytes(_ start: Int, _ length: Int) -> Label {
            Label(kind: .bytes, a: Int32(truncatingIfNeeded: start), b: Int32(truncatingIfNeeded: length))
        }

        @inline(__always)
        static func index(_ index: Int) -> Label { Label(kind: .index, a: Int32(truncatingIfNeeded: index), b: 0) }

        @inline(__always)
        static func entry(_ index: Int) -> Label { Label(kind: .entry, a: Int32(truncatingIfNeeded: index), b: 0) }
    }

    private struct Node {
        var parent: Int32
        var label: Label
        /// How many side-list keys there were before this node.
        var keysMark: Int32
    }

    static var root: Int32 { -1 }

    /// The nodes in use; released ones are overwritten by the next push, so pushing and
    /// releasing in a loop neither allocates nor shifts anything. The owner frees them with
    /// ``deallocate()``.
    private var nodes = RunBuffer<Node>()
    private var keys: [any CodingKey] = []

    var count: Int32 { Int32(truncatingIfNeeded: nodes.count) }

    func deallocate() {
        nodes.deallocate()
    }

    /// A new node below `parent`; a `none` label gives `parent` itself.
    @inline(__always)
    mutating func push(_ label: Label, parent: Int32) -> Int32 {
        if label.kind == .none { return parent }
        nodes.append(Node(parent: parent, label: label, keysMark: Int32(truncatingIfNeeded: keys.count)))
        return Int32(truncatingIfNeeded: nodes.count - 1)
    }

    /// The label of a key kept in the side list (for keys that have no bytes to point at).
    mutating func label(for key: any CodingKey) -> Label {
        keys.append(key)
        return Label(kind: .explicit, a: Int32(truncatingIfNeeded: keys.count - 1), b: 0)
    }

    /// Drops the nodes from `count` on (and the side-list keys they added).
    @inline(__always)
    mutating func truncate(to count: Int32) {
        let count = Int(count)
        guard count < nodes.count else { return }
        let keysMark = Int(nodes[count].keysMark)
        if keysMark < keys.count { keys.removeSubrange(keysMark...) }
        nodes.truncate(to: count)
    }

    /// The coding path of `node`, outermost key first. `resolve` turns `bytes` and `entry`
    /// labels into keys.
    func path(_ node: Int32, _ resolve: (Label) -> any CodingKey) -> [any CodingKey] {
        var result: [any CodingKey] = []
        var current = Int(node)
        // A node released and reused can only give a wrong path (to a container used after
        // its value was done), never an out-of-bounds read.
        while current >= 0, current < nodes.count {
            let entry = nodes[current]
            result.append(key(entry.label, resolve))
            guard Int(entry.parent) < current else { break }
            current = Int(entry.parent)
        }
        return result.reversed()
    }

    /// The key a label stands for.
    func key(_ label: Label, _ resolve: (Label) -> any CodingKey) -> any CodingKey {
        switch label.kind {
        case .none: BSONCodingKey(stringValue: "")
        case .index: BSONCodingKey(intValue: Int(label.a))
        case .superKey: BSONCodingKey.superKey
        case .explicit: Int(label.a) < keys.count ? keys[Int(label.a)] : BSONCodingKey(stringValue: "")
        case .bytes, .entry: resolve(label)
        }
    }

    /// The coding path of `node` followed by `label`'s key.
    func path(_ node: Int32, appending label: Label, _ resolve: (Label) -> any CodingKey) -> [any CodingKey] {
        var result = path(node, resolve)
        if label.kind != .none { result.append(key(label, resolve)) }
        return result
    }
}
