import Foundation
import Logging
import PluginABI
import PluginKit

/// One outcome of `mia-audit plugins check`: a call made to a component, and how it went.
public struct ConformanceFinding: Sendable, CustomStringConvertible {
    public enum Outcome: String, Sendable {
        /// The call kept the contract.
        case ok
        /// The call broke the contract: `detail` says how.
        case violation
        /// The check could not be made (a required option with no default, an attack that
        /// queries the target); `detail` says why.
        case skipped
    }
    /// `attack confidence-gap`, or `library` for the descriptor.
    public var component: String
    /// The call and its arguments, as a person would write it: `create({"temperature":"x"})`.
    var call: String
    public var outcome: Outcome
    var detail: String

    public var description: String {
        let tag = outcome == .violation ? "VIOLATION" : outcome.rawValue
        return "\(tag.padding(toLength: 9, withPad: " ", startingAt: 0)) \(call)"
            + (detail.isEmpty ? "" : ": \(detail)")
    }
}

/// Drives every component of one plugin library through its contract (the header's comments
/// and Plugins/README.md) and reports each call: `mia-audit plugins check LIB`.
///
/// What it checks, per kind: the descriptor's and tables' `struct_size`; that `create`/`open`
/// accept the defaults and refuse a wrongly typed option with a message (and survive the
/// `destroy`/`close` of NULL that follows); that repeated calls give identical results;
/// that out-of-range and non-finite inputs are refused with a message or handled (finite
/// results), never crash; datasets read from two threads at once (distinct instances); model
/// `create` on another thread, save/load round trips, corrupt files refused. Components are
/// driven through the `Dynamic*` wrappers, as a run drives them.
///
/// A crash cannot be caught: `currentCall` names the call in progress, for a signal handler
/// of the caller to print before the process dies.
public final class ConformanceCheck {
    let library: String
    /// Options per component name (a JSON object), merged over the schema's defaults: what a
    /// component with required options needs to be checked at all.
    let options: [String: String]
    let logger: Logger
    let cancellation = CancellationFlag()
    var findings: [ConformanceFinding] = []
    var onFinding: (ConformanceFinding) -> Void = { _ in }
    var component = "library"

    /// The call in progress, NUL-terminated (for a crash handler; 512 bytes, never freed).
    // Unsynchronised on purpose: one check runs at a time and writes it, and the only reader is a
    // crash handler, which may not take a lock and at worst prints a half-written name.
    nonisolated(unsafe) public static let currentCall: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 512)
        p.initialize(repeating: 0, count: 512)
        return p
    }()

    public init(library: String, options: [String: String] = [:], logger: Logger) {
        self.library = library
        self.options = options
        self.logger = logger
    }

    /// Runs every check; `report` sees each finding as it is made. Returns them all.
    @discardableResult
    public func run(report: @escaping (ConformanceFinding) -> Void = { _ in }) -> [ConformanceFinding] {
        onFinding = report
        let registry = PluginRegistry()
        announce("load")
        guard registry.load(library) != nil else {
            let reason = registry.problems.map(\.reason).joined(separator: "; ")
            record("dlopen + mia_plugin_entry", .violation, reason.isEmpty ? "the library did not load" : reason)
            return findings
        }
        record("dlopen + mia_plugin_entry", .ok, "")
        for p in registry.problems { record("component table", .violation, p.reason) }
        checkLayout()
        for c in registry.components {
            component = "\(c.kind) \(c.name)"
            switch c.kind {
            case .attack: checkAttack(c)
            case .dataset: checkDataset(c)
            case .model: checkModel(c)
            }
        }
        announce("")
        return findings
    }

    /// Whether any finding is a violation.
    static func passed(_ findings: [ConformanceFinding]) -> Bool {
        !findings.contains { $0.outcome == .violation }
    }

    // MARK: - Recording

    func record(_ call: String, _ outcome: ConformanceFinding.Outcome, _ detail: String) {
        let f = ConformanceFinding(component: component, call: call, outcome: outcome, detail: detail)
        findings.append(f)
        onFinding(f)
    }

    /// Names the call about to be made, for a crash handler.
    func announce(_ call: String) {
        let text = Array((component + ": " + call).utf8.prefix(511))
        for (i, b) in text.enumerated() { Self.currentCall[i] = CChar(bitPattern: b) }
        Self.currentCall[text.count] = 0
    }

    func bridge() -> HostBridge { HostBridge(label: "check", logger: logger, cancellation: cancellation) }

    /// The placeholder `callPlugin` puts in an error whose plugin wrote no message.
    static let noMessage = "(the plugin gave no message)"

    /// Records a refusal as kept (a status and a message) or broken (no message).
    func refused(_ call: String, _ error: Error, expected: String = "refused") {
        let e = PluginError.from(error)
        if e.message == Self.noMessage || e.message.isEmpty {
            record(call, .violation, "refused with status \(e.status) but wrote no message into `error`")
        } else {
            record(call, .ok, "\(expected): \(e.message)")
        }
    }

    // MARK: - Options

    /// The JSON object a component is created with: its schema's defaults, then the user's
    /// `--options`; nil (with a skipped finding) when a required option has no value.
    func baseOptions(_ c: ComponentInfo) -> [String: Any]? {
        var values: [String: Any] = [:]
        for o in c.options {
            if let d = o.defaultJSON,
                let v = try? JSONSerialization.jsonObject(with: Data(d.utf8), options: .fragmentsAllowed)
            {
                values[o.name] = v
            }
        }
        if let given = options[c.name] {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(given.utf8))) as? [String: Any] else {
                record("--options \(c.name)", .skipped, "not a JSON object: \(given)")
                return nil
            }
            values.merge(object) { $1 }
        }
        let missing = c.options.filter { $0.required && values[$0.name] == nil }.map(\.name)
        guard missing.isEmpty else {
            record(
                "create with defaults", .skipped,
                "required option\(missing.count > 1 ? "s" : "") \(missing.map { "`\($0)`" }.joined(separator: ", ")) without a default; give \(missing.count > 1 ? "them" : "it") with --options \(c.name)='{...}'"
            )
            return nil
        }
        return values
    }

    static func json(_ values: [String: Any]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys, .fragmentsAllowed]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A value of the wrong JSON type for `type`.
    static func wrongValue(_ type: OptionType) -> Any {
        switch type {
        case .bool, .int, .float, .intList, .floatList, .stringList: "not-a-\(type == .bool ? "bool" : "number")"
        case .string, .path: 12345
        }
    }

    /// Creates with every option in turn given a value of the wrong type: each must be refused
    /// with a message, and the NULL destroy that follows must not crash.
    func checkBadOptions(_ c: ComponentInfo, _ base: [String: Any], _ verb: String, _ create: (String) throws -> Void) {
        for o in c.options {
            var values = base
            values[o.name] = Self.wrongValue(o.type)
            let json = Self.json(values)
            let call = "\(verb)(\(o.name): \(Self.json(["v": values[o.name]!]).dropFirst(5).dropLast()))"
            announce(call)
            do {
                try create(json)
                record(call, .violation, "accepted a \(o.type) option given a value of another type")
            } catch {
                refused(call, error)
            }
        }
        var values = base
        values["mia_check_unknown_key"] = 1
        let call = "\(verb)(mia_check_unknown_key: 1)"
        announce(call)
        do {
            try create(Self.json(values))
            record(call, .ok, "accepted an unknown key (the host refuses unknown keys before any plugin sees them)")
        } catch {
            refused(call, error)
        }
    }
}
