import Foundation

@testable import AuditCore

/// SplitMix64: a tiny seeded generator for test data.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// Scores where members are shifted up by `shift`, rounded to `step` to create many ties.
func syntheticScores(n: Int, shift: Double, step: Double?, seed: UInt64) -> (scores: [Double], isMember: [Bool]) {
    var rng = TestRandom(seed)
    var scores: [Double] = [], members: [Bool] = []
    for _ in 0..<n {
        let m = rng.uniform() < 0.5
        var s = rng.gaussian() + (m ? shift : 0)
        if let step { s = (s / step).rounded() * step }
        scores.append(s)
        members.append(m)
    }
    return (scores, members)
}

/// AUC by brute force over every (member, non-member) pair, ties counted one half.
func bruteForceAUC(_ scores: [Double], _ isMember: [Bool]) -> Double {
    var wins = 0.0, pairs = 0.0
    for i in scores.indices where isMember[i] {
        for j in scores.indices where !isMember[j] {
            pairs += 1
            if scores[i] > scores[j] { wins += 1 } else if scores[i] == scores[j] { wins += 0.5 }
        }
    }
    return wins / pairs
}

/// TPR at FPR by brute force: try every distinct score as threshold (score >= t is "member"),
/// keep the best TPR whose FPR is within the target.
func bruteForceTPR(_ scores: [Double], _ isMember: [Bool], atFPR target: Double) -> Double {
    let p = Double(isMember.filter { $0 }.count), q = Double(isMember.filter { !$0 }.count)
    var best = 0.0
    for t in Set(scores) {
        let tp = Double(scores.indices.filter { isMember[$0] && scores[$0] >= t }.count)
        let fp = Double(scores.indices.filter { !isMember[$0] && scores[$0] >= t }.count)
        if fp / q <= target { best = max(best, tp / p) }
    }
    return best
}
