import Glibc

/// The byte loops shared by every stream in the package: receive some, receive exactly,
/// send everything. Works on a borrowed descriptor number; owns nothing.
///
/// A descriptor handed in through `FileDescriptor` may not be a socket (a pipe, a terminal,
/// a file). The first data call finds out: `recv`/`send` fail with ENOTSOCK, and from then on
/// this value uses `read`/`write` (the latter with SIGPIPE held back, see
/// `Syscalls.suppressingSIGPIPE`).
struct DescriptorIO {
    /// The most any receive call asks for when it writes into a caller's storage: 32 KiB,
    /// the chunk size of py-bson's `recvbytes`.
    static let maximumReceiveSize = 32 * 1024

    let descriptor: Int32
    let retryOnInterrupt: Bool
    /// What the descriptor is called in messages: "socket", "descriptor".
    let noun: StaticString
    /// `true` once known to be a socket, `false` once known not to be, `nil` before.
    private(set) var isSocket: Bool?

    init(descriptor: Int32, retryOnInterrupt: Bool, isSocket: Bool?, noun: StaticString) {
        self.descriptor = descriptor
        self.retryOnInterrupt = retryOnInterrupt
        self.isSocket = isSocket
        self.noun = noun
    }

    /// For messages: "socket 7", "descriptor 7". Formatted only when a message needs it: a
    /// value of this type is made for every frame, and formatting the label each time showed
    /// up in profiles of small frames.
    var label: String { "\(noun) \(descriptor)" }

    /// One receive call of at most `buffer.count` bytes, written at the start of `buffer`.
    ///
    /// - Parameter activity: What the bytes are for, for the message of an error
    ///   ("receiving a frame header").
    /// - Returns: The number of bytes received; 0 when the peer closed (end of stream).
    mutating func receiveSome(
        into buffer: UnsafeMutableRawBufferPointer, for activity: @autoclosure () -> String
    ) throws(BSONError) -> Int {
        precondition(!buffer.isEmpty, "a receive needs room for at least one byte")
        if isSocket != false {
            do throws(SystemErrno) {
                let received = try Syscalls.recv(descriptor, into: buffer, retryOnInterrupt: retryOnInterrupt)
                isSocket = true
                return received
            } catch where error.isNotSocket && isSocket == nil {
                isSocket = false
            } catch {
                throw error.bsonError("recv", while: "\(activity()) on \(label)")
            }
        }
        do throws(SystemErrno) {
            return try Syscalls.read(descriptor, into: buffer, retryOnInterrupt: retryOnInterrupt)
        } catch {
            throw error.bsonError("read", while: "\(activity()) on \(label)")
        }
    }

    /// Appends exactly `count` bytes to `buffer`, in receive calls of at most
    /// ``maximumReceiveSize`` bytes, each writing straight into the array's storage.
    ///
    /// - Returns: `true` when all `count` bytes arrived; `false` when the peer closed first
    ///   (the bytes that did arrive are appended).
    /// - Throws: ``BSONError``; the bytes received before the failure are appended.
    mutating func receive(_ count: Int, appendingTo buffer: inout [UInt8]) throws(BSONError) -> Bool {
        precondition(count >= 0, "cannot receive a negative number of bytes")
        let needed = buffer.count + count
        if buffer.capacity < needed {
            // Geometric, so that many small calls on one array stay linear overall.
            buffer.reserveCapacity(Swift.max(needed, buffer.capacity * 2))
        }
        var remaining = count
        while remaining > 0 {
            let chunk = Swift.min(remaining, Self.maximumReceiveSize)
            var received = 0
            let alreadyReceived = count - remaining
            try buffer.append(addingCapacity: chunk) { (span: inout OutputSpan<UInt8>) throws(BSONError) in
                try span.withUnsafeMutableBufferPointer { (storage, initialized) throws(BSONError) in
                    received = try receiveSome(
                        into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: storage[0..<chunk])),
                        for: "receiving bytes \(alreadyReceived)..<\(count) of a recvBytes(\(count))")
                    initialized = received
                }
            }
            if received == 0 { return false }
            remaining -= received
        }
        return true
    }

    /// Sends every byte of `bytes`, looping over partial sends.
    ///
    /// - Parameters:
    ///   - sent: Counts the bytes sent, also when an error is thrown part-way.
    ///   - activity: What the bytes are, for messages ("sending a frame of 120 bytes").
    mutating func sendAll(
        _ bytes: UnsafeRawBufferPointer, sent: inout Int, for activity: @autoclosure () -> String
    ) throws(BSONError) {
        while sent < bytes.count {
            if isSocket != false {
                do throws(SystemErrno) {
                    sent += try Syscalls.send(
                        descriptor, UnsafeRawBufferPointer(rebasing: bytes[sent...]), retryOnInterrupt: retryOnInterrupt)
                    isSocket = true
                    continue
                } catch where error.isNotSocket && isSocket == nil {
                    isSocket = false
                } catch {
                    throw error.bsonError("send", while: "\(activity()) on \(label) (\(sent) bytes were sent)")
                }
            }
            do throws(SystemErrno) {
                try Syscalls.suppressingSIGPIPE { () throws(SystemErrno) in
                    while sent < bytes.count {
                        sent += try Syscalls.write(
                            descriptor, UnsafeRawBufferPointer(rebasing: bytes[sent...]),
                            retryOnInterrupt: retryOnInterrupt)
                    }
                }
            } catch {
                throw error.bsonError("write", while: "\(activity()) on \(label) (\(sent) bytes were written)")
            }
        }
    }
}

extension BSONError {
    /// Whether a receive or send stopped without losing the connection: a timeout of the
    /// socket's own (`SO_RCVTIMEO`/`SO_SNDTIMEO`, reported as EAGAIN), or a signal when EINTR
    /// is not retried. The same call may be made again.
    ///
    /// ETIMEDOUT is not one: the system gave up on the connection (retransmissions or
    /// keep-alive probes went unanswered), so it is as final as a reset.
    var isResumable: Bool {
        (code == .timedOut && errno != ETIMEDOUT) || code == .interrupted
    }

    /// The error for a send that stopped after `sent` of `total` bytes of a frame went out, on
    /// the stream called `stream`: the peer holds a partial frame, so no later send may go
    /// through (it would be read as the rest of this one). A resumable failure becomes
    /// ``BSONError/Code/unusable``; any other keeps its code. The offset is `sent`; the source
    /// location is the caller's.
    static func partialSend(
        _ error: BSONError, sent: Int, of total: Int, on stream: String, file: String = #fileID, line: Int = #line
    ) -> BSONError {
        let message = error.message + "; \(sent) of \(total) bytes had been sent, so the peer holds a partial frame "
            + "and the send side of \(stream) is unusable from now on"
        return BSONError(
            error.isResumable ? .unusable : error.code, message, offset: sent, errno: error.errno, file: file, line: line)
    }

    /// This error with `note` added to its message; everything else kept.
    func appending(_ note: String) -> BSONError {
        BSONError(code, message + "; " + note, offset: offset, keyPath: keyPath, errno: errno, file: file, line: line)
    }
}
