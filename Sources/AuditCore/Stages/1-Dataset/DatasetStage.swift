import Foundation
import PluginKit

/// The population the audit draws on: audit records [0, N) then population records [N, N+P).
struct Population {
    var info: DatasetInfo
    var features: [Float]
    var labels: [Int32]
    var auditCount: Int
    var populationCount: Int
    /// Public records (`dataset.public_records`), after the audit and population records: given
    /// to every model's training as auxiliary records, never audited. [M, featureSize] and [M].
    var publicFeatures: [Float] = []
    var publicLabels: [Int32] = []
    var publicCount: Int { publicLabels.count }
}

/// Stage 1, dataset: reads the audit, population and public records from the dataset plugin and
/// checks their labels.
struct DatasetStage: AuditStage {
    let context: StageContext

    init(_ context: StageContext) { self.context = context }

    /// Reads `dataset.audit_records` + `population_records` records (and `public_records` after them).
    func run() throws -> Population {
        let config = self.config
        let d = plan.dataset
        let dataset = try DynamicDataset(d.info, optionsJSON: d.optionsJSON, bridge: bridge(d.info.name))
        let info = try dataset.info()
        let total = config.auditRecords + config.populationRecords
        let (features, labels) = try dataset.read(start: 0, count: total, featureShape: info.featureShape)
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= info.classCount }) {
            throw PluginError(
                .invalidArgument, "record \(bad) has label \(labels[bad]), outside [0, \(info.classCount))",
                origin: "dataset `\(d.info.name)` (\(d.info.plugin.path))")
        }
        logger.info("dataset: \(total) records of shape \(info.featureShape), \(info.classCount) classes")
        var population = Population(
            info: info, features: features, labels: labels, auditCount: config.auditRecords,
            populationCount: config.populationRecords)
        if config.publicRecords > 0 {
            let (pf, pl) = try dataset.read(start: total, count: config.publicRecords, featureShape: info.featureShape)
            if let bad = pl.firstIndex(where: { $0 < 0 || Int($0) >= info.classCount }) {
                throw PluginError(
                    .invalidArgument, "record \(total + bad) has label \(pl[bad]), outside [0, \(info.classCount))",
                    origin: "dataset `\(d.info.name)` (\(d.info.plugin.path))")
            }
            population.publicFeatures = pf
            population.publicLabels = pl
            logger.info(
                "dataset: \(config.publicRecords) public records [\(total), \(total + config.publicRecords)) for the models' training"
            )
        }
        if let canaries = config.canaries {
            CanarySet(canaries, auditRecords: population.auditCount).insert(into: &population)
        }
        return population
    }
}
