#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// A value inside the bytes being decoded: its BSON type byte and where its payload starts.
struct BSONElement {
    var offset: Int32
    var type: UInt8

    static let null = BSONElement(offset: 0, type: 0x0A)
}

/// One element of a document whose fields a keyed container looks up.
struct FieldEntry {
    var keyStart: Int32
    var keyLength: Int32
    var valueStart: Int32
    var type: UInt8
}

/// The fields of one document: a run of ``FieldEntry`` values in the run's array, and, for
/// documents with many fields, a hash table over their keys.
struct FieldRange {
    var first: Int32
    var count: Int32
    /// Where the hash table starts in ``BytesDecodingRun/slots`` (or in
    /// ``BytesDecodingRun/nameTables`` when keys are converted); -1 when the fields are few
    /// enough to search in order.
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

/// Everything one call of ``BSONDecoder`` shares: its own copy of the bytes (checked once,
/// then read without further checks), the configuration, and arenas for field indexes and
/// coding paths.
///
/// The bytes are copied so that containers a type keeps past its `init(from:)` stay valid
/// and so that a buffer changed by another thread during decoding cannot defeat the
/// checks.
final class BytesDecodingRun {
    let base: UnsafeMutablePointer<UInt8>
    let byteCount: Int
    let configuration: BSONDecoder
    let userInfo: [CodingUserInfoKey: Any]
    let convertsKeys: Bool
    @exclusivity(unchecked) var entries: [FieldEntry] = []
    @exclusivity(unchecked) var slots: [Int32] = []
    @exclusivity(unchecked) var names: [String] = []
    @exclusivity(unchecked) var nameTables: [[ExactKey: Int32]] = []
    @exclusivity(unchecked) var paths = CodingPathArena()
    @exclusivity(unchecked) var kinds = TypeKindCache()
    /// The fields most recently indexed, so that a class-named value's tag lookup and its
    /// own `container(keyedBy:)` share one scan.
    @exclusivity(unchecked) var lastIndexed: (offset: Int32, node: Int32, fields: FieldRange)?

    /// Documents with more fields than this get a hash table; fewer are searched in order.
    static var tableThreshold: Int { 12 }

