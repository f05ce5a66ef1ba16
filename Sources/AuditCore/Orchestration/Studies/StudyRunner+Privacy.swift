import Foundation

extension StudyRunner {
    /// The study's privacy table for the command line: per point claimed ε (RDP, PLD) and each
    /// attack's one-run bounds; with a seed axis, the classical bound over the seeds per setting.
    /// Empty when no point has DP-SGD or canaries.
    static func privacyTable(_ c: StudyComparison) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
        var rows: [[String]] = [
            [
                "point", "claimed eps RDP", "claimed eps PLD", "canaries", "attack", "eps (Steinke)",
                "mu (f-DP)", "eps of mu",
            ]
        ]
        for p in c.points where p.finished {
            guard let pr = p.privacy else { continue }
            let head = [
                p.name, f(pr.claimedEpsilonRDP), f(pr.claimedEpsilonPLD),
                pr.canaryKind.map { "\(pr.canaries ?? 0) \($0)" } ?? "-",
            ]
            if pr.audits.isEmpty { rows.append(head + ["-", "-", "-", "-"]) }
            for (k, a) in pr.audits.enumerated() {
                rows.append(
                    (k == 0 ? head : Array(repeating: "", count: head.count))
                        + [a.attack, f(a.epsilon), f(a.gaussianMu), f(a.gaussianEpsilon)])
            }
        }
        guard rows.count > 1 else { return "" }
        var out =
            "\nDifferential privacy: claimed (accountants) and audited (one-run lower bounds, 95 %)\n" + aligned(rows)
        let others = c.parameters.filter { $0 != StudyComparison.seedKey }
        var multi: [[String]] = [
            others.map { ConfigKeyPath($0)?.lastKey ?? $0 } + ["attack", "seeds", "eps (multi-run)", "FP/out", "FN/in"]
        ]
        for s in c.settings ?? [] {
            for b in s.multiRun ?? [] {
                multi.append(
                    others.map { s.value(of: $0)?.value ?? "" }
                        + [
                            b.attack, "\(b.trials)", f(b.bound.epsilon),
                            "\(b.bound.falsePositives)/\(b.bound.nonMembers)",
                            "\(b.bound.falseNegatives)/\(b.bound.members)",
                        ])
            }
        }
        if multi.count > 1 {
            out +=
                "\nClassical bound over seeds (one trial per seed, threshold on the first half, 95 %)\n"
                + aligned(multi)
        }
        return out
    }
}
