import ArgumentParser
import BSONSocket

/// The range rules of the tool's numeric options, in one place: every duration, size and
/// count is checked here before it reaches the library, so no value typed on the command
/// line can trap (a usage error, exit status 64, names the flag instead).
enum OptionChecks {
    /// The longest duration accepted, in seconds (a year; see `BSONServerDefaults.longestDuration`).
    static let longestSeconds = Double(BSONServerDefaults.longestDuration.components.seconds)
    /// The shortest non-zero duration accepted, in seconds (1 ms: shorter is rounded away by
    /// the kernel's timers and cannot be meant).
    static let shortestSeconds = 0.001

    /// The deepest nesting `--max-depth` accepts: the codec walks nested documents
    /// recursively, so a deeper limit would let a hostile input exhaust the stack instead of
    /// being refused with an error.
    static let deepestNesting = 1000

    /// `seconds` from `flag` as a duration; 0 means none when `zeroMeansNone`, else it is an
    /// error.
    static func duration(_ seconds: Double, flag: String, zeroMeansNone: Bool) throws -> Duration? {
        guard seconds.isFinite else { throw ValidationError("\(flag) must be a finite number of seconds, not \(seconds)") }
        if seconds == 0 && zeroMeansNone { return nil }
        let lowest = zeroMeansNone ? "0 (none) or between \(shortestSeconds)" : "between \(shortestSeconds)"
        guard seconds >= shortestSeconds, seconds <= longestSeconds else {
            throw ValidationError("\(flag) must be \(lowest) and \(Int(longestSeconds)) seconds (a year), not \(seconds)")
        }
        return .microseconds(Int64((seconds * 1_000_000).rounded(.up)))
    }

    /// A count from `flag` that must lie in `range`.
    static func count(_ value: Int, flag: String, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
    }

    /// `--keepalive SECONDS`: 0 turns keepalive off; otherwise the idle time before the
    /// first probe, 1 through 32,767 whole seconds.
    static func keepalive(_ seconds: Double, flag: String = "--keepalive") throws -> BSONKeepalive? {
        guard seconds.isFinite else { throw ValidationError("\(flag) must be a finite number of seconds, not \(seconds)") }
        if seconds == 0 { return nil }
        guard seconds >= 1, seconds <= 32767 else {
            throw ValidationError("\(flag) must be 0 (off) or between 1 and 32767 seconds, not \(seconds)")
        }
        return BSONKeepalive(idle: .seconds(Int64(seconds.rounded(.up))))
    }
}