    init(copying bytes: UnsafeRawBufferPointer, configuration: BSONDecoder, trusted: Bool) throws {
        byteCount = bytes.count
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(base).copyMemory(from: source, byteCount: bytes.count)
        }
        self.configuration = configuration
        var info = [CodingUserInfoKey: Any](minimumCapacity: configuration.userInfo.count + 1)
        for (key, value) in configuration.userInfo { info[key] = value }
        if let registry = configuration.classRegistry { info[.bsonClassRegistry] = registry }
        userInfo = info
        if case .useDefaultKeys = configuration.keyDecodingStrategy { convertsKeys = false } else { convertsKeys = true }
        let copy = UnsafeRawBufferPointer(start: base, count: byteCount)
        if trusted {
            assert((try? BSONDocument.validate(bytes: copy)) != nil, "trusted bytes are not a valid document")
        } else {
            do {
                try BSONDocument.validate(bytes: copy, options: configuration.options)
            } catch {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: error.keyPath.map { BSONCodingKey(stringValue: $0) },
                        debugDescription: "the bytes are not a valid BSON document: \(error.message)"
                            + (error.offset.map { " (at byte \($0))" } ?? ""),
                        underlyingError: error))
            }
        }
    }

    deinit {
        base.deallocate()
    }

    /// Decodes the outermost document as `type`.
    func decodeTopLevel<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, BSONElement(offset: 0, type: 0x03), parent: CodingPathArena.root, .none)
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
        Self.makeString(UnsafeBufferPointer(start: base + offset + 4, count: Int(int32(offset)) - 1))
    }

    /// A `String` of checked UTF-8 bytes. Up to 15 bytes (the size Swift keeps inline) the
    /// string is filled in place, which skips the extra scan `String(decoding:as:)` makes
    /// before copying; the standard library still checks any non-ASCII bytes itself.
    @inline(__always)
    static func makeString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count <= 15, let source = bytes.baseAddress else { return String(decoding: bytes, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: bytes.count) { target in
            target.baseAddress!.update(from: source, count: bytes.count)
            return bytes.count
        }
    }

    /// The NUL-terminated string at `offset` and the offset after its NUL.
    func cString(_ offset: Int) -> (String, Int) {
        var end = offset
        while base[end] != 0 { end += 1 }
        return (Self.makeString(UnsafeBufferPointer(start: base + offset, count: end - offset)), end + 1)
    }

    /// The offset of the first NUL at or after `offset` (one exists: the bytes were checked),
    /// eight bytes at a time while they stay inside the buffer.
    @inline(__always)
    func nul(from offset: Int) -> Int {
        var index = offset
        while index + 8 <= byteCount {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            // The lowest byte that is zero sets its high bit here (bytes above it may too).
            let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if zeros != 0 { return index + zeros.trailingZeroBitCount / 8 }
            index += 8
        }
        while base[index] != 0 { index += 1 }
        return index
    }

    /// The size of the payload of a value of `type` at `offset` (bytes already checked).
    @inline(__always)
    func payloadSize(_ type: UInt8, _ offset: Int) -> Int {
        switch type {
        case 0x01, 0x09, 0x11, 0x12: return 8
        case 0x02, 0x0D, 0x0E: return 4 + Int(int32(offset))
        case 0x03, 0x04, 0x0F: return Int(int32(offset))
        case 0x05: return 5 + Int(int32(offset))
        case 0x07: return 12
        case 0x08: return 1
        case 0x0B:
            var end = offset
            while base[end] != 0 { end += 1 }
            end += 1
            while base[end] != 0 { end += 1 }
            return end + 1 - offset
        case 0x0C: return 4 + Int(int32(offset)) + 12
        case 0x10: return 4
        case 0x13: return 16
        default: return 0  // undefined, null, min key, max key
        }
    }

    /// The element that starts at `offset` (its type byte) and the offset after it.
    @inline(__always)
    func element(at offset: Int) -> (element: BSONElement, keyStart: Int, keyLength: Int, next: Int) {
        let type = base[offset]
        let keyEnd = nul(from: offset + 1)
        let value = keyEnd + 1
        return (BSONElement(offset: Int32(value), type: type), offset + 1, keyEnd - offset - 1, value + payloadSize(type, value))
    }

    // MARK: Field indexes

    /// Indexes the fields of the document at `offset` (whose coding path is `node`).
    func indexFields(ofDocumentAt offset: Int32, node: Int32) -> FieldRange {
        if let cached = lastIndexed, cached.offset == offset, cached.node == node { return cached.fields }
        let start = Int(offset)
        let end = start + Int(int32(start)) - 1
        var position = start + 4
        var list: [FieldEntry] = []
        swap(&list, &entries)
        let first = list.count
        // Room for about one field per 16 bytes, grown geometrically (an exact reservation
        // per document would copy the array again for every document).
        let wanted = first + (end - start) / 16 + 1
        if list.capacity < wanted { list.reserveCapacity(max(wanted, list.capacity * 2)) }
        while position < end {
            let (element, keyStart, keyLength, next) = element(at: position)
            list.append(
                FieldEntry(
                    keyStart: Int32(keyStart), keyLength: Int32(keyLength), valueStart: element.offset, type: element.type))
            position = next
        }
        let count = list.count - first
        swap(&list, &entries)
        var range = FieldRange(first: Int32(first), count: Int32(count))
        if convertsKeys {
            convertNames(of: &range, node: node)
        } else if count > Self.tableThreshold {
            buildTable(for: &range)
        }
        lastIndexed = (offset, node, range)
        return range
    }

    private func buildTable(for range: inout FieldRange) {
        var size = 16
        while size < Int(range.count) * 2 { size <<= 1 }
        let tableStart = slots.count
        var table = slots
        slots = []
        table.append(contentsOf: repeatElement(0, count: size))
        let mask = size - 1
        entries.withUnsafeBufferPointer { list in
            for index in 0..<Int(range.count) {
                let entry = list[Int(range.first) + index]
                let key = UnsafeBufferPointer(start: base + Int(entry.keyStart), count: Int(entry.keyLength))
                var slot = Int(Self.hash(key) & UInt64(mask))
                while true {
                    let occupant = table[tableStart + slot]
                    if occupant == 0 {
                        table[tableStart + slot] = Int32(index + 1)
                        break
                    }
                    // A repeated key keeps its first position only.
                    let other = list[Int(range.first) + Int(occupant) - 1]
                    if Self.equal(key, UnsafeBufferPointer(start: base + Int(other.keyStart), count: Int(other.keyLength))) {
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
        slots = table
        range.table = Int32(tableStart)
        range.tableMask = Int32(mask)
    }

    private func convertNames(of range: inout FieldRange, node: Int32) {
        // In this mode every index appends its names, so `names` runs parallel to `entries`.
        assert(names.count == Int(range.first))
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
            names.append(name)
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
        entries.withUnsafeBufferPointer { list in
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
            return slots.withUnsafeBufferPointer { table in
                let mask = Int(range.tableMask)
                var slot = Int(Self.hash(key) & UInt64(mask))
                while true {
                    let occupant = table[Int(range.table) + slot]
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
        }
    }

    /// The value of entry `index` and the label that names its key in coding paths.
    @inline(__always)
    func field(_ index: Int) -> (BSONElement, CodingPathArena.Label) {
        let entry = entries[index]
        let label: CodingPathArena.Label =
            convertsKeys ? .entry(index) : .bytes(Int(entry.keyStart), Int(entry.keyLength))
        return (BSONElement(offset: entry.valueStart, type: entry.type), label)
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
