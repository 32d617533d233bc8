#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// A value inside the bytes being decoded: its BSON type byte, where its payload starts,
/// and for a document or array the ``FieldRange`` that lists its elements (-1 otherwise).
///
/// Nine bytes, so that ``BytesDecoder`` (a reference, this and a path node) stays within the
/// three words an `any Decoder` holds without allocating.
struct BSONElement {
    var offset: Int32
    var child: Int32
    var type: UInt8

    static let null = BSONElement(offset: 0, child: -1, type: 0x0A)
}

/// One element of a document or array, as the indexing pass found it.
struct FieldEntry {
    var keyStart: Int32
    var keyLength: Int32
    var valueStart: Int32
    /// The ``FieldRange`` of a document or array value, or of a code-with-scope value's
    /// scope; else -1.
    var child: Int32
    var type: UInt8

    @inline(__always)
    var element: BSONElement { BSONElement(offset: valueStart, child: child, type: type) }
}

/// The elements of one document or array: a run of ``FieldEntry`` values in the run's
/// array, and, for documents with many fields, a hash table over their keys (made the
/// first time a keyed container reads the document).
struct FieldRange {
    var first: Int32
    var count: Int32
    /// Where the hash table starts in ``BytesDecodingRun/slots`` (or in
    /// ``BytesDecodingRun/nameTables`` when keys are converted); -1 when there is none yet.
    var table: Int32 = -1
    var tableMask: Int32 = 0
}

/// A document key compared byte for byte (Swift's `String` equality would match
/// canonically equivalent spellings, which BSON keys are not).
struct ExactKey: Hashable {
    let text: String

    static func == (lhs: ExactKey, rhs: ExactKey) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }
}

/// Everything one call of ``BSONDecoder`` shares: the bytes (checked once, then read
/// without further checks), an index of every document and array in them, the
/// configuration, and arenas for hash tables and coding paths.
///
/// The bytes are normally the run's own copy, so that containers a type keeps past its
/// `init(from:)` stay valid and so that a buffer changed by another thread during decoding
/// cannot defeat the checks. A frame that the transport lends (private to the receiving
/// thread for the call) is read in place instead: see ``init(bytes:copying:configuration:trusted:)``
/// and ``keepBytesIfShared()``.
final class BytesDecodingRun {
    private(set) var base: UnsafePointer<UInt8>
    let byteCount: Int
    private var ownsBytes: Bool
    let configuration: BSONDecoder
    let userInfo: [CodingUserInfoKey: Any]
    let convertsKeys: Bool
    /// Every element of every document and array, each document's elements together and in
    /// order.
    @exclusivity(unchecked) var entries = RunBuffer<FieldEntry>()
    /// Every document and array; range 0 is the outermost document.
    @exclusivity(unchecked) var ranges = RunBuffer<FieldRange>()
    @exclusivity(unchecked) var slots = RunBuffer<Int32>()
    /// With a key strategy: the converted name of each entry whose document a keyed container
    /// has read (parallel to ``entries``).
    @exclusivity(unchecked) var names: [String] = []
    @exclusivity(unchecked) var nameTables: [[ExactKey: Int32]] = []
    @exclusivity(unchecked) var paths = CodingPathArena()
    @exclusivity(unchecked) var kinds = TypeKindCache()

    /// Documents with more fields than this get a hash table; fewer are searched in order.
    static var tableThreshold: Int { 12 }

