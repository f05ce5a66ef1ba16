import Foundation
import Yams

/// A dotted path to a value of a config: `model.options.epochs`,
/// `audit.attacks[0].options.known_member_fraction`.
///
/// The spelling is the one `ConfigError.key` uses, so an error about a point of a sweep can be
/// traced back to the sweep's line that set it.
public struct ConfigKeyPath: Hashable, CustomStringConvertible, Sendable {
    /// One step: a mapping key or a list index.
    enum Step: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    var steps: [Step]

    init(steps: [Step]) { self.steps = steps }

    /// Parses `a.b[2].c`; nil when the text is not a path (empty step, bad index).
    init?(_ text: String) {
        var steps: [Step] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            let bracket = rest.firstIndex(of: "[") ?? rest.endIndex
            let key = rest[..<bracket]
            guard !key.isEmpty, !key.contains("]") else { return nil }
            steps.append(.key(String(key)))
            rest = rest[bracket...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                    let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0
                else { return nil }
                steps.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
        }
        guard !steps.isEmpty else { return nil }
        self.steps = steps
    }

    public var description: String {
        var s = ""
        for step in steps {
            switch step {
            case .key(let k): s += s.isEmpty ? k : ".\(k)"
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    /// The first step's key (the top-level section).
    var top: String {
        if case .key(let k) = steps[0] { return k }
        return ""
    }

    /// The last mapping key of the path (`known_member_fraction`), for point names.
    var lastKey: String {
        for step in steps.reversed() { if case .key(let k) = step { return k } }
        return description
    }

    /// Whether `self` is `other` or lies inside it (`a.b[1].c` is inside `a.b`).
    func isWithin(_ other: ConfigKeyPath) -> Bool {
        steps.count >= other.steps.count && Array(steps.prefix(other.steps.count)) == other.steps
    }

    /// Why a path cannot be set in a tree: what is wrong, as a sentence (the caller adds where).
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// `root` with the value at this path replaced by `value`, or removed when `value` is nil.
    ///
    /// A missing last key is added; missing mappings on the way are created (a misspelt key then
    /// fails the point's own check, which names it). A list index must exist. A null value on the
    /// way (`options:` left empty) counts as an empty mapping.
    func setting(_ value: Node?, in root: Node) throws -> Node {
        try Self.set(value, at: steps[...], in: root, walked: [])
    }

    private static func set(_ value: Node?, at steps: ArraySlice<Step>, in node: Node, walked: [Step]) throws -> Node {
        guard let step = steps.first else { return value ?? node }
        let here = ConfigKeyPath(steps: walked)
        let rest = steps.dropFirst()
        switch step {
        case .key(let key):
            var mapping: Node.Mapping
            switch node {
            case .mapping(let m): mapping = m
            case .scalar where isNull(node):
                mapping = Node.Mapping([])
            default:
                throw Problem(
                    description:
                        "`\(walked.isEmpty ? "the config" : here.description)` is \(kind(node)), not a mapping, so it has no key `\(key)`"
                )
            }
            let existing = mapping[key]
            if existing == nil && !rest.isEmpty, case .index = rest.first! {
                throw Problem(
                    description:
                        "`\(ConfigKeyPath(steps: walked + [step]))` does not exist, so it has no item \(rest.first!)")
            }
            if rest.isEmpty && value == nil {
                mapping[key] = nil
            } else {
                mapping[key] = try set(value, at: rest, in: existing ?? Node("", Tag(.null)), walked: walked + [step])
            }
            return .mapping(mapping)
        case .index(let i):
            guard case .sequence(var sequence) = node else {
                throw Problem(description: "`\(here)` is \(kind(node)), not a list, so it has no item [\(i)]")
            }
            guard i < sequence.count else {
                throw Problem(
                    description:
                        "`\(here)` has \(sequence.count) item\(sequence.count == 1 ? "" : "s"), so index \(i) is out of range"
                )
            }
            if rest.isEmpty && value == nil {
                sequence.remove(at: i)
            } else {
                sequence[i] = try set(value, at: rest, in: sequence[i], walked: walked + [step])
            }
            return .sequence(sequence)
        }
    }

    /// The node at this path in `root`, or nil.
    func node(in root: Node) -> Node? {
        var node = root
        for step in steps {
            switch (step, node) {
            case (.key(let k), .mapping(let m)):
                guard let v = m[k] else { return nil }
                node = v
            case (.index(let i), .sequence(let s)):
                guard i < s.count else { return nil }
                node = s[i]
            default: return nil
            }
        }
        return node
    }

    /// The line a person would look at for this path in `root`: the key's line for a mapping key,
    /// the item's line for a list item; nil when the path is not in the tree.
    func line(in root: Node) -> Int? {
        var node = root
        var line: Int? = nil
        for step in steps {
            switch (step, node) {
            case (.key(let k), .mapping(let m)):
                guard let pair = m.first(where: { $0.key.string == k }) else { return nil }
                line = pair.key.mark?.line ?? pair.value.mark?.line
                node = pair.value
            case (.index(let i), .sequence(let s)):
                guard i < s.count else { return nil }
                line = s[i].mark?.line
                node = s[i]
            default: return nil
            }
        }
        return line
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "the value `\(s.string)`"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension ConfigKeyPath.Step: CustomStringConvertible {
    var description: String {
        switch self {
        case .key(let k): return k
        case .index(let i): return "[\(i)]"
        }
    }
}
