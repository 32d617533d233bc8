// `Codable` for the value model. With ``BSONEncoder`` and ``BSONDecoder`` these types are
// written and read as the BSON they stand for. With any other coder (JSONEncoder, a
// property-list encoder, …) they take the shape of canonical Extended JSON, which keeps
// every BSON type: `{"$numberInt": "1"}`, `{"$oid": "…"}`, `{"$date": {"$numberLong": "…"}}`.
// Reading from other decoders accepts canonical and relaxed Extended JSON (plain JSON
// numbers become int32, int64 or double as the specification says).

extension BSONValue: Codable {
    /// Reads a value: natively from ``BSONDecoder``, from Extended JSON's shape otherwise.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when another decoder's data is not valid
    ///   Extended JSON.
    public init(from decoder: any Decoder) throws {
        if decoder is BytesDecoder {
            self = try decoder.singleValueContainer().decode(BSONValue.self)
            return
        }
        self = try ForeignCoding.value(from: decoder)
    }

    /// Writes the value: natively to ``BSONEncoder``, as canonical Extended JSON's shape
    /// otherwise.
    public func encode(to encoder: any Encoder) throws {
        if ForeignCoding.isNative(encoder) {
            var container = encoder.singleValueContainer()
            try container.encode(self)
            return
        }
        try ForeignCoding.encode(self, to: encoder)
    }
}

