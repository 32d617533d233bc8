/// A growable byte buffer that the direct encoder writes BSON into, with in-place patches
/// for lengths and type bytes written before their values are known.
///
/// The owner frees it with ``deallocate()``.
struct ByteBuffer {
    private(set) var pointer: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    func deallocate() {
        pointer.deallocate()
    }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newPointer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newPointer.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        pointer[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (pointer + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(pointer + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append<Integer: FixedWidthInteger>(littleEndian value: Integer) {
        let size = MemoryLayout<Integer>.size
        reserve(size)
        UnsafeMutableRawPointer(pointer + count).storeBytes(of: value.littleEndian, as: Integer.self)
        count += size
    }

    /// Appends the UTF-8 bytes of `text` (no terminator).
    @inline(__always)
    mutating func append(utf8 text: String) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({ append($0) }) { return done }
        var copy = text
        copy.withUTF8 { append($0) }
    }

    @inline(__always)
    mutating func patch(int32 value: Int32, at offset: Int) {
        UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value.littleEndian, as: Int32.self)
    }

    @inline(__always)
    mutating func patch(byte: UInt8, at offset: Int) {
        pointer[offset] = byte
    }

    mutating func truncate(to newCount: Int) {
        count = min(count, newCount)
    }

    var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: pointer, count: count))
    }
}
