// The "raw libbson from Swift" contender of the codec benchmark (driven by ../../bench.py):
// a Swift program that drives libbson's iterator and typed append functions itself, with
// no Swift values in between — the ceiling for any Swift codec built on libbson.
//
//   libbson-swift DIR serve     reads DIR/flat.bson, deep.bson, full.bson, then answers
//                               "TASK/NAME OPS WARMUP" lines on stdin with one JSON line each
//
// Tasks (the same work as c/libbson_codec.c, written in Swift):
//   walk-utf8/NAME  iterate every element (recursing), read each value with its typed
//                   getter, and check every key and string-bearing value for UTF-8, as our
//                   strict decoder does: the decode ceiling
//   rebuild/NAME    walk, and append every value into a new bson_t with the typed
//                   bson_append_* functions: the encode ceiling (checked byte for byte
//                   against the input before any timing)

import CLibBSONBench

#if canImport(Glibc)
import Glibc
#endif

let maxDepth = 100
let iteratorSize = benchbson_iter_size()
let documentSize = benchbson_bson_size()

/// Folds values read into one number the optimizer cannot drop.
nonisolated(unsafe) var accumulator: UInt64 = 0

@inline(__always)
func mix(_ value: UInt64) { accumulator = (accumulator ^ value) &* 0x100000001b3 }

/// Stack room for one 128-byte-aligned libbson struct (rounded up inside a 16-aligned block:
/// asking for 128-byte alignment would move the block to the heap).
@inline(__always)
func withAligned<R>(_ size: Int, _ body: (OpaquePointer) -> R) -> R {
    withUnsafeTemporaryAllocation(byteCount: size + 128, alignment: 16) { raw in
        let aligned = (UInt(bitPattern: raw.baseAddress!) + 127) & ~UInt(127)
        return body(OpaquePointer(bitPattern: aligned)!)
    }
}

struct Failure: Error, CustomStringConvertible { let description: String }

@inline(__always)
func utf8OK(_ text: UnsafePointer<CChar>?, _ length: UInt32) -> Bool {
    guard let text else { return length == 0 }
    return bson_utf8_validate(text, Int(length), true)
}

/// Walks every element under `iter` (already positioned before the first), reading values.
func walk(_ iter: OpaquePointer, depth: Int) -> Bool {
    guard depth <= maxDepth else { return false }
    while bson_iter_next(iter) {
        let key = bson_iter_key(iter)
        let keyLength = bson_iter_key_len(iter)
        guard utf8OK(key, keyLength) else { return false }
        mix(UInt64(keyLength))
        switch bson_iter_type(iter) {
        case BSON_TYPE_DOUBLE: mix(bson_iter_double(iter).bitPattern)
        case BSON_TYPE_UTF8, BSON_TYPE_CODE, BSON_TYPE_SYMBOL:
            var length: UInt32 = 0
            let type = bson_iter_type(iter)
            let text =
                type == BSON_TYPE_UTF8
                ? bson_iter_utf8(iter, &length) : type == BSON_TYPE_CODE ? bson_iter_code(iter, &length) : bson_iter_symbol(iter, &length)
            guard utf8OK(text, length) else { return false }
            mix(UInt64(length))
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let ok = withAligned(iteratorSize) { child in
                bson_iter_recurse(iter, child) && walk(child, depth: depth + 1)
            }
            guard ok else { return false }
        case BSON_TYPE_BINARY:
            var subtype = BSON_SUBTYPE_BINARY
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_binary(iter, &subtype, &length, &data)
            mix(UInt64(length) &+ UInt64(data?.pointee ?? 0))
        case BSON_TYPE_OID: mix(UInt64(bson_iter_oid(iter).pointee.bytes.0))
        case BSON_TYPE_BOOL: mix(bson_iter_bool(iter) ? 1 : 0)
        case BSON_TYPE_DATE_TIME: mix(UInt64(bitPattern: bson_iter_date_time(iter)))
        case BSON_TYPE_REGEX:
            var options: UnsafePointer<CChar>?
            guard let pattern = bson_iter_regex(iter, &options) else { return false }
            guard utf8OK(pattern, UInt32(strlen(pattern))), utf8OK(options, UInt32(options.map { strlen($0) } ?? 0)) else {
                return false
            }
        case BSON_TYPE_DBPOINTER:
            var length: UInt32 = 0
            var collection: UnsafePointer<CChar>?
            var oid: UnsafePointer<bson_oid_t>?
            bson_iter_dbpointer(iter, &length, &collection, &oid)
            guard utf8OK(collection, length) else { return false }
        case BSON_TYPE_CODEWSCOPE:
            var length: UInt32 = 0
            var scopeLength: UInt32 = 0
            var scopeData: UnsafePointer<UInt8>?
            let code = bson_iter_codewscope(iter, &length, &scopeLength, &scopeData)
            guard utf8OK(code, length), let scopeData else { return false }
            let ok = withAligned(iteratorSize) { child in
                bson_iter_init_from_data(child, scopeData, Int(scopeLength)) && walk(child, depth: depth + 1)
            }
            guard ok else { return false }
        case BSON_TYPE_INT32: mix(UInt64(UInt32(bitPattern: bson_iter_int32(iter))))
        case BSON_TYPE_TIMESTAMP:
            var timestamp: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iter, &timestamp, &increment)
            mix(UInt64(timestamp) << 32 | UInt64(increment))
        case BSON_TYPE_INT64: mix(UInt64(bitPattern: bson_iter_int64(iter)))
        case BSON_TYPE_DECIMAL128:
            var value = bson_decimal128_t()
            _ = bson_iter_decimal128(iter, &value)
            mix(value.high ^ value.low)
        case BSON_TYPE_UNDEFINED, BSON_TYPE_NULL, BSON_TYPE_MINKEY, BSON_TYPE_MAXKEY:
            mix(UInt64(bson_iter_type(iter).rawValue))
        default:
            return false
        }
    }
    return benchbson_iter_error_offset(iter) == 0
}

