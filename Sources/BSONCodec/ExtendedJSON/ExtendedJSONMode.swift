/// The two formats of MongoDB Extended JSON v2.
///
/// ```swift
/// let document: BSONDocument = ["n": 1, "x": 2.5]
/// document.extendedJSON(.canonical)  // {"n":{"$numberInt":"1"},"x":{"$numberDouble":"2.5"}}
/// document.extendedJSON(.relaxed)    // {"n":1,"x":2.5}
/// ```
public enum ExtendedJSONMode: Sendable, Hashable {
    /// Canonical Extended JSON: every value keeps its BSON type (`{"$numberInt": "1"}`,
    /// `{"$numberDouble": "2.5"}`, `{"$date": {"$numberLong": "0"}}`), so the text reads back
    /// as the same BSON. What it cannot carry: the sign and payload of a NaN double, the
    /// kind, sign and payload of a NaN Decimal128 and non-canonical Decimal128 encodings, and
    /// the order of regular-expression option letters (always written sorted).
    case canonical
    /// Relaxed Extended JSON: int32, int64 and finite doubles as plain JSON numbers, and
    /// datetimes in the years 1970 through 9999 as ISO-8601 strings. Easier to read, but
    /// reading it back may change types (an int64 that fits in 32 bits comes back as int32).
    case relaxed
}
