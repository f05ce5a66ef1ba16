import Foundation
import Logging
import PluginKit

/// A component resolved against the plugins found: its table and the JSON options it gets.
public struct ResolvedComponent {
    public var info: ComponentInfo
    public var options: [String: OptionValue]
    public var optionsJSON: String { OptionChecker.json(options) }
}

/// An attack resolved against the plugins found, with what it needs.
public struct ResolvedAttack {
    public var name: String
    public var component: ResolvedComponent
    public var requirements: AttackRequirements
    public var line: Int?
}

/// A config checked against the plugins found: everything `run` needs, known good before any
/// work starts. `AuditPlan.make` is what `mia-audit validate` runs.
public struct AuditPlan {
    public var config: AuditConfig
    public var registry: PluginRegistry
    public var dataset: ResolvedComponent
    public var datasetInfo: PluginKit.DatasetInfo
    public var model: ResolvedComponent
    public var attacks: [ResolvedAttack]

    /// Checks `config` against `registry`; collects every problem it can before throwing.
    public static func make(_ config: AuditConfig, registry: PluginRegistry, logger: Logger) throws -> AuditPlan {
        var errors: [ConfigError] = []
        func resolve(_ choice: ComponentChoice, _ kind: ComponentKind) -> ResolvedComponent? {
            guard let info = registry.component(kind, named: choice.plugin) else {
                let known = registry.components.filter { $0.kind == kind }.map(\.name)
                errors.append(choice.pluginNode.error(
                    "no \(kind) plugin named `\(choice.plugin)` was found" + didYouMean(choice.plugin, known)
                        + (known.isEmpty ? " (no \(kind) plugins were found at all: see `mia-audit plugins`)" : "")))
                return nil
            }
            do {
                let values = try OptionChecker.check(
                    choice.options, against: info.options, component: info.name, baseDirectory: config.baseDirectory,
                    at: choice.pluginNode)
                return ResolvedComponent(info: info, options: values)
            } catch let e as ConfigError {
                errors.append(e)
            } catch {
                errors.append(choice.pluginNode.error("\(error)"))
            }
            return nil
        }
        let dataset = resolve(config.dataset, .dataset)
        let model = resolve(config.model, .model)
        var attacks: [ResolvedAttack] = []
        let cancellation = CancellationFlag()
        for a in config.attacks {
            guard let c = resolve(a.component, .attack) else { continue }
            do {
                let bridge = HostBridge(label: a.name, logger: logger, cancellation: cancellation)
                let instance = try DynamicAttack(c.info, optionsJSON: c.optionsJSON, bridge: bridge)
                attacks.append(ResolvedAttack(name: a.name, component: c, requirements: instance.requirements, line: a.component.pluginNode.line))
            } catch {
                errors.append(a.component.pluginNode.error("the attack refused its options: \(error)"))
            }
        }
        // What the attacks need, against what the config provides.
        for a in attacks {
            let r = a.requirements
            func need(_ what: String, _ fix: String) {
                errors.append(ConfigError(file: config.file, line: a.line, key: "audit.attacks",
                                          "attack `\(a.name)` needs \(what); \(fix)"))
            }
            if r.contains(.referenceIn) && config.referenceCount < 2 {
                need("reference models trained with each record (online)", "set `reference_models.count` to at least 2 (it is \(config.referenceCount))")
            } else if r.contains(.referenceModels) && config.referenceCount < 1 {
                need("reference models", "set `reference_models.count` to at least 1 (it is 0)")
            }
            if r.contains(.population) && config.populationRecords < 1 {
                need("a population set", "set `dataset.population_records` (e.g. 1000)")
            }
        }
        var datasetInfo = PluginKit.DatasetInfo(recordCount: 0, classCount: 0, featureShape: [])
        if let dataset {
            do {
                let bridge = HostBridge(label: dataset.info.name, logger: logger, cancellation: cancellation)
                datasetInfo = try DynamicDataset(dataset.info, optionsJSON: dataset.optionsJSON, bridge: bridge).info()
                let needed = config.auditRecords + config.populationRecords
                if needed > datasetInfo.recordCount {
                    errors.append(ConfigError(
                        file: config.file, line: config.dataset.pluginNode.line, key: "dataset",
                        "`audit_records` + `population_records` = \(needed), but the dataset holds \(datasetInfo.recordCount) records"))
                }
            } catch {
                errors.append(config.dataset.pluginNode.error("the dataset could not be opened: \(error)"))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return AuditPlan(config: config, registry: registry, dataset: dataset!, datasetInfo: datasetInfo, model: model!, attacks: attacks)
    }

    /// The plugins this plan uses.
    public var pluginsUsed: [(component: String, kind: String, plugin: PluginInfo)] {
        [(dataset.info.name, "dataset", dataset.info.plugin), (model.info.name, "model", model.info.plugin)]
            + attacks.map { ($0.component.info.name, "attack", $0.component.info.plugin) }
    }
}
