// The Swift side of the codec comparison with pymongo (driven by ../../compare_codec.py).
//
//   codec-compare emit DIR                      writes DIR/<name>.bson for flat, deep, full
//   codec-compare list                          prints the task names
//   codec-compare keys                          prints the lookup keys as JSON
//   codec-compare serve                         reads "TASK OPS WARMUP" lines on stdin and
//                                               answers each with one JSON line (the driver
//                                               keeps one such process for a whole run)
//   codec-compare run [--ops N] [--warmup N] [--doc NAME] [--only PREFIX]...
//                                               times each task (of one document with
//                                               --doc), one JSON object per line
//   codec-compare profile TASK [--ops N]        runs one task untimed (for callgrind/perf)
//
// A measurement runs `warmup` untimed operations, then times `ops` operations back to back,
// by the wall clock and by the CPU time of this thread (which leaves out the time the
// thread waited for a core: on a shared machine the steadier of the two); the documents
// are parsed and encoded before any timing starts.

import BSONCodec
import CodecBenchSupport

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps `value` alive and opaque to the optimizer, like ordo-one's `blackHole`.
@inline(never) @_optimize(none)
func sink<T>(_ value: T) {}

struct Task {
    let name: String
    /// "flat", "deep" or "full".
    let document: String
    /// Runs the operation `count` times.
    let body: (Int) throws -> Void
}

func makeTasks(_ documents: [DriverBenchDocument]) throws -> [Task] {
    var tasks: [Task] = []
    for entry in documents {
        let bytes = entry.bytes
        let document = entry.document
        tasks.append(Task(name: "decode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try BSONDocument(bytes: bytes)) }
        })
        tasks.append(Task(name: "encode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try document.encoded()) }
        })
        tasks.append(Task(name: "validate/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { try BSONDocument.validate(bytes: bytes) }
        })
        // The lazy view's "decode": the view over the received bytes, every element checked
        // as strictly as the full decode, no value materialised (values come on demand).
        tasks.append(Task(name: "view-decode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count {
                let view = try BSONView(bytes: bytes)
                try view.validate()
                sink(view)
            }
        })
        tasks += try jsonTasks(entry)
    }
    for entry in documents {
        tasks += try codableTasks(entry)
    }
    for entry in documents {
        let bytes = entry.bytes
        for (position, key) in entry.lookupKeys {
            // The lazy path: a view over the received bytes, then one key.
            tasks.append(Task(name: "lookup-view/\(entry.name)/\(position)", document: entry.name) { count in
                for _ in 0..<count {
                    let view = try BSONView(bytes: bytes)
                    sink(try view[key])
                }
            })
            // The eager path it replaces: decode everything, then subscript.
            tasks.append(Task(name: "lookup-decode/\(entry.name)/\(position)", document: entry.name) { count in
                for _ in 0..<count {
                    let document = try BSONDocument(bytes: bytes)
                    sink(document[key])
                }
            })
            // Finding the key without decoding its value: what the view costs before the
            // value is materialised.
            tasks.append(Task(name: "locate-view/\(entry.name)/\(position)", document: entry.name) { count in
                for _ in 0..<count {
                    let view = try BSONView(bytes: bytes)
                    sink(try view.type(forKey: key))
                }
            })
        }
    }
    return tasks
}

/// The Codable tasks of one document: its bytes decoded into its Swift model with
/// `BSONDecoder` (from the received `[UInt8]`, as `recvObj(as:)` does), and the model encoded
/// with `BSONEncoder` (to `[UInt8]`, as `sendObj(_:encoder:)` does). Compared with pymongo's
/// decode/encode and with our own BSONDocument tasks.
func codableTasks(_ entry: DriverBenchDocument) throws -> [Task] {
    switch entry.name {
    case "flat": try codableTasks(entry, as: FlatBench.self)
    case "deep": try codableTasks(entry, as: DeepBench.self)
    case "full": try codableTasks(entry, as: FullBench.self)
    default: throw UsageError(description: "no Swift model for the document \(entry.name)")
    }
}

