import Foundation
import Kernels
import PluginKit

/// The loss-trajectory attack (Liu, Wen, Backes and Zhang 2022, "Membership Inference Attacks by
/// Exploiting Loss Trajectory", CCS): a record's loss along a model's training tells a member,
/// whose loss falls early and stays low, from a non-member.
///
/// The host lends the per-epoch logits (ABI 1.4 `MIA_NEEDS_CHECKPOINTS`) from one of two sources
/// (`audit.trajectory.source`): every model's own checkpoints (`audit.checkpoints`, a white-box
/// view of models the audit trains), or, as in the paper, a student distilled from each model
/// (the target too, even one given as a file) on the population records with the model's soft
/// targets, read at the end of each distillation epoch (`source: distillation`, ABI 1.5 soft
/// targets). The attack reads both alike: record i's trajectory under a model is its cross-entropy loss
/// `−log softmax(z)_y` at each checkpoint epoch e₁ < … < e_E, then at the final model (the
/// paper's "plus the target's final loss"). The attack model (`model`, an MLP by default as in
/// the paper) is fitted on the trajectories of every reference model's audit records, labelled
/// by that model's membership (R × N rows), and scores each audit record by the member
/// probability of its trajectory under the target. The target's membership is never read, so
/// every record is evaluated. Higher score = member.
public final class LossTrajectoryAttack: AttackStrategy {
    public static let name = "loss-trajectory"
    public static let summary =
        "Loss trajectory (Liu, Wen, Backes, Zhang 2022, CCS, \"Membership Inference Attacks by Exploiting Loss Trajectory\"): a record's cross-entropy loss at every epoch and at the end, the epochs being each model's own checkpoints (audit.checkpoints) or, as in the paper, a student distilled from each model on the population records (audit.trajectory: {source: distillation, epochs: N}, the target may be a file); an attack model trained on the reference models' trajectories and memberships scores the target's; score = member probability; higher score = member"
    public static let options: [OptionSpec] = AttackModelKind.options(defaultModel: .mlp)

    let model: AttackModelOptions

    public init(options: PluginOptions, host: HostServices) throws {
        model = try AttackModelOptions(options, defaultModel: .mlp)
    }

    public var requirements: AttackRequirements { [.referenceModels, .checkpoints] }

    /// The loss trajectories of every record under one model: for record i, row i holds its loss
    /// at each checkpoint (`checkpoints[e]`, [N, C] logits each), then under `final` ([N, C]).
    /// Rows are [N, E + 1] f64, row-major.
    public static func trajectories(
        checkpoints: [UnsafeBufferPointer<Float>], final: UnsafeBufferPointer<Float>,
        labels: UnsafeBufferPointer<Int32>, classCount c: Int
    ) -> [Double] {
        let n = labels.count, w = checkpoints.count + 1
        var rows = [Double](repeating: 0, count: n * w)
        for (e, logits) in (checkpoints + [final]).enumerated() {
            for i in 0..<n {
                let z = UnsafeBufferPointer(rebasing: logits[(i * c)..<((i + 1) * c)])
                rows[i * w + e] = Probability.crossEntropy(z, label: Int(labels[i]))
            }
        }
        return rows
    }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, c = signals.classCount, r = signals.referenceCount, e = signals.checkpointCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        guard e > 0 else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name) needs checkpoint logits: set `audit.checkpoints` (and a backend that offers checkpoints, such as `native`) or `audit.trajectory: {source: distillation, epochs: N}`"
            )
        }
        guard r >= 1, signals.referenceLogits != nil, signals.referenceMembership != nil,
            signals.checkpointReferenceLogits != nil
        else {
            throw PluginError(.invalidArgument, "\(Self.name) needs at least one reference model, with its checkpoints")
        }
        let epochs = (0..<e).map { signals.checkpoint($0) }
        let w = e + 1
        var x: [Double] = [], y: [UInt8] = []
        x.reserveCapacity(r * n * w)
        y.reserveCapacity(r * n)
        for m in 0..<r {
            let rows = Self.trajectories(
                checkpoints: epochs.map { s in Self.rows(of: s.referenceLogits!, model: m, n * c) },
                final: Self.rows(of: signals.referenceLogits!, model: m, n * c), labels: signals.labels, classCount: c)
            x += rows
            for i in 0..<n { y.append(signals.isReferenceMember(m, i) ? 1 : 0) }
        }
        guard y.contains(1), y.contains(0) else {
            throw PluginError(
                .invalidArgument, "\(Self.name) needs members and non-members among the reference models' audit records"
            )
        }
        var classifier = model.make()
        var rng = SeededRandom.derive(seed: signals.seed, 0)
        try classifier.fit(x, width: w, labels: y, seed: rng.next())
        let target = Self.trajectories(
            checkpoints: epochs.map(\.targetLogits), final: signals.targetLogits, labels: signals.labels, classCount: c)
        let p = classifier.memberProbability(target, width: w)
        for i in 0..<n { scores[i] = p[i] }
    }

    /// Model `m`'s [N, C] block of an [R, N, C] array (`size` = N · C).
    static func rows(of logits: UnsafeBufferPointer<Float>, model m: Int, _ size: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: logits[(m * size)..<((m + 1) * size)])
    }
}
