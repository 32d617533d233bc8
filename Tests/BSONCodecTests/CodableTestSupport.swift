import BSONCodec
import Foundation
import Testing

// Helpers shared by the Codable tests.

/// Encodes `value` both ways (direct bytes and document), checks that they agree byte for
/// byte, decodes the bytes both ways (direct and from the document), checks that both give
/// back `value`, and returns the bytes.
@discardableResult
func expectCodableRoundTrip<T: Codable & Equatable>(
    _ value: T, encoder: BSONEncoder = BSONEncoder(), decoder: BSONDecoder = BSONDecoder(),
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [UInt8] {
    let bytes = try encoder.encode(value)
    let document = try encoder.encodeDocument(value)
    #expect(try document.encoded() == bytes, "the two encoding paths disagree", sourceLocation: sourceLocation)
    #expect(try BSONDocument(bytes: bytes) == document, sourceLocation: sourceLocation)
    let fromBytes = try decoder.decode(T.self, from: bytes)
    let fromDocument = try decoder.decode(T.self, from: document)
    #expect(fromBytes == value, "bytes path gave \(fromBytes)", sourceLocation: sourceLocation)
    #expect(fromDocument == value, "document path gave \(fromDocument)", sourceLocation: sourceLocation)
    return bytes
}

/// The error `body` threw, or `nil`.
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// The `DecodingError` that decoding `T` from `bytes` threw (checked to be the same on the
/// direct path and, when the bytes are valid, the document path).
func decodingError<T: Decodable>(
    _ type: T.Type, from bytes: [UInt8], decoder: BSONDecoder = BSONDecoder(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> DecodingError? {
    let direct = thrownError { _ = try decoder.decode(T.self, from: bytes) }
    if let document = try? BSONDocument(bytes: bytes) {
        let viaDocument = thrownError { _ = try decoder.decode(T.self, from: document) }
        #expect(
            (viaDocument as? DecodingError)?.summary == (direct as? DecodingError)?.summary,
            "document path: \(String(describing: viaDocument))", sourceLocation: sourceLocation)
    }
    guard let error = direct as? DecodingError else {
        Issue.record("expected a DecodingError, got \(String(describing: direct))", sourceLocation: sourceLocation)
        return nil
    }
    return error
}

/// The `EncodingError` that encoding `value` threw (checked to be the same on both paths).
func encodingError<T: Encodable>(
    _ value: T, encoder: BSONEncoder = BSONEncoder(), sourceLocation: SourceLocation = #_sourceLocation
) -> EncodingError? {
    let direct = thrownError { _ = try encoder.encode(value) }
    let viaDocument = thrownError { _ = try encoder.encodeDocument(value) }
    #expect(
        (viaDocument as? EncodingError)?.summary == (direct as? EncodingError)?.summary,
        "document path: \(String(describing: viaDocument))", sourceLocation: sourceLocation)
    guard let error = direct as? EncodingError else {
        Issue.record("expected an EncodingError, got \(String(describing: direct))", sourceLocation: sourceLocation)
        return nil
    }
    return error
}

extension DecodingError {
    var context: Context? {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            context
        @unknown default:
            nil
        }
    }

    /// The case name, the coding path (string values) and the message, for comparisons.
    var summary: String {
        let kind: String
        switch self {
        case .typeMismatch: kind = "typeMismatch"
        case .valueNotFound: kind = "valueNotFound"
        case .keyNotFound(let key, _): kind = "keyNotFound(\(key.stringValue))"
        case .dataCorrupted: kind = "dataCorrupted"
        @unknown default: kind = "unknown"
        }
        return "\(kind) at \(path): \(context?.debugDescription ?? "")"
    }

    /// The coding path as string values joined with dots.
    var path: String { context?.codingPath.map(\.stringValue).joined(separator: ".") ?? "" }
}

extension EncodingError {
    var context: Context? {
        switch self {
        case .invalidValue(_, let context): context
        @unknown default: nil
        }
    }

    var summary: String { "invalidValue at \(path): \(context?.debugDescription ?? "")" }

    var path: String { context?.codingPath.map(\.stringValue).joined(separator: ".") ?? "" }
}

/// A driver-benchmark document parsed from Data/driver-bench/ (found from this file's path).
func driverBenchDocument(_ name: String, filePath: String = #filePath) throws -> BSONDocument {
    let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let url = root.appendingPathComponent("Data/driver-bench/\(name)_bson.json")
    return try BSONDocument(extendedJSON: String(contentsOf: url, encoding: .utf8))
}

/// The bytes of a document written as a literal.
func bsonBytes(_ document: BSONDocument) throws -> [UInt8] {
    try document.encoded()
}
