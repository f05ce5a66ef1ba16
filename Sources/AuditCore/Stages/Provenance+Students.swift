import Foundation
import PluginKit

extension Provenance {
    /// The key of a distillation student (`audit.trajectory.source: distillation`): everything
    /// that determines it. Its teacher (the teacher's own key: a model of this store, or a target
    /// trained elsewhere by its backend, file and membership), the student's backend with its
    /// options (the `epochs` set to the distillation epochs) and library bytes, the distillation
    /// records by content (features and labels), the teacher's soft targets by content (what the
    /// student learns from; a teacher answering otherwise is another student), the temperature,
    /// the epochs and the seed.
    func studentKey(
        teacher: String, backend: ResolvedComponent, records: [Float], labels: [Int32], softTargets: [Float],
        temperature: Double, epochs: Int, seed: UInt64
    ) -> String {
        var h = SHA256()
        h.update("\(Provenance.scheme) distillation-student\n")
        h.update("teacher \(teacher)\n")
        h.update("backend " + identity(backend))
        h.update("records=\(labels.count) features sha256=")
        var r = SHA256()
        r.update(raw: records)
        r.update(raw: labels)
        h.update(r.hexDigest() + "\nsoft_targets sha256=")
        var s = SHA256()
        s.update(raw: softTargets)
        h.update(s.hexDigest() + "\n")
        h.update("temperature=\(temperature.bitPattern) epochs=\(epochs) seed=\(seed)\n")
        return h.hexDigest()
    }
}
