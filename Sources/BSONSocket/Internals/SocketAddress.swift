import Glibc

/// A C socket address held by value: `sockaddr_storage` is large enough for every family.
struct SocketAddress: @unchecked Sendable {
    // @unchecked: sockaddr_storage is plain bytes; the compiler cannot see that it holds no
    // references.
    private var storage = sockaddr_storage()
    private(set) var length = socklen_t(MemoryLayout<sockaddr_storage>.size)

    init() {}

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    var family: Int32 { Int32(storage.ss_family) }

    /// Whether TCP options (TCP_NODELAY) apply to sockets of this family.
    var isIP: Bool { family == Int32(AF_INET) || family == Int32(AF_INET6) }

    /// Copies `length` bytes of a C address.
    init(copying pointer: UnsafePointer<sockaddr>, length: socklen_t) {
        precondition(Int(length) <= MemoryLayout<sockaddr_storage>.size, "socket address too long")
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length)))
        }
        self.length = length
    }

    /// The address of a Unix socket at `path`.
    ///
    /// - Throws: `ENAMETOOLONG` when the path does not fit in `sun_path` with its NUL
    ///   (107 bytes on Linux), `EINVAL` when it contains a NUL byte or is empty.
    init(unixPath path: String) throws(SystemErrno) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { throw SystemErrno(EINVAL) }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw SystemErrno(ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let used = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + 1
        self = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                SocketAddress(copying: $0, length: socklen_t(used))
            }
        }
    }

    /// Calls `body` with the address as a C pointer and length; the pointer must not escape.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    /// Calls `body` to fill the address in (as `getsockname` does); the pointers must not
    /// escape.
    mutating func withMutableSockAddr<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeMutablePointer(to: &length) { lengthPointer in
                body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), lengthPointer)
            }
        }
    }

    /// The address in the package's public form.
    var publicAddress: BSONSocketAddress {
        withUnsafeBytes(of: storage) { raw -> BSONSocketAddress in
            switch family {
            case Int32(AF_INET):
                let address = raw.loadUnaligned(as: sockaddr_in.self)
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                var inAddr = address.sin_addr
                inet_ntop(AF_INET, &inAddr, &text, socklen_t(text.count))
                return .ipv4(host: String(decoding: text.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self),
                             port: Int(UInt16(bigEndian: address.sin_port)))
            case Int32(AF_INET6):
                let address = raw.loadUnaligned(as: sockaddr_in6.self)
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                var in6Addr = address.sin6_addr
                inet_ntop(AF_INET6, &in6Addr, &text, socklen_t(text.count))
                return .ipv6(host: String(decoding: text.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self),
                             port: Int(UInt16(bigEndian: address.sin6_port)))
            case Int32(AF_UNIX):
                let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
                let available = max(0, Int(length) - pathOffset)
                let pathBytes = raw[pathOffset..<(pathOffset + available)].prefix { $0 != 0 }
                return .unix(path: String(decoding: pathBytes, as: UTF8.self))
            default:
                return .unix(path: "")
            }
        }
    }

    /// Resolves `host` and `port` with `getaddrinfo(3)` into stream-socket addresses, in the
    /// resolver's order of preference. `host` may be a name, a numeric IPv4 or IPv6 address
    /// (brackets around IPv6 are accepted).
    ///
    /// - Parameter passive: Whether the addresses are for listening (`AI_PASSIVE`).
    /// - Throws: ``BSONError/Code/hostNotFound`` with the resolver's message.
    static func resolve(host: String, port: Int, passive: Bool) throws(BSONError) -> [SocketAddress] {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        // AI_ADDRCONFIG is left out on purpose: it hides ::1 on machines whose only IPv6
        // address is the loopback one, and loopback is where tests and local peers live.
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason =
                status == EAI_SYSTEM
                ? SystemErrno(errno).explanation : String(cString: gai_strerror(status))
            throw BSONError(.hostNotFound, "cannot resolve host \"\(host)\" (getaddrinfo): \(reason)")
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                addresses.append(SocketAddress(copying: address, length: entry.pointee.ai_addrlen))
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            throw BSONError(.hostNotFound, "cannot resolve host \"\(host)\" (getaddrinfo): no stream addresses")
        }
        return addresses
    }
}
