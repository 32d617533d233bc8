import ArgumentParser
import SystemPackage

/// A failure the tool reports in one line on standard error, with exit status 1.
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    var line = Array(text.utf8)
    line.append(0x0A)
    _ = try? FileDescriptor.standardError.writeAll(line)
}

/// Writes a line to standard output at once (no stdio buffering).
func printLine(_ text: String) {
    var line = Array(text.utf8)
    line.append(0x0A)
    _ = try? FileDescriptor.standardOutput.writeAll(line)
}

/// Collects output and writes it in large pieces.
struct OutputBuffer {
    let descriptor: FileDescriptor
    private var bytes: [UInt8] = []
    private static let flushThreshold = 1 << 16

    init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
        bytes.reserveCapacity(Self.flushThreshold * 2)
    }

    mutating func append(_ newBytes: [UInt8]) { bytes.append(contentsOf: newBytes) }
    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func flushIfFull() throws {
        if bytes.count >= Self.flushThreshold { try flush() }
    }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        do {
            _ = try descriptor.writeAll(bytes)
        } catch Errno.brokenPipe {
            // The reader went away (`… | head -1`): stop quietly, with the status a shell
            // reports for a command that SIGPIPE ended (128 + 13).
            throw ExitCode(141)
        } catch {
            throw ToolFailure("cannot write output: \(error)")
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// Reads a descriptor one line at a time (lines end with "\n"; a final line without one
/// counts too).
struct LineReader {
    let descriptor: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var lineNumber = 0

    init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    /// The next line without its newline, and its number (from 1); `nil` at the end.
    mutating func next() throws -> (Int, [UInt8])? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                return (lineNumber, line)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return (lineNumber, line)
            }
            // Keep the unfinished line, then read more.
            buffer.removeSubrange(0..<start)
            start = 0
            let chunk = 1 << 16
            let oldCount = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            let received: Int
            do {
                received = try buffer.withUnsafeMutableBytes { raw in
                    try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[oldCount...]))
                }
            } catch {
                throw ToolFailure("cannot read input: \(error)")
            }
            buffer.removeLast(chunk - received)
            if received == 0 { atEnd = true }
        }
    }
}
