import Foundation
import Kernels
import Testing

@testable import AuditCore

/// The claimed ε by both accountants (RDP and PLD) in metrics.json and the report.
@Suite struct ClaimedEpsilonReportTests {
    /// The checkpoint fixture (epochs 2, 5, 20) with a DP-SGD claim: q = 0.01, σ = 1, 20 steps
    /// per epoch.
    static func fixture() -> ReportFixture {
        var f = CheckpointReportTests.fixture()
        let claimed = ClaimedEpsilon(
            delta: 1e-5, samplingRate: 0.01, noiseMultiplier: 1, steps: 400,
            perEpoch: [2, 5, 20].map { (epoch: $0, steps: $0 * 20) })
        f.summary.privacy = PrivacyEvidence(
            delta: 1e-5, claimedEpsilon: claimed.rdp, empiricalEpsilonLowerBound: ["loss": 0.25], accountants: claimed)
        return f
    }

    @Test func bothAccountantsAreComputedForTheSameStepsAndPLDIsTighter() throws {
        let claimed = try #require(Self.fixture().summary.privacy?.claimedEpsilonAccountants)
        #expect(claimed.rdp == RDPAccountant.epsilon(q: 0.01, sigma: 1, steps: 400, delta: 1e-5).epsilon)
        #expect(claimed.pld == PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: 400, delta: 1e-5).epsilon)
        #expect(claimed.pld > 0 && claimed.pld < claimed.rdp)
        #expect(claimed.neighbouringRelation == "add/remove one record")
        let epochs = try #require(claimed.perEpoch)
        #expect(epochs.map(\.epoch) == [2, 5, 20] && epochs.map(\.steps) == [40, 100, 400])
        // The last checkpoint epoch is the whole training: the same figures.
        #expect(epochs[2].rdp == claimed.rdp && epochs[2].pld == claimed.pld)
        #expect(epochs[0].pld < epochs[1].pld && epochs[1].pld < epochs[2].pld)
        for e in epochs { #expect(e.pld <= e.rdp) }
    }

    @Test func metricsJSONHoldsBothFiguresAndReadsBack() throws {
        let summary = Self.fixture().summary
        let json = String(decoding: try summary.jsonData(), as: UTF8.self)
        for key in [
            "\"claimed_epsilon_accountants\"", "\"rdp\"", "\"pld\"", "\"sampling_rate\"", "\"noise_multiplier\"",
            "\"pld_discretisation\"", "\"neighbouring_relation\"", "\"per_epoch\"",
        ] {
            #expect(json.contains(key), "missing \(key)")
        }
        let decoded = try RunSummary.decode(jsonData: try summary.jsonData())
        #expect(decoded.privacy == summary.privacy)
        // A metrics.json written before the accountants were added still reads.
        var old = summary
        old.privacy?.claimedEpsilonAccountants = nil
        let oldJSON = String(decoding: try old.jsonData(), as: UTF8.self)
        #expect(!oldJSON.contains("claimed_epsilon_accountants"))
        #expect(try RunSummary.decode(jsonData: Data(oldJSON.utf8)).privacy?.claimedEpsilonAccountants == nil)
    }

    @Test func theReportShowsRDPAndPLDSideBySideAndPerCheckpointEpoch() throws {
        let f = Self.fixture()
        let page = f.html()
        #expect(tagBalanceProblem(page) == nil)
        #expect(page.contains("<small>(RDP)</small> / "))
        #expect(page.contains("<small>(PLD)</small>"))
        #expect(page.contains("Claimed ε (RDP)") && page.contains("Claimed ε (PLD)"))
        let json = try JSONSerialization.jsonObject(with: try f.summary.jsonData())
        let regex = try NSRegularExpression(pattern: "data-metric=\"([^\"]*)\" data-format=\"([a-z]+)\">([^<]*)</span>")
        let ns = page as NSString
        var pointers = Set<String>()
        for m in regex.matches(in: page, range: NSRange(location: 0, length: ns.length)) {
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
        let p = "/privacy/claimed_epsilon_accountants"
        var required = ["\(p)/rdp", "\(p)/pld"]
        for k in 0..<3 { required += ["\(p)/per_epoch/\(k)/rdp", "\(p)/per_epoch/\(k)/pld"] }
        for r in required { #expect(pointers.contains(r), "not shown: \(r)") }
    }
}
