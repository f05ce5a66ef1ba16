import Foundation
import Logging
import PluginKit

/// A component resolved against the plugins found: its table and the JSON options it gets.
public struct ResolvedComponent {
    public var info: ComponentInfo
    /// Every option the component gets: the config's, checked, and the schema's defaults for the rest.
    var options: [String: OptionValue]
    /// The options the config gave, checked (paths made absolute) but without the defaults. (Store
    /// keys hash `options`, after defaults, and the library's bytes: see `Provenance`.)
    var givenOptions: [String: OptionValue]
    var optionsJSON: String { OptionChecker.json(options) }
    var givenOptionsJSON: String { OptionChecker.json(givenOptions) }

    /// Checks `choice`'s options against `info`'s schema and keeps which of them the config gave.
    static func checked(_ choice: ComponentChoice, _ info: ComponentInfo, baseDirectory: String) throws
        -> ResolvedComponent
    {
        let values = try OptionChecker.check(
            choice.options, against: info.options, component: info.name, baseDirectory: baseDirectory,
            at: choice.pluginNode)
        let given = Set(try choice.options?.entries().map(\.key) ?? [])
        return ResolvedComponent(info: info, options: values, givenOptions: values.filter { given.contains($0.key) })
    }
}

/// An attack resolved against the plugins found, with what it needs.
public struct ResolvedAttack {
    public var name: String
    public var component: ResolvedComponent
    public var requirements: AttackRequirements
    var line: Int?
}

/// A config checked against the plugins found: everything `run` needs, known good before any
/// work starts. `AuditPlan.make` is what `mia-audit validate` runs.
public struct AuditPlan {
    public var config: AuditConfig
    var registry: PluginRegistry
    /// The dataset and model; nil when the audit reads its signals from a folder.
    var datasetChoice: ResolvedComponent?
    var modelChoice: ResolvedComponent?
    public var datasetInfo: DatasetInfo
    public var attacks: [ResolvedAttack]
    /// The target trained elsewhere, when the config has a `target:` section.
    var targetChoice: ResolvedComponent?
    /// Its members among the audit records, and the SHA-256 of the file they came from.
    var targetMembership: [Bool]?
    var targetMembershipHash: String?
    /// Signals read from a folder (bring your own signals), already checked.
    public var providedSignals: ProvidedSignals?

    /// The dataset, in an audit that trains its models (`datasetChoice` is set).
    var dataset: ResolvedComponent { datasetChoice! }
    /// The model backend, in an audit that trains its models.
    var model: ResolvedComponent { modelChoice! }

