import Foundation
import PluginABI

/// The type of an option value, as declared in a component's schema.
public enum OptionType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case bool = 1, int, float, string, path, intList, floatList, stringList

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .path: "path"
        case .intList: "list of int"
        case .floatList: "list of float"
        case .stringList: "list of string"
        }
    }
}

/// One option a component takes: the Swift face of `mia_option_t`.
public struct OptionSpec: Sendable, Equatable {
    public var name: String
    public var type: OptionType
    public var required: Bool
    /// The default as JSON text (`"0.5"`, `"\"adam\""`, `"[256]"`), or nil when there is none.
    public var defaultJSON: String?
    /// Allowed values of a string option, or nil for any.
    public var choices: [String]?
    public var summary: String
    /// Bounds of the value (or of each element, and of the length, of a list); `.none` for any.
    /// Declare them with `atLeast`, `above`, `atMost`, `within`, `length` (OptionRange.swift).
    public var range: OptionRange = .none

    public init(
        _ name: String, _ type: OptionType, required: Bool = false, default defaultJSON: String? = nil,
        choices: [String]? = nil, _ summary: String
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultJSON = defaultJSON
        self.choices = choices
        self.summary = summary
    }
}

/// A JSON value of an option.
public enum OptionValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([OptionValue])
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .list(try c.decode([OptionValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        case .null: try c.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .null: "null"
        }
    }

    /// The value as JSON text. A non-finite number has no JSON text: checked options never hold
    /// one (the host refuses `.nan` and infinities with file, line and key), so meeting one here
    /// is a bug that stops the process rather than a value silently dropped.
    public var json: String {
        switch self {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            precondition(d.isFinite, "option value \(d) is not finite: it has no JSON text")
            let data = try! JSONEncoder().encode(d)  // finite: never throws
            return String(decoding: data, as: UTF8.self)
        case .string(let s):
            let data = try! JSONEncoder().encode(s)  // a string always encodes
            return String(decoding: data, as: UTF8.self)
        case .list(let l): return "[" + l.map(\.json).joined(separator: ",") + "]"
        case .null: return "null"
        }
    }

    /// A JSON object of `values`, keys sorted (so the text is also a stable key).
    public static func json(_ values: [String: OptionValue]) -> String {
        "{" + values.keys.sorted().map { OptionValue.string($0).json + ":" + values[$0]!.json }.joined(separator: ",")
            + "}"
    }
}

/// The options a component was created with: the JSON object the host passed, already checked
/// against the component's schema, with defaults filled in.
///
/// Decode them once, when the component is created, into a typed struct (`decode(_:)`) or
/// read them key by key; a missing key or a wrong type throws an error naming the key.
public struct PluginOptions: Sendable {
    /// The JSON text as received.
    public let json: String
    public let values: [String: OptionValue]

    public init(json: String) throws {
        self.json = json
        do {
            values = try JSONDecoder().decode([String: OptionValue].self, from: Data(json.utf8))
        } catch {
            throw PluginError(.invalidArgument, "options are not a JSON object: \(json)")
        }
    }

    public init(_ values: [String: OptionValue]) {
        self.values = values
        self.json = OptionValue.json(values)
    }

    /// Decodes the options into `T` (keys in snake_case map to camelCase properties).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw PluginError(.invalidArgument, "option `\(key.stringValue)` is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw PluginError(.invalidArgument, "option `\(key)` has the wrong type: \(context.debugDescription)")
        } catch {
            throw PluginError(.invalidArgument, "options could not be read: \(error)")
        }
    }

    private func value(_ key: String) throws -> OptionValue {
        guard let v = values[key], v != .null else {
            throw PluginError(.invalidArgument, "option `\(key)` is missing")
        }
        return v
    }

    public func has(_ key: String) -> Bool { values[key].map { $0 != .null } ?? false }

    public func int(_ key: String) throws -> Int {
        if case .int(let i) = try value(key) { return i }
        throw PluginError(.invalidArgument, "option `\(key)` must be an integer")
    }

    public func double(_ key: String) throws -> Double {
        switch try value(key) {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw PluginError(.invalidArgument, "option `\(key)` must be a number")
        }
    }

    public func string(_ key: String) throws -> String {
        if case .string(let s) = try value(key) { return s }
        throw PluginError(.invalidArgument, "option `\(key)` must be a string")
    }

    public func bool(_ key: String) throws -> Bool {
        if case .bool(let b) = try value(key) { return b }
        throw PluginError(.invalidArgument, "option `\(key)` must be true or false")
    }

    public func ints(_ key: String) throws -> [Int] {
        guard case .list(let l) = try value(key) else {
            throw PluginError(.invalidArgument, "option `\(key)` must be a list of integers")
        }
        return try l.map {
            guard case .int(let i) = $0 else {
                throw PluginError(.invalidArgument, "option `\(key)` must be a list of integers")
            }
            return i
        }
    }

    public func doubles(_ key: String) throws -> [Double] {
        guard case .list(let l) = try value(key) else {
            throw PluginError(.invalidArgument, "option `\(key)` must be a list of numbers")
        }
        return try l.map {
            switch $0 {
            case .int(let i): return Double(i)
            case .double(let d): return d
            default: throw PluginError(.invalidArgument, "option `\(key)` must be a list of numbers")
            }
        }
    }

    public func strings(_ key: String) throws -> [String] {
        guard case .list(let l) = try value(key) else {
            throw PluginError(.invalidArgument, "option `\(key)` must be a list of strings")
        }
        return try l.map {
            guard case .string(let s) = $0 else {
                throw PluginError(.invalidArgument, "option `\(key)` must be a list of strings")
            }
            return s
        }
    }
}
