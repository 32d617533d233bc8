/// The key of an element the direct encoder writes: a coding key's string or an array
/// position (written as decimal digits without making a `String`).
enum ElementKey {
    case name(String)
    case index(Int)
}

/// One open document, array or value slot of the direct encoder.
///
/// A *slot* is a place for one value: its element header is already written (with a type
/// byte to patch once the value's type is known) and the value's bytes follow. A
/// *document* or *array* is an open container whose length field waits for its end.
struct OpenItem {
    enum Kind: UInt8 { case document, array, slot }

    let id: Int
    let kind: Kind
    /// Document or array: the offset of its length field. Slot: the offset of its type byte,
    /// or -1 for the top-level value, which has none.
    let start: Int
    let node: Int32
    /// Document or array: the nesting level of its elements (0 for the outermost document).
    /// Slot: the level of the document that holds it (-1 for the top-level value).
    let depth: Int
    /// Slot: where its element begins, to take it back if its value fails.
    let elementStart: Int
    /// Slot: the number of coding-path nodes before its own.
    let pathMark: Int32
    /// The py-bson class name to add (an index into ``StreamEncodingRun/classNames``, or
    /// -1): on a slot until its value opens a document, then on that document, which writes
    /// it last. An index keeps this struct free of references, so the stack moves it cheaply.
    var classTag: Int32 = -1
    /// Array: elements written so far.
    var count = 0
    /// Slot: the type of its value once one was written (0 until then).
    var valueType: UInt8 = 0
    /// Slot: the container its value opened, or -1.
    var containerID = -1
}

/// One call of ``BSONEncoder/encode(_:)``: writes BSON bytes as the value's `encode(to:)`
/// calls arrive, in one buffer.
///
/// Open containers form a stack. Writing to a container closes the containers opened
/// after it (their values are complete). Writing to a container that was closed that way
/// is legal Swift but cannot be followed in a single pass: the run then gives up (see
/// ``OutOfOrderSignal``) and the encoder starts over with ``TreeEncodingRun``.
final class StreamEncodingRun {
    let configuration: BSONEncoder
    let userInfo: [CodingUserInfoKey: Any]
    let maxDepth: Int
    @exclusivity(unchecked) var buffer = ByteBuffer(capacity: 512)
    @exclusivity(unchecked) var stack = RunBuffer<OpenItem>(capacity: 16)
    @exclusivity(unchecked) var nextID = 0
    @exclusivity(unchecked) var paths = CodingPathArena()
    @exclusivity(unchecked) var kinds = TypeKindCache()
    /// Set when a container was used out of order; every later call does nothing.
    @exclusivity(unchecked) var outOfOrder = false
    /// The class names of the open items that have one.
    @exclusivity(unchecked) var classNames: [String] = []
    /// The first failure found where it could not be thrown (a non-throwing container
    /// request, a container closed by a later write); thrown at the end.
    @exclusivity(unchecked) var failure: (any Error)?

    init(configuration: BSONEncoder) {
        self.configuration = configuration
        userInfo = configuration.plainUserInfo
        maxDepth = configuration.options.maxDepth
    }

    deinit {
        buffer.deallocate()
        stack.deallocate()
        paths.deallocate()
    }

    /// The bytes of `value`'s document, or `nil` when the value used its containers out of
    /// order.
    func encodeTopLevel<T: Encodable>(_ value: T) throws -> [UInt8]? {
        let kind = kinds.kind(of: T.self)
        let slot = pushSlot(
            start: -1, elementStart: 0, node: CodingPathArena.root, depth: -1,
            classTag: kind == .classNamed ? tag(bsonClassName(of: value)) : -1)
        do {
            try fill(slot: slot, with: value, kind: kind, node: CodingPathArena.root)
            try finish(slot: slot)
        } catch {
            if outOfOrder { return nil }
            throw convert(error, value: value, path: [])
        }
        if outOfOrder { return nil }
        if let failure { throw failure }
        return buffer.bytes
    }

    // MARK: The stack

    @inline(__always)
    private func newID() -> Int {
        nextID += 1
        return nextID
    }

