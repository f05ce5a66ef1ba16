import Foundation
import PluginKit
import Yams

/// Checks a component's `options:` mapping against the schema the plugin declares, and turns it
/// into the JSON object the plugin receives: every key known, every type right, every required
/// key present, every path existing (made absolute), defaults filled in.
enum OptionChecker {
    static func check(
        _ options: ConfigNode?, against schema: [OptionSpec], component: String, baseDirectory: String,
        at parent: ConfigNode
    ) throws -> [String: OptionValue] {
        var values: [String: OptionValue] = [:]
        let names = schema.map(\.name)
        if let options {
            for (key, node, keyLine) in try options.entries() {
                guard let spec = schema.first(where: { $0.name == key }) else {
                    throw ConfigError(
                        file: node.file, line: keyLine ?? node.line, key: node.path,
                        "`\(component)` has no option `\(key)`" + didYouMean(key, names))
                }
                values[key] = try value(node, spec, baseDirectory: baseDirectory, component: component)
            }
        }
        for spec in schema where values[spec.name] == nil {
            if let d = spec.defaultJSON, let v = try? JSONDecoder().decode(OptionValue.self, from: Data(d.utf8)) {
                values[spec.name] = v
            } else if spec.required {
                throw ConfigError(
                    file: parent.file, line: (options ?? parent).line, key: (options?.path ?? parent.path + ".options"),
                    "`\(component)` needs option `\(spec.name)` (\(spec.type)): \(spec.summary)")
            }
        }
        return values
    }

    /// One value, checked against everything the schema says of it: type, choices, finiteness,
    /// numeric range (of the value or of each element of a list) and list length. The error names
    /// the file, line and key of the value (of the element, in a list).
    static func value(_ node: ConfigNode, _ spec: OptionSpec, baseDirectory: String, component: String) throws
        -> OptionValue
    {
        let range = spec.range
        func inRange(_ x: Double, _ at: ConfigNode, shown: String) throws {
            if let why = range.violation(x) { throw at.error("`\(spec.name)` of `\(component)` \(why), not \(shown)") }
        }
        func int(_ at: ConfigNode) throws -> OptionValue {
            let i = try at.int()
            try inRange(Double(i), at, shown: String(i))
            return .int(i)
        }
        func double(_ at: ConfigNode) throws -> OptionValue {
            let d = try at.double()
            guard d.isFinite else {
                throw at.error(
                    "`\(spec.name)` of `\(component)` must be a finite number, not `\((try? at.string()) ?? "\(d)")`")
            }
            try inRange(d, at, shown: OptionRange.text(d))
            return .double(d)
        }
        func list(_ element: (ConfigNode) throws -> OptionValue) throws -> OptionValue {
            let items = try listOf(node)
            if let why = range.lengthViolation(items.count) {
                throw node.error("`\(spec.name)` of `\(component)` \(why)")
            }
            return .list(try items.map(element))
        }
        func string(_ at: ConfigNode) throws -> OptionValue {
            let s = try at.string()
            if let choices = spec.choices, !choices.contains(s) {
                throw at.error("`\(s)` is not a value of `\(spec.name)`" + didYouMean(s, choices))
            }
            return .string(s)
        }
        switch spec.type {
        case .bool: return .bool(try node.bool())
        case .int: return try int(node)
        case .float: return try double(node)
        case .string: return try string(node)
        case .path:
            let p = AuditConfig.resolve(try node.string(), baseDirectory)
            guard FileManager.default.fileExists(atPath: p) else { throw node.error("file `\(p)` does not exist") }
            return .string(p)
        case .intList: return try list(int)
        case .floatList: return try list(double)
        case .stringList: return try list(string)
        }
    }

    /// A list, or a single scalar taken as a list of one.
    static func listOf(_ node: ConfigNode) throws -> [ConfigNode] {
        if node.isScalar { return [node] }
        return try node.list()
    }

    /// The options as the JSON text handed to the plugin (keys sorted, so it is also a stable key).
    /// No fallback: every value was checked finite by `check`, and `OptionValue.json` never drops one.
    static func json(_ values: [String: OptionValue]) -> String { OptionValue.json(values) }
}
