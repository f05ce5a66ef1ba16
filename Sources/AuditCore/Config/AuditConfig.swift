import Foundation
import PluginKit
import Yams

/// A component chosen in the config: which plugin, with which (still unchecked) options.
struct ComponentChoice {
    /// The component's name (`native`, `lira`).
    var plugin: String
    /// The `options:` mapping, or nil when absent.
    var options: ConfigNode?
    /// The `plugin:` node, for errors.
    var pluginNode: ConfigNode
}

/// Signals computed elsewhere: a folder of `.npy` files in the layout of a run's `signals/`.
public struct SignalsChoice {
    public var path: String
    /// Optional file of the target's members (indices, or a 0/1 mask), overriding
    /// `target_membership.npy`.
    var membership: String?
    /// `signals.membership_format`: how `membership` is read (nil: from the file type).
    var membershipFormat: MembershipFormat? = nil
    var node: ConfigNode
}

/// A target model trained elsewhere: served by a backend (an HTTP API, a Python worker, a saved
/// native model), never trained by the audit; its members are given by a file.
struct TargetChoice {
    var component: ComponentChoice
    /// A saved model the backend loads (`load`), or nil for a backend that serves one (http).
    var modelFile: String?
    /// The target's members among the audit records: a `.npy` mask or index list, or a text file
    /// of indices, one per line.
    var membership: String
    /// `target.membership_format`: how `membership` is read (nil: from the file type).
    var membershipFormat: MembershipFormat? = nil
    var node: ConfigNode
}

/// One attack of the audit.
struct AttackChoice {
    /// The name its results go by (`lira-online`); defaults to the plugin's name.
    var name: String
    var component: ComponentChoice
    /// A plain C function instead of a plugin (`c_function:`); `component` then names its symbol.
    var cFunction: CFunctionSpec? = nil
}

/// A parsed audit config: one YAML file, every key documented in configs/README.md.
public struct AuditConfig {
    var file: String
    var text: String

    // run:
    public var name: String
    public var output: String
    var seed: UInt64
    public var threads: Int
    /// Models trained side by side (`run.parallel_models`), each on `threads / parallelModels`
    /// BLAS threads; nil is `auto` (see `TrainingLayout`).
    public var parallelModels: Int?
    /// Where trained models and their logits are kept (`run.model_store`, default `<output>/models`).
    public var modelStore: String
    // plugins:
    public var pluginPaths: [String]
    /// `plugins.isolation`, `plugins.timeout_seconds`, `plugins.on_failure`, `plugins.libraries`.
    var pluginPolicy = PluginPolicy()
    // signals: (bring your own signals; replaces dataset, model and reference_models)
    public var signals: SignalsChoice?
    // dataset:
    var dataset: ComponentChoice?
    /// Records [0, auditRecords) are the audit set: each model trains on a random half of them.
    public var auditRecords: Int
    /// Records [auditRecords, auditRecords + populationRecords): never trained on; the population set.
    public var populationRecords: Int
    /// Records [auditRecords + populationRecords, ... + publicRecords): never audited; every model's
    /// training gets them as public (auxiliary) records, for defences that need data beyond the
    /// private set (distillation, adversarial regularization). 0: none.
    var publicRecords = 0
    // model:
    var model: ComponentChoice?
    /// A target trained elsewhere (`target:`): a backend that loads or serves it, and its members.
    var target: TargetChoice?
    // reference_models:
    var referenceCount: Int
    // audit:
    var attacks: [AttackChoice]
    var fprs: [Double]
    /// Membership priors of the PPV rows (`audit.priors`); pseudo-targets for reference-chosen
    /// thresholds (`audit.pseudo_targets`). See `AuditConfig+OperatingPoints`.
    var priors: [Double] = [0.01, 0.1]
    var pseudoTargets = 4
    var slices: [String]
    var bootstrapSamples: Int
    /// Output-time defences: every attack runs again against the outputs each one releases.
    var defences: [OutputDefence]
    /// Epochs at whose end every model's logits are kept and the attacks run again
    /// (`audit.checkpoints`, ascending; empty for none).
    var checkpoints: [Int] = []
    /// `audit.trajectory`: where checkpoint-reading attacks get their epochs (`AuditConfig+Trajectory`).
    var trajectory = TrajectoryConfig()
    /// `audit.augmentations`: transformed copies of each record every model is asked about.
    var augmentations = QueryAugmentations.none
    /// A one-run DP audit with canaries (`audit.canaries`), nil for none.
    var canaries: CanaryConfig? = nil
    // report:
    public var html: Bool
    var topRecords: Int
    // slurm: (read by `mia-audit slurm` only)
    public var slurm: SlurmConfig

