/// Turns parsed JSON (``JSONNode``) into BSON values by the rules of Extended JSON v2.
///
/// Both canonical and relaxed forms are read, plus these legacy forms: `$binary` as a
/// string with a `$type` beside it, `$regex` with `$options`, `$uuid`, `$date` as an
/// ISO-8601 string with any UTC offset. The outermost object is always a plain document
/// (never a type wrapper), as the specification says.
///
/// An object that holds one of the wrapper keys (`$oid`, `$numberInt`, `$binary`, …) must be
/// exactly that wrapper: extra or missing keys, duplicate keys and values of the wrong type
/// are errors. Objects with other `$`-prefixed keys — DBRefs (`$ref`, `$id`, `$db`), query
/// operators such as `$type` or a `$regex` whose value is an object — are plain documents.
struct ExtendedJSONReader {
    let input: UnsafeBufferPointer<UInt8>
    let maxDepth: Int

    /// Parses a whole Extended JSON document held in `input`.
    static func readDocument(_ input: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(BSONError) -> BSONDocument {
        // Type wrappers add JSON levels that are not BSON levels: at most two per document
        // level (code with scope) and three at the leaves (`$dbPointer`), so this bound lets
        // every document within `maxDepth` through while keeping the recursion finite.
        let (doubled, overflow) = maxDepth.multipliedReportingOverflow(by: 2)
        let maxNesting = overflow ? Int.max - 8 : min(doubled, Int.max - 8) + 8
        let root = try JSONReader.parseObject(input, maxNesting: maxNesting)
        guard case .object(let members) = root.value else {
            preconditionFailure("JSONReader.parseObject returns an object")
        }
        let reader = ExtendedJSONReader(input: input, maxDepth: maxDepth)
        return try reader.document(members, depth: 0)
    }

    // MARK: Documents and values

    /// The members of a plain (non-wrapper) object as a document at nesting level `depth`.
    func document(_ members: [JSONMember], depth: Int) throws(BSONError) -> BSONDocument {
        var fields: [BSONField] = []
        fields.reserveCapacity(members.count)
        for member in members {
            if member.key.utf8.contains(0) {
                throw error("a key contains a NUL character (U+0000), which BSON keys cannot hold", at: member.keyOffset)
                    .prefixingKeyPath(with: member.key)
            }
            do throws(BSONError) {
                fields.append(BSONField(key: member.key, value: try value(member.node, depth: depth)))
            } catch {
                throw error.prefixingKeyPath(with: member.key)
            }
        }
        return BSONDocument(fields: fields)
    }

    /// The BSON value of `node`, an element of a document at nesting level `depth`.
    func value(_ node: JSONNode, depth: Int) throws(BSONError) -> BSONValue {
        switch node.value {
        case .string(let text):
            return .string(text)
        case .bool(let flag):
            return .bool(flag)
        case .null:
            return .null
        case .number(let number):
            return try relaxedNumber(number, at: node.offset)
        case .array(let elements):
            try checkDepth(depth, at: node.offset)
            var values: [BSONValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                do throws(BSONError) {
                    values.append(try value(element, depth: depth + 1))
                } catch {
                    throw error.prefixingKeyPath(with: String(index))
                }
            }
            return .array(values)
        case .object(let members):
            if let wrapped = try wrapper(members, at: node.offset, depth: depth) { return wrapped }
            try checkDepth(depth, at: node.offset)
            return .document(try document(members, depth: depth + 1))
        }
    }

    /// A bare JSON number: an *integer* becomes the smallest of int32 and int64 that holds
    /// it (or a double when neither does), anything else a double.
    private func relaxedNumber(_ number: JSONNumber, at offset: Int) throws(BSONError) -> BSONValue {
        if number.isInteger {
            if let small = Int32(number.text) { return .int32(small) }
            if let large = Int64(number.text) { return .int64(large) }
        }
        guard let double = Double(number.text), double.isFinite else {
            throw error("the number \(number.text) is too large for a double", at: offset)
        }
        return .double(double)
    }

    private func checkDepth(_ depth: Int, at offset: Int) throws(BSONError) {
        guard depth < maxDepth else {
            throw error("documents are nested more than \(maxDepth) levels deep (the decoding limit)", at: offset)
        }
    }

    // MARK: Type wrappers

    /// The keys that make an object a type wrapper (`$regex` only when its value is not an
    /// object, which is the `$regex` query operator; `$type` only beside `$binary`).
    private static let wrapperKeys: Set<String> = [
        "$oid", "$symbol", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal", "$binary", "$code",
        "$scope", "$timestamp", "$regularExpression", "$regex", "$dbPointer", "$date", "$minKey", "$maxKey",
        "$undefined", "$uuid",
    ]

    /// Whether `member` is the `$regex` query operator (`{"$regex": {…}}` or
    /// `{"$regex": {"$regularExpression": …}, "$options": "…"}`) rather than the legacy
    /// regular expression wrapper, whose value is a string.
    private static func isRegexOperator(_ member: JSONMember) -> Bool {
        guard member.key == "$regex", case .object = member.node.value else { return false }
        return true
    }

    /// The value of `members` read as a type wrapper, or `nil` when the object is a plain
    /// document.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private func wrapper(_ members: [JSONMember], at offset: Int, depth: Int) throws(BSONError) -> BSONValue? {
        guard members.contains(where: { $0.key.utf8.first == UInt8(ascii: "$") }) else { return nil }
        let keys = members.map(\.key)
        let kind: String
        if keys.contains("$binary") {
            kind = "$binary"
        } else if keys.contains("$code") || keys.contains("$scope") {
            kind = "$code"
        } else if let found = members.first(where: { Self.wrapperKeys.contains($0.key) && !Self.isRegexOperator($0) }) {
            kind = found.key
        } else {
            return nil
        }

        switch kind {
        case "$oid":
            let fields = try exactly(members, ["$oid"], in: kind, at: offset)
            return .objectID(try objectID(fields["$oid"]!))
        case "$symbol":
            let fields = try exactly(members, ["$symbol"], in: kind, at: offset)
            return .symbol(try string(fields["$symbol"]!, in: kind))
        case "$numberInt":
            let node = try exactly(members, ["$numberInt"], in: kind, at: offset)["$numberInt"]!
            let text = try string(node, in: kind)
            guard let number = ExtendedJSONFormats.parseInteger(text, as: Int32.self) else {
                throw error("\"$numberInt\" value \"\(text)\" is not a 32-bit signed integer", at: node.offset)
            }
            return .int32(number)
        case "$numberLong":
            let node = try exactly(members, ["$numberLong"], in: kind, at: offset)["$numberLong"]!
            return .int64(try int64(node, in: kind))
        case "$numberDouble":
            let node = try exactly(members, ["$numberDouble"], in: kind, at: offset)["$numberDouble"]!
            let text = try string(node, in: kind)
            guard let number = ExtendedJSONFormats.parseDouble(text) else {
                throw error(
                    "\"$numberDouble\" value \"\(text)\" is not a finite decimal number, \"Infinity\", \"-Infinity\" or \"NaN\"",
                    at: node.offset)
            }
            return .double(number)
        case "$numberDecimal":
            let node = try exactly(members, ["$numberDecimal"], in: kind, at: offset)["$numberDecimal"]!
            let text = try string(node, in: kind)
            do throws(BSONError) {
                return .decimal128(try BSONDecimal128(text))
            } catch {
                throw self.error("\"$numberDecimal\" value \"\(text)\" is not a Decimal128 that can be stored exactly", at: node.offset)
            }
        case "$binary":
            return .binary(try binary(members, at: offset))
        case "$uuid":
            let node = try exactly(members, ["$uuid"], in: kind, at: offset)["$uuid"]!
            let text = try string(node, in: kind)
            guard let bytes = ExtendedJSONFormats.parseUUID(text) else {
                throw error(
                    "\"$uuid\" value \"\(text)\" is not a UUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", at: node.offset)
            }
            return .binary(BSONBinary(data: bytes, subtype: .uuid))
        case "$code":
            let fields = try exactly(members, ["$code"], optional: ["$scope"], in: kind, at: offset)
            let code = try string(fields["$code"]!, in: kind)
            guard let scopeNode = fields["$scope"] else { return .javascript(code) }
            guard case .object(let scopeMembers) = scopeNode.value else {
                throw error("\"$scope\" must be an object, not \(scopeNode.typeName)", at: scopeNode.offset)
            }
            try checkDepth(depth, at: scopeNode.offset)
            do throws(BSONError) {
                let scope = try document(scopeMembers, depth: depth + 1)
                return .javascriptWithScope(BSONCodeWithScope(code: code, scope: scope))
            } catch {
                throw error.prefixingKeyPath(with: "$scope")
            }
        case "$timestamp":
            let node = try exactly(members, ["$timestamp"], in: kind, at: offset)["$timestamp"]!
            let inner = try object(node, in: kind, expecting: ["t", "i"])
            return .timestamp(
                BSONTimestamp(timestamp: try uint32(inner["t"]!, name: "t"), increment: try uint32(inner["i"]!, name: "i")))
        case "$regularExpression":
            let node = try exactly(members, ["$regularExpression"], in: kind, at: offset)["$regularExpression"]!
            let inner = try object(node, in: kind, expecting: ["pattern", "options"])
            return .regex(try regex(pattern: inner["pattern"]!, options: inner["options"]!, in: kind))
        case "$regex":
            let fields = try exactly(members, ["$regex", "$options"], in: kind, at: offset)
            return .regex(try regex(pattern: fields["$regex"]!, options: fields["$options"]!, in: kind))
        case "$dbPointer":
            let node = try exactly(members, ["$dbPointer"], in: kind, at: offset)["$dbPointer"]!
            let inner = try object(node, in: kind, expecting: ["$ref", "$id"])
            let ref = try string(inner["$ref"]!, in: "$dbPointer.$ref")
            let idNode = inner["$id"]!
            guard case .object(let idMembers) = idNode.value, idMembers.count == 1, idMembers[0].key == "$oid" else {
                throw error("\"$dbPointer\" \"$id\" must be an ObjectId wrapper {\"$oid\": …}", at: idNode.offset)
            }
            return .dbPointer(BSONDBPointer(ref: ref, id: try objectID(idMembers[0].node)))
        case "$date":
            let node = try exactly(members, ["$date"], in: kind, at: offset)["$date"]!
            return .datetime(try date(node))
        case "$minKey", "$maxKey":
            let node = try exactly(members, [kind], in: kind, at: offset)[kind]!
            guard case .number(let number) = node.value, number.isInteger, number.text == "1" else {
                throw error("\"\(kind)\" value must be the integer 1", at: node.offset)
            }
            return kind == "$minKey" ? .minKey : .maxKey
        case "$undefined":
            let node = try exactly(members, ["$undefined"], in: kind, at: offset)["$undefined"]!
            guard case .bool(true) = node.value else {
                throw error("\"$undefined\" value must be true", at: node.offset)
            }
            return .undefined
        default:
            // "$scope" without "$code" is handled with "$code"; every key of wrapperKeys has
            // a case above.
            preconditionFailure("unhandled wrapper key \(kind)")
        }
    }

