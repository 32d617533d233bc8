import NIOCore
import NIOPosix

// Every failure that leaves this module is a BSONError (or the task's CancellationError):
// SwiftNIO's own errors are translated here, with the errno where there is one.

extension BSONError {
    /// `error` as the package's error type, saying what was being done.
    static func translating(_ error: any Error, while activity: String, missingPathIsRefused: Bool = false) -> any Error {
        switch error {
        case let error as BSONError:
            return error
        case is CancellationError:
            return error
        case let error as IOError:
            return BSONError.systemCall(
                callName(of: error), errno: error.errnoCode, while: activity, missingPathIsRefused: missingPathIsRefused)
        case let error as NIOConnectionError:
            // Every address tried failed; report the first failure that carries an errno.
            for attempt in error.connectionErrors {
                if let io = attempt.error as? IOError {
                    return BSONError.systemCall(
                        "connect", errno: io.errnoCode, while: activity, missingPathIsRefused: missingPathIsRefused)
                }
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil || error.connectionErrors.isEmpty {
                return BSONError(.hostNotFound, "\(activity): the host name did not resolve (\(error))")
            }
            return BSONError(.systemCallFailed, "\(activity) failed: \(error)")
        case let error as ChannelError:
            switch error {
            case .connectTimeout(let amount):
                return BSONError(
                    .timedOut, "\(activity) took longer than \(amount.nanoseconds / 1_000_000) ms (connect timeout)")
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return BSONError(.closed, "\(activity): the connection is closed (\(error))")
            default:
                return BSONError(.systemCallFailed, "\(activity) failed: \(error)")
            }
        case let error as SocketAddressError:
            return BSONError(.hostNotFound, "\(activity): \(error)")
        default:
            return BSONError(.systemCallFailed, "\(activity) failed: \(error)")
        }
    }

    /// The C function an `IOError` names ("connect" from "connect(descriptor:addr:size:)").
    private static func callName(of error: IOError) -> String {
        let text = "\(error)"
        // IOError describes itself as "<call>(...) failed: <reason> (errno: N)" or similar;
        // keep the word before the first parenthesis, else a generic name.
        if let open = text.firstIndex(of: "("), let name = text[..<open].split(separator: " ").last {
            return String(name)
        }
        return "system call"
    }
}
