// fuzz-decode: arbitrary bytes into the strict BSON decoder.
//
// Properties, for every input:
// - no crash, leak or hang (whatever the bytes);
// - `BSONDocument.validate(bytes:)` accepts exactly what `BSONDocument(bytes:)` accepts;
// - an accepted document encodes back to exactly the input bytes (lossless decoding), an
//   array's keys aside (they are rewritten "0", "1", …; the document must then survive);
// - the Codable byte decoder (`BSONDecoder`) accepts exactly what the strict decoder
//   accepts, and what it builds equals the strict decoder's document;
// - an accepted document's canonical Extended JSON parses back to a document that encodes
//   to the same bytes (canonical Extended JSON is lossless), NaN payloads aside.
import BSONCodec
import FuzzSupport

/// A type whose every field accepts any BSON value, so decoding it succeeds exactly when
/// the bytes are a valid document.
struct AnyFields: Decodable {
    let a: BSONValue?
    let b: BSONValue?
    let _id: BSONValue?
    let x: BSONValue?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)

    let strict: Result<BSONDocument, BSONError> = Result { () throws(BSONError) in try BSONDocument(bytes: input) }
    let validated: Result<Void, BSONError> = Result { () throws(BSONError) in try BSONDocument.validate(bytes: input) }
    let codable = Result { try BSONDecoder().decode(BSONDocument.self, from: input) }
    let fields = Result { try BSONDecoder().decode(AnyFields.self, from: input) }
    let unsafeBytes = input.withUnsafeBytes { raw in
        Result { () throws(BSONError) in try BSONDocument(bytes: raw) }
    }

    switch strict {
    case .failure(let error):
        if case .success = validated { propertyFailed("validate accepts what decoding rejects (\(error))", input: input) }
        if case .success = codable { propertyFailed("BSONDecoder accepts what decoding rejects (\(error))", input: input) }
        if case .success = fields { propertyFailed("BSONDecoder (struct) accepts what decoding rejects (\(error))", input: input) }
        if case .success = unsafeBytes { propertyFailed("the pointer entry accepts what the array entry rejects", input: input) }
    case .success(let document):
        if case .failure(let error) = validated { propertyFailed("validate rejects a decodable document: \(error)", input: input) }
        guard case .success(let fromPointer) = unsafeBytes, fromPointer == document else {
            propertyFailed("the pointer entry disagrees with the array entry", input: input)
        }
        let again: [UInt8]
        do {
            again = try document.encoded()
        } catch {
            propertyFailed("a decoded document does not encode: \(error)", input: input)
        }
        // Decoding then encoding gives back the input, except that an array's keys are not
        // kept (the encoder writes "0", "1", …; decoders ignore them, as the BSON corpus's
        // degenerate array cases require). Then the document itself must survive.
        if again != input {
            guard contains(document, where: { if case .array = $0 { true } else { false } }) else {
                propertyFailed("decode → encode is not the identity", input: input)
            }
            guard (try? BSONDocument(bytes: again)) == document else {
                propertyFailed("decode → encode → decode changes the document", input: input)
            }
        }

        switch codable {
        case .failure(let error):
            propertyFailed("BSONDecoder rejects a valid document: \(error)", input: input)
        case .success(let viaCodable):
            if viaCodable != document { propertyFailed("BSONDecoder builds a different document", input: input) }
        }
        switch fields {
        case .failure(let error):
            propertyFailed("BSONDecoder (struct) rejects a valid document: \(error)", input: input)
        case .success(let probe):
            // An optional field reads BSON null as nil (Codable's `decodeIfPresent`).
            for (key, value) in [("a", probe.a), ("b", probe.b), ("_id", probe._id), ("x", probe.x)]
            where value != document[key] && !(value == nil && document[key] == .null) {
                propertyFailed("BSONDecoder (struct) field \(key) differs from the document's", input: input)
            }
        }

        // Canonical Extended JSON is lossless, except that a NaN's payload is not kept,
        // regular-expression options are written sorted (as the specification requires),
        // and a Decimal128 is written as its number (not its encoding). A document with a
        // key that starts with "$" may read back as a type wrapper, or be a parse error (the
        // specification's corpus rejects objects that resemble a wrapper with extra or missing
        // keys): Extended JSON has no text for it, so it is left out here.
        if !contains(document, where: isLossyInExtendedJSON), !hasDollarKey(document) {
            let text = document.extendedJSON(.canonical)
            do {
                let parsed = try BSONDocument(extendedJSON: text)
                if parsed.encodedOrNil != again { propertyFailed("canonical Extended JSON does not round-trip: \(text)", input: input) }
            } catch {
                propertyFailed("canonical Extended JSON does not parse: \(error) in \(text)", input: input)
            }
            // Relaxed text must at least parse.
            let relaxed = document.extendedJSON(.relaxed)
            if (try? BSONDocument(extendedJSON: relaxed)) == nil {
                propertyFailed("relaxed Extended JSON does not parse: \(relaxed)", input: input)
            }
        }
    }
    return 0
}

/// Whether Extended JSON cannot give back this value's exact bytes.
private func isLossyInExtendedJSON(_ value: BSONValue) -> Bool {
    switch value {
    case .double(let d): d.isNaN
    case .regex(let r): !r.options.unicodeScalars.elementsEqual(r.options.unicodeScalars.sorted())
    // A Decimal128 has many encodings of one number (NaN payloads, coefficients past
    // 10^34 that read as zero); its text names the number, not the encoding.
    case .decimal128:
        (try? BSONDocument(extendedJSON: BSONDocument([(key: "", value: value)]).extendedJSON()))?[""] != value
    default: false
    }
}

/// Whether `document`, or a document or scope inside it, has a key that starts with "$".
private func hasDollarKey(_ document: BSONDocument) -> Bool {
    document.keys.contains { $0.hasPrefix("$") }
        || contains(document) { value in
            switch value {
            case .document(let inner): inner.keys.contains { $0.hasPrefix("$") }
            case .javascriptWithScope(let code): code.scope.keys.contains { $0.hasPrefix("$") }
            default: false
            }
        }
}

private func contains(_ document: BSONDocument, where test: (BSONValue) -> Bool) -> Bool {
    document.values.contains { contains($0, where: test) }
}

private func contains(_ value: BSONValue, where test: (BSONValue) -> Bool) -> Bool {
    if test(value) { return true }
    switch value {
    case .document(let d): return contains(d, where: test)
    case .array(let a): return a.contains { contains($0, where: test) }
    case .javascriptWithScope(let c): return contains(c.scope, where: test)
    default: return false
    }
}

@main
enum Main {
    static func main() {
        runFuzzer(fuzzDecode)
    }
}
