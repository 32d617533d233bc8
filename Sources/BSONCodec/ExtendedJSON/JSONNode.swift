/// One parsed JSON value and the byte offset in the input where it starts.
///
/// This is the first stage of Extended JSON parsing: plain RFC 8259 JSON, kept in order
/// (duplicate keys included) and with each number's text intact, so that the second stage
/// (``ExtendedJSONReader``) can tell `1` from `1.0` and report positions.
struct JSONNode {
    enum Value {
        case object([JSONMember])
        case array([JSONNode])
        case string(String)
        case number(JSONNumber)
        case bool(Bool)
        case null
    }

    var value: Value
    var offset: Int

    /// A few words naming the JSON type, for messages.
    var typeName: String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number(let number): number.isInteger ? "an integer" : "a non-integer number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// One `"key": value` pair of a JSON object.
struct JSONMember {
    var key: String
    var keyOffset: Int
    var node: JSONNode
}

/// A JSON number as written.
struct JSONNumber {
    /// The exact text of the number.
    var text: String
    /// Whether the number has neither a fraction nor an exponent (the Extended JSON
    /// specification's *integer*).
    var isInteger: Bool
}
