// fuzz-ejson: arbitrary bytes into the Extended JSON parser.
//
// Properties, for every input:
// - no crash, leak or hang: the parser accepts or throws `invalidExtendedJSON`;
// - `init(extendedJSON: String)` and `init(extendedJSON: [UInt8])` agree on valid UTF-8;
// - an accepted document encodes to BSON that the strict decoder accepts and decodes back
//   to the same document;
// - its canonical text parses back to the same document, and printing that again gives
//   the same text (canonical output is a fixed point); its relaxed text parses too, unless
//   a plain document holds a `$regex` key with a bare value (see `hasBareRegexKey`).
import BSONCodec
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let parsed: BSONDocument
    do {
        parsed = try BSONDocument(extendedJSON: input)
    } catch {
        if error.code != .invalidExtendedJSON { propertyFailed("parser threw \(error.code): \(error)", input: input) }
        if let text = String(validating: input, as: UTF8.self), (try? BSONDocument(extendedJSON: text)) != nil {
            propertyFailed("the String entry accepts what the byte entry rejects", input: input)
        }
        return 0
    }
    if let text = String(validating: input, as: UTF8.self) {
        guard let again = try? BSONDocument(extendedJSON: text), again == parsed else {
            propertyFailed("the String entry disagrees with the byte entry", input: input)
        }
    } else {
        propertyFailed("the parser accepted bytes that are not UTF-8", input: input)
    }

    let bytes: [UInt8]
    do {
        bytes = try parsed.encoded()
    } catch {
        propertyFailed("a parsed document does not encode: \(error)", input: input)
    }
    do {
        let decoded = try BSONDocument(bytes: bytes)
        if decoded != parsed { propertyFailed("BSON round trip changes the document", input: input) }
    } catch {
        propertyFailed("the strict decoder rejects what the parser built: \(error)", input: input)
    }

    let canonical = parsed.extendedJSON(.canonical)
    do {
        let reparsed = try BSONDocument(extendedJSON: canonical)
        if reparsed.encodedOrNil != bytes {
            propertyFailed("canonical text does not read back as the same document: \(canonical)", input: input)
        }
        if reparsed.extendedJSON(.canonical) != canonical {
            propertyFailed("canonical text is not a fixed point: \(canonical)", input: input)
        }
    } catch {
        propertyFailed("canonical text does not parse: \(error) in \(canonical)", input: input)
    }
    let relaxed = parsed.extendedJSON(.relaxed)
    if !hasBareRegexKey(parsed), (try? BSONDocument(extendedJSON: relaxed)) == nil {
        propertyFailed("relaxed text does not parse: \(relaxed)", input: input)
    }
    return 0
}

/// Whether a plain document somewhere in `document` has a `$regex` key whose value is not a
/// document. Its canonical text reads back (`{"$regex": {"$numberLong": …}}` is the `$regex`
/// query operator), but relaxed text writes such a value bare (`{"$regex": -2780}`), and the
/// specification makes a `$regex` with a bare value a parse error (the corpus's "Bad $regex"
/// and "missing keys" cases): relaxed Extended JSON has no text for these documents.
func hasBareRegexKey(_ document: BSONDocument) -> Bool {
    for (key, value) in zip(document.keys, document.values) {
        if key == "$regex", case .document = value {} else if key == "$regex" { return true }
        if hasBareRegexKey(value) { return true }
    }
    return false
}

func hasBareRegexKey(_ value: BSONValue) -> Bool {
    switch value {
    case .document(let inner): return hasBareRegexKey(inner)
    case .array(let items): return items.contains(where: hasBareRegexKey)
    default: return false
    }
}

@main
enum Main {
    static func main() {
        runFuzzer(fuzzEJSON)
    }
}
