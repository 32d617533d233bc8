extension BSONValue {
    /// The value alone as Extended JSON v2 text, written as it would be inside a document
    /// (see ``BSONDocument/extendedJSON(_:)``): `{"$numberInt":"1"}` or `1`, `"text"`,
    /// `[…]`, `{…}`.
    ///
    /// - Parameter mode: ``ExtendedJSONMode/canonical`` (the default) or
    ///   ``ExtendedJSONMode/relaxed``.
    /// - Returns: The Extended JSON text.
    public func extendedJSON(_ mode: ExtendedJSONMode = .canonical) -> String {
        var writer = ExtendedJSONWriter(mode: mode)
        writer.write(self)
        return writer.text
    }
}

extension BSONValue: CustomStringConvertible, CustomDebugStringConvertible {
    /// The value as relaxed Extended JSON (``extendedJSON(_:)`` with
    /// ``ExtendedJSONMode/relaxed``).
    public var description: String { extendedJSON(.relaxed) }

    /// The value as canonical Extended JSON (``extendedJSON(_:)`` with
    /// ``ExtendedJSONMode/canonical``), which shows its BSON type.
    public var debugDescription: String { extendedJSON(.canonical) }
}
