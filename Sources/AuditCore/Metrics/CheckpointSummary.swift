import Foundation

/// Leakage over training: the attacks rerun at chosen epochs of the same trainings
/// (`audit.checkpoints`), evaluated like the final models. `metrics.json`'s `checkpoints`.
struct CheckpointSummary: Codable, Sendable, Equatable {
    /// The lowest configured FPR, the one of `tpr_at_lowest_fpr`.
    var lowestFPR: Double
    /// One entry per audited checkpoint epoch, ascending.
    var epochs: [CheckpointEpoch]
    /// What was asked and could not be audited, as sentences (a backend that offers no
    /// checkpoints, a training stopped before an epoch, attacks that need the target's answers).
    var notes: [String]

    init(lowestFPR: Double, epochs: [CheckpointEpoch], notes: [String]) {
        self.lowestFPR = lowestFPR
        self.epochs = epochs
        self.notes = notes
    }

    /// The attacks of any epoch, in first-seen order.
    var attackOrder: [String] {
        var seen: [String] = []
        for e in epochs { for a in e.attackOrder where !seen.contains(a) { seen.append(a) } }
        return seen
    }

    enum CodingKeys: String, CodingKey {
        case epochs, notes
        case lowestFPR = "lowest_fpr"
    }
}

/// One checkpoint epoch: the target's accuracy then, and each attack's figures on that epoch's
/// signals.
struct CheckpointEpoch: Codable, Sendable, Equatable {
    /// The epoch (from 1) at whose end the models were read.
    var epoch: Int
    /// Accuracy of the target's checkpoint on its members (as `target.train_accuracy`).
    var trainAccuracy: Double
    /// Accuracy of the target's checkpoint on the audit non-members (as `target.test_accuracy`).
    var testAccuracy: Double
    /// The training history's figures of that epoch (train: running mean over the epoch's
    /// batches; held-out: measured after the epoch), nil when the history lacks them.
    var historyTrainAccuracy: Double?
    var historyHeldoutAccuracy: Double?
    /// Attack names in run order (the keys of `attacks`).
    var attackOrder: [String]
    var attacks: [String: CheckpointAttack]
    /// With `audit.canaries`: per attack, the one-run ε lower bound from this epoch's scores on
    /// the canaries (each epoch's bound holds for that epoch's model; the largest over the
    /// epochs is not corrected for the choice of epoch). Nil without canaries.
    var canaryEpsilon: [String: OneRunEpsilonBound]? = nil

    init(
        epoch: Int, trainAccuracy: Double, testAccuracy: Double, historyTrainAccuracy: Double? = nil,
        historyHeldoutAccuracy: Double? = nil, attackOrder: [String] = [], attacks: [String: CheckpointAttack] = [:]
    ) {
        self.epoch = epoch
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.historyTrainAccuracy = historyTrainAccuracy
        self.historyHeldoutAccuracy = historyHeldoutAccuracy
        self.attackOrder = attackOrder
        self.attacks = attacks
    }

    enum CodingKeys: String, CodingKey {
        case epoch, attacks
        case trainAccuracy = "train_accuracy"
        case testAccuracy = "test_accuracy"
        case historyTrainAccuracy = "history_train_accuracy"
        case historyHeldoutAccuracy = "history_heldout_accuracy"
        case attackOrder = "attack_order"
        case canaryEpsilon = "canary_epsilon"
    }
}

/// One attack at one checkpoint: the whole-set figures of its `AttackEvaluation`.
struct CheckpointAttack: Codable, Sendable, Equatable {
    var auc: Double
    var aucCI: ConfidenceInterval
    /// max over thresholds of TPR − FPR.
    var attackerAdvantage: Double
    /// TPR at each configured FPR, keyed by `fprKey`.
    var tprAtFPR: [String: Double]
    /// TPR at the lowest configured FPR.
    var tprAtLowestFPR: Double

    /// The figures of `evaluation` (whose `fprs` hold `lowestFPR`).
    init(_ evaluation: AttackEvaluation, lowestFPR: Double) {
        auc = evaluation.auc
        aucCI = evaluation.aucCI
        attackerAdvantage = evaluation.metrics.attackerAdvantage
        tprAtFPR = evaluation.metrics.tprAtFPR
        tprAtLowestFPR = evaluation.tpr(atFPR: lowestFPR) ?? .nan
    }

    enum CodingKeys: String, CodingKey {
        case auc
        case aucCI = "auc_ci"
        case attackerAdvantage = "attacker_advantage"
        case tprAtFPR = "tpr_at_fpr"
        case tprAtLowestFPR = "tpr_at_lowest_fpr"
    }
}
