/// What `mia-audit validate` prints about a plan's inputs, for each kind of audit: trained here,
/// a target trained elsewhere, or signals read from a folder (which has no dataset or model).
extension AuditPlan {
    public var inputSummary: [String] {
        if let p = providedSignals {
            let s = p.signals
            return [
                "  signals from \(p.folder): \(s.recordCount) audit records, \(s.classCount) classes, "
                    + "\(s.referenceCount) reference models, \(s.populationCount) population records"
            ]
        }
        var lines: [String] = []
        if let d = datasetChoice {
            lines.append(
                "  dataset \(d.info.name): \(datasetInfo.recordCount) records, \(datasetInfo.classCount) classes, records of shape \(datasetInfo.featureShape)"
            )
        }
        if let t = targetChoice { lines.append("  target \(t.info.name), trained elsewhere") }
        if let m = modelChoice {
            lines.append(
                "  model \(m.info.name); \(config.referenceCount) reference models; \(config.auditRecords) audit records, \(config.populationRecords) population records"
            )
        }
        return lines
    }
}
