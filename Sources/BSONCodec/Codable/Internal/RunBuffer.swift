/// A growable list of plain values (no references inside) for the decoder's index: appends
/// and reads without the uniqueness and bounds checks of `Array`, which the index pass
/// would otherwise pay once or twice per element.
///
/// The owner frees the storage with ``deallocate()``; copies of the struct share it, so
/// only the owner keeps one.
struct RunBuffer<Element: BitwiseCopyable> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 4)
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity)
    }

    /// An empty list that has allocated nothing.
    init() {
        capacity = 0
        pointer = UnsafeMutablePointer<Element>(bitPattern: MemoryLayout<Element>.alignment)!
    }

    func deallocate() {
        if capacity > 0 { pointer.deallocate() }
    }

    var isEmpty: Bool { count == 0 }

    /// Element `index`, read and written in place.
    @inline(__always)
    subscript(index: Int) -> Element {
        unsafeAddress {
            assert(index >= 0 && index < count, "RunBuffer index \(index) out of 0..<\(count)")
            return UnsafePointer(pointer + index)
        }
        nonmutating unsafeMutableAddress {
            assert(index >= 0 && index < count, "RunBuffer index \(index) out of 0..<\(count)")
            return pointer + index
        }
    }

    @inline(__always)
    mutating func removeLast() -> Element {
        precondition(count > 0, "removeLast on an empty RunBuffer")
        count -= 1
        return pointer[count]
    }

    /// Drops the elements from `newCount` on.
    @inline(__always)
    mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count, "RunBuffer truncated to \(newCount) of \(count)")
        count = newCount
    }

    /// The index of the last element that satisfies `predicate`, or `nil`.
    @inline(__always)
    func lastIndex(where predicate: (Element) -> Bool) -> Int? {
        var index = count - 1
        while index >= 0 {
            if predicate(pointer[index]) { return index }
            index -= 1
        }
        return nil
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (pointer + count).initialize(to: element)
        count += 1
    }

    /// Appends `count` copies of `element`; returns the index of the first.
    mutating func append(repeating element: Element, count extra: Int) -> Int {
        let first = count
        while capacity < count + extra { grow() }
        (pointer + count).initialize(repeating: element, count: extra)
        count += extra
        return first
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = max(capacity * 2, 8)
        let newPointer = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newPointer.moveInitialize(from: pointer, count: count)
        deallocate()
        pointer = newPointer
        capacity = newCapacity
    }
}
