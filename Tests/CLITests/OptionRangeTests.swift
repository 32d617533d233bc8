import Foundation
import Testing

/// Every numeric option of the tool, fed values at and beyond its edges: a value outside the
/// range is a usage error (status 64) that names the flag, never a trap or a signal; the
/// extreme values inside the range are taken.
@Suite("bson-socket option ranges")
struct OptionRangeTests {
    /// A value that must be refused, and the flag the message must name.
    struct Refused: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let flag: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// The duration flags of `serve`, where 0 means "none".
    static let serveDurations = ["--idle-timeout", "--frame-timeout", "--send-timeout"]
    /// Values no duration may have: negative, sub-millisecond, beyond a year, not finite,
    /// beyond what any integer type holds.
    static let badDurations = [
        "-1", "-0.5", "0.0001", "1e-9", "0.000999", "31536001", "1e16", "1e300", "inf", "-inf", "nan",
        "9223372036854775807", "1e19",
    ]
    static let badCounts = ["0", "-1", "1000001", "9223372036854775807", "-9223372036854775808"]

    static let refused: [Refused] = {
        var cases: [Refused] = []
        for flag in serveDurations {
            for value in badDurations { cases.append(Refused(arguments: ["serve", flag, value], flag: flag)) }
        }
        for value in badDurations + ["0"] {
            cases.append(Refused(arguments: ["send", "--port", "1", "--timeout", value], flag: "--timeout"))
        }
        for value in ["-1", "0.5", "32768", "1e16", "1e300", "inf", "nan", "9223372036854775807"] {
            cases.append(Refused(arguments: ["serve", "--keepalive", value], flag: "--keepalive"))
        }
        for value in badCounts {
            cases.append(Refused(arguments: ["serve", "--max-connections", value], flag: "--max-connections"))
        }
        for value in ["-1", "65536", "9223372036854775807"] {
            cases.append(Refused(arguments: ["serve", "--port", value], flag: "--port"))
        }
        for value in ["0", "-1", "65536", "9223372036854775807"] {
            cases.append(Refused(arguments: ["send", "--port", value], flag: "--port"))
        }
        for value in ["0", "4", "2147483648", "9223372036854775807", "-9223372036854775808"] {
            cases.append(Refused(arguments: ["serve", "--max-size", value], flag: "--max-size"))
            cases.append(Refused(arguments: ["convert", "--from", "bson", "--to", "ejson", "--max-size", value], flag: "--max-size"))
        }
        for value in ["-1", "1001", "9223372036854775807"] {
            cases.append(Refused(arguments: ["convert", "--from", "bson", "--to", "ejson", "--max-depth", value], flag: "--max-depth"))
        }
        // Not numbers at all, or numbers beyond what ArgumentParser's types hold.
        cases.append(Refused(arguments: ["serve", "--max-connections", "99999999999999999999"], flag: "--max-connections"))
        cases.append(Refused(arguments: ["serve", "--idle-timeout", "soon"], flag: "--idle-timeout"))
        return cases
    }()

    @Test("A value out of range is a usage error naming its flag", arguments: refused)
    func refusesOutOfRange(_ refused: Refused) throws {
        let result = try ToolRunner.run(refused.arguments, timeout: .seconds(20))
        #expect(result.status == 64, "status \(result.status); stderr: \(result.stderr)")
        #expect(result.stderr.contains(refused.flag), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("The extremes inside the ranges are taken: a server with all of them answers")
    func takesExtremes() throws {
        let server = try ServerProcess([
            "--port", "0", "--idle-timeout", "31536000", "--frame-timeout", "0.001", "--send-timeout", "31536000",
            "--keepalive", "32767", "--max-connections", "1000000", "--max-size", "2147483647",
        ])
        defer { _ = server.stop() }
        #expect(server.address.hasPrefix("listening on 127.0.0.1:"), "\(server.errorOutput)")
        for timeout in ["0.001", "31536000"] {
            let result = try ToolRunner.run(
                ["send", "--port", server.port, "--timeout", timeout], input: Array("{}\n".utf8))
            if timeout == "31536000" {
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdoutText == "{}\n")
            } else {
                // One millisecond may be too short for the reply; it must then fail cleanly.
                #expect([0, 1].contains(result.status), "status \(result.status); stderr: \(result.stderr)")
            }
        }
        let converted = try ToolRunner.run(
            ["convert", "--from", "ejson", "--to", "bson", "--max-depth", "1000", "--max-size", "5"],
            input: Array("{}\n".utf8))
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stdout == [5, 0, 0, 0, 0])
        // The deepest nesting accepted is walked without exhausting the stack.
        let deep = String(repeating: "{\"a\":", count: 999) + "{}" + String(repeating: "}", count: 999) + "\n"
        let nested = try ToolRunner.run(["convert", "--from", "ejson", "--to", "bson", "--max-depth", "1000"], input: Array(deep.utf8))
        #expect(nested.status == 0, "\(nested.stderr)")
        let back = try ToolRunner.run(["convert", "--from", "bson", "--to", "ejson", "--max-depth", "1000"], input: nested.stdout)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdoutText.hasPrefix("{\"a\":{\"a\":"))
    }
}
