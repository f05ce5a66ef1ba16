import AttacksClassifier
import AttacksReference
import Foundation
import Kernels
import PluginKit
import Testing

/// QMIA's quantile regression, BASE, and the label-only boundary distance, each against a
/// known answer or an independent computation of its formula.
@Suite struct LowCostTests {
    // MARK: QMIA

    /// y = 2 x0 - x1 + 0.5 + σ ε, ε ~ N(0, 1), σ = 0.7: the τ-quantile given x is the line plus
    /// σ Φ⁻¹(τ); Φ⁻¹(0.9) = 1.2815516.
    @Test func pinballFitFindsAKnownQuantile() {
        var rng = SeededRandom(seed: 11)
        let sigma = 0.7, tau = 0.9, z = 1.2815516
        func sample(_ n: Int) -> (x: [Double], y: [Double]) {
            var x: [Double] = [], y: [Double] = []
            for _ in 0..<n {
                let a = rng.nextDouble() * 2 - 1, b = rng.nextDouble() * 2 - 1
                x += [a, b]
                y.append(2 * a - b + 0.5 + sigma * rng.nextGaussian())
            }
            return (x, y)
        }
        let train = sample(4000)
        var model = QuantileRegressor(quantile: tau, hiddenUnits: 0, epochs: 40, learningRate: 0.01, l2: 0)
        model.fit(train.x, width: 2, targets: train.y, seed: 3)
        let grid: [Double] = [-0.9, -0.9, 0, 0, 0.9, 0.9, 0.5, -0.5, -0.5, 0.5]
        let predicted = model.predict(grid, width: 2)
        for i in 0..<5 {
            let truth = 2 * grid[2 * i] - grid[2 * i + 1] + 0.5 + sigma * z
            #expect(
                abs(predicted[i] - truth) < 0.08, "x = \(grid[2 * i]), \(grid[2 * i + 1]): \(predicted[i]) vs \(truth)")
        }
        // Fresh records fall below the fitted quantile about τ of the time.
        let test = sample(4000)
        let q = model.predict(test.x, width: 2)
        let covered = Double(zip(test.y, q).filter { $0 <= $1 }.count) / 4000
        #expect(abs(covered - tau) < 0.02, "coverage \(covered)")
        // Its pinball loss is no worse than the true quantile's, within sampling noise.
        let truthQ = (0..<4000).map { 2 * test.x[2 * $0] - test.x[2 * $0 + 1] + 0.5 + sigma * z }
        #expect(
            QuantileRegressor.pinballLoss(test.y, q, tau: tau) < QuantileRegressor.pinballLoss(test.y, truthQ, tau: tau)
                + 0.01)
    }

    /// Heteroscedastic noise, σ(x) = 0.2 + 0.6 |x|: the MLP's quantile follows it where a
    /// constant could not (coverage holds on each half of the range, not just overall).
    @Test func mlpQuantileFollowsHeteroscedasticNoise() {
        var rng = SeededRandom(seed: 5)
        func sample(_ n: Int) -> (x: [Double], y: [Double]) {
            var x: [Double] = [], y: [Double] = []
            for _ in 0..<n {
                let a = rng.nextDouble() * 2 - 1
                x.append(a)
                y.append(a + (0.2 + 0.6 * abs(a)) * rng.nextGaussian())
            }
            return (x, y)
        }
        let train = sample(4000)
        var model = QuantileRegressor(quantile: 0.95, hiddenUnits: 16, epochs: 60, learningRate: 0.01, l2: 0)
        model.fit(train.x, width: 1, targets: train.y, seed: 9)
        // Known quantile: x + σ(x) Φ⁻¹(0.95), Φ⁻¹(0.95) = 1.6448536.
        for a in [-0.8, -0.4, 0.0, 0.4, 0.8] {
            let truth = a + (0.2 + 0.6 * abs(a)) * 1.6448536
            let got = model.predict([a], width: 1)[0]
            #expect(abs(got - truth) < 0.15, "x = \(a): \(got) vs \(truth)")
        }
    }

    /// Constant features: the regressor can only learn the population's quantile. Hinges
    /// 0, 1, ..., 99 at τ = 0.9: any value in [89, 90] minimises the pinball loss. Two audit
    /// records with hinges 95 and 50 then score 95 - q and 50 - q.
    @Test func qmiaOnAHandCheckableCase() throws {
        let p = 100
        let popLogits: [Float] = (0..<p).flatMap { [Float($0), 0] }
        let s = TestSignals(
            classCount: 2, labels: [0, 0], targetLogits: [95, 0, 50, 0],
            populationLabels: [Int32](repeating: 0, count: p), populationTargetLogits: popLogits,
            features: [1, 1], populationFeatures: [Float](repeating: 1, count: p), featureShape: [1])
        let attack = try QMIAAttack(
            options: opts(["alpha": .double(0.1), "model": .string("linear")]), host: .standalone)
        let (scores, mask) = try s.score(with: attack)
        #expect(mask == [1, 1])
        #expect(scores[0] >= 95 - 90.01 && scores[0] <= 95 - 88.99, "\(scores)")
        #expect(abs((scores[0] - scores[1]) - 45) < 1e-9)
    }

    /// Non-member hinges depend on a feature (mean 3 x); members get +1.5. The raw hinge mixes
    /// the two groups; QMIA's per-record quantile removes the feature's effect and ranks better.
    @Test func qmiaBeatsTheRawHingeWhenDifficultyVaries() throws {
        var rng = SeededRandom(seed: 17)
        func record(member: Bool) -> (x: Float, logits: [Float]) {
            let x = Float(rng.nextInt(below: 2))
            let h = 3 * Double(x) + rng.nextGaussian() + (member ? 1.5 : 0)
            return (x, [Float(h), 0])
        }
        let pop = (0..<2000).map { _ in record(member: false) }
        let membership = (0..<600).map { UInt8($0 % 2) }
        let audit = membership.map { record(member: $0 == 1) }
        let s = TestSignals(
            classCount: 2, labels: [Int32](repeating: 0, count: 600), targetLogits: audit.flatMap(\.logits),
            populationLabels: [Int32](repeating: 0, count: 2000), populationTargetLogits: pop.flatMap(\.logits),
            targetMembership: membership, features: audit.map(\.x), populationFeatures: pop.map(\.x), featureShape: [1])
        let attack = try QMIAAttack(options: opts(["alpha": .double(0.05)]), host: .standalone)
        let scores = try s.score(with: attack).scores
        let hinge = audit.map { Double($0.logits[0]) }
        let qmiaAUC = bruteForceAUC(scores: scores, membership: membership)
        let rawAUC = bruteForceAUC(scores: hinge, membership: membership)
        #expect(qmiaAUC > rawAUC + 0.05, "QMIA \(qmiaAUC), raw hinge \(rawAUC)")
        #expect(throws: PluginError.self) {
            try QMIAAttack(options: opts(["model": .string("forest")]), host: .standalone)
        }
    }

    // MARK: BASE

    /// BASE written out from Lassila et al. 2025 with direct softmaxes and plain loops.
    func referenceBASE(_ s: TestSignals, online: Bool, temperature t: Double, scale: Double) -> [Double] {
        let n = s.recordCount, c = s.classCount
        func logP(_ logits: [Float], _ row: Int, _ y: Int32) -> Double {
            log(directSoftmax(logits[(row * c)..<((row + 1) * c)].map { Float(Double($0) / t) }[...])[Int(y)])
        }
        var allOut: [Double] = []
        for r in 0..<s.referenceCount {
            for i in 0..<n where s.referenceMembership[r * n + i] == 0 {
                allOut.append(exp(logP(s.referenceLogits, r * n + i, s.labels[i])))
            }
        }
        return (0..<n).map { i in
            let used = (0..<s.referenceCount).filter { online || s.referenceMembership[$0 * n + i] == 0 }
            let mean =
                used.isEmpty
                ? allOut.reduce(0, +) / Double(allOut.count)
                : used.map { exp(logP(s.referenceLogits, $0 * n + i, s.labels[i])) }.reduce(0, +) / Double(used.count)
            return logP(s.targetLogits, i, s.labels[i]) - (online ? 1 : scale) * log(mean)
        }
    }

    @Test(arguments: [("offline", 2.0, 0.33), ("online", 2.0, 0.33), ("offline", 1.0, 1.0), ("online", 0.5, 0.33)])
    func baseMatchesItsFormula(mode: String, temperature: Double, scale: Double) throws {
        let s = syntheticSignals(n: 150, c: 4, r: 6, p: 0)
        // Record 0 has no OUT model: offline it falls back to the mean of every OUT probability.
        for r in 0..<6 { s.referenceMembership[r * 150] = 1 }
        let attack = try BASEAttack(
            options: opts(["mode": .string(mode), "temperature": .double(temperature), "offline_scale": .double(scale)]
            ), host: .standalone)
        let got = try s.score(with: attack).scores
        let want = referenceBASE(s, online: mode == "online", temperature: temperature, scale: scale)
        for i in 0..<150 {
            #expect(abs(got[i] - want[i]) < 1e-9 * max(1, abs(want[i])), "record \(i): \(got[i]) vs \(want[i])")
        }
        #expect(bruteForceAUC(scores: got, membership: s.targetMembership) > 0.7)
        // Same scores whatever the chunking.
        attack.chunkSize = 7
        #expect(try s.score(with: attack).scores == got)
    }

    @Test func baseRefusesBadOptions() {
        #expect(throws: PluginError.self) {
            try BASEAttack(options: opts(["temperature": .double(0)]), host: .standalone)
        }
        #expect(throws: PluginError.self) {
            try BASEAttack(options: opts(["offline_scale": .double(1.5)]), host: .standalone)
        }
        #expect(throws: PluginError.self) {
            try BASEAttack(options: opts(["mode": .string("both")]), host: .standalone)
        }
    }

    // MARK: Boundary distance

    /// A linear binary "model" answering labels only: class 1 where w·x + b > 0. The distance of
    /// x to its boundary is |w·x + b| / ‖w‖.
    final class LinearLabels: TargetQueries {
        let w: [Float], b: Float
        private(set) var queries = 0
        init(w: [Float], b: Float) {
            self.w = w
            self.b = b
        }
        func margin(_ x: ArraySlice<Float>) -> Double {
            zip(x, w).reduce(Double(b)) { $0 + Double($1.0) * Double($1.1) }
        }
        func predictTarget(features: [Float], count: Int) throws -> [Float] {
            queries += count
            let d = w.count
            // Label only, as an `http` target with `response: label` gives it to the host.
            return (0..<count).flatMap { i -> [Float] in
                margin(features[(i * d)..<((i + 1) * d)]) > 0 ? [-103, 0] : [0, -103]
            }
        }
        func trainShadow(features: [Float], labels: [Int32], seed: UInt64) throws -> any ShadowModel {
            throw PluginError(.unsupported, "no shadow models here")
        }
    }

    static func linearCase(n: Int, d: Int) -> (LinearLabels, [Float], [Int32], [Double]) {
        var rng = SeededRandom(seed: 31)
        let w = (0..<d).map { _ in Float(rng.nextGaussian()) }
        let target = LinearLabels(w: w, b: 0.3)
        let norm = w.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let x = (0..<(n * d)).map { _ in Float(rng.nextGaussian()) }
        var labels: [Int32] = [], truth: [Double] = []
        for i in 0..<n {
            let m = target.margin(x[(i * d)..<((i + 1) * d)])
            labels.append(m > 0 ? 1 : 0)
            truth.append(abs(m) / norm)
        }
        return (target, x, labels, truth)
    }

    @Test func boundarySearchFindsTheDistanceToALinearBoundary() throws {
        let n = 40, d = 10
        let (target, x, labels, truth) = Self.linearCase(n: n, d: d)
        let search = BoundarySearch(
            queryBudget: 600, gradientQueries: 40, binarySteps: 14, initialScale: 0.05, batchRecords: 16)
        let result = try search.run(features: x, labels: labels, width: d, seed: 4) { rows, count in
            try target.predictTarget(features: rows, count: count).enumerated().filter { $0.offset % 2 == 1 }.map {
                $0.element > -1 ? 1 : 0
            }
        }
        for i in 0..<n {
            #expect(
                result.distances[i] >= truth[i] * (1 - 1e-3),
                "record \(i): \(result.distances[i]) below the true \(truth[i])")
            #expect(
                abs(result.distances[i] - truth[i]) <= 0.05 * truth[i] + 1e-3,
                "record \(i): \(result.distances[i]) vs \(truth[i])")
            #expect(result.queries[i] <= 600)
        }
        #expect(result.queries.reduce(0, +) == target.queries)
    }

    @Test func boundaryAttackScoresDistancesAndZeroForWrongLabels() throws {
        let n = 24, d = 6
        let (target, x, labels, truth) = Self.linearCase(n: n, d: d)
        var wrong = labels
        wrong[3] = 1 - wrong[3]  // the target labels record 3 wrongly: distance 0, one query
        let s = TestSignals(
            classCount: 2, labels: wrong, targetLogits: [Float](repeating: 0, count: 2 * n), features: x,
            featureShape: [d])
        let attack = try BoundaryDistanceAttack(options: opts(["query_budget": .int(400)]), host: .standalone)
        #expect(attack.requirements == [.queryAccess, .features])
        let scores = try s.score(with: attack, query: target).scores
        #expect(scores[3] == 0)
        for i in 0..<n where i != 3 {
            #expect(abs(scores[i] - truth[i]) <= 0.05 * truth[i] + 1e-3, "record \(i): \(scores[i]) vs \(truth[i])")
        }
        #expect(target.queries <= 400 * (n - 1) + 1)
        // Without the query service, a clear error.
        #expect(throws: PluginError.self) { try s.score(with: attack) }
        // A budget below the setup's queries is refused.
        #expect(throws: PluginError.self) {
            try BoundaryDistanceAttack(options: opts(["query_budget": .int(20)]), host: .standalone)
        }
    }
}
