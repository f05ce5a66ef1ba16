import Foundation
import Kernels
import PluginKit

extension EvaluationStage {
    /// The claimed ε of a target trained here with DP-SGD (`dp_sgd`, `dp_noise_multiplier`,
    /// `batch_size`, `epochs`, `dp_delta` in its options) by both accountants, with the steps the
    /// native backend counts: q = batch_size / members, `max(1, round(members / batch_size))` steps
    /// per epoch, for the epochs the history shows were run (all of them, also those after the
    /// best epoch when early stopping ended the training), else the configured `epochs`. Per
    /// checkpoint epoch too when `checkpointEpochs` is given. Nil for a loaded target, without
    /// those options, and for `distillation: true` (there DP-SGD trains the teacher, whose steps
    /// the student's history and checkpoints do not count; the backend's reported ε stays in
    /// `claimed_epsilon`).
    static func claimedEpsilonAccountants(
        _ plan: AuditPlan, history: [EpochRecord], members: Int, checkpointEpochs: [Int] = []
    ) -> ClaimedEpsilon? {
        guard plan.targetChoice == nil, let options = dpOptions(plan.modelChoice), members > 0,
            let delta = try? options.double("dp_delta"), delta > 0, delta < 1,
            let sigma = try? options.double("dp_noise_multiplier"), sigma >= 0,
            let batch = try? options.double("batch_size"), batch >= 1,
            let configured = try? options.double("epochs"), options.values["distillation"] != .bool(true)
        else { return nil }
        let q = min(1, batch / Double(members))
        let stepsPerEpoch = max(1, Int((Double(members) / batch).rounded()))
        let epochs = history.last?.epoch ?? Int(configured)
        return ClaimedEpsilon(
            delta: delta, samplingRate: q, noiseMultiplier: sigma, steps: epochs * stepsPerEpoch,
            perEpoch: checkpointEpochs.map { (epoch: $0, steps: $0 * stepsPerEpoch) })
    }
}
