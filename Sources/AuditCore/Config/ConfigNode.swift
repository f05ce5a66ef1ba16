import Foundation
import PluginKit
import Yams

/// A YAML node with where it came from (file, line, key path), for reading a config with errors
/// that point at the line.
struct ConfigNode {
    let node: Node
    let file: String
    let path: String

    var line: Int? { node.mark?.line }

    func error(_ message: String) -> ConfigError { ConfigError(file: file, line: line, key: path, message) }

    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// The mapping's entries in file order; throws unless this is a mapping.
    func entries() throws -> [(key: String, value: ConfigNode, keyLine: Int?)] {
        guard case .mapping(let m) = node else { throw error("must be a mapping of keys to values") }
        return m.map {
            (
                key: $0.key.string ?? "\($0.key)", value: child($0.key.string ?? "?", $0.value),
                keyLine: $0.key.mark?.line
            )
        }
    }

    /// Checks that every key is in `allowed`; an unknown key is an error with a suggestion.
    func checkKeys(_ allowed: [String]) throws {
        for (key, value, keyLine) in try entries() where !allowed.contains(key) {
            throw ConfigError(
                file: file, line: keyLine ?? value.line, key: value.path,
                "unknown key `\(key)`" + didYouMean(key, allowed))
        }
    }

    subscript(_ key: String) -> ConfigNode? {
        guard case .mapping(let m) = node, let v = m[key] else { return nil }
        if case .scalar(let s) = v, s.tag.rawValue == Tag.Name.null.rawValue || (s.string.isEmpty && s.style == .plain)
        {
            return nil
        }
        return child(key, v)
    }

    func require(_ key: String) throws -> ConfigNode {
        guard let v = self[key] else { throw error("missing required key `\(key)`") }
        return v
    }

    var isScalar: Bool { if case .scalar = node { return true } else { return false } }

    func string() throws -> String {
        guard case .scalar(let s) = node else { throw error("must be a string") }
        return try Secrets.shared.expand(s.string, at: self)
    }

    func int() throws -> Int {
        guard isScalar, let i = node.int else {
            throw error("must be an integer, not `\(node.string ?? "a collection")`")
        }
        return i
    }

    func double() throws -> Double {
        guard isScalar, let d = node.float ?? node.int.map(Double.init) else {
            throw error("must be a number, not `\(node.string ?? "a collection")`")
        }
        return d
    }

    func bool() throws -> Bool {
        guard isScalar, let b = node.bool else {
            throw error("must be true or false, not `\(node.string ?? "a collection")`")
        }
        return b
    }

    func list() throws -> [ConfigNode] {
        guard case .sequence(let s) = node else { throw error("must be a list") }
        return s.enumerated().map { ConfigNode(node: $0.element, file: file, path: "\(path)[\($0.offset)]") }
    }
}
