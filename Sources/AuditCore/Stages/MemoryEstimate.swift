import Foundation

/// What a plan needs in memory at least, checked against the machine before any work: a config
/// that cannot fit is refused by `validate` and `run` with the estimate, not killed hours later.
///
/// A lower bound, counted overflow-safe: the records' features (audit + population + public, as
/// float32) and the logits the host holds (target and population logits, and one model's logits
/// at a time, as float32). Models, optimiser state and the reference logits (written to files
/// and mapped) come on top; a plan is refused only when this bound alone exceeds physical memory.
struct MemoryEstimate: Sendable, Equatable {
    var featureBytes: Int
    var logitBytes: Int
    /// nil when the count overflows Int (more than 8 EiB).
    var total: Int? {
        let (t, o) = featureBytes.addingReportingOverflow(logitBytes)
        return o ? nil : t
    }

    /// Product of `factors`, or nil on overflow.
    static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            let (q, o) = p.multipliedReportingOverflow(by: max(0, f))
            if o { return nil }
            p = q
        }
        return p
    }

    /// The estimate of a plan with `records` records of `featureShape` and `classCount` classes;
    /// nil when it overflows.
    static func of(records: Int, featureShape: [Int], classCount: Int) -> MemoryEstimate? {
        guard let features = product([records] + featureShape + [4]),
            let logits = product([records, classCount, 4, 3])
        else { return nil }
        return MemoryEstimate(featureBytes: features, logitBytes: logits)
    }

    static func gib(_ bytes: Int) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }

    /// Nil when the plan fits in `available` bytes; otherwise the sentence saying why not.
    static func refusal(
        records: Int, featureShape: [Int], classCount: Int,
        available: UInt64 = ProcessInfo.processInfo.physicalMemory
    ) -> String? {
        let what =
            "\(records) records × \(featureShape.map(String.init).joined(separator: "×")) features × 4 bytes, and \(classCount)-class logits"
        guard let e = of(records: records, featureShape: featureShape, classCount: classCount), let total = e.total
        else {
            return "the plan needs more memory than can be counted (\(what))"
        }
        guard UInt64(total) > available else { return nil }
        return
            "the plan needs at least \(gib(total)) of memory (\(gib(e.featureBytes)) of features: \(what); \(gib(e.logitBytes)) of logits), "
            + "but this machine has \(gib(Int(clamping: available)))"
    }
}