    /// Checks that `members` has exactly the `required` keys (plus any of `optional`), once
    /// each, and returns them by key.
    private func exactly(
        _ members: [JSONMember], _ required: [String], optional: [String] = [], in wrapper: String, at offset: Int
    ) throws(BSONError) -> [String: JSONNode] {
        var found: [String: JSONNode] = [:]
        for member in members {
            guard required.contains(member.key) || optional.contains(member.key) else {
                throw error(
                    "unexpected key \"\(member.key)\" in a \"\(wrapper)\" wrapper, which allows only "
                        + (required + optional).map { "\"\($0)\"" }.joined(separator: ", "),
                    at: member.keyOffset)
            }
            guard found[member.key] == nil else {
                throw error("duplicate key \"\(member.key)\" in a \"\(wrapper)\" wrapper", at: member.keyOffset)
            }
            found[member.key] = member.node
        }
        for key in required where found[key] == nil {
            throw error("a \"\(wrapper)\" wrapper needs the key \"\(key)\"", at: offset)
        }
        return found
    }

    /// The members of `node`, which must be an object with exactly the `keys` (in any order).
    private func object(_ node: JSONNode, in wrapper: String, expecting keys: [String]) throws(BSONError) -> [String: JSONNode] {
        guard case .object(let members) = node.value else {
            throw error(
                "\"\(wrapper)\" value must be an object with the keys "
                    + keys.map { "\"\($0)\"" }.joined(separator: " and ") + ", not \(node.typeName)",
                at: node.offset)
        }
        return try exactly(members, keys, in: wrapper, at: node.offset)
    }

