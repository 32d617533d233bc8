// The Swift receivers of the one-way stream: each connects to the C sender, asks for
// `warmup + count` documents, receives `warmup` of them untimed, times the next `count`,
// and checks that the stream then ends cleanly.

import BSONSocket

import Foundation

/// How a receiver takes documents off the socket.
enum ReceiveMode: String, CaseIterable {
    /// `BSONSocket.recvObj()`: read-ahead framing, then a strict decode into `BSONDocument`.
    case obj
    /// `BSONSocket.recvFrame()`: read-ahead framing, the frame copied into its own `[UInt8]`.
    case frame
    /// `BSONSocket.withReceivedFrame`: read-ahead framing, the frame lent in place.
    case borrow
    /// `FileDescriptor.recvObj()`: exact reads (header, then body), no read-ahead, decode.
    case fdObj = "fd-obj"
    /// `FileDescriptor.recvFrame()`: exact reads, no decode.
    case fdFrame = "fd-frame"

    var decodes: Bool { self == .obj || self == .fdObj }
    var usesDescriptor: Bool { self == .fdObj || self == .fdFrame }
}

/// Receives one document (or frame) from `socket` or from its bare descriptor; `false` at a
/// clean end of stream. `sink` keeps what was received observable.
@inline(__always)
private func step(_ mode: ReceiveMode, _ socket: BSONSocket) throws(BSONError) -> Bool {
    switch mode {
    case .obj:
        guard let document = try socket.recvObj() else { return false }
        sink(document)
    case .frame:
        guard let frame = try socket.recvFrame() else { return false }
        sink(frame)
    case .borrow:
        guard let length = try socket.withReceivedFrame(limits: .default, { (frame) throws(BSONError) in frame.count })
        else { return false }
        sink(length)
    case .fdObj, .fdFrame:
        preconditionFailure("descriptor modes go through stepDescriptor")
    }
    return true
}

/// The documents of one measurement, received in order; `body` is the per-document step.
private func timedLoop(
    count: Int, warmup: Int, expectsEnd: Bool = true, _ body: () throws(BSONError) -> Bool
) throws(BSONError) -> Timing {
    for index in 0..<warmup {
        guard try body() else { throw BSONError(.truncated, "the stream ended after \(index) warm-up documents") }
    }
    let start = Timing.now()
    for index in 0..<count {
        guard try body() else { throw BSONError(.truncated, "the stream ended after \(index) timed documents") }
    }
    let elapsed = Timing.now() - start
    // The sender closes after the last document: one more receive must see a clean end.
    guard expectsEnd else { return elapsed }
    guard try !body() else { throw BSONError(.malformed, "the sender sent more than \(warmup + count) documents") }
    return elapsed
}

/// One measurement: connect, ask for `warmup + count` documents of `set`, receive them.
func receive(mode: ReceiveMode, address: Address, set: Int, count: Int, warmup: Int) throws(BSONError) -> Timing {
    let socket = try address.connect()
    defer { socket.close() }
    // Bounded: a sender that stalls for 30 s fails the measurement instead of hanging it.
    try socket.setReceiveTimeout(.seconds(30))
    try socket.sendBytes(request(set: set, count: warmup + count))
    if mode.usesDescriptor {
        // Nothing was received through the socket yet, so its read-ahead buffer is empty and
        // the bare descriptor sees the stream from its first byte.
        return try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) -> Timing in
            if mode == .fdObj {
                return try timedLoop(count: count, warmup: warmup) { () throws(BSONError) -> Bool in
                    guard let document = try descriptor.recvObj() else { return false }
                    sink(document)
                    return true
                }
            }
            return try timedLoop(count: count, warmup: warmup) { () throws(BSONError) -> Bool in
                guard let frame = try descriptor.recvFrame() else { return false }
                sink(frame)
                return true
            }
        }
    }
    return try timedLoop(count: count, warmup: warmup) { () throws(BSONError) -> Bool in try step(mode, socket) }
}

/// The check before any timing: receives `count` documents and writes, for a decoding mode,
/// each decoded document encoded again, for a framing mode each frame, to `output`; the
/// driver compares the file with the set file byte for byte.
func verify(mode: ReceiveMode, address: Address, set: Int, count: Int, output: String) throws {
    let socket = try address.connect()
    defer { socket.close() }
    try socket.setReceiveTimeout(.seconds(30))
    try socket.sendBytes(request(set: set, count: count))
    var written: [UInt8] = []
    func next() throws(BSONError) -> [UInt8]? {
        switch mode {
        case .obj: return try socket.recvObj()?.encoded()
        case .frame: return try socket.recvFrame()
        case .borrow: return try socket.withReceivedFrame(limits: .default) { (frame) throws(BSONError) in Array(frame) }
        case .fdObj:
            return try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) in try descriptor.recvObj()?.encoded() }
        case .fdFrame:
            return try socket.withUnsafeDescriptor { (descriptor) throws(BSONError) in try descriptor.recvFrame() }
        }
    }
    for index in 0..<count {
        guard let bytes = try next() else { throw UsageError(description: "the stream ended after \(index) documents") }
        written += bytes
    }
    guard try next() == nil else { throw UsageError(description: "the sender sent more than \(count) documents") }
    try Data(written).write(to: URL(fileURLWithPath: output))
}

/// The decode alone: `BSONDocument(bytes:)` over the frames of the set, cycling, with no
/// socket involved (what `recvObj` costs beyond this is the transport's share).
func decodeFromMemory(_ frames: [[UInt8]], count: Int, warmup: Int) throws(BSONError) -> Timing {
    var index = 0
    return try timedLoop(count: count, warmup: warmup, expectsEnd: false) { () throws(BSONError) -> Bool in
        let frame = frames[index]
        index = index + 1 == frames.count ? 0 : index + 1
        sink(try BSONDocument(bytes: frame))
        return true
    }
}
