// fuzz-view: arbitrary bytes into the lazy `BSONView`.
//
// Properties, for every input:
// - no crash, leak or hang: lookups of present and absent keys, `type(forKey:)`, `keys`
//   and `forEachElement` on any bytes either answer or throw a `BSONError`;
// - when the strict decoder accepts the bytes, the view agrees with it: the view can be
//   made, `validate()` passes, the keys and types are the document's in order, and every
//   lookup returns the value of the first element with that key (or nil);
// - when the strict decoder rejects the bytes, `validate()` and `document()` reject them too.
import BSONCodec
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzView(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let strict = try? BSONDocument(bytes: input)

    let view: BSONView
    do {
        view = try BSONView(bytes: input)
    } catch {
        if strict != nil { propertyFailed("BSONView rejects a valid document: \(error)", input: input) }
        return 0
    }

    // Probe keys: fixed ones, plus (for bytes that are not a valid document) key-like runs
    // taken from the input itself, so that lookups reach into the malformed parts.
    var probes = ["a", "", "_id", "x", "0", "zz"]
    if let strict {
        probes += strict.keys
    } else {
        var random = SplitMix64(seedBytes: input.suffix(8))
        for _ in 0..<2 where input.count > 5 {
            let start = 4 + random.next(below: input.count - 5)
            let run = input[start...].prefix { $0 != 0 }.prefix(16)
            probes.append(String(decoding: run, as: UTF8.self))
        }
    }

    let keys = Result { () throws(BSONError) in try view.keys }
    var walked: [(String, BSONType)] = []
    let walk = Result { () throws(BSONError) in try view.forEachElement { walked.append(($0, $1)) } }
    let validated = Result { () throws(BSONError) in try view.validate() }
    let whole = Result { () throws(BSONError) in try view.document() }

    guard let strict else {
        if case .success = validated { propertyFailed("view.validate accepts what decoding rejects", input: input) }
        if case .success = whole { propertyFailed("view.document accepts what decoding rejects", input: input) }
        for key in probes {
            _ = try? view.value(forKey: key)
            _ = try? view.type(forKey: key)
            _ = try? view.contains(key: key)
        }
        // A walk that succeeded saw keys that `keys` also reports.
        if case .success = walk, case .success(let names) = keys, names != walked.map(\.0) {
            propertyFailed("view.keys and forEachElement disagree", input: input)
        }
        return 0
    }

    if case .failure(let error) = validated { propertyFailed("view.validate rejects a valid document: \(error)", input: input) }
    guard case .success(let viewDocument) = whole, viewDocument == strict else {
        propertyFailed("view.document differs from the strict decoder's", input: input)
    }
    guard case .success(let names) = keys, names == strict.keys else {
        propertyFailed("view.keys differ from the document's keys", input: input)
    }
    guard case .success = walk, walked.map(\.1) == strict.values.map(\.type) else {
        propertyFailed("forEachElement types differ from the document's", input: input)
    }
    for key in probes {
        let expected = strict[key]
        do {
            let value = try view.value(forKey: key)
            if value != expected { propertyFailed("view[\(key)] differs from the document's", input: input) }
            if try view.type(forKey: key) != expected?.type { propertyFailed("view.type(\(key)) differs", input: input) }
            if try view.contains(key: key) != (expected != nil) { propertyFailed("view.contains(\(key)) differs", input: input) }
        } catch {
            propertyFailed("view lookup of \(key) throws on a valid document: \(error)", input: input)
        }
    }
    return 0
}

@main
enum Main {
    static func main() {
        runFuzzer(fuzzView)
    }
}
