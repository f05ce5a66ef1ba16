import Foundation

/// A C type a `c_function` attack's parameter or return value may have, spelled as in C.
enum CType: String, Codable, CaseIterable, Sendable {
    case floatPointer = "const float *"
    case doublePointer = "const double *"
    case int32Pointer = "const int32_t *"
    case uint8Pointer = "const uint8_t *"
    case int32 = "int32_t"
    case int64 = "int64_t"
    case float
    case double

    /// Reads a type name from the config: spaces around `*` and runs of spaces do not matter
    /// (`const float*` is `const float *`); anything else is not guessed.
    init?(spelling: String) {
        let tight = spelling.replacingOccurrences(of: "*", with: " * ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        self.init(rawValue: tight)
    }

    var isPointer: Bool { rawValue.hasSuffix("*") }
}

/// What the host passes for one parameter of a `c_function` attack, for the record being scored.
enum CRole: String, Codable, CaseIterable, Sendable {
    /// The target's logits of the record: [C].
    case logits
    /// C, the number of classes.
    case classes
    /// The record's true label, in [0, C).
    case label
    /// The record's index in the audit set, from 0.
    case index
    /// The reference models' logits of the record: [R, C], row r from reference model r.
    case referenceLogits = "reference_logits"
    /// Whether the record is a member of each reference model: [R], 1 = member.
    case referenceMembership = "reference_membership"
    /// R, the number of reference models.
    case referenceCount = "reference_count"
    /// The target's logits of the population records (non-members): [P, C], the same for every record.
    case populationLogits = "population_logits"
    /// The population records' labels: [P].
    case populationLabels = "population_labels"
    /// P, the number of population records.
    case populationCount = "population_count"
    /// A number fixed in the config (`value:`): a hyperparameter of the function.
    case constant

    /// The C types this role may be passed as.
    var types: [CType] {
        switch self {
        case .logits, .referenceLogits, .populationLogits: [.floatPointer, .doublePointer]
        case .referenceMembership: [.uint8Pointer, .int32Pointer]
        case .populationLabels: [.int32Pointer]
        case .classes, .label, .index, .referenceCount, .populationCount: [.int32, .int64]
        case .constant: [.int32, .int64, .float, .double]
        }
    }

    /// The length roles an array role must travel with (a C function cannot know its length).
    var lengths: [CRole] {
        switch self {
        case .logits: [.classes]
        case .referenceLogits: [.referenceCount, .classes]
        case .referenceMembership: [.referenceCount]
        case .populationLogits: [.populationCount, .classes]
        case .populationLabels: [.populationCount]
        default: []
        }
    }
}

/// One parameter of a `c_function` attack: its role and C type (and the value of a constant).
struct CParameter: Codable, Equatable, Sendable {
    var role: CRole
    var type: CType
    var value: Double?
}

/// An attack that is a plain C function in a shared library (`audit.attacks[].c_function`):
/// `returns symbol(parameters...)` is called once per audit record and its result is that
/// record's score (higher means member). The config is the signature: C keeps none at run time.
struct CFunctionSpec: Codable, Equatable, Sendable {
    /// Absolute path of the shared library.
    var library: String
    /// SHA-256 of the library's bytes when the config was read: part of the scores' cache key,
    /// so that rebuilding the library scores again.
    var librarySHA256: String
    var symbol: String
    var returns: CType
    var parameters: [CParameter]

    /// Most parameters a function may take.
    static let maxParameters = 16
    static let keys = ["library", "symbol", "returns", "parameters"]
    static let returnTypes: [CType] = [.double, .float]

