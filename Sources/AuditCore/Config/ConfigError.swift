import Foundation

/// A problem with a config file: what is wrong and where (file, line, key), as a sentence.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    var file: String
    /// 1-based line of the offending node, or nil when the problem is the whole file.
    var line: Int?
    /// Dotted key path (`model.options.epochs`, `audit.attacks[1].plugin`).
    var key: String?
    var message: String

    init(file: String, line: Int?, key: String?, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key, !key.isEmpty { s += "`\(key)`: " }
        return s + message
    }
}

/// Several config problems at once: `validate` reports all it finds, not just the first.
public struct ConfigErrors: Error, CustomStringConvertible {
    public var errors: [ConfigError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// The closest of `candidates` to `word` within an edit distance of 3, for "did you mean".
func suggestion(for word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = prev
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
    let w = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.filter { $0.1 <= 3 }
    return scored.min { $0.1 < $1.1 }?.0
}

func didYouMean(_ word: String, _ candidates: [String]) -> String {
    if let s = suggestion(for: word, in: candidates) { return "; did you mean `\(s)`?" }
    if candidates.isEmpty { return "" }
    return "; expected one of: " + candidates.sorted().joined(separator: ", ")
}