    private func string(_ node: JSONNode, in wrapper: String) throws(BSONError) -> String {
        guard case .string(let text) = node.value else {
            throw error("\"\(wrapper)\" value must be a string, not \(node.typeName)", at: node.offset)
        }
        return text
    }

    private func objectID(_ node: JSONNode) throws(BSONError) -> BSONObjectID {
        let text = try string(node, in: "$oid")
        guard let id = BSONObjectID(hex: text) else {
            throw error("\"$oid\" value \"\(text)\" is not 24 hexadecimal digits", at: node.offset)
        }
        return id
    }

    private func int64(_ node: JSONNode, in wrapper: String) throws(BSONError) -> Int64 {
        let text = try string(node, in: wrapper)
        guard let number = ExtendedJSONFormats.parseInteger(text, as: Int64.self) else {
            throw error("\"$numberLong\" value \"\(text)\" is not a 64-bit signed integer", at: node.offset)
        }
        return number
    }

    private func uint32(_ node: JSONNode, name: String) throws(BSONError) -> UInt32 {
        guard case .number(let number) = node.value, number.isInteger else {
            throw error("\"$timestamp\" \"\(name)\" must be an integer, not \(node.typeName)", at: node.offset)
        }
        guard let value = UInt32(number.text) else {
            throw error("\"$timestamp\" \"\(name)\" value \(number.text) is not in 0…4294967295", at: node.offset)
        }
        return value
    }

