import Foundation

/// The content of a study's `comparison.json`: every point's swept values, utility and privacy,
/// side by side. `comparison.html` shows the same numbers.
public struct StudyComparison: Codable, Sendable, Equatable {
    /// The tool's version string.
    var toolVersion: String
    /// The study's name (`run.name` of its config).
    var studyName: String
    /// The study's config file, as given on the command line.
    var configFile: String
    /// When this comparison was written, ISO 8601 (UTC).
    var createdAt: String
    /// How the swept lists combine: "grid" or "zip".
    var mode: String
    /// The swept key paths, in the sweep's order.
    var parameters: [String]
    /// Every point of the sweep, finished or not, in sweep order.
    var points: [PointComparison]
    /// The study's `sweep:` section and the rest of its config (verbatim text).
    var configYAML: String
    /// When `run.seed` is swept: every setting of the other swept keys, its finished points'
    /// figures averaged over the seeds (`settings(of:parameters:seedKey:)`); nil otherwise.
    var settings: [SettingComparison]?

    /// - Parameter settings: nil computes them from `points` when `parameters` holds `run.seed`.
    init(
        toolVersion: String, studyName: String, configFile: String, createdAt: String, mode: String,
        parameters: [String], points: [PointComparison], configYAML: String, settings: [SettingComparison]? = nil
    ) {
        self.toolVersion = toolVersion
        self.studyName = studyName
        self.configFile = configFile
        self.createdAt = createdAt
        self.mode = mode
        self.parameters = parameters
        self.points = points
        self.configYAML = configYAML
        self.settings =
            settings
            ?? (parameters.contains(Self.seedKey) ? Self.settings(of: points, parameters: parameters) : nil)
    }

    /// The attack names of every finished point, in first-seen order.
    var attackNames: [String] {
        var names: [String] = []
        for p in points { for a in p.attacks where !names.contains(a.attack) { names.append(a.attack) } }
        return names
    }

    /// `comparison.json`'s bytes: pretty-printed, keys sorted, non-finite numbers as strings.
    func jsonData() throws -> Data { try RunSummary.encoder.encode(self) }

    static func decode(jsonData data: Data) throws -> StudyComparison {
        try RunSummary.decoder.decode(StudyComparison.self, from: data)
    }

    enum CodingKeys: String, CodingKey {
        case toolVersion = "tool_version"
        case studyName = "study_name"
        case configFile = "config_file"
        case createdAt = "created_at"
        case mode, parameters, points, settings
        case configYAML = "config_yaml"
    }
}

/// One point of a study in the comparison.
struct PointComparison: Codable, Sendable, Equatable {
    /// Position in the sweep, from 0.
    var index: Int
    /// The point's folder name (`1-epochs-20`).
    var name: String
    /// Its folder, relative to the study's folder (`points/1-epochs-20`).
    var folder: String
    /// The value of each swept key.
    var values: [SweptValue]
    /// Whether the point's run finished (its `metrics.json` exists for its config).
    var finished: Bool
    /// The target's accuracy (nil until finished).
    var target: PointTarget?
    /// Every attack's headline figures, in run order (empty until finished).
    var attacks: [PointAttack]
    /// Models this point trained, and models it found in the store, in the invocation that ran
    /// it (nil when it was finished by an earlier invocation and that count was not kept).
    var modelsTrained: Int?
    var modelsLoaded: Int?
    /// Wall time of the point's run.
    var seconds: Double?
    /// Claimed ε and canary-audit bounds, when the run had DP-SGD or canaries (`PointPrivacy`).
    var privacy: PointPrivacy? = nil

    init(
        index: Int, name: String, folder: String, values: [SweptValue], finished: Bool, target: PointTarget? = nil,
        attacks: [PointAttack] = [], modelsTrained: Int? = nil, modelsLoaded: Int? = nil, seconds: Double? = nil
    ) {
        self.index = index
        self.name = name
        self.folder = folder
        self.values = values
        self.finished = finished
        self.target = target
        self.attacks = attacks
        self.modelsTrained = modelsTrained
        self.modelsLoaded = modelsLoaded
        self.seconds = seconds
    }

    /// The point's figures from its run's `metrics.json`.
    init(index: Int, name: String, folder: String, values: [SweptValue], summary: RunSummary) {
        let lowest = summary.fprs.filter { $0 > 0 }.min() ?? summary.fprs.min()  // FPR 0 is its own column
        self.init(
            index: index, name: name, folder: folder, values: values, finished: true,
            target: PointTarget(trainAccuracy: summary.target.trainAccuracy, testAccuracy: summary.target.testAccuracy),
            attacks: summary.orderedAttacks.map { e in
                PointAttack(
                    attack: e.attack, auc: e.auc, aucCI: e.bootstrapSamples > 0 ? e.aucCI : nil,
                    lowestFPR: lowest, tprAtLowestFPR: lowest.flatMap { e.tpr(atFPR: $0) },
                    tprAtLowestFPRCI: e.bootstrapSamples > 0 ? lowest.flatMap { e.tprCI(atFPR: $0) } : nil,
                    attackerAdvantage: e.metrics.attackerAdvantage, tprAtFPR: e.metrics.tprAtFPR,
                    balancedAccuracy: e.metrics.balancedAccuracy, precision: e.metrics.ppv,
                    confusionMatrix: e.metrics.confusionMatrix)
            },
            seconds: summary.totalSeconds)
        privacy = PointPrivacy(summary)
    }