    /// Keeps a class name for an open item; its index.
    func tag(_ name: String) -> Int32 {
        classNames.append(name)
        return Int32(truncatingIfNeeded: classNames.count - 1)
    }

    func className(_ tag: Int32) -> String? {
        tag >= 0 && Int(tag) < classNames.count ? classNames[Int(tag)] : nil
    }

    @inline(__always)
    func pushSlot(start: Int, elementStart: Int, node: Int32, depth: Int, classTag: Int32, pathMark: Int32? = nil) -> Int {
        let id = newID()
        stack.append(
            OpenItem(
                id: id, kind: .slot, start: start, node: node, depth: depth, elementStart: elementStart,
                pathMark: pathMark ?? paths.count, classTag: classTag))
        return id
    }

    /// Makes item `id` the innermost open item, closing those opened after it.
    @inline(__always)
    func activate(_ id: Int) throws {
        if !stack.isEmpty, stack[stack.count - 1].id == id { return }
        guard tryActivate(id) else { throw OutOfOrderSignal() }
    }

    /// ``activate(_:)`` for callers that cannot throw: `false` when the item is closed
    /// (the run is then out of order).
    func tryActivate(_ id: Int) -> Bool {
        guard !outOfOrder, id > 0, let index = stack.lastIndex(where: { $0.id == id }) else {
            outOfOrder = true
            return false
        }
        while stack.count > index + 1 { closeTop() }
        return true
    }

    /// Closes the innermost open item.
    @inline(__always)
    func closeTop() {
        let last = stack.count - 1
        if stack[last].kind == .document, stack[last].classTag < 0 {
            // The common case, without copying the item out.
            let start = stack[last].start
            let node = stack[last].node
            _ = stack.removeLast()
            buffer.append(0)
            let length = buffer.count - start
            guard length <= Int(Int32.max) else {
                record(EncodingFailure(ByteBuffer.tooLarge()), path: path(node))
                return
            }
            buffer.patch(int32: Int32(length), at: start)
            return
        }
        if stack[last].kind == .slot, stack[last].valueType != 0 {
            // The other common case: a slot whose value was written.
            let mark = stack[last].pathMark
            _ = stack.removeLast()
            paths.truncate(to: mark)
            return
        }
        closeTopInGeneral()
    }

    /// ``closeTop()`` for the items that need more than a length patch.
    @inline(never)
    private func closeTopInGeneral() {
        let item = stack.removeLast()
        switch item.kind {
        case .document:
            if let name = className(item.classTag) { appendClassName(name) }
            closeContainer(item)
        case .array:
            closeContainer(item)
        case .slot:
            if item.valueType == 0 {
                // A value that encoded nothing is an empty document (holding only the class
                // name for a class-named type).
                if item.start >= 0 { buffer.patch(byte: 0x03, at: item.start) }
                let start = buffer.count
                buffer.append(littleEndian: Int32(0))
                if let name = className(item.classTag) { appendClassName(name) }
                buffer.append(0)
                buffer.patch(int32: Int32(buffer.count - start), at: start)
            }
            paths.truncate(to: item.pathMark)
        }
    }

    private func closeContainer(_ item: OpenItem) {
        buffer.append(0)
        let length = buffer.count - item.start
        guard length <= Int(Int32.max) else {
            record(EncodingFailure(ByteBuffer.tooLarge()), path: path(item.node))
            return
        }
        buffer.patch(int32: Int32(length), at: item.start)
    }

    private func appendClassName(_ name: String) {
        buffer.append(0x02)
        buffer.append(utf8: BSONClassRegistry.classNameKey)
        buffer.append(0)
        buffer.appendString(name)
    }

    /// Closes slot `id` and everything its value opened.
    @inline(__always)
    func finish(slot id: Int) throws {
        // Usually the slot's container is the innermost item and the slot just below it.
        let count = stack.count
        if !outOfOrder, count >= 2, stack[count - 2].id == id {
            closeTop()
            closeTop()
            if let failure { throw failure }
            return
        }
        guard !outOfOrder, let index = stack.lastIndex(where: { $0.id == id }) else {
            outOfOrder = true
            throw OutOfOrderSignal()
        }
        while stack.count > index { closeTop() }
        if let failure { throw failure }
    }