func codableTasks<Model: Codable & Equatable>(_ entry: DriverBenchDocument, as type: Model.Type) throws -> [Task] {
    let bytes = entry.bytes
    let decoder = BSONDecoder()
    let encoder = BSONEncoder()
    // Checked before any timing: the model reads the document and writes the same bytes, so
    // the Codable tasks do the same work as the document tasks and as pymongo.
    let model = try decoder.decode(Model.self, from: bytes)
    guard try encoder.encode(model) == bytes, try decoder.decode(Model.self, from: entry.document) == model else {
        throw UsageError(description: "\(Model.self) does not encode back to the bytes of \(entry.name)")
    }
    return [
        Task(name: "codable-decode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try decoder.decode(Model.self, from: bytes)) }
        },
        Task(name: "codable-encode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try encoder.encode(model)) }
        },
    ]
}

/// Foundation's JSON on the same data as JSON: the document as relaxed Extended JSON text
/// (what a JSON API would carry), parsed with `JSONSerialization` into Foundation objects and
/// written back; and the document's Swift model through `JSONDecoder`/`JSONEncoder` where the
/// model has a JSON form that reads back equal (deep only: the flat and full models hold BSON
/// types whose Codable form needs BSONEncoder; those rows are left out, and the report says so).
func jsonTasks(_ entry: DriverBenchDocument) throws -> [Task] {
    let text = Data(entry.document.extendedJSON(.relaxed).utf8)
    let object = try JSONSerialization.jsonObject(with: text)
    var tasks = [
        Task(name: "jsonserialization-decode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try JSONSerialization.jsonObject(with: text)) }
        },
        Task(name: "jsonserialization-encode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try JSONSerialization.data(withJSONObject: object)) }
        },
    ]
    if entry.name == "deep" {
        let model = try BSONDecoder().decode(DeepBench.self, from: entry.bytes)
        let json = try JSONEncoder().encode(model)
        guard try JSONDecoder().decode(DeepBench.self, from: json) == model else {
            throw UsageError(description: "DeepBench does not read back from JSON")
        }
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        tasks.append(Task(name: "jsoncodable-decode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try decoder.decode(DeepBench.self, from: json)) }
        })
        tasks.append(Task(name: "jsoncodable-encode/\(entry.name)", document: entry.name) { count in
            for _ in 0..<count { sink(try encoder.encode(model)) }
        })
    }
    return tasks
}

/// Nanoseconds of wall-clock time and of this thread's CPU time.
struct Timing {
    var wall: Int64
    var cpu: Int64
    /// Malloc calls during the timed operations; -1 when not counted.
    var mallocs: Int64 = -1

    static func now() -> Timing {
        var wall = timespec()
        var cpu = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
        return Timing(
            wall: Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec),
            cpu: Int64(cpu.tv_sec) * 1_000_000_000 + Int64(cpu.tv_nsec))
    }
}

/// The malloc-call counter of c/malloc_count.c when bench.py preloads it, else nil.
let mallocCounter: (@convention(c) () -> UInt64)? = {
    guard let symbol = dlsym(nil, "bench_malloc_count") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) () -> UInt64).self)
}()

/// Runs `warmup` untimed operations, then `ops` timed ones; returns the time they took
/// (and the malloc calls they made, when the counter is preloaded).
func measure(_ task: Task, ops: Int, warmup: Int) throws -> Timing {
    try task.body(warmup)
    let mallocsBefore = mallocCounter?() ?? 0
    let start = Timing.now()
    try task.body(ops)
    let end = Timing.now()
    let mallocs = mallocCounter.map { Int64($0() - mallocsBefore) } ?? -1
    return Timing(wall: end.wall - start.wall, cpu: end.cpu - start.cpu, mallocs: mallocs)
}

func resultLine(_ task: Task, ops: Int, time: Timing) -> String {
    "{\"side\": \"swift\", \"task\": \"\(task.name)\", \"ops\": \(ops), \"ns\": \(time.wall), \"cpu_ns\": \(time.cpu)"
        + (time.mallocs >= 0 ? ", \"mallocs\": \(time.mallocs)}\n" : "}\n")
}

