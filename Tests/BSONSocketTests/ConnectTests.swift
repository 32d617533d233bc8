import BSONSocket
import Foundation
import Glibc
import Testing

/// Connecting and listening over TCP (IPv4, IPv6, names) and Unix domain sockets; all
/// traffic stays on this machine (127.0.0.1, ::1, or a socket file in a temporary folder).
@Suite("Connect and listen", .timeLimit(.minutes(1)))
struct ConnectTests {
    /// A TCP port on 127.0.0.1 that nobody listens on: bound by a listener, then released.
    private func closedPort() throws -> Int {
        let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
        let port = listener.localPort!
        listener.close()
        return port
    }

    @Test("connecting to a closed port is connectionRefused")
    func refused() throws {
        let port = try closedPort()
        let error = #expect(throws: BSONError.self) { try BSONSocket.connect(host: "127.0.0.1", port: port) }
        #expect(error?.code == .connectionRefused)
        #expect(error?.errno != nil)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        #expect(error?.message.contains("refused") == true)
    }

    @Test("connecting with a timeout to a closed port is refused, not timed out")
    func refusedWithTimeout() throws {
        let port = try closedPort()
        let error = #expect(throws: BSONError.self) {
            try BSONSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
        }
        #expect(error?.code == .connectionRefused)
    }

    @Test("a Unix path with no file, or a socket file nobody listens on, is connectionRefused")
    func unixRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = #expect(throws: BSONError.self) { try BSONSocket.connect(unixPath: directory.path + "/none.sock") }
        #expect(missing?.code == .connectionRefused)
        // A socket file left behind by a listener that is gone.
        let path = directory.path + "/stale.sock"
        try makeStaleSocketFile(at: path)
        let stale = #expect(throws: BSONError.self) { try BSONSocket.connect(unixPath: path) }
        #expect(stale?.code == .connectionRefused)
    }

    @Test("a Unix path longer than sun_path is refused with ENAMETOOLONG")
    func unixPathTooLong() {
        let error = #expect(throws: BSONError.self) {
            try BSONSocket.connect(unixPath: "/tmp/" + String(repeating: "x", count: 200))
        }
        #expect(error?.code == .systemCallFailed)
        #expect(error?.message.contains("too long") == true)
    }

    @Test("\"localhost\" reaches a 127.0.0.1 listener, trying each resolved address")
    func localhost() throws {
        let listener = try BSONListener.listen(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let client = try BSONSocket.connect(host: "localhost", port: listener.localPort!, timeout: .seconds(5))
        defer { client.close() }
        let server = try listener.accept(timeout: .seconds(10))
        defer { server.close() }
        try client.sendObj(["hello": "localhost"])
        #expect(try server.recvObj() == ["hello": "localhost"])
        #expect(try client.remoteAddress == .ipv4(host: "127.0.0.1", port: listener.localPort!))
        #expect(try server.localAddress == .ipv4(host: "127.0.0.1", port: listener.localPort!))
        #expect(try server.remoteAddress == client.localAddress)
    }

    @Test(
        "IPv6 loopback: listen on ::1, connect by \"::1\" and \"[::1]\"",
        .enabled(if: hasIPv6Loopback, "this machine has no IPv6 loopback address (::1 cannot be bound)"))
    func ipv6() throws {
        let listener = try BSONListener.listen(host: "::1", port: 0)
        defer { listener.close() }
        let port = try #require(listener.localPort)
        #expect(listener.localAddress == .ipv6(host: "::1", port: port))
        #expect(listener.localAddress.description == "[::1]:\(port)")
        for host in ["::1", "[::1]"] {
            let client = try BSONSocket.connect(host: host, port: port, timeout: .seconds(5))
            defer { client.close() }
            let server = try listener.accept(timeout: .seconds(10))
            defer { server.close() }
            try client.sendObj(["via": .string(host)])
            #expect(try server.recvObj() == ["via": .string(host)])
            try server.sendObj(["back": 1])
            #expect(try client.recvObj() == ["back": 1])
        }
    }

    @Test(
        "\"localhost\" reaches a ::1-only listener too",
        .enabled(if: hasIPv6Loopback && resolvesLocalhostToIPv6, "localhost does not resolve to ::1 here"))
    func localhostIPv6() throws {
        let listener = try BSONListener.listen(host: "::1", port: 0)
        defer { listener.close() }
        let client = try BSONSocket.connect(host: "localhost", port: listener.localPort!, timeout: .seconds(5))
        defer { client.close() }
        let server = try listener.accept(timeout: .seconds(10))
        defer { server.close() }
        try client.sendObj(["v6": true])
        #expect(try server.recvObj() == ["v6": true])
    }

    @Test("a listener reports its port and address; a taken port is addressInUse")
    func listenerAddress() throws {
        let listener = try BSONListener.listen()
        defer { listener.close() }
        let port = try #require(listener.localPort)
        #expect(port > 0)
        #expect(listener.localAddress.description == "127.0.0.1:\(port)")
        let error = #expect(throws: BSONError.self) { try BSONListener.listen(host: "127.0.0.1", port: port) }
        #expect(error?.code == .addressInUse)
    }

    @Test("accept with a timeout and no client throws timedOut")
    func acceptTimeout() throws {
        let listener = try BSONListener.listen()
        defer { listener.close() }
        let clock = ContinuousClock()
        let started = clock.now
        let error = #expect(throws: BSONError.self) { try listener.accept(timeout: .milliseconds(100)) }
        #expect(error?.code == .timedOut)
        #expect(clock.now - started >= .milliseconds(90))
    }

    @Test("closing a listener wakes a blocked accept, which throws closed", arguments: [false, true])
    func closeWakesAccept(unix: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let listener = unix ? try BSONListener.listen(unixPath: directory.path + "/l.sock") : try BSONListener.listen()
        let acceptor = Peer { () throws -> BSONSocket in try listener.accept() }
        usleep(100_000)
        listener.close()
        #expect(listener.isClosed)
        let outcome = Result { try acceptor.value(within: .seconds(10)) }
        let error = try #require(outcome.failure as? BSONError, "\(outcome)")
        #expect(error.code == .closed)
        let again = #expect(throws: BSONError.self) { try listener.accept(timeout: .milliseconds(10)) }
        #expect(again?.code == .closed)
    }

    @Test("a Unix listener creates its socket file and removes it on close")
    func unixSocketFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/server.sock"
        let listener = try BSONListener.listen(unixPath: path)
        #expect(listener.localAddress == .unix(path: path))
        #expect(listener.localPort == nil)
        #expect(FileManager.default.fileExists(atPath: path))
        let client = try BSONSocket.connect(unixPath: path)
        defer { client.close() }
        let server = try listener.accept(timeout: .seconds(10))
        defer { server.close() }
        try client.sendObj(["over": "unix"])
        #expect(try server.recvObj() == ["over": "unix"])
        listener.close()
        #expect(!FileManager.default.fileExists(atPath: path))
        // The connection outlives the listener.
        try server.sendObj(["still": "connected"])
        #expect(try client.recvObj() == ["still": "connected"])
    }

    @Test("a stale socket file is replaced; a live server or another file is addressInUse")
    func unixExistingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let stalePath = directory.path + "/stale.sock"
        try makeStaleSocketFile(at: stalePath)
        let replaced = try BSONListener.listen(unixPath: stalePath)
        defer { replaced.close() }
        let live = #expect(throws: BSONError.self) { try BSONListener.listen(unixPath: stalePath) }
        #expect(live?.code == .addressInUse)
        let filePath = directory.path + "/regular"
        #expect(FileManager.default.createFile(atPath: filePath, contents: Data("keep me".utf8)))
        let occupied = #expect(throws: BSONError.self) { try BSONListener.listen(unixPath: filePath) }
        #expect(occupied?.code == .addressInUse)
        #expect(FileManager.default.contents(atPath: filePath) == Data("keep me".utf8))
    }

    @Test("a listener does not remove a socket file that another listener has replaced")
    func unixFileOwnership() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/shared.sock"
        let first = try BSONListener.listen(unixPath: path)
        try FileManager.default.removeItem(atPath: path)  // someone removes it…
        let second = try BSONListener.listen(unixPath: path)  // …and a new server takes the path
        defer { second.close() }
        first.close()
        #expect(FileManager.default.fileExists(atPath: path), "the first listener removed the second one's file")
        let client = try BSONSocket.connect(unixPath: path)
        client.close()
    }
}

/// Leaves a socket file at `path` with nobody listening: a listener that is closed after its
/// file is moved out of its reach (so its own cleanup does not remove it).
private func makeStaleSocketFile(at path: String) throws {
    let temporary = path + ".tmp"
    let listener = try BSONListener.listen(unixPath: temporary)
    try FileManager.default.moveItem(atPath: temporary, toPath: path)
    listener.close()
    #expect(FileManager.default.fileExists(atPath: path))
}

/// Whether "localhost" resolves to ::1 on this machine. Asked for any family, as
/// `BSONSocket.connect` asks, so the answer comes from /etc/hosts (where "localhost" is
/// found) and no query leaves the machine.
private let resolvesLocalhostToIPv6: Bool = {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo("localhost", "1", &hints, &list) == 0, let first = list else { return false }
    defer { freeaddrinfo(first) }
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let entry = cursor {
        if entry.pointee.ai_family == AF_INET6 { return true }
        cursor = entry.pointee.ai_next
    }
    return false
}()