/// Appends every element under `iter` to `out` with the typed append functions.
func rebuild(_ iter: OpaquePointer, into out: OpaquePointer, depth: Int) -> Bool {
    guard depth <= maxDepth else { return false }
    while bson_iter_next(iter) {
        guard let key = bson_iter_key(iter) else { return false }
        let keyLength = Int32(bson_iter_key_len(iter))
        let ok: Bool
        switch bson_iter_type(iter) {
        case BSON_TYPE_DOUBLE: ok = bson_append_double(out, key, keyLength, bson_iter_double(iter))
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            let text = bson_iter_utf8(iter, &length)
            ok = bson_append_utf8(out, key, keyLength, text, Int32(length))
        case BSON_TYPE_CODE:
            var length: UInt32 = 0
            ok = bson_append_code(out, key, keyLength, bson_iter_code(iter, &length))
        case BSON_TYPE_SYMBOL:
            var length: UInt32 = 0
            let text = bson_iter_symbol(iter, &length)
            ok = bson_append_symbol(out, key, keyLength, text, Int32(length))
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let isArray = bson_iter_type(iter) == BSON_TYPE_ARRAY
            ok = withAligned(iteratorSize) { childIter in
                withAligned(documentSize) { child in
                    guard bson_iter_recurse(iter, childIter) else { return false }
                    let begun =
                        isArray
                        ? bson_append_array_begin(out, key, keyLength, child)
                        : bson_append_document_begin(out, key, keyLength, child)
                    guard begun, rebuild(childIter, into: child, depth: depth + 1) else { return false }
                    return isArray ? bson_append_array_end(out, child) : bson_append_document_end(out, child)
                }
            }
        case BSON_TYPE_BINARY:
            var subtype = BSON_SUBTYPE_BINARY
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_binary(iter, &subtype, &length, &data)
            ok = bson_append_binary(out, key, keyLength, subtype, data, length)
        case BSON_TYPE_OID: ok = bson_append_oid(out, key, keyLength, bson_iter_oid(iter))
        case BSON_TYPE_BOOL: ok = bson_append_bool(out, key, keyLength, bson_iter_bool(iter))
        case BSON_TYPE_DATE_TIME: ok = bson_append_date_time(out, key, keyLength, bson_iter_date_time(iter))
        case BSON_TYPE_NULL: ok = bson_append_null(out, key, keyLength)
        case BSON_TYPE_UNDEFINED: ok = bson_append_undefined(out, key, keyLength)
        case BSON_TYPE_REGEX:
            var options: UnsafePointer<CChar>?
            let pattern = bson_iter_regex(iter, &options)
            ok = bson_append_regex(out, key, keyLength, pattern, options)
        case BSON_TYPE_DBPOINTER:
            var length: UInt32 = 0
            var collection: UnsafePointer<CChar>?
            var oid: UnsafePointer<bson_oid_t>?
            bson_iter_dbpointer(iter, &length, &collection, &oid)
            ok = bson_append_dbpointer(out, key, keyLength, collection, oid)
        case BSON_TYPE_CODEWSCOPE:
            var length: UInt32 = 0
            var scopeLength: UInt32 = 0
            var scopeData: UnsafePointer<UInt8>?
            let code = bson_iter_codewscope(iter, &length, &scopeLength, &scopeData)
            ok = withAligned(documentSize) { scope in
                guard let scopeData, bson_init_static(scope, scopeData, Int(scopeLength)) else { return false }
                return bson_append_code_with_scope(out, key, keyLength, code, scope)
            }
        case BSON_TYPE_INT32: ok = bson_append_int32(out, key, keyLength, bson_iter_int32(iter))
        case BSON_TYPE_TIMESTAMP:
            var timestamp: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iter, &timestamp, &increment)
            ok = bson_append_timestamp(out, key, keyLength, timestamp, increment)
        case BSON_TYPE_INT64: ok = bson_append_int64(out, key, keyLength, bson_iter_int64(iter))
        case BSON_TYPE_DECIMAL128:
            var value = bson_decimal128_t()
            _ = bson_iter_decimal128(iter, &value)
            ok = bson_append_decimal128(out, key, keyLength, &value)
        case BSON_TYPE_MINKEY: ok = bson_append_minkey(out, key, keyLength)
        case BSON_TYPE_MAXKEY: ok = bson_append_maxkey(out, key, keyLength)
        default: ok = false
        }
        guard ok else { return false }
    }
    return benchbson_iter_error_offset(iter) == 0
}

