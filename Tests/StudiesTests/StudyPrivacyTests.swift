import Foundation
import Kernels
import Testing

@testable import AuditCore

/// The study's privacy figures: claimed ε by both accountants, the one-run bounds per point, and
/// the classical bound over seeds, from constructed per-seed results.
@Suite struct StudyPrivacyTests {
    /// A finished point of setting `kind` and seed `seed` whose run had canaries: canary 0 is in
    /// by `coin`, and the attack `loss` scored it `score`; one-run bounds ε 0.5, μ 0.7.
    func point(_ k: Int, kind: String, seed: Int, coin: Bool, score: Double, claimed: ClaimedEpsilon?)
        -> PointComparison
    {
        var s = summary(
            auc: 0.6, advantage: 0.1,
            matrix: ConfusionMatrix(truePositives: 6, falsePositives: 4, trueNegatives: 6, falseNegatives: 4),
            train: 0.9, test: 0.8)
        s.privacy = PrivacyEvidence(
            delta: 1e-5, claimedEpsilon: claimed?.rdp, empiricalEpsilonLowerBound: [:], accountants: claimed)
        var bound = OneRunEpsilonBound(
            epsilon: 0.5, confidence: 0.95, delta: 1e-5, canaries: 4, scored: 4, k: 1, guesses: 2,
            correct: 2, kTried: [1])
        bound.gaussianDP = OneRunGaussianDPBound(
            mu: 0.7, epsilon: gaussianDPEpsilon(mu: 0.7, delta: 1e-5), confidence: 0.95,
            delta: 1e-5, k: 1, guesses: 2, correct: 2)
        var audit = CanaryAuditSummary(
            kind: kind, count: 4, included: 2, seed: UInt64(seed), claimedEpsilon: claimed?.rdp,
            delta: 1e-5, confidence: 0.95, bounds: ["loss": bound], attackOrder: ["loss"],
            indices: [3, 4, 5, 6])
        var scores = [Double](repeating: 0, count: 8)
        scores[3] = score
        audit.firstCanary = CanaryTrial(
            [(name: "loss", scores: scores, mask: [UInt8](repeating: 1, count: 8))],
            indices: audit.indices, included: [coin, true, false, false])
        s.canaryAudit = audit
        let values = [
            SweptValue(key: "audit.canaries.kind", value: kind, number: nil),
            SweptValue(key: "run.seed", value: "\(seed)", number: Double(seed)),
        ]
        return PointComparison(index: k, name: "\(k)-p", folder: "points/\(k)-p", values: values, summary: s)
    }

    /// `n` seeds of setting `kind`: coins alternate in, out; `separable` scores 1 for in and 0
    /// for out (a perfect attack), otherwise a score that ignores the coin.
    func seeds(_ n: Int, kind: String, separable: Bool, from k: Int = 0) -> [PointComparison] {
        (0..<n).map { i in
            let coin = i % 2 == 0
            return point(
                k + i, kind: kind, seed: 100 + i, coin: coin,
                score: separable ? (coin ? 1 : 0) : Double((i * 7) % 5), claimed: nil)
        }
    }

    @Test func eachSeedAddsOneTrialAndTheBoundIsTheClassicalOneOnTheSecondHalf() throws {
        let points =
            seeds(80, kind: "mislabelled", separable: true) + seeds(80, kind: "natural", separable: false, from: 80)
        let c = StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
            parameters: ["audit.canaries.kind", "run.seed"], points: points, configYAML: "")
        let settings = try #require(c.settings)
        #expect(settings.count == 2)
        let leaky = try #require(settings[0].multiRun?.first)
        #expect(leaky.attack == "loss" && leaky.trials == 80 && leaky.selectionTrials == 40)
        // The same bound computed directly: threshold from seeds 0..<40, counts on seeds 40..<80.
        let coins = (0..<80).map { $0 % 2 == 0 }, scores = coins.map { $0 ? 1.0 : 0.0 }
        let direct = multiRunEpsilonBound(
            selection: (Array(scores[..<40]), Array(coins[..<40])),
            bound: (Array(scores[40...]), Array(coins[40...])), delta: 1e-5)
        #expect(leaky.bound == direct)
        // 20 members and 20 non-members all told apart: clearly above 0, yet below what 1,000 canaries give.
        #expect(leaky.bound.epsilon > 1 && leaky.bound.falsePositives == 0 && leaky.bound.falseNegatives == 0)
        // An attack blind to the coin shows nothing.
        #expect(try #require(settings[1].multiRun?.first).bound.epsilon == 0)
        // The JSON keeps it.
        let back = try StudyComparison.decode(jsonData: try c.jsonData())
        #expect(back == c)
        #expect(String(decoding: try c.jsonData(), as: UTF8.self).contains("\"multi_run_epsilon\""))
    }

    @Test func oneSeedOrNoCanariesGiveNoMultiRunBound() throws {
        let c = StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
            parameters: ["audit.canaries.kind", "run.seed"], points: seeds(1, kind: "natural", separable: true),
            configYAML: "")
        #expect(try #require(c.settings).first?.multiRun?.isEmpty ?? true)
        #expect(!StudyRunner.privacyTable(c).contains("Classical bound"))
    }

    @Test func theTablesShowBothAccountantsAndBothOneRunBounds() throws {
        let claimed = ClaimedEpsilon(delta: 1e-5, samplingRate: 0.1, noiseMultiplier: 1.0, steps: 20)
        #expect(claimed.pld <= claimed.rdp)
        let points = [
            point(0, kind: "natural", seed: 1, coin: true, score: 1, claimed: claimed),
            point(1, kind: "natural", seed: 2, coin: false, score: 0, claimed: claimed),
        ]
        let c = StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "zip",
            parameters: ["audit.canaries.kind", "run.seed"], points: points, configYAML: "")
        let pr = try #require(c.points[0].privacy)
        #expect(pr.claimedEpsilonRDP == claimed.rdp && pr.claimedEpsilonPLD == claimed.pld)
        #expect(pr.audit("loss")?.gaussianMu == 0.7 && pr.audit("loss")?.epsilon == 0.5)
        let text = StudyRunner.table(c)
        #expect(text.contains("claimed eps PLD") && text.contains(String(format: "%.2f", claimed.pld)))
        #expect(text.contains("mu (f-DP)") && text.contains("0.70"))
        let html = renderComparison(c)
        #expect(
            html.contains("Claimed ε (PLD)") && html.contains("data-metric=\"/points/0/privacy/claimed_epsilon_pld\""))
        #expect(html.contains("/points/0/privacy/audits/0/gaussian_dp_mu"))
        #expect(html.contains("Classical bound over the seeds"))
    }
}