    private func binary(_ members: [JSONMember], at offset: Int) throws(BSONError) -> BSONBinary {
        let binaryNode = members.first { $0.key == "$binary" }!.node
        let base64Node: JSONNode
        let subtypeNode: JSONNode
        if case .object = binaryNode.value {
            _ = try exactly(members, ["$binary"], in: "$binary", at: offset)
            let inner = try object(binaryNode, in: "$binary", expecting: ["base64", "subType"])
            base64Node = inner["base64"]!
            subtypeNode = inner["subType"]!
        } else {
            // The legacy form {"$binary": "<base64>", "$type": "<hex>"}.
            guard case .string = binaryNode.value else {
                throw error(
                    "\"$binary\" value must be an object {\"base64\": …, \"subType\": …} (or, in the legacy form, a base64 string beside \"$type\"), not \(binaryNode.typeName)",
                    at: binaryNode.offset)
            }
            let fields = try exactly(members, ["$binary", "$type"], in: "$binary", at: offset)
            base64Node = fields["$binary"]!
            subtypeNode = fields["$type"]!
        }
        let base64 = try string(base64Node, in: "$binary base64")
        let subtypeText = try string(subtypeNode, in: "$binary subType")
        guard let subtype = ExtendedJSONFormats.parseSubtype(subtypeText) else {
            throw error("binary subtype \"\(subtypeText)\" is not one or two hexadecimal digits", at: subtypeNode.offset)
        }
        switch ExtendedJSONFormats.decodeBase64(base64) {
        case .success(let bytes):
            return BSONBinary(data: bytes, subtype: .init(subtype))
        case .failure(let failure):
            throw error("binary data is not valid base64: \(failure.reason)", at: base64Node.offset)
        }
    }

    private func regex(pattern: JSONNode, options: JSONNode, in wrapper: String) throws(BSONError) -> BSONRegex {
        let patternText = try string(pattern, in: wrapper == "$regex" ? "$regex" : "pattern")
        let optionsText = try string(options, in: wrapper == "$regex" ? "$options" : "options")
        if patternText.utf8.contains(0) {
            throw error("a regular expression pattern cannot contain a NUL character", at: pattern.offset)
        }
        if optionsText.utf8.contains(0) {
            throw error("regular expression options cannot contain a NUL character", at: options.offset)
        }
        // BSON stores the option letters in alphabetical order.
        return BSONRegex(pattern: patternText, options: ExtendedJSONFormats.sortedRegexOptions(optionsText))
    }

    private func date(_ node: JSONNode) throws(BSONError) -> BSONDatetime {
        switch node.value {
        case .object(let members):
            let inner = try exactly(members, ["$numberLong"], in: "$date", at: node.offset)["$numberLong"]!
            return BSONDatetime(millisecondsSinceEpoch: try int64(inner, in: "$numberLong"))
        case .string(let text):
            switch ExtendedJSONFormats.parseISODate(text) {
            case .success(let milliseconds):
                return BSONDatetime(millisecondsSinceEpoch: milliseconds)
            case .failure(let failure):
                throw error("\"$date\" value \"\(text)\" \(failure.reason)", at: node.offset)
            }
        default:
            throw error(
                "\"$date\" value must be {\"$numberLong\": \"…\"} or an ISO-8601 string, not \(node.typeName)", at: node.offset)
        }
    }

    private func error(_ message: String, at offset: Int) -> BSONError {
        ExtendedJSONError.make(message, at: offset, in: input)
    }
}