    /// Takes back slot `id`'s element after its value failed.
    func rollBack(slot id: Int) {
        guard let index = stack.lastIndex(where: { $0.id == id }) else { return }
        let slot = stack[index]
        stack.truncate(to: index)
        buffer.truncate(to: slot.elementStart)
        paths.truncate(to: slot.pathMark)
    }

    func record(_ failure: EncodingFailure, path: [any CodingKey]) {
        if self.failure == nil { self.failure = failure.encodingError(failure.message, path: path) }
    }

    func convert(_ error: any Error, value: Any, path: @autoclosure () -> [any CodingKey]) -> any Error {
        if let failure = error as? EncodingFailure { return failure.encodingError(value, path: path()) }
        return error
    }

    /// The key a `bytes` label stands for: the key as written in the buffer.
    func resolve(_ label: CodingPathArena.Label) -> any CodingKey {
        BSONCodingKey(
            stringValue: String(
                decoding: UnsafeBufferPointer(start: buffer.pointer + Int(label.a), count: Int(label.b)), as: UTF8.self))
    }

    /// The coding path of `node`.
    func path(_ node: Int32) -> [any CodingKey] {
        paths.path(node, resolve)
    }

    /// The label for an element's key whose header starts at `headerStart`: `explicit` when
    /// the container made one (a key strategy changed the written key), else the written
    /// bytes or the array index.
    @inline(__always)
    func label(_ key: ElementKey, headerStart: Int, explicit: CodingPathArena.Label) -> CodingPathArena.Label {
        if explicit.kind != .none { return explicit }
        switch key {
        case .index(let index): return .index(index)
        case .name(let name): return .bytes(headerStart + 1, name.utf8.count)
        }
    }

    // MARK: Writing elements

    /// Writes an element header for `key` into the innermost open item, a document or array.
    @inline(__always)
    func appendHeader(_ type: UInt8, _ key: ElementKey) throws(EncodingFailure) {
        switch key {
        case .index(let index):
            buffer.append(type)
            appendDigits(index)
            buffer.append(0)
        case .name(let name):
            let ok: Bool =
                name.utf8.withContiguousStorageIfAvailable { bytes in
                    if Writer.containsNUL(bytes) { return false }
                    buffer.appendHeader(type, key: bytes)
                    return true
                } ?? {
                    var copy = name
                    return copy.withUTF8 { bytes in
                        if Writer.containsNUL(bytes) { return false }
                        buffer.appendHeader(type, key: bytes)
                        return true
                    }
                }()
            guard ok else { throw .nulInKey(name) }
            let tag = stack[stack.count - 1].classTag
            if tag >= 0, let name2 = className(tag), name.utf8.elementsEqual(BSONClassRegistry.classNameKey.utf8) {
                throw .classNameField(name2)
            }
        }
    }

    private func appendDigits(_ value: Int) {
        if value < 10 {
            buffer.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var position = raw.count
            var rest = value
            repeat {
                position -= 1
                raw[position] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            } while rest > 0
            buffer.append(raw: UnsafeRawBufferPointer(rebasing: raw[position...]))
        }
    }

    /// The key of the next element of the innermost open item, counting array positions.
    @inline(__always)
    func nextKey(_ key: ElementKey?) -> ElementKey {
        if let key { return key }
        let top = stack.count - 1
        let index = stack[top].count
        stack[top].count = index + 1
        return .index(index)
    }

    /// Writes a string, integer, double or boolean element into document `frame` (the
    /// keyed containers' common case, without going through a ``BSONValue``).
    @inline(__always)
    func appendScalar(_ type: UInt8, key: String, frame: Int, _ payload: (inout ByteBuffer) -> Void) throws {
        try activate(frame)
        let start = buffer.count
        do throws(EncodingFailure) {
            try appendHeader(type, .name(key))
        } catch {
            buffer.truncate(to: start)
            throw error
        }
        payload(&buffer)
    }

