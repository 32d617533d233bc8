/// Builds the errors of Extended JSON parsing, with the position in words.
enum ExtendedJSONError {
    /// An ``BSONError/Code/invalidExtendedJSON`` error whose message ends with the line and
    /// column of `offset` (both from 1; columns count characters, not bytes) and whose
    /// ``BSONError/offset`` is the byte offset.
    static func make(_ message: String, at offset: Int, in input: UnsafeBufferPointer<UInt8>) -> BSONError {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, input.count)
        while index < end {
            let byte = input[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        return BSONError(.invalidExtendedJSON, "\(message) (line \(line), column \(column))", offset: offset)
    }

    /// Two uppercase hexadecimal digits.
    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