    /// The value this point gives `key`, or nil.
    func value(of key: String) -> SweptValue? { values.first { $0.key == key } }

    /// This point's figures for `attack`, or nil.
    func attack(_ name: String) -> PointAttack? { attacks.first { $0.attack == name } }

    enum CodingKeys: String, CodingKey {
        case index, name, folder, values, finished, target, attacks, seconds, privacy
        case modelsTrained = "models_trained"
        case modelsLoaded = "models_loaded"
    }
}

/// The target's utility at one point.
struct PointTarget: Codable, Sendable, Equatable {
    /// Accuracy on its training records (members).
    var trainAccuracy: Double
    /// Accuracy on held-out records (non-members).
    var testAccuracy: Double
    /// trainAccuracy - testAccuracy.
    var accuracyGap: Double

    init(trainAccuracy: Double, testAccuracy: Double) {
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.accuracyGap = trainAccuracy - testAccuracy
    }

    enum CodingKeys: String, CodingKey {
        case trainAccuracy = "train_accuracy"
        case testAccuracy = "test_accuracy"
        case accuracyGap = "accuracy_gap"
    }
}

/// One attack's headline figures at one point (the full evaluation is in the point's
/// `metrics.json`).
struct PointAttack: Codable, Sendable, Equatable {
    /// The attack's name as configured.
    var attack: String
    /// Area under the ROC curve.
    var auc: Double
    /// Its bootstrap interval (nil when the run drew no bootstrap samples).
    var aucCI: ConfidenceInterval?
    /// The lowest configured FPR.
    var lowestFPR: Double?
    /// TPR at the lowest configured FPR.
    var tprAtLowestFPR: Double?
    /// Its bootstrap interval.
    var tprAtLowestFPRCI: ConfidenceInterval?
    /// max over thresholds of TPR - FPR.
    var attackerAdvantage: Double
    /// TPR at every configured FPR, keyed as in `metrics.json`.
    var tprAtFPR: [String: Double]
    /// At the threshold that maximises TPR - FPR (the run's chosen threshold): balanced accuracy
    /// (TPR + TNR) / 2, which is the accuracy when members and non-members are equally many.
    var balancedAccuracy: Double?
    /// Precision (PPV) there: TP / (TP + FP), 0 when nothing is called a member.
    var precision: Double?
    /// Recall there: TP / (TP + FN), the TPR at that threshold; 0 with no members.
    var recall: Double?
    /// The confusion matrix there.
    var confusionMatrix: ConfusionMatrix?

    init(
        attack: String, auc: Double, aucCI: ConfidenceInterval?, lowestFPR: Double?, tprAtLowestFPR: Double?,
        tprAtLowestFPRCI: ConfidenceInterval?, attackerAdvantage: Double, tprAtFPR: [String: Double],
        balancedAccuracy: Double? = nil, precision: Double? = nil, confusionMatrix: ConfusionMatrix? = nil
    ) {
        self.attack = attack
        self.auc = auc
        self.aucCI = aucCI
        self.lowestFPR = lowestFPR
        self.tprAtLowestFPR = tprAtLowestFPR
        self.tprAtLowestFPRCI = tprAtLowestFPRCI
        self.attackerAdvantage = attackerAdvantage
        self.tprAtFPR = tprAtFPR
        self.balancedAccuracy = balancedAccuracy
        self.precision = precision
        self.confusionMatrix = confusionMatrix
        recall = confusionMatrix.map { m in
            m.truePositives + m.falseNegatives == 0
                ? 0 : Double(m.truePositives) / Double(m.truePositives + m.falseNegatives)
        }
    }

    enum CodingKeys: String, CodingKey {
        case attack, auc
        case aucCI = "auc_ci"
        case lowestFPR = "lowest_fpr"
        case tprAtLowestFPR = "tpr_at_lowest_fpr"
        case tprAtLowestFPRCI = "tpr_at_lowest_fpr_ci"
        case attackerAdvantage = "attacker_advantage"
        case tprAtFPR = "tpr_at_fpr"
        case balancedAccuracy = "balanced_accuracy"
        case precision, recall
        case confusionMatrix = "confusion_matrix"
    }
}