    /// Checks `bytes` and indexes them.
    ///
    /// - Parameters:
    ///   - bytes: One whole document.
    ///   - copying: `true` to decode from a private copy (the safe choice for bytes the caller
    ///     owns); `false` to read `bytes` in place, for a buffer nobody else can change while
    ///     the run decodes and whose owner calls ``keepBytesIfShared()`` before it goes away.
    ///   - trusted: The bytes were produced by this package's writer (a ``BSONDocument``
    ///     written out): the UTF-8 and nesting checks are skipped (asserted in debug builds).
    init(bytes: UnsafeRawBufferPointer, copying: Bool, configuration: BSONDecoder, trusted: Bool) throws {
        byteCount = bytes.count
        if copying || bytes.baseAddress == nil {
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            if let source = bytes.baseAddress {
                UnsafeMutableRawPointer(copy).copyMemory(from: source, byteCount: bytes.count)
            }
            base = UnsafePointer(copy)
            ownsBytes = true
        } else {
            base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            ownsBytes = false
        }
        self.configuration = configuration
        if configuration.userInfo.isEmpty, configuration.classRegistry == nil {
            // The common case, without allocating a dictionary for every call.
            userInfo = [:]
        } else {
            var info = [CodingUserInfoKey: Any](minimumCapacity: configuration.userInfo.count + 1)
            for (key, value) in configuration.userInfo { info[key] = value }
            if let registry = configuration.classRegistry { info[.bsonClassRegistry] = registry }
            userInfo = info
        }
        if case .useDefaultKeys = configuration.keyDecodingStrategy { convertsKeys = false } else { convertsKeys = true }
        let view = UnsafeRawBufferPointer(start: base, count: byteCount)
        if trusted {
            assert((try? BSONDocument.validate(bytes: view)) != nil, "trusted bytes are not a valid document")
            guard index(checks: false) else { preconditionFailure("the writer's bytes do not index") }
        } else if !index(checks: true) {
            // The indexing pass accepts exactly what the strict reader accepts; for a
            // rejection, the strict reader says what is wrong and where.
            do {
                try BSONDocument.validate(bytes: view, options: configuration.options)
            } catch {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: error.keyPath.map { BSONCodingKey(stringValue: $0) },
                        debugDescription: "the bytes are not a valid BSON document: \(error.message)"
                            + (error.offset.map { " (at byte \($0))" } ?? ""),
                        underlyingError: error))
            }
            // The two disagree, which the tests rule out; never read bytes whose index is
            // incomplete.
            assertionFailure("the indexing pass rejected bytes the strict reader accepts")
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: [], debugDescription: "the bytes could not be indexed (an internal inconsistency)"))
        }
        if convertsKeys { names = [String](repeating: "", count: entries.count) }
    }

    deinit {
        if ownsBytes { UnsafeMutablePointer(mutating: base).deallocate() }
        entries.deallocate()
        ranges.deallocate()
        slots.deallocate()
        paths.deallocate()
    }

    /// Takes a private copy of borrowed bytes when something decoded from them (a decoder or
    /// container that `init(from:)` kept) still refers to this run; the owner of the bytes
    /// calls it before they go away.
    static func keepBytesIfShared(_ run: inout BytesDecodingRun) {
        guard !run.ownsBytes, !isKnownUniquelyReferenced(&run) else { return }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(run.byteCount, 1))
        copy.update(from: run.base, count: run.byteCount)
        run.base = UnsafePointer(copy)
        run.ownsBytes = true
    }

    /// The outermost document.
    var topLevel: BSONElement { BSONElement(offset: 0, child: 0, type: 0x03) }

    /// Decodes the outermost document as `type`.
    func decodeTopLevel<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, topLevel, parent: CodingPathArena.root, .none)
    }

    // MARK: Reading checked bytes

    @inline(__always)
    func byte(_ offset: Int) -> UInt8 { base[offset] }

    @inline(__always)
    func int32(_ offset: Int) -> Int32 {
        Int32(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: Int32.self))
    }

    @inline(__always)
    func int64(_ offset: Int) -> Int64 {
        Int64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: Int64.self))
    }

    @inline(__always)
    func uint64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    func double(_ offset: Int) -> Double { Double(bitPattern: uint64(offset)) }

    /// The length-prefixed string whose length field is at `offset`.
    @inline(__always)
    func string(_ offset: Int) -> String {
        UTF8Validation.string(fromValidated: UnsafeBufferPointer(start: base + offset + 4, count: Int(int32(offset)) - 1))
    }

    /// The NUL-terminated string at `offset` and the offset after its NUL.
    func cString(_ offset: Int) -> (String, Int) {
        var end = offset
        while base[end] != 0 { end += 1 }
        return (UTF8Validation.string(fromValidated: UnsafeBufferPointer(start: base + offset, count: end - offset)), end + 1)
    }

    // MARK: Field indexes

    /// The elements of the document or array `element` (which is one), with the hash table
    /// or converted names a keyed container needs; `node` is its coding path.
    @inline(__always)
    func fields(of element: BSONElement, node: Int32) -> FieldRange {
        let index = Int(element.child)
        let range = ranges[index]
        if range.table >= 0 || (!convertsKeys && range.count <= Self.tableThreshold) { return range }
        return prepareLookup(ofRange: index, node: node)
    }

    private func prepareLookup(ofRange index: Int, node: Int32) -> FieldRange {
        var range = ranges[index]
        if convertsKeys {
            convertNames(of: &range, node: node)
        } else {
            buildTable(for: &range)
        }
        ranges[index] = range
        return range
    }

    private func buildTable(for range: inout FieldRange) {
        var size = 16
        while size < Int(range.count) * 2 { size <<= 1 }
        let tableStart = slots.append(repeating: 0, count: size)
        let table = slots.pointer + tableStart
        let list = entries.pointer + Int(range.first)
        let mask = size - 1
        for index in 0..<Int(range.count) {
            let entry = list[index]
            let key = UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength))
            var slot = Int(Self.hash(key) & UInt64(mask))
            // Bounded: the table has at least twice as many slots as there are keys.
            while true {
                let occupant = table[slot]
                if occupant == 0 {
                    table[slot] = Int32(index + 1)
                    break
                }
                // A repeated key keeps its first position only.
                let other = list[Int(occupant) - 1]
                if Self.equal(key, UnsafeBufferPointer(start: base + Int(other.keyStart), count: Int(other.keyLength))) {
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        range.table = Int32(tableStart)
        range.tableMask = Int32(mask)
    }

    private func convertNames(of range: inout FieldRange, node: Int32) {
        let containerPath = path(node)
        var table: [ExactKey: Int32] = [:]
        for index in 0..<Int(range.count) {
            let entry = entries[Int(range.first) + index]
            let raw = String(
                decoding: UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength)), as: UTF8.self)
            let name: String
            switch configuration.keyDecodingStrategy {
            case .useDefaultKeys: name = raw
            case .convertFromSnakeCase: name = SnakeCase.toCamelCase(raw)
            case .custom(let convert): name = convert(containerPath + [BSONCodingKey(stringValue: raw)]).stringValue
            }
            names[Int(range.first) + index] = name
            if table[ExactKey(text: name)] == nil { table[ExactKey(text: name)] = Int32(index) }
        }
        range.table = Int32(nameTables.count)
        nameTables.append(table)
    }

    /// The index (in ``entries``) of the first field named `name`, or -1.
    @inline(__always)
    func find(_ name: String, in range: FieldRange) -> Int {
        guard range.count > 0 else { return -1 }
        if convertsKeys {
            guard let index = nameTables[Int(range.table)][ExactKey(text: name)] else { return -1 }
            return Int(range.first + index)
        }
        if let found = name.utf8.withContiguousStorageIfAvailable({ find($0, in: range) }) { return found }
        var copy = name
        return copy.withUTF8 { find($0, in: range) }
    }

    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>, in range: FieldRange) -> Int {
        let list = entries.pointer
        if range.table < 0 {
            for index in Int(range.first)..<Int(range.first + range.count) {
                let entry = list[index]
                if Int(entry.keyLength) == key.count,
                    Self.equal(key, UnsafeBufferPointer(start: base + Int(entry.keyStart), count: key.count))
                {
                    return index
                }
            }
            return -1
        }
        let table = slots.pointer + Int(range.table)
        let mask = Int(range.tableMask)
        var slot = Int(Self.hash(key) & UInt64(mask))
        // Bounded: the table is at least twice as large as the document's field count.
        while true {
            let occupant = table[slot]
            if occupant == 0 { return -1 }
            let index = Int(range.first) + Int(occupant) - 1
            let entry = list[index]
            if Int(entry.keyLength) == key.count,
                Self.equal(key, UnsafeBufferPointer(start: base + Int(entry.keyStart), count: key.count))
            {
                return index
            }
            slot = (slot + 1) & mask
        }
    }

    /// The value of entry `index` and the label that names its key in coding paths.
    @inline(__always)
    func field(_ index: Int) -> (BSONElement, CodingPathArena.Label) {
        let entry = entries[index]
        let label: CodingPathArena.Label =
            convertsKeys ? .entry(index) : .bytes(Int(entry.keyStart), Int(entry.keyLength))
        return (entry.element, label)
    }

    /// The value of the first field of the outermost document whose key is `key` as written
    /// (key strategies do not apply), or `nil`.
    func topLevelValue(rawKey key: String) -> BSONValue? {
        let range = ranges[0]
        var key = key
        let found: Int? = key.withUTF8 { wanted in
            for index in Int(range.first)..<Int(range.first + range.count) {
                let entry = entries[index]
                if Self.equal(wanted, UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength))) {
                    return index
                }
            }
            return nil
        }
        return found.map { materialize(entries[$0].element) }
    }

    /// The distinct keys of `range` in document order (converted when a key strategy is set).
    func keys(in range: FieldRange) -> [String] {
        var result: [String] = []
        result.reserveCapacity(Int(range.count))
        for index in 0..<Int(range.count) {
            let entry = entries[Int(range.first) + index]
            let name =
                convertsKeys
                ? names[Int(range.first) + index]
                : String(
                    decoding: UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength)),
                    as: UTF8.self)
            // Only the first of repeated keys, as lookups see it.
            if find(name, in: range) == Int(range.first) + index { result.append(name) }
        }
        return result
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = a.count
        guard count == b.count else { return false }
        guard count > 0 else { return true }
        let p = UnsafeRawPointer(a.baseAddress!)
        let q = UnsafeRawPointer(b.baseAddress!)
        var index = 0
        while index + 8 <= count {
            if p.loadUnaligned(fromByteOffset: index, as: UInt64.self) != q.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        while index < count {
            if a[index] != b[index] { return false }
            index += 1
        }
        return true
    }

    /// A fast hash of a key, eight bytes at a time (collisions only cost a comparison).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash = UInt64(key.count) &* multiplier
        guard let start = key.baseAddress else { return hash }
        let raw = UnsafeRawPointer(start)
        var index = 0
        while index + 8 <= key.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* multiplier
            hash ^= hash >> 29
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < key.count {
            tail |= UInt64(key[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* multiplier
        return hash ^ (hash >> 32)
    }

    // MARK: Errors

    /// "an int32", "a double", … for messages.
    static func typeName(_ type: UInt8) -> String {
        BSONType(rawValue: type)?.description ?? "type 0x\(String(type, radix: 16))"
    }

    /// The key a `bytes` or `entry` label stands for.
    func resolve(_ label: CodingPathArena.Label) -> any CodingKey {
        if label.kind == .entry { return BSONCodingKey(stringValue: names[Int(label.a)]) }
        return BSONCodingKey(
            stringValue: String(decoding: UnsafeBufferPointer(start: base + Int(label.a), count: Int(label.b)), as: UTF8.self))
    }

    /// The coding path of `node`.
    func path(_ node: Int32) -> [any CodingKey] {
        paths.path(node, resolve)
    }

    /// The coding path of `node` and then `label`.
    func path(_ node: Int32, _ label: CodingPathArena.Label) -> [any CodingKey] {
        paths.path(node, appending: label, resolve)
    }
}

/// Why a value could not be read as the Swift type asked for; the container that asked
/// turns it into a `DecodingError` with its coding path.
enum UnboxFailure: Error {
    /// The BSON type is not one the Swift type accepts (`expected`, e.g. "an int32 or int64").
    case mismatch(expected: String, found: UInt8)
    /// The value is of an accepted type but out of range or malformed.
    case corrupted(String)

    func decodingError(_ type: Any.Type, path: [any CodingKey]) -> DecodingError {
        switch self {
        case .mismatch(let expected, let found):
            let context = DecodingError.Context(
                codingPath: path, debugDescription: "expected \(expected), found \(BytesDecodingRun.typeName(found))")
            return found == 0x0A ? .valueNotFound(type, context) : .typeMismatch(type, context)
        case .corrupted(let message):
            return .dataCorrupted(DecodingError.Context(codingPath: path, debugDescription: message))
        }
    }
}