/// Writes straight to the file descriptor, so that a driver reading the pipe sees each line
/// at once (print would sit in stdio's buffer).
func emitLine(_ line: String) {
    FileHandle.standardOutput.write(Data(line.utf8))
}

/// Answers "TASK OPS WARMUP" lines until end of input or "quit" (at most a million lines).
func serve(_ tasks: [Task]) {
    let byName = Dictionary(tasks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    for _ in 0..<1_000_000 {
        guard let line = readLine(), line != "quit" else { return }
        let words = line.split(separator: " ").map(String.init)
        guard words.count == 3, let task = byName[words[0]], let ops = Int(words[1]), let warmup = Int(words[2]),
            ops > 0, warmup >= 0
        else {
            emitLine("{\"error\": \"bad request: \(line.filter { $0 != "\"" && $0 != "\\" })\"}\n")
            continue
        }
        do {
            emitLine(resultLine(task, ops: ops, time: try measure(task, ops: ops, warmup: warmup)))
        } catch {
            emitLine("{\"error\": \"\(task.name) threw \(String(describing: error).filter { $0 != "\"" && $0 != "\\" })\"}\n")
        }
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
}

func intOption(_ arguments: [String], _ name: String, default value: Int) throws -> Int {
    guard let index = arguments.firstIndex(of: name) else { return value }
    guard index + 1 < arguments.count, let parsed = Int(arguments[index + 1]), parsed >= 0 else {
        throw UsageError(description: "\(name) needs a non-negative integer")
    }
    return parsed
}

func main() throws {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard let command = arguments.first else {
        throw UsageError(
            description: "usage: codec-compare emit DIR | list | keys | serve | run [--ops N] [--warmup N] [--doc NAME] [--only PREFIX]... | profile TASK [--ops N]")
    }
    let documents = try DriverBenchData.loadAll()
    let tasks = try makeTasks(documents)
    switch command {
    case "emit":
        guard arguments.count == 2 else { throw UsageError(description: "usage: codec-compare emit DIR") }
        for entry in documents {
            let path = arguments[1] + "/" + entry.name + ".bson"
            try Data(entry.bytes).write(to: URL(fileURLWithPath: path))
        }
    case "list":
        for task in tasks { print(task.name) }
    case "json-sizes":
        // Bytes of the JSON text each JSON task reads or writes, per document.
        var sizes: [String: Int] = [:]
        for entry in documents { sizes[entry.name] = Data(entry.document.extendedJSON(.relaxed).utf8).count }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(sizes), as: UTF8.self))
    case "keys":
        var keys: [String: [String: String]] = [:]
        for entry in documents {
            keys[entry.name] = Dictionary(uniqueKeysWithValues: entry.lookupKeys.map { ($0.position, $0.key) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(keys), as: UTF8.self))
    case "run":
        let ops = try intOption(arguments, "--ops", default: 10_000)
        let warmup = try intOption(arguments, "--warmup", default: 1_000)
        var prefixes: [String] = []
        for (index, argument) in arguments.enumerated() where argument == "--only" && index + 1 < arguments.count {
            prefixes.append(arguments[index + 1])
        }
        var only: String?
        if let index = arguments.firstIndex(of: "--doc") {
            guard index + 1 < arguments.count, DriverBenchData.names.contains(arguments[index + 1]) else {
                throw UsageError(description: "--doc needs one of \(DriverBenchData.names)")
            }
            only = arguments[index + 1]
        }
        for task in tasks
        where (only == nil || task.document == only) && (prefixes.isEmpty || prefixes.contains(where: { task.name.hasPrefix($0) })) {
            emitLine(resultLine(task, ops: ops, time: try measure(task, ops: ops, warmup: warmup)))
        }
    case "serve":
        serve(tasks)
    case "profile":
        guard arguments.count >= 2, let task = tasks.first(where: { $0.name == arguments[1] }) else {
            throw UsageError(description: "usage: codec-compare profile TASK [--ops N] (see `codec-compare list`)")
        }
        try task.body(try intOption(arguments, "--ops", default: 10_000))
    default:
        throw UsageError(description: "unknown command \(command)")
    }
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("codec-compare: \(error)\n".utf8))
    exit(1)
}
