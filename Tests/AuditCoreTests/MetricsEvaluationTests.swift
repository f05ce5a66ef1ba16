import Foundation
import Testing

@testable import AuditCore

@Suite("Bootstrap intervals, slices, JSON")
struct MetricsEvaluationTests {
    /// Hanley & McNeil (1982) standard error of an AUC, an independent yardstick for the bootstrap.
    func hanleyMcNeilSE(auc a: Double, members p: Int, nonMembers q: Int) -> Double {
        let q1 = a / (2 - a), q2 = 2 * a * a / (1 + a)
        let v = (a * (1 - a) + Double(p - 1) * (q1 - a * a) + Double(q - 1) * (q2 - a * a)) / Double(p * q)
        return v.squareRoot()
    }

    @Test("Intervals contain the estimate, match the normal-theory width, narrow with N")
    func bootstrapIntervals() {
        var widths: [Double] = []
        for n in [500, 5000] {
            let (scores, members) = syntheticScores(n: n, shift: 0.8, step: 0.05, seed: UInt64(n))
            let m = membershipMetrics(
                scores: scores, isMember: members, fprs: [0.1, 0.3], threshold: nil,
                bootstrapSamples: 200, level: 0.95, seed: 7)
            #expect(m.aucCI.contains(m.auc))
            #expect(m.tprAtFPRCI["0.1"]!.contains(m.tprAtFPR["0.1"]!))
            #expect(m.tprAtFPRCI["0.3"]!.contains(m.tprAtFPR["0.3"]!))
            let se = hanleyMcNeilSE(auc: m.auc, members: m.memberCount, nonMembers: n - m.memberCount)
            let ratio = m.aucCI.width / (2 * 1.96 * se)
            #expect(ratio > 0.75 && ratio < 1.3, "bootstrap width / normal width = \(ratio)")
            widths.append(m.aucCI.width)
        }
        // Width shrinks like 1 / sqrt(N): a factor sqrt(10) ~ 3.2 here.
        #expect(widths[1] < widths[0] / 2.2)
    }

    @Test("Same seed, same intervals; no resamples, point intervals")
    func seeded() {
        let (scores, members) = syntheticScores(n: 300, shift: 0.5, step: nil, seed: 3)
        let a = membershipMetrics(
            scores: scores, isMember: members, fprs: [0.05], threshold: nil,
            bootstrapSamples: 50, level: 0.95, seed: 11)
        let b = membershipMetrics(
            scores: scores, isMember: members, fprs: [0.05], threshold: nil,
            bootstrapSamples: 50, level: 0.95, seed: 11)
        #expect(a == b)
        let none = membershipMetrics(
            scores: scores, isMember: members, fprs: [0.05], threshold: nil,
            bootstrapSamples: 0, level: 0.95, seed: 11)
        #expect(none.aucCI == ConfidenceInterval(lower: none.auc, upper: none.auc))
    }

    @Test("The bootstrap's statistic on the original counts is the point estimate")
    func resampleStatisticMatchesPoint() {
        for seed in UInt64(20)...24 {
            let (scores, members) = syntheticScores(n: 700, shift: 0.9, step: seed % 2 == 0 ? 0.2 : nil, seed: seed)
            let fprs = [0.001, 0.02, 0.1, 0.5]
            let point = membershipMetrics(
                scores: scores, isMember: members, fprs: fprs, threshold: nil,
                bootstrapSamples: 0, level: 0.95, seed: 0)
            let ranked = RankedScores(scores: scores, isMember: members)
            var tprs = [Double](repeating: -1, count: fprs.count)
            let auc = ranked.memberCounts.withUnsafeBufferPointer { p in
                ranked.nonMemberCounts.withUnsafeBufferPointer { q in
                    curveSummary(
                        memberCounts: p, nonMemberCounts: q, memberTotal: ranked.memberTotal,
                        nonMemberTotal: ranked.nonMemberTotal, sortedTargets: fprs, tprs: &tprs)
                }
            }
            #expect(abs(auc - point.auc) < 1e-12)
            #expect(tprs == fprs.map { point.tprAtFPR[fprKey($0)]! })
        }
    }