    /// Writes a whole element with a BSON value into container `frame`.
    func appendElement(_ value: BSONValue, key: ElementKey?, frame: Int) throws {
        try activate(frame)
        let depth = stack[stack.count - 1].depth
        let start = buffer.count
        let key = nextKey(key)
        do throws(EncodingFailure) {
            try appendHeader(value.type.rawValue, key)
            do {
                try buffer.appendPayload(value, depth: depth, maxDepth: maxDepth)
            } catch {
                throw EncodingFailure(error)
            }
        } catch {
            buffer.truncate(to: start)
            if case .index = key { stack[stack.count - 1].count -= 1 }
            throw error
        }
    }

    /// Writes `value` as an element of container `frame` (whose path is `parent`): directly
    /// when it needs no `Encoder`, otherwise through a slot.
    func appendElement<T: Encodable>(
        _ value: T, key: ElementKey?, explicit: CodingPathArena.Label, frame: Int, parent: Int32
    ) throws {
        let kind = kinds.kind(of: T.self)
        if kind != .other, kind != .classNamed, let simple = try configuration.simpleValue(value, kind: kind) {
            try appendElement(simple, key: key, frame: frame)
            return
        }
        try activate(frame)
        let depth = stack[stack.count - 1].depth
        let elementStart = buffer.count
        let key = nextKey(key)
        do throws(EncodingFailure) {
            try appendHeader(0x03, key)
        } catch {
            buffer.truncate(to: elementStart)
            if case .index = key { stack[stack.count - 1].count -= 1 }
            throw error
        }
        let mark = paths.count
        let node = paths.push(label(key, headerStart: elementStart, explicit: explicit), parent: parent)
        let slot = pushSlot(
            start: elementStart, elementStart: elementStart, node: node, depth: depth,
            classTag: kind == .classNamed ? tag(bsonClassName(of: value)) : -1, pathMark: mark)
        do {
            try fill(slot: slot, with: value, kind: kind, node: node, simpleChecked: true)
            try finish(slot: slot)
        } catch {
            if outOfOrder { throw OutOfOrderSignal() }
            rollBack(slot: slot)
            if case .index = key, !stack.isEmpty, stack[stack.count - 1].kind == .array { stack[stack.count - 1].count -= 1 }
            throw error
        }
    }

    /// Encodes `value` into slot `slot` through its strategy or its own `encode(to:)`.
    /// `simpleChecked` says the caller already found that the value needs an `Encoder`.
    func fill<T: Encodable>(slot: Int, with value: T, kind: TypeKind, node: Int32, simpleChecked: Bool = false) throws {
        if !simpleChecked, let simple = try configuration.simpleValue(value, kind: kind) {
            try write(simple, toSlot: slot)
            return
        }
        let encoder = StreamEncoder(run: self, slot: slot, node: node)
        if kind == .other || kind == .classNamed {
            try value.encode(to: encoder)
            return
        }
        if try configuration.encodeThroughStrategy(value, kind: kind, to: encoder) { return }
        try value.encode(to: encoder)
    }

    /// Writes the single value of slot `id`.
    func write(_ value: BSONValue, toSlot id: Int) throws {
        try activate(id)
        let top = stack.count - 1
        precondition(
            stack[top].valueType == 0,
            "a single value container was asked to encode a second value for the same value")
        var value = value
        if let tag = className(stack[top].classTag) {
            guard case .document(var document) = value else {
                throw EncodingFailure.classNamedNotDocument(tag, found: Self.describe(value.type))
            }
            if document.contains(key: BSONClassRegistry.classNameKey) { throw EncodingFailure.classNameField(tag) }
            document.append(.string(tag), forKey: BSONClassRegistry.classNameKey)
            value = .document(document)
        }
        if stack[top].start < 0 {
            guard value.type == .document else { throw EncodingFailure.topLevel(found: Self.describe(value.type)) }
        } else {
            buffer.patch(byte: value.type.rawValue, at: stack[top].start)
        }
        stack[top].valueType = value.type.rawValue
        do {
            try buffer.appendPayload(value, depth: stack[top].depth, maxDepth: maxDepth)
        } catch {
            throw EncodingFailure(error)
        }
    }

    /// "a string", "an int64", … for messages.
    static func describe(_ type: BSONType) -> String {
        let name = type.description
        return (["a", "e", "i", "o", "u"].contains(name.first.map(String.init) ?? "") ? "an " : "a ") + name
    }

