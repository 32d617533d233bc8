/// The address of one end of a connection or of a listener.
///
/// ```swift
/// let listener = try BSONListener.listen(port: 0)
/// print("listening on \(listener.localAddress)")   // "listening on 127.0.0.1:49152"
/// ```
public enum BSONSocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address in dotted-decimal form, and a port.
    case ipv4(host: String, port: Int)
    /// An IPv6 address in its textual form (without brackets), and a port.
    case ipv6(host: String, port: Int)
    /// A Unix domain socket path; empty for an unnamed socket (one end of
    /// ``BSONSocket/pair()``, or the client end of a Unix connection).
    case unix(path: String)

    /// The port of an IP address; `nil` for a Unix address.
    public var port: Int? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port): port
        case .unix: nil
        }
    }

    /// The host of an IP address (`"127.0.0.1"`, `"::1"`); `nil` for a Unix address.
    public var host: String? {
        switch self {
        case .ipv4(let host, _), .ipv6(let host, _): host
        case .unix: nil
        }
    }

    /// `"127.0.0.1:8080"`, `"[::1]:8080"`, or the path of a Unix address.
    public var description: String {
        switch self {
        case .ipv4(let host, let port): "\(host):\(port)"
        case .ipv6(let host, let port): "[\(host)]:\(port)"
        case .unix(let path): path.isEmpty ? "(unnamed unix socket)" : path
        }
    }
}