    /// `sweep` belongs to studies (`Studies/`): a run of one point never sees it.
    static let topKeys = [
        "run", "plugins", "signals", "dataset", "model", "target", "reference_models", "audit", "report", "slurm",
        "sweep",
    ]

    /// Reads and checks the structure of `file` (plugin options are checked later, against the
    /// schemas of the plugins found).
    public static func load(_ file: String) throws -> AuditConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, line: nil, key: nil, "cannot read the config file (does it exist?)")
        }
        let text = String(decoding: data, as: UTF8.self)
        return try parse(text, file: file)
    }

    static func parse(_ text: String, file: String) throws -> AuditConfig {
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw ConfigError(file: file, line: nil, key: nil, "the config is empty")
            }
            root = n
        } catch let e as ConfigError {
            throw e
        } catch let e as YamlError {
            throw ConfigError(file: file, line: yamlLine(e), key: nil, "not valid YAML: \(yamlProblem(e))")
        }
        let top = ConfigNode(node: root, file: file, path: "")
        try top.checkKeys(topKeys)
        let baseDir = ((file as NSString).deletingLastPathComponent as NSString).standardizingPath

        let run = try top.require("run")
        try run.checkKeys(["name", "output", "seed", "threads", "model_store", "parallel_models"])
        let name = try run["name"]?.string() ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        if let n = run["name"], name.isEmpty || name.contains("/") || name.contains("\\") || name.hasPrefix(".") {
            // The name becomes a folder under runs/: `../../..` must not write outside it.
            throw n.error(
                "a run name is one folder name: no `/`, `\\`, leading `.` or `..`, not empty (use `run.output` to choose where the run goes)"
            )
        }
        let output = try run["output"]?.string() ?? "runs/\(name)"
        let seedNode = run["seed"]
        let seed = try seedNode?.int() ?? 0
        guard seed >= 0 else { throw seedNode!.error("must be a non-negative integer") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = try run["threads"]?.count(in: CountLimits.threads) ?? cores
        let store = try run["model_store"]?.string() ?? (output as NSString).appendingPathComponent("models")
        var parallelModels: Int?
        if let p = run["parallel_models"], !(p.isScalar && (try? p.string()) == "auto") {
            guard p.isScalar, let n = p.node.int, n >= 1 else {
                throw p.error("must be `auto` or an integer of at least 1")
            }
            parallelModels = n
        }

        var pluginPaths: [String] = []
        if let plugins = top["plugins"] {
            try plugins.checkKeys(PluginPolicy.keys)
            pluginPaths = try plugins["paths"]?.list().map { resolve(try $0.string(), baseDir) } ?? []
        }

        var signals: SignalsChoice?
        var datasetChoice: ComponentChoice?
        var modelChoice: ComponentChoice?
        var target: TargetChoice?
        var auditRecords = 0, populationRecords = 0, publicRecords = 0, referenceCount = 0
        if let node = top["signals"] {
            // Bring your own signals: the models were trained elsewhere.
            for key in ["dataset", "model", "reference_models"] {
                if let other = top[key] {
                    throw other.error(
                        "`\(key)` cannot be used with `signals` (the signals replace the dataset and the models)")
                }
            }
            try node.checkKeys(["path", "membership", "membership_format"])
            let pathNode = try node.require("path")
            let path = resolve(try pathNode.string(), baseDir)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw pathNode.error("signals folder `\(path)` does not exist")
            }
            var membership: String?
            if let m = node["membership"] {
                membership = resolve(try m.string(), baseDir)
                guard FileManager.default.fileExists(atPath: membership!) else {
                    throw m.error("membership file `\(membership!)` does not exist")
                }
            }
            signals = SignalsChoice(
                path: path, membership: membership, membershipFormat: try membershipFormat(node), node: node)
        } else {
            let dataset = try top.require("dataset")
            try dataset.checkKeys(["plugin", "options", "audit_records", "population_records", "public_records"])
            datasetChoice = try component(dataset)
            let auditNode = try dataset.require("audit_records")
            auditRecords = try auditNode.count(in: 2...CountLimits.records.upperBound, "record indices are 32-bit")
            populationRecords =
                try dataset["population_records"]?.count(in: CountLimits.records, "record indices are 32-bit") ?? 0
            publicRecords =
                try dataset["public_records"]?.count(in: CountLimits.records, "record indices are 32-bit") ?? 0

            let model = try top.require("model")
            try model.checkKeys(["plugin", "options"])
            modelChoice = try component(model)

            if let t = top["target"] {
                try t.checkKeys(["plugin", "options", "model_file", "membership", "membership_format"])
                var modelFile: String?
                if let f = t["model_file"] {
                    modelFile = resolve(try f.string(), baseDir)
                    guard FileManager.default.fileExists(atPath: modelFile!) else {
                        throw f.error("model file `\(modelFile!)` does not exist")
                    }
                }
                let m = try t.require("membership")
                let membership = resolve(try m.string(), baseDir)
                guard FileManager.default.fileExists(atPath: membership) else {
                    throw m.error("membership file `\(membership)` does not exist")
                }
                target = TargetChoice(
                    component: try component(t), modelFile: modelFile, membership: membership,
                    membershipFormat: try membershipFormat(t), node: t)
            }
            if let refs = top["reference_models"] {
                try refs.checkKeys(["count"])
                referenceCount = try refs["count"]?.count(in: CountLimits.referenceModels) ?? 0
            }
        }

        let audit = try top.require("audit")
        try audit.checkKeys([
            "attacks", "fprs", "priors", "pseudo_targets", "slices", "bootstrap_samples", "output_defences",
            "checkpoints",
            "augmentations", "canaries", "trajectory",
        ])
        var attacks: [AttackChoice] = []
        var seen: [String: Int?] = [:]
        for a in try audit.require("attacks").list() {
            try a.checkKeys(["plugin", "name", "options", "c_function"])
            let cFunction = try CFunctionSpec.choice(a, baseDirectory: baseDir)
            let choice = try cFunction?.choice ?? component(a)
            let n = try a["name"]?.string() ?? choice.plugin
            guard n.range(of: "^[A-Za-z0-9_.-]+$", options: .regularExpression) != nil else {
                throw (a["name"] ?? a).error("attack name `\(n)` may hold only letters, digits, '-', '_' and '.'")
            }
            if let earlier = seen[n] {
                throw (a["name"] ?? a).error(
                    "two attacks are named `\(n)` (the other is on line \(earlier.map(String.init) ?? "?")); give one a `name:`"
                )
            }
            seen[n] = a.line
            attacks.append(AttackChoice(name: n, component: choice, cFunction: cFunction?.spec))
        }
        guard !attacks.isEmpty else { throw try audit.require("attacks").error("must list at least one attack") }
        let fprs =
            try audit["fprs"]?.list().map { node -> Double in
                let v = try node.double()
                guard v >= 0 && v < 1 else {
                    throw node.error("an FPR must be at least 0 and below 1 (0: the TPR at zero FPR)")
                }
                return v
            } ?? [0.001, 0.01, 0.1]
        let slices =
            try audit["slices"]?.list().map { node -> String in
                let s = try node.string()
                guard ["class", "correctness"].contains(s) else {
                    throw node.error("unknown slice `\(s)`" + didYouMean(s, ["class", "correctness"]))
                }
                return s
            } ?? []
        let bootstrap = try audit["bootstrap_samples"]?.count(in: CountLimits.bootstrapSamples) ?? 200

        let defences = try audit["output_defences"]?.list().map(parseDefence) ?? []
        let checkpoints = try audit["checkpoints"].map { try parseCheckpoints($0, top) } ?? []

        var html = true
        var top_ = 20
        if let report = top["report"] {
            try report.checkKeys(["html", "top_records"])
            html = try report["html"]?.bool() ?? true
            top_ = try report["top_records"]?.int() ?? 20
            if let node = report["top_records"], top_ < 0 { throw node.error("must be >= 0, not \(top_)") }
        }

        let slurm = try SlurmConfig.parse(top["slurm"])

        var config = AuditConfig(
            file: file, text: text, name: name, output: resolve(output, FileManager.default.currentDirectoryPath),
            seed: UInt64(seed), threads: threads, parallelModels: parallelModels,
            modelStore: resolve(store, FileManager.default.currentDirectoryPath),
            pluginPaths: pluginPaths, signals: signals, dataset: datasetChoice, auditRecords: auditRecords,
            populationRecords: populationRecords,
            publicRecords: publicRecords,
            model: modelChoice, target: target, referenceCount: referenceCount, attacks: attacks, fprs: fprs,
            slices: slices,
            bootstrapSamples: bootstrap, defences: defences, checkpoints: checkpoints, html: html, topRecords: top_,
            slurm: slurm)
        config.pluginPolicy = try PluginPolicy.parse(top["plugins"], baseDir: baseDir)
        config.augmentations = try audit["augmentations"].map { try parseAugmentations($0, top) } ?? .none
        config.canaries = try audit["canaries"].map {
            try parseCanaries($0, top, auditRecords: auditRecords, runSeed: UInt64(seed))
        }
        config.trajectory = try parseTrajectory(audit["trajectory"], top, populationRecords: populationRecords)
        config.priors = try parsePriors(audit["priors"])
        config.pseudoTargets = try parsePseudoTargets(
            audit["pseudo_targets"], referenceCount: signals == nil ? referenceCount : nil)
        return config
    }

    /// The directory relative paths in plugin options are resolved against: the config's folder.
    var baseDirectory: String { ((file as NSString).deletingLastPathComponent as NSString).standardizingPath }

    /// `label_only`, or a one-key mapping: `top_k: 3`, `rounding: 2`, `temperature: 5.0`.
    static func parseDefence(_ node: ConfigNode) throws -> OutputDefence {
        let kinds = ["top_k", "rounding", "temperature", "label_only"]
        if node.isScalar {
            let s = try node.string()
            guard s == "label_only" else { throw node.error("unknown output defence `\(s)`" + didYouMean(s, kinds)) }
            return .labelOnly
        }
        let entries = try node.entries()
        guard entries.count == 1, let (key, value, _) = entries.first else {
            throw node.error(
                "an output defence is `label_only` or one of `top_k: K`, `rounding: DECIMALS`, `temperature: T`")
        }
        switch key {
        case "top_k":
            let k = try value.int()
            guard k >= 1 else { throw value.error("must be at least 1") }
            return .topK(k)
        case "rounding":
            let d = try value.int()
            guard d >= 0 else { throw value.error("must not be negative") }
            return .rounding(d)
        case "temperature":
            let t = try value.double()
            guard t > 0 else { throw value.error("must be positive") }
            return .temperature(t)
        default:
            throw value.error("unknown output defence `\(key)`" + didYouMean(key, kinds))
        }
    }

    /// `membership_format: mask | indices` of a `signals:` or `target:` section, if given.
    static func membershipFormat(_ section: ConfigNode) throws -> MembershipFormat? {
        guard let n = section["membership_format"] else { return nil }
        let s = try n.string()
        guard let f = MembershipFormat(rawValue: s) else {
            throw n.error("unknown membership format `\(s)`" + didYouMean(s, MembershipFormat.allCases.map(\.rawValue)))
        }
        if section["membership"] == nil {
            throw n.error("`membership_format` describes `membership`, which is not given")
        }
        return f
    }

    private static func component(_ node: ConfigNode) throws -> ComponentChoice {
        let p = try node.require("plugin")
        return ComponentChoice(plugin: try p.string(), options: node["options"], pluginNode: p)
    }

    static func resolve(_ path: String, _ base: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        let b = base.isEmpty ? FileManager.default.currentDirectoryPath : base
        return ((b as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }

    static func yamlLine(_ e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    static func yamlProblem(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicated keys: \(duplicates.joined(separator: ", "))"
        default: return "\(e)"
        }
    }
}