    // MARK: Containers

    /// Opens the document or array of slot `id`'s value and returns its id (-1 when the run
    /// is out of order). Asking again for the same kind gives the same container.
    func openContainer(inSlot id: Int, array: Bool) -> Int {
        let index: Int
        if !outOfOrder, !stack.isEmpty, stack[stack.count - 1].id == id {
            index = stack.count - 1
        } else if !outOfOrder, let found = stack.lastIndex(where: { $0.id == id }) {
            index = found
        } else {
            outOfOrder = true
            return -1
        }
        let slot = stack[index]
        if slot.containerID >= 0 {
            let wanted: OpenItem.Kind = array ? .array : .document
            guard let open = stack.lastIndex(where: { $0.id == slot.containerID }) else {
                outOfOrder = true
                return -1
            }
            precondition(
                stack[open].kind == wanted,
                "\(array ? "an unkeyed" : "a keyed") container was requested for a value that already has "
                    + "\(array ? "a keyed" : "an unkeyed") container")
            return slot.containerID
        }
        precondition(
            slot.valueType == 0,
            "a container was requested for a value that was already encoded through a single value container")
        while stack.count > index + 1 { closeTop() }
        if slot.start >= 0 {
            buffer.patch(byte: array ? 0x04 : 0x03, at: slot.start)
        } else if array {
            record(.topLevel(found: "an array"), path: path(slot.node))
        }
        if array, let name = className(slot.classTag) {
            record(.classNamedNotDocument(name, found: "an array"), path: path(slot.node))
        }
        let depth = slot.depth + 1
        if depth > maxDepth { record(.nesting(maxDepth), path: path(slot.node)) }
        let start = buffer.count
        buffer.append(littleEndian: Int32(0))
        let frame = newID()
        stack[index].valueType = array ? 0x04 : 0x03
        stack[index].containerID = frame
        stack.append(
            OpenItem(
                id: frame, kind: array ? .array : .document, start: start, node: slot.node, depth: depth,
                elementStart: start, pathMark: paths.count, classTag: array ? -1 : slot.classTag))
        return frame
    }

    /// Opens a nested document or array as an element of container `frame`; returns its id
    /// and path node (id -1 when the run is out of order).
    func openNested(
        in frame: Int, key: ElementKey?, explicit: CodingPathArena.Label, parent: Int32, array: Bool
    ) -> (Int, Int32) {
        guard tryActivate(frame) else { return (-1, parent) }
        let key = nextKey(key)
        let headerStart = buffer.count
        let depth = stack[stack.count - 1].depth + 1
        var failed: EncodingFailure?
        do {
            try appendHeader(array ? 0x04 : 0x03, key)
        } catch {
            failed = error
        }
        let node = paths.push(label(key, headerStart: headerStart, explicit: explicit), parent: parent)
        if let failed { record(failed, path: path(node)) }
        if depth > maxDepth { record(.nesting(maxDepth), path: path(node)) }
        let start = buffer.count
        buffer.append(littleEndian: Int32(0))
        let id = newID()
        stack.append(
            OpenItem(
                id: id, kind: array ? .array : .document, start: start, node: node, depth: depth, elementStart: start,
                pathMark: paths.count))
        return (id, node)
    }

    /// Opens a slot as an element of container `frame`, for `superEncoder()`; returns an
    /// encoder for it.
    func openSlot(in frame: Int, key: ElementKey?, explicit: CodingPathArena.Label, parent: Int32) -> StreamEncoder {
        guard tryActivate(frame) else { return StreamEncoder(run: self, slot: -1, node: parent) }
        let depth = stack[stack.count - 1].depth
        let elementStart = buffer.count
        let key = nextKey(key)
        let mark = paths.count
        var failed: EncodingFailure?
        do {
            try appendHeader(0x03, key)
        } catch {
            failed = error
        }
        let node = paths.push(label(key, headerStart: elementStart, explicit: explicit), parent: parent)
        if let failed { record(failed, path: path(node)) }
        let slot = pushSlot(start: elementStart, elementStart: elementStart, node: node, depth: depth, classTag: -1, pathMark: mark)
        return StreamEncoder(run: self, slot: slot, node: node)
    }
}
