/// The snake_case conversions of the key strategies, with the rules JSONEncoder and
/// JSONDecoder document, so that a type's keys come out the same with either coder.
enum SnakeCase {
    /// `oneTwoThree` → `one_two_three`, `myURLProperty` → `my_url_property`. Words begin at
    /// an uppercase letter that follows a lowercase letter or digit, and at the last
    /// uppercase letter of a run that a lowercase letter follows. Leading and trailing
    /// underscores are kept as they are.
    static func fromCamelCase(_ key: String) -> String {
        let (prefix, core, suffix) = split(key)
        guard !core.isEmpty else { return key }
        var words: [[Unicode.Scalar]] = [[]]
        for (index, scalar) in core.enumerated() {
            if scalar.properties.isUppercase, index > 0 {
                let previous = core[index - 1]
                let nextIsLower = index + 1 < core.count && core[index + 1].properties.isLowercase
                if !previous.properties.isUppercase || nextIsLower {
                    if !words[words.count - 1].isEmpty { words.append([]) }
                }
            }
            words[words.count - 1].append(scalar)
        }
        let joined = words.map { String(String.UnicodeScalarView($0)).lowercased() }.joined(separator: "_")
        return prefix + joined + suffix
    }

    /// `one_two_three` → `oneTwoThree`: the first word lowercased, each following word
    /// capitalised, the underscores between them removed. A key without an inner underscore
    /// is left unchanged, as are leading and trailing underscores.
    static func toCamelCase(_ key: String) -> String {
        let (prefix, core, suffix) = split(key)
        guard core.contains("_") else { return key }
        let words = String(String.UnicodeScalarView(core)).split(separator: "_", omittingEmptySubsequences: true)
        guard let first = words.first else { return key }
        var result = first.lowercased()
        for word in words.dropFirst() {
            result += word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }
        return prefix + result + suffix
    }

    /// The leading underscores, the scalars between, and the trailing underscores.
    private static func split(_ key: String) -> (String, [Unicode.Scalar], String) {
        let scalars = Array(key.unicodeScalars)
        var start = 0
        while start < scalars.count, scalars[start] == "_" { start += 1 }
        var end = scalars.count
        while end > start, scalars[end - 1] == "_" { end -= 1 }
        let prefix = String(repeating: "_", count: start)
        let suffix = String(repeating: "_", count: scalars.count - end)
        return (prefix, Array(scalars[start..<end]), suffix)
    }
}
