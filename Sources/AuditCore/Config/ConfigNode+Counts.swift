/// Counts in a config (records, models, threads, samples) are bounded where they are read, so
/// that every sum and product the plan makes of them stays far from Int overflow, and a typo
/// such as `population_records: 9223372036854775807` is an error with its line, not a crash.
extension ConfigNode {
    /// The node's integer, in `range`; outside it, an error naming the bound (and `why`).
    func count(in range: ClosedRange<Int>, _ why: String = "") throws -> Int {
        let value = try int()
        guard value >= range.lowerBound else {
            throw error(range.lowerBound == 0 ? "must not be negative" : "must be at least \(range.lowerBound)")
        }
        guard value <= range.upperBound else {
            throw error("must be at most \(range.upperBound)\(why.isEmpty ? "" : " (\(why))")")
        }
        return value
    }
}

/// The bounds of the config's counts (documented in configs/README.md).
enum CountLimits {
    /// Records of one kind (audit, population, public): record indices are 32-bit in the ABI.
    static let records = 0...Int(Int32.max)
    static let threads = 1...4096
    static let referenceModels = 0...1_000_000
    static let bootstrapSamples = 0...1_000_000
}