/// One decode-ceiling operation on `bytes`.
func walkOnce(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    withAligned(iteratorSize) { iter in
        bson_iter_init_from_data(iter, bytes.baseAddress, bytes.count) && walk(iter, depth: 0)
    }
}

/// One encode-ceiling operation: a new bson_t holding `bytes` rebuilt; `check` compares.
func rebuildOnce(_ bytes: UnsafeBufferPointer<UInt8>, check: Bool = false) -> Bool {
    withAligned(iteratorSize) { iter in
        guard bson_iter_init_from_data(iter, bytes.baseAddress, bytes.count), let out = bson_sized_new(512) else {
            return false
        }
        defer { bson_destroy(out) }
        guard rebuild(iter, into: out, depth: 0) else { return false }
        let length = Int(benchbson_bson_length(out))
        mix(UInt64(length))
        guard check else { return true }
        guard length == bytes.count, let base = bytes.baseAddress else { return false }
        return memcmp(bson_get_data(out), base, length) == 0
    }
}

/// The malloc-call counter of c/malloc_count.c when bench.py preloads it, else nil.
let mallocCounter: (@convention(c) () -> UInt64)? = {
    guard let symbol = dlsym(nil, "bench_malloc_count") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) () -> UInt64).self)
}()

/// Writes one line to standard output at once (the driver reads the pipe line by line).
func emitLine(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
}

func nanoseconds(_ clock: clockid_t) -> Int64 {
    var now = timespec()
    clock_gettime(clock, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw Failure(description: "cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    for _ in 0..<100_000 {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

func main() throws {
    let arguments = CommandLine.arguments
    guard arguments.count == 3, arguments[2] == "serve" else {
        throw Failure(description: "usage: libbson-swift DIR serve")
    }
    var documents: [String: [UInt8]] = [:]
    for name in ["flat", "deep", "full"] {
        let bytes = try readFile(arguments[1] + "/" + name + ".bson")
        let ok = bytes.withUnsafeBufferPointer { walkOnce($0) && rebuildOnce($0, check: true) }
        guard ok else { throw Failure(description: "\(name): walking or rebuilding did not reproduce its bytes") }
        documents[name] = bytes
    }
    // Bounded: at most a million requests; ends at end of input or "quit".
    for _ in 0..<1_000_000 {
        guard let line = readLine(), line != "quit" else { return }
        let words = line.split(separator: " ")
        let parts = words.first?.split(separator: "/") ?? []
        guard words.count == 3, parts.count == 2, let bytes = documents[String(parts[1])],
            let ops = Int(words[1]), let warmup = Int(words[2]), ops > 0, warmup >= 0,
            parts[0] == "walk-utf8" || parts[0] == "rebuild"
        else {
            emitLine("{\"error\": \"bad request\"}")
            continue
        }
        let isWalk = parts[0] == "walk-utf8"
        let (ok, wall, cpu, mallocs): (Bool, Int64, Int64, UInt64) = bytes.withUnsafeBufferPointer { buffer in
            var ok = true
            for _ in 0..<warmup { ok = ok && (isWalk ? walkOnce(buffer) : rebuildOnce(buffer)) }
            let mallocsBefore = mallocCounter?() ?? 0
            let start = nanoseconds(CLOCK_MONOTONIC)
            let startCPU = nanoseconds(CLOCK_THREAD_CPUTIME_ID)
            for _ in 0..<ops { ok = (isWalk ? walkOnce(buffer) : rebuildOnce(buffer)) && ok }
            let wall = nanoseconds(CLOCK_MONOTONIC) - start
            let cpu = nanoseconds(CLOCK_THREAD_CPUTIME_ID) - startCPU
            return (ok, wall, cpu, (mallocCounter?() ?? 0) - mallocsBefore)
        }
        if ok {
            let counted = mallocCounter == nil ? "" : ", \"mallocs\": \(mallocs)"
            emitLine(
                "{\"side\": \"libbson-swift\", \"task\": \"\(words[0])\", \"ops\": \(ops), \"ns\": \(wall), \"cpu_ns\": \(cpu)\(counted)}")
        } else {
            emitLine("{\"error\": \"\(words[0]) failed on a valid document\"}")
        }
    }
    if accumulator == 42 { emitLine("") }
}

do {
    try main()
} catch {
    let message = "libbson-swift: \(error)\n"
    _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(1)
}
