import Foundation
import PluginKit
import Yams

/// Checks a component's `options:` mapping against the schema the plugin declares, and turns it
/// into the JSON object the plugin receives: every key known, every type right, every required
/// key present, every path existing (made absolute), defaults filled in.
public enum OptionChecker {
    public static func check(
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

    static func value(_ node: ConfigNode, _ spec: OptionSpec, baseDirectory: String, component: String) throws -> OptionValue {
        switch spec.type {
        case .bool: return .bool(try node.bool())
        case .int: return .int(try node.int())
        case .float: return .double(try node.double())
        case .string:
            let s = try node.string()
            if let choices = spec.choices, !choices.contains(s) {
                throw node.error("`\(s)` is not a value of `\(spec.name)`" + didYouMean(s, choices))
            }
            return .string(s)
        case .path:
            let p = AuditConfig.resolve(try node.string(), baseDirectory)
            guard FileManager.default.fileExists(atPath: p) else { throw node.error("file `\(p)` does not exist") }
            return .string(p)
        case .intList: return .list(try listOf(node).map { .int(try $0.int()) })
        case .floatList: return .list(try listOf(node).map { .double(try $0.double()) })
        case .stringList:
            return .list(try listOf(node).map { item in
                let s = try item.string()
                if let choices = spec.choices, !choices.contains(s) {
                    throw item.error("`\(s)` is not a value of `\(spec.name)`" + didYouMean(s, choices))
                }
                return .string(s)
            })
        }
    }

    /// A list, or a single scalar taken as a list of one.
    static func listOf(_ node: ConfigNode) throws -> [ConfigNode] {
        if node.isScalar { return [node] }
        return try node.list()
    }

    /// The options as the JSON text handed to the plugin (keys sorted, so it is also a stable key).
    public static func json(_ values: [String: OptionValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(values)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
