import Foundation

/// A figure over the seeds of one setting: mean and spread.
///
/// `sd` is the sample standard deviation, sqrt(sum (x - mean)^2 / (n - 1)), nil when n < 2.
/// Non-finite values are left out (so n may be smaller than the setting's point count).
struct SeedSpread: Codable, Sendable, Equatable {
    /// Values averaged.
    var n: Int
    var mean: Double
    /// Sample standard deviation (n - 1 denominator); nil when n < 2.
    var sd: Double?
    var min: Double
    var max: Double

    /// The spread of `values`, nil when none is finite.
    init?(_ values: [Double]) {
        let x = values.filter(\.isFinite)
        guard !x.isEmpty else { return nil }
        n = x.count
        mean = x.reduce(0, +) / Double(x.count)
        let m = mean
        sd = x.count < 2 ? nil : (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
        min = x.min()!
        max = x.max()!
    }
}

/// A confusion matrix averaged over seeds: each cell the mean of the seeds' counts, each taken
/// at that seed's own chosen threshold (the one maximising TPR - FPR).
struct MeanConfusionMatrix: Codable, Sendable, Equatable {
    var truePositives: Double
    var falsePositives: Double
    var trueNegatives: Double
    var falseNegatives: Double
    /// Matrices averaged.
    var n: Int

    /// The cell-wise mean of `matrices`, nil when there are none.
    init?(_ matrices: [ConfusionMatrix]) {
        guard !matrices.isEmpty else { return nil }
        let k = Double(matrices.count)
        n = matrices.count
        truePositives = Double(matrices.map(\.truePositives).reduce(0, +)) / k
        falsePositives = Double(matrices.map(\.falsePositives).reduce(0, +)) / k
        trueNegatives = Double(matrices.map(\.trueNegatives).reduce(0, +)) / k
        falseNegatives = Double(matrices.map(\.falseNegatives).reduce(0, +)) / k
    }

    enum CodingKeys: String, CodingKey {
        case truePositives = "tp", falsePositives = "fp", trueNegatives = "tn", falseNegatives = "fn", n
    }
}

/// One setting of a study with a seed axis: the finished points that differ only in the seed,
/// their figures averaged.
struct SettingComparison: Codable, Sendable, Equatable {
    /// The value of every swept key but the seed.
    var values: [SweptValue]
    /// The indices (`PointComparison.index`) of the finished points averaged, in sweep order.
    var points: [Int]
    /// The seeds of those points, as swept.
    var seeds: [String]
    /// Target accuracy on members and on non-members, over the seeds.
    var trainAccuracy: SeedSpread?
    var testAccuracy: SeedSpread?
    /// Every attack of those points, in first-seen order.
    var attacks: [SettingAttack]
    /// With canaries, per attack the classical ε bound over the seeds (`SettingMultiRunBound`).
    var multiRun: [SettingMultiRunBound]? = nil

    /// The value this setting gives `key`, or nil.
    func value(of key: String) -> SweptValue? { values.first { $0.key == key } }

    /// This setting's figures for `attack`, or nil.
    func attack(_ name: String) -> SettingAttack? { attacks.first { $0.attack == name } }

    enum CodingKeys: String, CodingKey {
        case values, points, seeds, attacks
        case multiRun = "multi_run_epsilon"
        case trainAccuracy = "train_accuracy"
        case testAccuracy = "test_accuracy"
    }
}

/// One attack's figures at one setting, over the seeds (each spread's n counts the seeds that ran
/// the attack).
struct SettingAttack: Codable, Sendable, Equatable {
    var attack: String
    var auc: SeedSpread
    var attackerAdvantage: SeedSpread
    /// Balanced accuracy, precision and recall at each seed's chosen threshold (nil when the
    /// points' comparison lacks them).
    var balancedAccuracy: SeedSpread?
    var precision: SeedSpread?
    var recall: SeedSpread?
    /// The confusion matrix at each seed's chosen threshold, averaged cell by cell.
    var confusionMatrix: MeanConfusionMatrix?

    enum CodingKeys: String, CodingKey {
        case attack, auc, precision, recall
        case attackerAdvantage = "attacker_advantage"
        case balancedAccuracy = "balanced_accuracy"
        case confusionMatrix = "confusion_matrix"
    }
}

extension StudyComparison {
    /// The swept key that names the seed: points that differ only in it are averaged.
    static let seedKey = "run.seed"

    /// The finished points grouped by every swept value but `seedKey`, groups in the order of
    /// their first point, each group's figures averaged over its points.
    ///
    /// A group holds one point per seed (the sweep makes each combination once); its attacks are
    /// those of any of its points, each averaged over the points that ran it.
    static func settings(of points: [PointComparison], parameters: [String], seedKey: String = seedKey)
        -> [SettingComparison]
    {
        let others = parameters.filter { $0 != seedKey }
        func setting(_ p: PointComparison) -> [SweptValue] { others.compactMap { p.value(of: $0) } }
        var groups: [(values: [SweptValue], points: [PointComparison])] = []
        for p in points where p.finished && p.target != nil {
            let v = setting(p)
            if let g = groups.firstIndex(where: { $0.values == v }) {
                groups[g].points.append(p)
            } else {
                groups.append((v, [p]))
            }
        }
        return groups.map { g in
            var names: [String] = []
            for p in g.points { for a in p.attacks where !names.contains(a.attack) { names.append(a.attack) } }
            let attacks = names.compactMap { name -> SettingAttack? in
                let runs = g.points.compactMap { $0.attack(name) }
                guard let auc = SeedSpread(runs.map(\.auc)), let advantage = SeedSpread(runs.map(\.attackerAdvantage))
                else { return nil }
                return SettingAttack(
                    attack: name, auc: auc, attackerAdvantage: advantage,
                    balancedAccuracy: SeedSpread(runs.compactMap(\.balancedAccuracy)),
                    precision: SeedSpread(runs.compactMap(\.precision)),
                    recall: SeedSpread(runs.compactMap(\.recall)),
                    confusionMatrix: MeanConfusionMatrix(runs.compactMap(\.confusionMatrix)))
            }
            return SettingComparison(
                values: g.values, points: g.points.map(\.index),
                seeds: g.points.map { $0.value(of: seedKey)?.value ?? "" },
                trainAccuracy: SeedSpread(g.points.compactMap { $0.target?.trainAccuracy }),
                testAccuracy: SeedSpread(g.points.compactMap { $0.target?.testAccuracy }),
                attacks: attacks,
                multiRun: g.points.contains { $0.privacy?.trial != nil }
                    ? SettingMultiRunBound.bounds(g.points, attacks: names) : nil)
        }
    }
}
