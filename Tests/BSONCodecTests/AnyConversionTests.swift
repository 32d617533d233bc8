import BSONCodec
import Foundation
import Testing

/// A type with no BSON form.
private struct Unsupported {
    var field = 1
}

@Suite("[String: Any] conversion")
struct AnyConversionTests {
    // MARK: Swift to BSON

    @Test("integers: int32 when they fit, else int64; unsigned above Int64.max as a timestamp")
    func integers() throws {
        let document = try BSONDocument([
            "int": 5, "intBig": Int(Int32.max) + 1, "intMin": Int.min, "int8": Int8(-8), "int16": Int16(300),
            "int32": Int32.min, "int64small": Int64(7), "int64": Int64.max,
            "uint8": UInt8(255), "uint16": UInt16(65535), "uint32": UInt32.max, "uint": UInt(3),
            "uint64": UInt64(Int64.max), "uint64big": UInt64(Int64.max) + 1, "uint64max": UInt64.max,
        ])
        #expect(document["int"] == .int32(5))
        #expect(document["intBig"] == .int64(Int64(Int32.max) + 1))
        #expect(document["intMin"] == .int64(.min))
        #expect(document["int8"] == .int32(-8))
        #expect(document["int16"] == .int32(300))
        #expect(document["int32"] == .int32(.min))
        #expect(document["int64small"] == .int32(7))
        #expect(document["int64"] == .int64(.max))
        #expect(document["uint8"] == .int32(255))
        #expect(document["uint16"] == .int32(65535))
        #expect(document["uint32"] == .int64(Int64(UInt32.max)))
        #expect(document["uint"] == .int32(3))
        #expect(document["uint64"] == .int64(.max))
        #expect(document["uint64big"] == .timestamp(BSONTimestamp(uint64: 1 << 63)))
        #expect(document["uint64max"] == .timestamp(BSONTimestamp(uint64: .max)))
        guard case .timestamp(let timestamp) = document["uint64max"] else { return }
        #expect(timestamp.uint64 == UInt64.max)
        // On the wire: type 0x11 holding the unsigned word, as py-bson sends it.
        #expect(try BSONDocument(["n": UInt64.max]).encoded() == hex("10 00 00 00 11 6E 00 FF FF FF FF FF FF FF FF 00"))
    }

    @Test("strings, booleans, floating point")
    func scalars() throws {
        let document = try BSONDocument([
            "s": "text", "sub": "a substring".dropFirst(2), "t": true, "f": false, "d": 2.5, "float": Float(0.5),
            "nan": Double.nan,
        ])
        #expect(document["s"] == .string("text"))
        #expect(document["sub"] == .string("substring"))
        #expect(document["t"] == .bool(true))
        #expect(document["f"] == .bool(false))
        #expect(document["d"] == .double(2.5))
        #expect(document["float"] == .double(0.5))
        #expect(document["nan"]?.doubleValue?.isNaN == true)
    }

