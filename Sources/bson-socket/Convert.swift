import ArgumentParser
import BSONSocket
import SystemPackage

/// `bson-socket convert`: BSON documents back to back, or Extended JSON one document a line,
/// into either form.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert between BSON and Extended JSON.",
        discussion: """
            Input in BSON is documents back to back, each starting with its own 4-byte little-endian \
            length. Input in Extended JSON is one document a line (blank lines are skipped); both the \
            canonical and the relaxed form are accepted, and legacy wrappers such as {"$date": 0}.

            Output goes to standard output: BSON documents back to back (--to bson), or one \
            Extended JSON document a line, canonical (--to ejson, every type kept exactly) or relaxed \
            (--to relaxed, plain JSON numbers and ISO-8601 dates where that loses nothing a reader \
            needs).

            Every document goes through the library's value model: it is decoded and strictly \
            validated (lengths, terminators, type bytes, UTF-8 of keys and strings, nesting depth), \
            then encoded or formatted. At the first invalid document the command writes a message to \
            standard error naming the document's index (counting from 0), its byte offset (or line \
            for Extended JSON) and what was wrong, and exits with status 1; the documents before it \
            have been written.

            Examples:
              bson-socket convert --from bson --to ejson dump.bson
              bson-socket convert --from ejson --to bson - < messages.jsonl > messages.bson
            """
    )

    enum InputFormat: String, ExpressibleByArgument, CaseIterable {
        case bson, ejson
    }

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case bson, ejson, relaxed
    }

    @Option(help: "The input format: bson (documents back to back) or ejson (one document a line).")
    var from: InputFormat

    @Option(help: "The output format: bson, ejson (canonical Extended JSON) or relaxed (relaxed Extended JSON).")
    var to: OutputFormat

    @Option(help: "The largest BSON document accepted, in bytes.")
    var maxSize: Int = BSONFrameLimits.defaultMaximumFrameLength

    @Option(help: "How deeply documents and arrays may nest, reading and writing (0 to 1000).")
    var maxDepth: Int = BSONDecodingOptions.default.maxDepth

    @Argument(help: "The input file; - or nothing reads standard input.")
    var file: String = "-"

    func validate() throws {
        try OptionChecks.count(maxSize, flag: "--max-size", in: BSONFrameLimits.minimumFrameLength...Int(Int32.max))
        try OptionChecks.count(maxDepth, flag: "--max-depth", in: 0...OptionChecks.deepestNesting)
    }

    func run() throws {
        let input: FileDescriptor
        if file == "-" {
            input = .standardInput
        } else {
            do {
                input = try FileDescriptor.open(FilePath(file), .readOnly)
            } catch {
                throw ToolFailure("cannot open \(file): \(error)")
            }
        }
        defer { if file != "-" { try? input.close() } }

        var output = OutputBuffer(descriptor: .standardOutput)
        let options = BSONDecodingOptions(maxDepth: maxDepth)
        let failure: String?
        switch from {
        case .bson:
            failure = try convertBSON(from: input, into: &output, options: options)
        case .ejson:
            failure = try convertExtendedJSON(from: input, into: &output, options: options)
        }
        try output.flush()
        if let failure {
            printError("bson-socket convert: \(failure)")
            throw ExitCode(1)
        }
    }

    /// Converts documents back to back; returns the message for the first invalid one.
    private func convertBSON(
        from input: FileDescriptor, into output: inout OutputBuffer, options: BSONDecodingOptions
    ) throws -> String? {
        let limits = BSONFrameLimits(maximumFrameLength: maxSize)
        var index = 0
        var offset = 0
        while true {
            let frame: [UInt8]
            do throws(BSONError) {
                guard let next = try input.recvFrame(limits: limits) else { return nil }
                frame = next
            } catch {
                return "document \(index) at byte \(offset + (error.offset ?? 0)): \(error.message)"
            }
            do {
                let document = try BSONDocument(bytes: frame, options: options)
                try write(document, to: &output)
            } catch let error as BSONError {
                return Self.describe(error, index: index, position: "at byte \(offset + (error.offset ?? 0))")
            }
            index += 1
            offset += frame.count
        }
    }

    /// Converts one Extended JSON document a line; returns the message for the first invalid one.
    private func convertExtendedJSON(
        from input: FileDescriptor, into output: inout OutputBuffer, options: BSONDecodingOptions
    ) throws -> String? {
        var lines = LineReader(descriptor: input)
        var index = 0
        while let (lineNumber, line) = try lines.next() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let document = try BSONDocument(extendedJSON: line, options: options)
                try write(document, to: &output)
            } catch let error as BSONError {
                return Self.describe(error, index: index, position: "on line \(lineNumber)")
            }
            index += 1
        }
        return nil
    }

    private func write(_ document: BSONDocument, to output: inout OutputBuffer) throws {
        switch to {
        case .bson:
            output.append(try document.encoded(options: BSONEncodingOptions(maxDepth: maxDepth)))
        case .ejson:
            output.append(document.extendedJSON(.canonical))
            output.append("\n")
        case .relaxed:
            output.append(document.extendedJSON(.relaxed))
            output.append("\n")
        }
        try output.flushIfFull()
    }

    private static func describe(_ error: BSONError, index: Int, position: String) -> String {
        var text = "document \(index) \(position): \(error.message)"
        if !error.keyPath.isEmpty { text += " (key \"\(error.dottedKeyPath)\")" }
        return text + " [\(error.code)]"
    }
}
