import Foundation
import Yams

/// The `sweep:` section of a config: which keys vary, over which values, combined how.
///
/// ```yaml
/// sweep:
///   mode: grid            # grid: every combination (first key slowest); zip: lists in lockstep
///   parameters:
///     model.options.epochs: [5, 20, 60]
///     audit.attacks[0].options.loss: [cross_entropy, probability]
/// ```
/// A value of `null` removes the key from that point (the plugin's default applies). To sweep
/// a list-valued option, give a list of lists (`model.options.hidden_sizes: [[64], [64, 64]]`).
public struct Sweep: Sendable {
    public enum Mode: String, Sendable, CaseIterable { case grid, zip }

    /// One swept key and its values, with the lines they were written on.
    public struct Parameter: @unchecked Sendable {
        public var path: ConfigKeyPath
        var values: [Node]
        /// Line of the key in the sweep section.
        var line: Int?
        /// Line of each value.
        var valueLines: [Int?]
    }

    public var mode: Mode
    public var parameters: [Parameter]

    /// Keys every point sets itself, which a sweep may not set.
    static let reserved = ["run.output", "run.name", "run.model_store"].compactMap(ConfigKeyPath.init)

    /// Reads the `sweep:` node; every error names the file, the line and the key.
    static func parse(_ node: ConfigNode) throws -> Sweep {
        try node.checkKeys(["mode", "parameters"])
        var mode = Mode.grid
        if let m = node["mode"] {
            let s = try m.string()
            guard let parsed = Mode(rawValue: s) else {
                throw m.error("unknown sweep mode `\(s)`" + didYouMean(s, Mode.allCases.map(\.rawValue)))
            }
            mode = parsed
        }
        let parametersNode = try node.require("parameters")
        var parameters: [Parameter] = []
        for (key, valuesNode, keyLine) in try parametersNode.entries() {
            func fail(_ message: String) -> ConfigError {
                ConfigError(file: node.file, line: keyLine ?? valuesNode.line, key: valuesNode.path, message)
            }
            guard let path = ConfigKeyPath(key) else {
                throw fail(
                    "`\(key)` is not a key path: write keys with dots and list items with brackets, e.g. `audit.attacks[0].options.loss`"
                )
            }
            let tops = AuditConfig.topKeys.filter { $0 != "sweep" }
            guard tops.contains(path.top) else {
                if path.top == "sweep" { throw fail("a sweep cannot vary its own section") }
                throw fail("unknown top-level key `\(path.top)`" + didYouMean(path.top, tops))
            }
            if let r = reserved.first(where: { $0.isWithin(path) }) {
                throw fail("a sweep cannot set `\(r)`: each point gets its own (`<run.output>/points/<index>-<name>`)")
            }
            if let other = parameters.first(where: { $0.path.isWithin(path) || path.isWithin($0.path) }) {
                throw fail(
                    "overlaps `\(other.path)` (line \(other.line.map(String.init) ?? "?")): a key may be swept once")
            }
            guard case .sequence = valuesNode.node else {
                throw fail("must be a list of the values to try, e.g. `[5, 20, 60]`")
            }
            let items = try valuesNode.list()
            guard !items.isEmpty else { throw fail("the list of values is empty: give at least one value") }
            parameters.append(
                Parameter(path: path, values: items.map(\.node), line: keyLine, valueLines: items.map(\.line)))
        }
        guard !parameters.isEmpty else { throw parametersNode.error("must name at least one key to sweep") }
        if mode == .zip, let first = parameters.first,
            let odd = parameters.first(where: { $0.values.count != first.values.count })
        {
            throw ConfigError(
                file: node.file, line: odd.line, key: "sweep.parameters.\(odd.path)",
                "has \(odd.values.count) value\(odd.values.count == 1 ? "" : "s") but `\(first.path)` has \(first.values.count): in zip mode every list has the same length (or use `mode: grid`)"
            )
        }
        return Sweep(mode: mode, parameters: parameters)
    }

    /// The value indices of each point, one per parameter: every combination with the first
    /// parameter varying slowest (grid), or the i-th value of every list (zip).
    var combinations: [[Int]] {
        switch mode {
        case .zip:
            return (0..<(parameters.first?.values.count ?? 0)).map { i in parameters.map { _ in i } }
        case .grid:
            var out: [[Int]] = [[]]
            for p in parameters {
                out = out.flatMap { prefix in (0..<p.values.count).map { prefix + [$0] } }
            }
            return out
        }
    }
}

/// One value a point of a sweep gives a swept key.
public struct SweptValue: Codable, Sendable, Equatable {
    /// The key path (`model.options.epochs`).
    public var key: String
    /// The value as YAML flow text (`20`, `mlp`, `[256, 256]`; `null`: the key is removed).
    public var value: String
    /// The value as a number, when it is one.
    var number: Double?

    init(key: String, value: String, number: Double?) {
        self.key = key
        self.value = value
        self.number = number
    }

    init(key: ConfigKeyPath, node: Node) {
        self.init(key: key.description, value: flowText(node), number: numberValue(node))
    }
}

/// `node` in YAML flow style on one line, for tables and names.
func flowText(_ node: Node) -> String {
    switch node {
    case .scalar(let s):
        return isNull(node) ? "null" : s.string
    case .sequence(let seq): return "[" + seq.map(flowText).joined(separator: ", ") + "]"
    case .mapping(let m):
        return "{" + m.map { "\(flowText($0.key)): \(flowText($0.value))" }.joined(separator: ", ") + "}"
    case .alias: return "*alias"
    }
}

/// The number a scalar node holds (integer or float), else nil.
func numberValue(_ node: Node) -> Double? {
    guard case .scalar = node else { return nil }
    if let i = node.int { return Double(i) }
    if let f = node.float, f.isFinite { return f }
    return nil
}

/// Whether `node` is a null scalar (`null`, `~`, or nothing after the colon).
func isNull(_ node: Node) -> Bool {
    if case .scalar(let s) = node {
        return node.tag.rawValue == Tag.Name.null.rawValue || (s.string.isEmpty && s.style == .plain)
    }
    return false
}