    @Test("Date, Data, [UInt8], UUID")
    func foundationValues() throws {
        let uuid = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!
        let document = try BSONDocument([
            "date": Date(timeIntervalSince1970: 1.5), "data": Data([1, 2, 3]), "bytes": [UInt8]([4, 5]), "uuid": uuid,
            "emptyData": Data(),
        ])
        #expect(document["date"] == .datetime(BSONDatetime(millisecondsSinceEpoch: 1500)))
        #expect(document["data"] == .binary(BSONBinary(data: [1, 2, 3])))
        #expect(document["bytes"] == .binary(BSONBinary(data: [4, 5])))
        #expect(document["emptyData"] == .binary(BSONBinary(data: [])))
        #expect(document["uuid"] == .binary(BSONBinary(data: hex("00112233445566778899AABBCCDDEEFF"), subtype: .uuid)))
        #expect(try BSONDocument(["u": uuid]).encoded()
            == hex("1D 00 00 00 05 75 00 10 00 00 00 04 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00"))
    }

    @Test("NSNull and nil optionals are null; optionals holding values unwrap")
    func nulls() throws {
        let missing: Int? = nil
        let present: String? = "here"
        let nested: Int?? = .some(nil)
        let document = try BSONDocument(["null": NSNull(), "missing": missing as Any, "present": present as Any, "nested": nested as Any])
        #expect(document["null"] == .null)
        #expect(document["missing"] == .null)
        #expect(document["present"] == .string("here"))
        #expect(document["nested"] == .null)
    }

    @Test("nested dictionaries and arrays, including empty ones")
    func nesting() throws {
        let document = try BSONDocument([
            "dict": ["b": 2, "a": ["deep": [1, "two", ["x": Int?.none as Any] as [String: Any]] as [Any]]] as [String: Any],
            "array": [1, 2.5, "s", [true]] as [Any],
            "emptyArray": [Any](),
            "emptyTyped": [Int](),
            "emptyStrings": [String](),
            "emptyDict": [String: Any](),
            "ints": [1, 2, 3],
            "strings": ["a", "b"],
        ])
        #expect(document["dict"] == ["a": ["deep": [1, "two", ["x": nil]]], "b": 2])
        #expect(document["array"] == [1, 2.5, "s", [true]])
        #expect(document["emptyArray"] == .array([]))
        #expect(document["emptyTyped"] == .array([]))
        #expect(document["emptyStrings"] == .array([]))
        #expect(document["emptyDict"] == .document([:]))
        #expect(document["ints"] == [1, 2, 3])
        #expect(document["strings"] == ["a", "b"])
    }

    @Test("the package's own value types pass through")
    func ownTypes() throws {
        let regex = BSONRegex(pattern: "a", options: "i")
        let pointer = BSONDBPointer(ref: "db.c", id: sampleObjectID)
        let code = BSONCodeWithScope(code: "x", scope: ["x": 1])
        let document = try BSONDocument([
            "value": BSONValue.minKey, "document": ["k": 1] as BSONDocument, "oid": sampleObjectID,
            "binary": BSONBinary(data: [1], subtype: .md5), "timestamp": BSONTimestamp(timestamp: 1, increment: 2),
            "decimal": BSONDecimal128(high: 1, low: 2), "regex": regex, "pointer": pointer, "code": code,
            "datetime": BSONDatetime(millisecondsSinceEpoch: -5),
        ])
        #expect(document["value"] == .minKey)
        #expect(document["document"] == .document(["k": 1]))
        #expect(document["oid"] == .objectID(sampleObjectID))
        #expect(document["binary"] == .binary(BSONBinary(data: [1], subtype: .md5)))
        #expect(document["timestamp"] == .timestamp(BSONTimestamp(timestamp: 1, increment: 2)))
        #expect(document["decimal"] == .decimal128(BSONDecimal128(high: 1, low: 2)))
        #expect(document["regex"] == .regex(regex))
        #expect(document["pointer"] == .dbPointer(pointer))
        #expect(document["code"] == .javascriptWithScope(code))
        #expect(document["datetime"] == .datetime(BSONDatetime(millisecondsSinceEpoch: -5)))
    }

    @Test("dictionary keys are written in ascending UTF-8 byte order, whatever the hash order")
    func deterministicOrder() throws {
        let keys = ["b", "a", "é", "Z", "aa", "", "😀", "ä", "A", "_", "10", "9"]
        let expected = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var encodings = Set<[UInt8]>()
        for rotation in 0..<keys.count {
            var dictionary = [String: Any](minimumCapacity: 1 + rotation * 7)
            for key in keys[rotation...] + keys[..<rotation] { dictionary[key] = key.utf8.count }
            let document = try BSONDocument(dictionary)
            #expect(document.keys == expected)
            encodings.insert(try document.encoded())
        }
        #expect(encodings.count == 1)
        #expect(expected.first == "" && expected.last == "😀")
    }

    @Test("KeyValuePairs keep their order, at the top and nested")
    func orderedPairs() throws {
        let document = try BSONDocument(orderedPairs: [
            "z": 1, "a": 2, "m": ["y": 1, "b": 2] as KeyValuePairs<String, Any>, "a": 3,
        ])
        #expect(document.keys == ["z", "a", "m", "a"])
        #expect(document["m"]?.documentValue?.keys == ["y", "b"])
        #expect(document.values.last == .int32(3))
    }

    @Test("BSONValue(any:) converts single values")
    func singleValue() throws {
        #expect(try BSONValue(any: 5) == .int32(5))
        #expect(try BSONValue(any: "s") == .string("s"))
        #expect(try BSONValue(any: [1, 2]) == [1, 2])
        #expect(try BSONValue(any: NSNull()) == .null)
    }

    // MARK: Unsupported values

    @Test("an unsupported value is .unknownSerializer, naming its type and path")
    func unsupported() {
        let cases: [([String: Any], [String])] = [
            (["top": Unsupported()], ["top"]),
            (["outer": ["inner": Unsupported()] as [String: Any]], ["outer", "inner"]),
            (["list": [1, ["deep": [Unsupported()]] as [String: Any]] as [Any]], ["list", "1", "deep", "0"]),
            (["ok": 1, "opt": Unsupported?.some(Unsupported()) as Any], ["opt"]),
            (["ordered": ["p": Unsupported()] as KeyValuePairs<String, Any>], ["ordered", "p"]),
            (["set": Set([1, 2])], ["set"]),
            (["range": 1..<3], ["range"]),
        ]
        for (dictionary, path) in cases {
            do {
                let document = try BSONDocument(dictionary)
                Issue.record("converted \(document)")
            } catch {
                #expect(error.code == .unknownSerializer)
                #expect(error.keyPath == path)
                #expect(error.message.contains(path.joined(separator: ".")), "\(error.message)")
            }
        }
        do {
            _ = try BSONDocument(["outer": ["inner": Unsupported()] as [String: Any]])
        } catch {
            #expect(error.message.contains("Unsupported"), "\(error.message)")
            #expect(String(describing: error).contains("unknownSerializer"))
        }
        #expect(throws: BSONError.self) { try BSONValue(any: Unsupported()) }
        #expect(throws: BSONError.self) { try BSONDocument(orderedPairs: ["x": Unsupported()]) }
    }

    // MARK: BSON to Swift

    @Test("anyDictionary gives plain Swift values")
    func toAny() throws {
        let uuid = UUID()
        let document: BSONDocument = [
            "int32": .int32(1), "int64": .int64(1 << 40), "double": 1.5, "string": "s", "bool": true,
            "document": ["x": 1], "array": [1, "a"], "date": .datetime(BSONDatetime(millisecondsSinceEpoch: 1500)),
            "data": .binary(BSONBinary(data: [1, 2])), "uuid": .binary(BSONBinary(uuid: uuid)),
            "md5": .binary(BSONBinary(data: [3], subtype: .md5)), "null": nil, "oid": .objectID(sampleObjectID),
            "timestamp": .timestamp(BSONTimestamp(uint64: .max)), "minKey": .minKey, "code": .javascript("c"),
            "first": 1, "first": 2, "shortUUID": .binary(BSONBinary(data: [UInt8](repeating: 7, count: 15), subtype: .uuid)),
        ]
        let any = document.anyDictionary
        #expect(any["int32"] as? Int == 1)
        #expect(any["int64"] as? Int == 1 << 40)
        #expect(any["double"] as? Double == 1.5)
        #expect(any["string"] as? String == "s")
        #expect(any["bool"] as? Bool == true)
        #expect((any["document"] as? [String: Any])?["x"] as? Int == 1)
        #expect((any["array"] as? [Any])?.count == 2)
        #expect(any["date"] as? Date == Date(timeIntervalSince1970: 1.5))
        #expect(any["data"] as? Data == Data([1, 2]))
        #expect(any["uuid"] as? UUID == uuid)
        #expect(any["md5"] as? BSONBinary == BSONBinary(data: [3], subtype: .md5))
        #expect(any["null"] is NSNull)
        #expect(any["oid"] as? BSONObjectID == sampleObjectID)
        #expect((any["timestamp"] as? BSONTimestamp)?.uint64 == .max)
        #expect(any["minKey"] as? BSONValue == .minKey)
        #expect(any["code"] as? BSONValue == .javascript("c"))
        #expect(any["first"] as? Int == 1)
        // Subtype 4 with other than 16 bytes is not a UUID: it stays binary.
        #expect((any["shortUUID"] as? BSONBinary)?.data.count == 15)
    }

    @Test("BSON → [String: Any] → BSON keeps every value")
    func roundTrip() throws {
        let document: BSONDocument = [
            "a": 1, "b": .int64(1 << 40), "c": 2.5, "d": "s", "e": ["x": [1, 2, ["y": nil]]],
            "f": .datetime(BSONDatetime(millisecondsSinceEpoch: -1)), "g": .binary(BSONBinary(data: [1])),
            "h": .binary(BSONBinary(uuid: UUID())), "i": .timestamp(BSONTimestamp(uint64: .max)),
            "j": .objectID(sampleObjectID), "k": .regex(BSONRegex(pattern: "p", options: "xi")), "l": .maxKey,
            "m": .decimal128(BSONDecimal128(high: 3, low: 4)), "n": .symbol("s"), "o": .undefined, "p": [],
        ]
        let back = try BSONDocument(document.anyDictionary)
        // [String: Any] has no order; the conversion sorts keys, which here is the original order.
        #expect(back == document)
    }
}
