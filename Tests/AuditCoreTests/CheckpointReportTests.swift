import Foundation
import Testing

@testable import AuditCore

/// The "Leakage over training" section and `metrics.json`'s `checkpoints`.
@Suite struct CheckpointReportTests {
    /// The report fixture with checkpoints at epochs 2, 5 and 20: two attacks whose member
    /// scores separate more at each later epoch.
    static func fixture() -> ReportFixture {
        var f = ReportFixture.make(records: 400, bootstrapSamples: 20)
        let isMember = f.isMember
        var rng = TestRandom(7)
        let labels = isMember.map { _ in Int32(rng.next() % 10) }
        let epochs = [2, 5, 20].enumerated().map { k, epoch -> CheckpointEpoch in
            var e = CheckpointEpoch(
                epoch: epoch, trainAccuracy: 0.7 + 0.1 * Double(k), testAccuracy: 0.68 + 0.05 * Double(k))
            for (j, name) in ["loss", "lira <offline>"].enumerated() {
                let shift = 0.2 * Double(k + 1) * Double(j + 1)
                let scores = isMember.map { rng.gaussian() + ($0 ? shift : 0) }
                let evaluation = evaluate(
                    attack: name, scores: scores, evaluationMask: [UInt8](repeating: 1, count: scores.count),
                    isMember: isMember,
                    labels: labels, targetCorrect: isMember, fprs: f.summary.fprs, slices: .none, bootstrapSamples: 20,
                    seed: 3)
                e.attackOrder.append(name)
                e.attacks[name] = CheckpointAttack(evaluation, lowestFPR: 0.001)
            }
            return e
        }
        f.summary.checkpoints = CheckpointSummary(
            lowestFPR: 0.001, epochs: epochs, notes: ["`shadow` queries <the target>."])
        return f
    }

    /// The section's HTML.
    func section(_ page: String) throws -> String {
        let start = try #require(page.range(of: "<section id=\"checkpoints\">"))
        let end = try #require(page.range(of: "</section>", range: start.upperBound..<page.endIndex))
        return String(page[start.lowerBound..<end.upperBound])
    }

    @Test func theSectionShowsEveryEpochsFiguresAsMetricsJSONHoldsThem() throws {
        let f = Self.fixture()
        let page = f.html()
        #expect(tagBalanceProblem(page) == nil)
        let html = try section(page)
        #expect(html.contains("<h2>Leakage over training</h2>"))
        for id in ["checkpoints-auc", "checkpoints-advantage", "checkpoints-accuracy"] {
            #expect(html.contains("<svg class=\"plot\" id=\"\(id)\""), "missing plot \(id)")
        }
        // One line per attack in the AUC and advantage plots, two in the accuracy plot.
        #expect(html.components(separatedBy: "class=\"series\"").count - 1 == 2 + 2 + 2)
        #expect(html.contains("`shadow` queries &lt;the target&gt;."))
        #expect(html.contains("lira &lt;offline&gt;"))

        // Every number shown is metrics.json's, rounded the documented way.
        let json = try JSONSerialization.jsonObject(with: try f.summary.jsonData())
        let regex = try NSRegularExpression(pattern: "data-metric=\"([^\"]*)\" data-format=\"([a-z]+)\">([^<]*)</span>")
        let ns = html as NSString
        var pointers = Set<String>()
        for m in regex.matches(in: html, range: NSRange(location: 0, length: ns.length)) {
            let pointer = ns.substring(with: m.range(at: 1)).replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            let number = (value(at: pointer, in: json) as? NSNumber)?.doubleValue
            #expect(number != nil, "no number at \(pointer) in metrics.json")
            if let number {
                #expect(
                    expectedText(number, format: ns.substring(with: m.range(at: 2)))
                        == ns.substring(with: m.range(at: 3)), "\(pointer)")
            }
            pointers.insert(pointer)
        }
        for k in 0..<3 {
            let p = "/checkpoints/epochs/\(k)"
            var required = ["\(p)/epoch", "\(p)/train_accuracy", "\(p)/test_accuracy"]
            for name in ["loss", "lira <offline>"] {
                required += ["auc", "auc_ci/lower", "attacker_advantage", "tpr_at_lowest_fpr"].map {
                    "\(p)/attacks/\(name)/\($0)"
                }
            }
            for r in required { #expect(pointers.contains(r), "not shown: \(r)") }
        }
    }

    @Test func checkpointsRoundTripThroughMetricsJSON() throws {
        let summary = Self.fixture().summary
        let decoded = try RunSummary.decode(jsonData: try summary.jsonData())
        #expect(decoded.checkpoints == summary.checkpoints)
        #expect(decoded.checkpoints?.attackOrder == ["loss", "lira <offline>"])
        // Figures are the evaluation's: the separation grows, so does the AUC.
        let aucs = try #require(decoded.checkpoints).epochs.map { $0.attacks["lira <offline>"]!.auc }
        #expect(aucs == aucs.sorted() && aucs[0] < aucs[2])
        // A run folder of an older version (no `checkpoints`) still decodes, and shows no section.
        var old = summary
        old.checkpoints = nil
        let text = String(decoding: try old.jsonData(), as: UTF8.self)
        #expect(!text.contains("\"checkpoints\""))
        #expect(try RunSummary.decode(jsonData: Data(text.utf8)).checkpoints == nil)
        var f = Self.fixture()
        f.summary.checkpoints = nil
        #expect(!f.html().contains("Leakage over training"))
    }

    @Test func anAuditWithNoEpochLeftSaysWhy() throws {
        var f = Self.fixture()
        f.summary.checkpoints = CheckpointSummary(
            lowestFPR: 0.01, epochs: [], notes: ["model backend `python` reported no checkpoint for any model."])
        let html = try section(f.html())
        #expect(html.contains("reported no checkpoint for any model"))
        #expect(html.contains("No checkpoint epoch could be audited."))
        #expect(!html.contains("<svg"))
    }

    @Test func aCheckpointAttackKeepsTheEvaluationsWholeSetFigures() {
        let isMember = (0..<8).map { $0 < 4 }
        let scores: [Double] = [0.9, 0.8, 0.3, 0.7, 0.6, 0.2, 0.1, 0.4]
        let e = evaluate(
            attack: "a", scores: scores, evaluationMask: [UInt8](repeating: 1, count: 8), isMember: isMember,
            labels: [Int32](repeating: 0, count: 8), targetCorrect: isMember, fprs: [0.25, 0.5], slices: .none,
            bootstrapSamples: 0, seed: 1)
        let c = CheckpointAttack(e, lowestFPR: 0.25)
        // By hand: 14 of the 16 (member, non-member) pairs are ordered right; the best threshold
        // (0.7) takes 3 of 4 members and 0 non-members: advantage 0.75.
        #expect(c.auc == 14.0 / 16)
        #expect(c.attackerAdvantage == 0.75)
        #expect(c.tprAtLowestFPR == e.tpr(atFPR: 0.25))
        #expect(c.tprAtFPR == e.metrics.tprAtFPR)
    }
}