    /// Checks `config` against `registry`; collects every problem it can before throwing.
    public static func make(_ config: AuditConfig, registry: PluginRegistry, logger: Logger) throws -> AuditPlan {
        var errors: [ConfigError] = []
        func resolve(_ choice: ComponentChoice, _ kind: ComponentKind) -> ResolvedComponent? {
            guard let info = registry.component(kind, named: choice.plugin) else {
                let known = registry.components.filter { $0.kind == kind }.map(\.name)
                errors.append(
                    choice.pluginNode.error(
                        "no \(kind) plugin named `\(choice.plugin)` was found" + didYouMean(choice.plugin, known)
                            + (known.isEmpty ? " (no \(kind) plugins were found at all: see `mia-audit plugins`)" : "")
                            + registry.refusedLibrariesNote))
                return nil
            }
            do {
                return try ResolvedComponent.checked(choice, info, baseDirectory: config.baseDirectory)
            } catch let e as ConfigError {
                errors.append(e)
            } catch {
                errors.append(choice.pluginNode.error("\(error)"))
            }
            return nil
        }
        let dataset = config.dataset.flatMap { resolve($0, .dataset) }
        let model = config.model.flatMap { resolve($0, .model) }
        let target = config.target.flatMap { resolve($0.component, .model) }
        var targetMembership: [Bool]?
        var targetMembershipHash: String?
        if let t = config.target {
            do {
                targetMembership = try MembershipFile.read(
                    t.membership, count: config.auditRecords, format: t.membershipFormat)
                targetMembershipHash = SHA256.hex(contentsOf: t.membership)
                if !(targetMembership!.contains(true) && targetMembership!.contains(false)) {
                    errors.append(
                        t.node.error(
                            "the target's membership must hold both members and non-members of the \(config.auditRecords) audit records"
                        ))
                }
            } catch {
                errors.append(t.node.error("\(error)"))
            }
        }
        var provided: ProvidedSignals?
        if let s = config.signals {
            do {
                provided = try ProvidedSignals.load(s)
            } catch let e as ConfigError {
                errors.append(e)
            } catch {
                errors.append(s.node.error("\(error)"))
            }
        }
        let referenceCount = provided?.signals.referenceCount ?? config.referenceCount
        let populationCount = provided?.signals.populationCount ?? config.populationRecords
        var attacks: [ResolvedAttack] = []
        let cancellation = CancellationFlag()
        for a in config.attacks {
            guard let c = a.cFunction.map(CFunctionAttack.component) ?? resolve(a.component, .attack) else { continue }
            do {
                let bridge = HostBridge(label: a.name, logger: logger, cancellation: cancellation)
                let instance = try DynamicAttack(c.info, optionsJSON: c.optionsJSON, bridge: bridge)
                attacks.append(
                    ResolvedAttack(
                        name: a.name, component: c, requirements: instance.requirements,
                        line: a.component.pluginNode.line))
            } catch {
                errors.append(a.component.pluginNode.error("the attack refused its options: \(error)"))
            }
        }
        // What the attacks need, against what the config provides.
        // A signals folder that could not be read has been reported; its requirements are unknown.
        for a in attacks where config.signals == nil || provided != nil {
            let r = a.requirements
            func need(_ what: String, _ fix: String) {
                errors.append(
                    ConfigError(
                        file: config.file, line: a.line, key: "audit.attacks",
                        "attack `\(a.name)` needs \(what); \(fix)"))
            }
            if let p = provided {
                if r.contains(.referenceModels) && p.signals.referenceCount < 1 {
                    need(
                        "reference models", "the signals folder has no reference_logits.npy / reference_membership.npy")
                }
                if r.contains(.referenceIn) && !p.everyRecordIn {
                    need(
                        "reference models trained with each record (online)",
                        "some audit records are IN no reference model in reference_membership.npy")
                }
                if r.contains(.population) && p.signals.populationCount < 1 {
                    need(
                        "a population set",
                        "the signals folder has no population_labels.npy / population_target_logits.npy")
                }
                if !r.isDisjoint(with: [.features, .queryAccess]) {
                    need(
                        "record features or query access to the target",
                        "signals alone provide neither; audit with a dataset and a model instead")
                }
                if r.contains(.checkpoints) {
                    need(
                        "checkpoint logits",
                        "signals alone carry none; audit with a dataset and a model and `audit.checkpoints`")
                }
                continue
            }
            if r.contains(.referenceIn) && referenceCount < 2 {
                need(
                    "reference models trained with each record (online)",
                    "set `reference_models.count` to at least 2 (it is \(referenceCount))")
            } else if r.contains(.referenceModels) && referenceCount < 1 {
                need("reference models", "set `reference_models.count` to at least 1 (it is 0)")
            }
            if r.contains(.population) && populationCount < 1 {
                need("a population set", "set `dataset.population_records` (e.g. 1000)")
            }
            errors += Self.checkpointNeedErrors(a, config)
        }
        var datasetInfo = DatasetInfo(recordCount: 0, classCount: 0, featureShape: [])
        if let dataset, let datasetNode = config.dataset {
            do {
                let bridge = HostBridge(label: dataset.info.name, logger: logger, cancellation: cancellation)
                // The config's isolation and time limit apply from this first plugin call on.
                PluginGuard.policy = config.pluginPolicy
                datasetInfo = try DynamicDataset(dataset.info, optionsJSON: dataset.optionsJSON, bridge: bridge).info()
                let needed = config.auditRecords + config.populationRecords
                if needed > datasetInfo.recordCount {
                    errors.append(
                        ConfigError(
                            file: config.file, line: datasetNode.pluginNode.line, key: "dataset",
                            "`audit_records` + `population_records` = \(needed), but the dataset holds \(datasetInfo.recordCount) records"
                        ))
                } else if needed + config.publicRecords > datasetInfo.recordCount {
                    errors.append(
                        ConfigError(
                            file: config.file, line: datasetNode.pluginNode.line, key: "dataset.public_records",
                            "`audit_records` + `population_records` + `public_records` = \(needed + config.publicRecords), but the dataset holds \(datasetInfo.recordCount) records; at most \(datasetInfo.recordCount - needed) public records are left"
                        ))
                }
                if let tooBig = MemoryEstimate.refusal(
                    records: min(needed + config.publicRecords, datasetInfo.recordCount),
                    featureShape: datasetInfo.featureShape,
                    classCount: datasetInfo.classCount)
                {
                    errors.append(
                        ConfigError(file: config.file, line: datasetNode.pluginNode.line, key: "dataset", tooBig))
                }
            } catch {
                errors.append(datasetNode.pluginNode.error("the dataset could not be opened: \(error)"))
            }
        }
        errors += diracCanaryErrors(config, registry: registry)
        errors += trajectoryErrors(config, attacks, model)
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        if let p = provided {
            datasetInfo = DatasetInfo(
                recordCount: p.signals.recordCount + p.signals.populationCount, classCount: p.signals.classCount,
                featureShape: [])
        }
        return AuditPlan(
            config: config, registry: registry, datasetChoice: dataset, modelChoice: model, datasetInfo: datasetInfo,
            attacks: attacks,
            targetChoice: target, targetMembership: targetMembership, targetMembershipHash: targetMembershipHash,
            providedSignals: provided)
    }

    /// The plugins this plan uses.
    var pluginsUsed: [(component: String, kind: String, plugin: PluginInfo)] {
        [
            datasetChoice.map { ($0.info.name, "dataset", $0.info.plugin) },
            targetChoice.map { ($0.info.name, "target", $0.info.plugin) },
            modelChoice.map { ($0.info.name, "model", $0.info.plugin) },
        ]
        .compactMap { $0 } + attacks.map { ($0.component.info.name, "attack", $0.component.info.plugin) }
    }
}