    /// Reads and checks a `c_function:` mapping: every type and role known, each allowed for its
    /// role, every array with its length, and the library and its symbol found (`dlopen`,
    /// `dlsym`), so that `mia-audit validate` reports what `run` would.
    static func parse(_ node: ConfigNode, baseDirectory: String) throws -> CFunctionSpec {
        try node.checkKeys(keys)
        let libraryNode = try node.require("library")
        let library = AuditConfig.resolve(try libraryNode.string(), baseDirectory)
        guard FileManager.default.fileExists(atPath: library) else {
            throw libraryNode.error("shared library `\(library)` does not exist")
        }
        let symbolNode = try node.require("symbol")
        let symbol = try symbolNode.string()
        guard symbol.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
            throw symbolNode.error("`\(symbol)` is not a C symbol name")
        }
        let returnsNode = try node.require("returns")
        let returnsText = try returnsNode.string()
        guard let returns = CType(spelling: returnsText), returnTypes.contains(returns) else {
            throw returnsNode.error("unknown return type `\(returnsText)`: a score is returned as `double` or `float`")
        }
        let parametersNode = try node.require("parameters")
        let list = try parametersNode.list()
        guard (1...maxParameters).contains(list.count) else {
            throw parametersNode.error("a function takes 1 to \(maxParameters) parameters here, not \(list.count)")
        }
        var parameters: [CParameter] = []
        var seen: [CRole: Int?] = [:]
        for p in list {
            try p.checkKeys(["role", "type", "value"])
            let roleNode = try p.require("role")
            let roleText = try roleNode.string()
            guard let role = CRole(rawValue: roleText) else {
                throw roleNode.error(
                    "unknown role `\(roleText)`" + didYouMean(roleText, CRole.allCases.map(\.rawValue)))
            }
            let typeNode = try p.require("type")
            let typeText = try typeNode.string()
            guard let type = CType(spelling: typeText) else {
                throw typeNode.error(
                    "unknown C type `\(typeText)`" + didYouMean(typeText, CType.allCases.map(\.rawValue)))
            }
            guard role.types.contains(type) else {
                throw typeNode.error(
                    "role `\(role.rawValue)` is passed as "
                        + role.types.map { "`\($0.rawValue)`" }.joined(separator: " or ")
                        + ", not `\(type.rawValue)`")
            }
            var value: Double?
            if role == .constant {
                let v = try p.require("value")
                value = try v.double()
                if type == .int32 || type == .int64 {
                    guard let i = v.node.int, type == .int64 || Int32(exactly: i) != nil else {
                        throw v.error("a constant of type `\(type.rawValue)` must be an integer in its range")
                    }
                }
            } else {
                if let v = p["value"] { throw v.error("only a `constant` parameter takes a `value`") }
                if let earlier = seen[role] {
                    throw roleNode.error(
                        "role `\(role.rawValue)` is given twice (the other is on line \(earlier.map(String.init) ?? "?"))"
                    )
                }
                seen[role] = roleNode.line
            }
            parameters.append(CParameter(role: role, type: type, value: value))
        }
        for p in parameters {
            for length in p.role.lengths where seen[length] == nil {
                throw parametersNode.error(
                    "role `\(p.role.rawValue)` is an array: the function must also take its length, role `\(length.rawValue)`"
                )
            }
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw libraryNode.error("cannot load `\(library)`: \(reason)")
        }
        guard dlsym(handle, symbol) != nil else {
            throw symbolNode.error("`\(library)` exports no symbol `\(symbol)` (see `nm -D \(library)`)")
        }
        return CFunctionSpec(
            library: library, librarySHA256: SHA256.hex(contentsOf: library) ?? "", symbol: symbol, returns: returns,
            parameters: parameters)
    }

    /// The C prototype the config declares, for messages and `validate`.
    var prototype: String {
        let args = parameters.map { p in
            let name = p.role == .constant ? "constant /* \(p.value.map { "\($0)" } ?? "") */" : p.role.rawValue
            return p.type.isPointer ? "\(p.type.rawValue)\(name)" : "\(p.type.rawValue) \(name)"
        }
        return "\(returns.rawValue) \(symbol)(\(args.joined(separator: ", ")))"
    }

    /// Whether the function takes `role`.
    func takes(_ role: CRole) -> Bool { parameters.contains { $0.role == role } }
}

extension CFunctionSpec {
    /// An attack entry's `c_function:`, if it has one, with the component choice standing for it
    /// (named after the symbol). `plugin:` and `options:` beside it are refused: it is one or the other.
    static func choice(_ attack: ConfigNode, baseDirectory: String) throws -> (
        choice: ComponentChoice, spec: CFunctionSpec
    )? {
        guard let node = attack["c_function"] else { return nil }
        for key in ["plugin", "options"] {
            if let other = attack[key] {
                throw other.error(
                    "`\(key)` cannot be used with `c_function` (the function is the whole attack; constants go in its parameters)"
                )
            }
        }
        let spec = try parse(node, baseDirectory: baseDirectory)
        return (ComponentChoice(plugin: spec.symbol, options: nil, pluginNode: node), spec)
    }
}