    @Test("Quantiles interpolate between order statistics")
    func quantiles() {
        #expect(quantile([1, 2, 3, 4, 5], 0.5) == 3)
        #expect(quantile([1, 2, 3, 4, 5], 0.25) == 2)
        #expect(quantile([0, 10], 0.975) == 9.75)
    }

    func auditRecords(n: Int, seed: UInt64) -> (
        scores: [Double], mask: [UInt8], members: [Bool], labels: [Int32], correct: [Bool]
    ) {
        var rng = TestRandom(seed)
        let (scores, members) = syntheticScores(n: n, shift: 0.6, step: 0.1, seed: seed)
        let labels = (0..<n).map { _ in Int32(rng.next() % 4) }
        let correct = (0..<n).map { _ in rng.uniform() < 0.8 }
        let mask = (0..<n).map { _ in UInt8(rng.uniform() < 0.85 ? 1 : 0) }
        return (scores, mask, members, labels, correct)
    }

    @Test("Slices partition the evaluated records and each is its own subset's metrics")
    func slicesPartition() {
        let r = auditRecords(n: 1200, seed: 5)
        let e = evaluate(
            attack: "loss", scores: r.scores, evaluationMask: r.mask, isMember: r.members,
            labels: r.labels, targetCorrect: r.correct, fprs: [0.01, 0.1],
            slices: .all, bootstrapSamples: 20, seed: 1)
        let kept = r.scores.indices.filter { r.mask[$0] != 0 }
        #expect(e.metrics.recordCount == kept.count)
        #expect(e.metrics.memberCount == kept.filter { r.members[$0] }.count)
        let classes = e.slices.filter { $0.kind == "class" }
        #expect(classes.map(\.value) == ["0", "1", "2", "3"])
        #expect(classes.map(\.metrics.recordCount).reduce(0, +) == kept.count)
        let byCorrect = e.slices.filter { $0.kind == "correctness" }
        #expect(byCorrect.map(\.name) == ["correct", "incorrect"])
        #expect(byCorrect.map(\.metrics.recordCount).reduce(0, +) == kept.count)
        for slice in e.slices {
            let records = kept.filter {
                slice.kind == "class"
                    ? "\(r.labels[$0])" == slice.value
                    : (r.correct[$0] ? "correct" : "incorrect") == slice.value
            }
            #expect(slice.metrics.recordCount == records.count)
            let auc = bruteForceAUC(records.map { r.scores[$0] }, records.map { r.members[$0] })
            #expect(abs(slice.metrics.auc - auc) < 1e-12)
            // The whole set's threshold, applied to the slice.
            #expect(slice.metrics.threshold == e.metrics.threshold)
            let tp = records.filter { r.members[$0] && r.scores[$0] >= e.metrics.threshold }.count
            #expect(slice.metrics.confusionMatrix.truePositives == tp)
        }
        // Confusion matrices of a partition add up to the whole set's.
        #expect(
            classes.map(\.metrics.confusionMatrix.falsePositives).reduce(0, +)
                == e.metrics.confusionMatrix.falsePositives)
    }

    @Test("Masked records are left out")
    func maskedRecords() {
        let r = auditRecords(n: 600, seed: 8)
        let e = evaluate(
            attack: "a", scores: r.scores, evaluationMask: r.mask, isMember: r.members,
            labels: r.labels, targetCorrect: r.correct, fprs: [0.1], slices: .none,
            bootstrapSamples: 30, seed: 4)
        let kept = r.scores.indices.filter { r.mask[$0] != 0 }
        let f = evaluate(
            attack: "a", scores: kept.map { r.scores[$0] },
            evaluationMask: kept.map { _ in 1 }, isMember: kept.map { r.members[$0] },
            labels: kept.map { r.labels[$0] }, targetCorrect: kept.map { r.correct[$0] },
            fprs: [0.1], slices: .none, bootstrapSamples: 30, seed: 4)
        #expect(e == f)
        #expect(e.slices.isEmpty)
        let curve = rocCurve(scores: r.scores, isMember: r.members, evaluationMask: r.mask)
        #expect(curve.auc == e.auc && curve.memberCount == e.metrics.memberCount)
    }

    @Test("metrics.json round-trips with the documented keys")
    func json() throws {
        let r = auditRecords(n: 300, seed: 2)
        let e = evaluate(
            attack: "lira", scores: r.scores, evaluationMask: r.mask, isMember: r.members,
            labels: r.labels, targetCorrect: r.correct, fprs: [0.001, 0.01],
            slices: .all, bootstrapSamples: 10, seed: 4)
        var summary = RunSummary(
            toolVersion: "0.1.0", runName: "t", createdAt: "2026-01-01T00:00:00Z",
            dataset: DatasetSummary(name: "d", records: 300, classes: 4),
            target: TargetSummary(
                trainAccuracy: 0.9, testAccuracy: 0.8,
                history: [EpochSummary(epoch: 1, trainLoss: 1, trainAccuracy: 0.5, seconds: 2)]),
            fprs: [0.001, 0.01])
        summary.add(
            e,
            mostAtRisk: mostAtRisk(
                scores: r.scores, isMember: r.members, evaluationMask: r.mask,
                labels: r.labels, count: 3))
        let data = try summary.jsonData()
        #expect(try RunSummary.decode(jsonData: data) == summary)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let attack = (object["attacks"] as! [String: Any])["lira"] as! [String: Any]
        #expect((attack["tpr_at_fpr"] as! [String: Double]).keys.sorted() == ["0.001", "0.01"])
        for key in [
            "auc", "auc_ci", "tpr_at_fpr_ci", "attacker_advantage", "balanced_accuracy", "ppv",
            "threshold", "confusion_matrix", "slices", "record_count", "member_count",
        ] {
            #expect(attack[key] != nil, "missing \(key)")
        }
        let slice = (attack["slices"] as! [[String: Any]])[0]
        #expect(slice["name"] as? String == "class 0" && slice["auc"] != nil)
    }

    @Test("Most at risk: the highest-scoring evaluated members")
    func risk() {
        let top = mostAtRisk(
            scores: [0.9, 0.99, 0.5, 0.7, 0.8], isMember: [true, false, true, true, true],
            evaluationMask: [1, 1, 1, 1, 0], labels: [3, 1, 4, 1, 5],
            recordIndices: [10, 11, 12, 13, 14], count: 2)
        #expect(top == [RiskRecord(index: 10, label: 3, score: 0.9), RiskRecord(index: 13, label: 1, score: 0.7)])
    }

    /// The A1 scale: 20,000 records, 200 resamples, three FPRs. Prints the time; the speed
    /// figure is measured in release (`swift test -c release --filter MetricsEvaluationTests`).
    @Test("Bootstrap at 20,000 records")
    func bootstrapScale() {
        let (scores, members) = syntheticScores(n: 20_000, shift: 0.3, step: nil, seed: 12)
        let start = Date()
        let m = membershipMetrics(
            scores: scores, isMember: members, fprs: [0.001, 0.01, 0.1], threshold: nil,
            bootstrapSamples: 200, level: 0.95, seed: 1)
        let seconds = Date().timeIntervalSince(start)
        print("evaluation of 20,000 records with 200 resamples: \(String(format: "%.3f", seconds)) s")
        #expect(m.aucCI.contains(m.auc))
        #expect(m.aucCI.width > 0 && m.aucCI.width < 0.03)

        var rng = TestRandom(3)
        let labels = (0..<scores.count).map { _ in Int32(rng.next() % 10) }
        let correct = (0..<scores.count).map { _ in rng.uniform() < 0.85 }
        let sliced = Date()
        let e = evaluate(
            attack: "a", scores: scores, evaluationMask: [UInt8](repeating: 1, count: scores.count),
            isMember: members, labels: labels, targetCorrect: correct, fprs: [0.001, 0.01, 0.1],
            slices: .all, bootstrapSamples: 200, seed: 1)
        print("evaluate() with 12 slices: \(String(format: "%.3f", Date().timeIntervalSince(sliced))) s")
        #expect(e.slices.count == 12 && e.metrics == m)
    }
}
