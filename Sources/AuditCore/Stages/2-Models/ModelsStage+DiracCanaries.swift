import Foundation
import Kernels
import PluginKit

// Dirac gradient canaries (`audit.canaries.kind: dirac`): the host decides m canaries and their
// coins (`CanarySet`) and gives them to the target's training only (ABI 1.4,
// `GradientCanaries`); the backend inserts them into its DP-SGD steps and returns each one's
// parameter coordinate and score, kept in the store beside the target (`GradientCanaryFile`).
// A stored target without an intact file is trained again.
extension ModelsStage {
    /// The gradient canaries `job` trains with: the target's, with `dirac` canaries; else nil.
    func gradientCanaries(for job: ModelJob) -> GradientCanaries? {
        guard job.index == 0, let config = config.canaries, config.kind == .dirac else { return nil }
        let set = CanarySet(config, auditRecords: self.config.auditRecords)
        return GradientCanaries(included: set.included, seed: set.gradientSeed)
    }

    /// Keeps what the backend reported for `job`'s canaries; refuses a backend that did not insert them.
    func storeGradientCanaries(_ canaries: GradientCanaries?, _ job: ModelJob) throws {
        guard let canaries else { return }
        guard canaries.inserted else {
            throw PluginError(
                .unsupported,
                "the `\(plan.model.info.name)` model backend (\(plan.model.info.plugin.path)) trained the target without inserting the Dirac gradient canaries (`audit.canaries.kind: dirac`): it does not offer them (ABI 1.4 `gradient_canaries`); the native backend with `dp_sgd: true` does"
            )
        }
        let file = GradientCanaryFile(
            included: canaries.included, coordinates: canaries.coordinates, scores: canaries.scores, seed: canaries.seed
        )
        try file.write(to: GradientCanaryFile.path(store, key: job.key))
    }

    /// Whether `job` needs no gradient-canary file, or the store holds an intact one.
    func hasGradientCanaries(_ job: ModelJob) -> Bool {
        guard let request = gradientCanaries(for: job) else { return true }
        return GradientCanaryFile.read(store, key: job.key, count: request.count) != nil
    }
}

extension CanarySet {
    /// The seed the backend gets for Dirac canaries' coordinates and per-step sampling.
    var gradientSeed: UInt64 {
        var rng = SeededRandom.derive(seed: config.seed, 40_003)
        return rng.next()
    }
}