extension BSONDocument: Codable {
    /// Reads a document: natively from ``BSONDecoder``, from an Extended JSON object
    /// otherwise (another decoder may not keep the order of keys).
    ///
    /// - Throws: `DecodingError.typeMismatch` when the value is not a document.
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a document") {
            if case .document(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the document: natively to ``BSONEncoder``, as a canonical Extended JSON
    /// object otherwise.
    public func encode(to encoder: any Encoder) throws {
        try BSONValue.document(self).encode(to: encoder)
    }
}

extension BSONObjectID: Codable {
    /// Reads an ObjectID (BSON type 0x07, or `{"$oid": "…"}` from other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "an objectID") {
            if case .objectID(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the ObjectID (BSON type 0x07, or `{"$oid": "…"}` to other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.objectID(self).encode(to: encoder) }
}

extension BSONBinary: Codable {
    /// Reads binary data (BSON type 0x05, or `{"$binary": {…}}` from other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "binary data") {
            if case .binary(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the binary data (BSON type 0x05, or `{"$binary": {…}}` to other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.binary(self).encode(to: encoder) }
}

extension BSONTimestamp: Codable {
    /// Reads a timestamp (BSON type 0x11, or `{"$timestamp": {…}}` from other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a timestamp") {
            if case .timestamp(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the timestamp (BSON type 0x11, or `{"$timestamp": {…}}` to other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.timestamp(self).encode(to: encoder) }
}

extension BSONDecimal128: Codable {
    /// Reads a Decimal128 (BSON type 0x13, or `{"$numberDecimal": "…"}` from other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a decimal128") {
            if case .decimal128(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the Decimal128 (BSON type 0x13, or `{"$numberDecimal": "…"}` to other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.decimal128(self).encode(to: encoder) }
}

extension BSONRegex: Codable {
    /// Reads a regular expression (BSON type 0x0B, or `{"$regularExpression": {…}}` from
    /// other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a regex") {
            if case .regex(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the regular expression (BSON type 0x0B, or `{"$regularExpression": {…}}` to
    /// other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.regex(self).encode(to: encoder) }
}

extension BSONDBPointer: Codable {
    /// Reads a DBPointer (BSON type 0x0C, or `{"$dbPointer": {…}}` from other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a dbPointer") {
            if case .dbPointer(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the DBPointer (BSON type 0x0C, or `{"$dbPointer": {…}}` to other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.dbPointer(self).encode(to: encoder) }
}

extension BSONCodeWithScope: Codable {
    /// Reads code with scope (BSON type 0x0F, or `{"$code": …, "$scope": {…}}` from other
    /// decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a javascriptWithScope") {
            if case .javascriptWithScope(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the code with scope (BSON type 0x0F, or `{"$code": …, "$scope": {…}}` to
    /// other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.javascriptWithScope(self).encode(to: encoder) }
}

extension BSONDatetime: Codable {
    /// Reads a datetime (BSON type 0x09 whatever the date strategy, or `{"$date": …}` from
    /// other decoders).
    public init(from decoder: any Decoder) throws {
        self = try ForeignCoding.unwrap(BSONValue(from: decoder), decoder, "a datetime") {
            if case .datetime(let value) = $0 { value } else { nil }
        }
    }

    /// Writes the datetime (BSON type 0x09 whatever the date strategy, or `{"$date": …}` to
    /// other encoders).
    public func encode(to encoder: any Encoder) throws { try BSONValue.datetime(self).encode(to: encoder) }
}

/// The Extended JSON shape of BSON values for coders other than this package's.
enum ForeignCoding {
    static func isNative(_ encoder: any Encoder) -> Bool {
        encoder is StreamEncoder || encoder is TreeEncoder
    }

    /// `extract`'s result for `value`, or a type mismatch naming `expected`.
    static func unwrap<T>(
        _ value: @autoclosure () throws -> BSONValue, _ decoder: any Decoder, _ expected: String,
        _ extract: (BSONValue) -> T?
    ) throws -> T {
        let value = try value()
        guard let result = extract(value) else {
            throw DecodingError.typeMismatch(
                T.self,
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: "expected \(expected), found \(value.type)"))
        }
        return result
    }

    // MARK: Writing

    static func encode(_ value: BSONValue, to encoder: any Encoder) throws {
        // The canonical text, parsed back as plain JSON, gives the wrapper objects in the
        // order the specification writes them.
        let text = Array(("{\"v\":" + value.extendedJSON(.canonical) + "}").utf8)
        let root: JSONNode
        do {
            root = try text.withUnsafeBufferPointer { (input) throws(BSONError) in
                try JSONReader.parseObject(input, maxNesting: Int.max - 8)
            }
        } catch {
            preconditionFailure("the Extended JSON writer produced text its reader refuses: \(error)")
        }
        guard case .object(let members) = root.value, let node = members.first?.node else {
            preconditionFailure("parsed a one-member object")
        }
        try JSONNodeBox(node: node).encode(to: encoder)
    }

    // MARK: Reading

    static func value(from decoder: any Decoder) throws -> BSONValue {
        let node = try JSONNodeBox(from: decoder).node
        let reader = ExtendedJSONReader(input: UnsafeBufferPointer(start: nil, count: 0), maxDepth: BSONDecodingOptions.default.maxDepth)
        do {
            return try reader.value(node, depth: 0)
        } catch {
            var message = error.message
            if message.hasSuffix(" (line 1, column 1)") { message.removeLast(" (line 1, column 1)".count) }
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath + error.keyPath.map { BSONCodingKey(stringValue: $0) },
                    debugDescription: "not valid Extended JSON: \(message)", underlyingError: error))
        }
    }
}

/// A JSON value carried through another coder's containers.
struct JSONNodeBox: Codable {
    let node: JSONNode

    init(node: JSONNode) {
        self.node = node
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: BSONCodingKey.self) {
            var members: [JSONMember] = []
            for key in object.allKeys {
                members.append(
                    JSONMember(key: key.stringValue, keyOffset: 0, node: try object.decode(JSONNodeBox.self, forKey: key).node))
            }
            node = JSONNode(value: .object(members), offset: 0)
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONNode] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONNodeBox.self).node) }
            node = JSONNode(value: .array(elements), offset: 0)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            node = JSONNode(value: .null, offset: 0)
        } else if let flag = try? single.decode(Bool.self) {
            node = JSONNode(value: .bool(flag), offset: 0)
        } else if let integer = try? single.decode(Int64.self) {
            node = JSONNode(value: .number(JSONNumber(text: String(integer), isInteger: true)), offset: 0)
        } else if let integer = try? single.decode(UInt64.self) {
            node = JSONNode(value: .number(JSONNumber(text: String(integer), isInteger: true)), offset: 0)
        } else if let number = try? single.decode(Double.self) {
            node = JSONNode(value: .number(JSONNumber(text: ExtendedJSONFormats.doubleText(number), isInteger: false)), offset: 0)
        } else {
            node = JSONNode(value: .string(try single.decode(String.self)), offset: 0)
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch node.value {
        case .object(let members):
            var object = encoder.container(keyedBy: BSONCodingKey.self)
            for member in members {
                try object.encode(JSONNodeBox(node: member.node), forKey: BSONCodingKey(stringValue: member.key))
            }
        case .array(let elements):
            var array = encoder.unkeyedContainer()
            for element in elements { try array.encode(JSONNodeBox(node: element)) }
        case .string(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .number(let number):
            var single = encoder.singleValueContainer()
            if number.isInteger, let integer = Int64(number.text) {
                try single.encode(integer)
            } else {
                try single.encode(Double(number.text) ?? 0)
            }
        case .bool(let flag):
            var single = encoder.singleValueContainer()
            try single.encode(flag)
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        }
    }
}
