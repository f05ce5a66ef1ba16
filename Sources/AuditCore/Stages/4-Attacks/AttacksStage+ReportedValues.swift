import Foundation

// Numbers an attack records while scoring (`MIA_HOST_RESULTS_V1`: rmia's tuned `offline_a`,
// say) go beside its results in metrics.json. They are kept next to the scores
// (`scores/<attack>.values.json`) so that a later run reusing the scores reports them too.
extension AttacksStage {
    /// Keeps `values` for the evaluation and writes them beside the scores (removes a stale file
    /// when there are none).
    func keepReportedValues(_ name: String, _ values: [String: Double], path: (String) -> String) throws {
        let file = path(".values.json")
        guard !values.isEmpty else {
            unlink(file)
            return
        }
        context.reportedValues[name] = values
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(values), as: UTF8.self), to: file)
    }

    /// Reads back the values stored with reused scores, if any.
    func restoreReportedValues(_ name: String, path: (String) -> String) {
        guard let data = FileManager.default.contents(atPath: path(".values.json")),
            let values = try? JSONDecoder().decode([String: Double].self, from: data), !values.isEmpty
        else { return }
        context.reportedValues[name] = values
    }
}
