import Foundation
import Kernels
import Testing

// The PLD accountant (Sources/Kernels/PLDAccountant.swift) against an independent
// implementation (Google's dp-accounting, values in Tests/Fixtures/pld_reference.json written by
// scripts/pld-reference.py), the closed form of one Gaussian step, and the RDP accountant.

/// The fixture written by scripts/pld-reference.py.
struct PLDReference: Decodable {
    struct Point: Decodable {
        var sigma: Double
        var q: Double
        var steps: Int
        var epsilon: Double
    }
    var reference: String
    var delta: Double
    var points: [Point]

    static func load() throws -> PLDReference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pld_reference.json")
        return try JSONDecoder().decode(PLDReference.self, from: Data(contentsOf: url))
    }
}

/// ε of one un-subsampled Gaussian step with noise σ (sensitivity 1), from the closed form
/// δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2), μ = 1/σ (Balle and Wang 2018), by bisection.
func gaussianEpsilon(sigma: Double, delta: Double) -> Double {
    let mu = 1 / sigma
    func phi(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
    func deltaAt(_ eps: Double) -> Double { phi(-eps / mu + mu / 2) - exp(eps) * phi(-eps / mu - mu / 2) }
    var (lo, hi) = (0.0, 100.0)
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if deltaAt(mid) > delta { lo = mid } else { hi = mid }
    }
    return hi
}

@Test func fftMatchesTheDirectTransformAndRoundTrips() {
    let n = 16
    let x = (0..<n).map { Double(($0 * 7) % 5) - 1.5 }
    let y = (0..<n).map { Double(($0 * 3) % 4) * 0.25 }
    var re = x
    var im = y
    FFTPlan(count: n).forward(&re, &im)
    for k in 0..<n {
        var (sr, si) = (0.0, 0.0)
        for j in 0..<n {
            let a = -2 * Double.pi * Double(j * k) / Double(n)
            sr += x[j] * cos(a) - y[j] * sin(a)
            si += x[j] * sin(a) + y[j] * cos(a)
        }
        #expect(abs(re[k] - sr) < 1e-12 && abs(im[k] - si) < 1e-12, "bin \(k)")
    }
    FFTPlan(count: n).inverse(&re, &im)
    for j in 0..<n { #expect(abs(re[j] - x[j]) < 1e-13 && abs(im[j] - y[j]) < 1e-13) }
}

@Test func selfCompositionMatchesDirectConvolution() throws {
    // Masses on losses −1, 0, 1, 2 (d = 1) and some at +∞, composed 3 times by hand.
    let p = [0.5, 0.2, 0.2, 0.09]
    let pld = PrivacyLossDistribution(discretisation: 1, offset: -1, masses: p, infinityMass: 0.01)
    var direct = [1.0]
    for _ in 0..<3 {
        var next = [Double](repeating: 0, count: direct.count + p.count - 1)
        for (i, a) in direct.enumerated() { for (j, b) in p.enumerated() { next[i + j] += a * b } }
        direct = next
    }
    let composed = try #require(pld.selfComposed(3))
    #expect(abs(composed.infinityMass - (1 - pow(0.99, 3))) < 1e-14)
    for (i, want) in direct.enumerated() {
        let index = -3 + i - composed.offset
        let got = composed.masses.indices.contains(index) ? composed.masses[index] : 0
        #expect(abs(got - want) < 1e-14, "loss \(-3 + i)")
    }
    // The two-at-once path (one complex FFT for two real PLDs) gives the same as one at a time.
    let other = PrivacyLossDistribution(discretisation: 1, offset: 0, masses: [0.7, 0.3], infinityMass: 0)
    let pair = try #require(PrivacyLossDistribution.selfComposed([pld, other], 3))
    let alone = try #require(other.selfComposed(3))
    #expect(pair[1].offset == alone.offset)
    for (a, b) in zip(pair[1].masses, alone.masses) { #expect(abs(a - b) < 1e-14) }
    #expect(abs(pair[0].epsilon(delta: 0.05) - composed.epsilon(delta: 0.05)) < 1e-12)
}

@Test func epsilonFromADiscretePLDSolvesTheHockeyStickEquation() {
    // Mass 0.9 at loss 0, 0.1 at loss 2 (d = 1): δ(ε) = 0.1 (1 − e^{ε−2}) for 0 ≤ ε < 2.
    let pld = PrivacyLossDistribution(discretisation: 1, offset: 0, masses: [0.9, 0, 0.1], infinityMass: 0)
    let eps = pld.epsilon(delta: 0.05)
    #expect(abs(eps - (2 + log(0.5))) < 1e-12)
    #expect(abs(pld.delta(epsilon: eps) - 0.05) < 1e-12)
    // Mass at +∞ above δ: no finite ε.
    let leaky = PrivacyLossDistribution(discretisation: 1, offset: 0, masses: [0.9], infinityMass: 0.1)
    #expect(leaky.epsilon(delta: 0.05) == .infinity)
}

@Test func oneGaussianStepMatchesTheClosedForm() {
    for sigma in [0.5, 1, 2, 4] {
        let exact = gaussianEpsilon(sigma: sigma, delta: 1e-5)
        let pld = PLDAccountant.epsilon(q: 1, sigma: sigma, steps: 1, delta: 1e-5).epsilon
        // An upper bound, and a tight one.
        #expect(pld >= exact - 1e-9, "sigma \(sigma): \(pld) < exact \(exact)")
        #expect(pld - exact < 1e-5, "sigma \(sigma): \(pld) vs exact \(exact)")
    }
    // k Gaussian steps compose to one with σ/√k (here k = 4: σ = 2 four times is σ = 1 once).
    let four = PLDAccountant.epsilon(q: 1, sigma: 2, steps: 4, delta: 1e-5).epsilon
    let exact = gaussianEpsilon(sigma: 1, delta: 1e-5)
    #expect(four >= exact - 1e-9 && four - exact < 1e-3, "\(four) vs \(exact)")
}

/// |ε − ε_ref| ≤ 1e-3 absolute or 1e-3 relative (whichever is larger), except where ε_ref ≥ 700:
/// there dp-accounting's `exp(-loss)` underflows in its ε(δ) conversion and it returns the
/// loss at which the upper tail reaches δ, which is larger than ε (ours keeps the weights
/// rescaled), so ours may be below it by up to 0.2 % and must not be above.
func agreesWithReference(_ ours: Double, _ reference: Double) -> Bool {
    let tolerance = max(1e-3, 1e-3 * reference)
    if reference >= 700 { return ours <= reference + tolerance && ours >= reference * (1 - 2e-3) }
    return abs(ours - reference) <= tolerance
}

@Test func pldMatchesDPAccountingOnTheGrid() throws {
    let reference = try PLDReference.load()
    #expect(reference.points.count == 48)
    var worst = (absolute: 0.0, relative: 0.0)
    for point in reference.points {
        let ours = PLDAccountant.epsilon(q: point.q, sigma: point.sigma, steps: point.steps, delta: reference.delta)
            .epsilon
        #expect(
            agreesWithReference(ours, point.epsilon),
            "sigma \(point.sigma), q \(point.q), \(point.steps) steps: PLD \(ours), \(reference.reference) \(point.epsilon)"
        )
        if point.epsilon < 700 {
            worst.absolute = max(worst.absolute, abs(ours - point.epsilon))
            worst.relative = max(worst.relative, abs(ours - point.epsilon) / point.epsilon)
        }
        // Tighter than RDP at every grid point, as the PLD is exact up to discretisation.
        let rdp = RDPAccountant.epsilon(q: point.q, sigma: point.sigma, steps: point.steps, delta: reference.delta)
            .epsilon
        #expect(ours <= rdp, "sigma \(point.sigma), q \(point.q), \(point.steps) steps: PLD \(ours) > RDP \(rdp)")
    }
    print("PLD vs dp-accounting, grid below eps 700: max |diff| \(worst.absolute), max relative \(worst.relative)")
}

@Test func pldIsMonotoneInStepsAndNoise() {
    var previous = 0.0
    for steps in [1, 10, 100, 1000] {
        let eps = PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: steps, delta: 1e-5).epsilon
        #expect(eps > previous, "\(steps) steps: \(eps) ≤ \(previous)")
        previous = eps
    }
    previous = .infinity
    for sigma in [0.5, 1, 2, 4] {
        let eps = PLDAccountant.epsilon(q: 0.01, sigma: sigma, steps: 100, delta: 1e-5).epsilon
        #expect(eps < previous, "sigma \(sigma): \(eps) ≥ \(previous)")
        previous = eps
    }
    #expect(PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: 0, delta: 1e-5).epsilon == 0)
    #expect(PLDAccountant.epsilon(q: 0, sigma: 1, steps: 10, delta: 1e-5).epsilon == 0)
    #expect(PLDAccountant.epsilon(q: 0.01, sigma: 0, steps: 10, delta: 1e-5).epsilon == .infinity)
}

@Test func aCoarserGridIsStillAnUpperBound() {
    // Connect-the-dots keeps δ(ε) above the true one at any spacing, so a coarse grid gives a
    // slightly larger ε than a fine one, never a smaller one.
    let fine = PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: 1000, delta: 1e-5)
    let coarse = PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: 1000, delta: 1e-5, discretisation: 1e-2)
    #expect(coarse.discretisation == 1e-2)
    #expect(
        coarse.epsilon >= fine.epsilon - 1e-9 && coarse.epsilon - fine.epsilon < 0.1,
        "\(coarse.epsilon) vs \(fine.epsilon)")
    // A window budget too small for the fine grid coarsens it and says so.
    let squeezed = PLDAccountant.epsilon(q: 0.01, sigma: 1, steps: 1000, delta: 1e-5, maxWindow: 1 << 12)
    #expect(squeezed.discretisation > 1e-4 && squeezed.epsilon >= fine.epsilon - 1e-9)
}

@Test func aTinyNoiseMultiplierCoarsensTheGridInsteadOfAllocatingIt() {
    // σ = 0.001: one step's losses span ~1/(2σ²) = 5e5, 5e9 points at the default spacing (a
    // 40 GB allocation once crashed a DP-SGD run with Dirac canaries). The grid is coarsened
    // until one step fits the window; the ε is still an upper bound, above RDP's lower figure at σ 0.01.
    let tiny = PLDAccountant.epsilon(q: 0.128, sigma: 0.001, steps: 10, delta: 1e-5)
    #expect(tiny.discretisation > 1e-4 && tiny.epsilon > 1000, "\(tiny)")
    let small = PLDAccountant.epsilon(q: 0.128, sigma: 0.01, steps: 10, delta: 1e-5)
    #expect(tiny.epsilon >= small.epsilon, "\(tiny.epsilon) vs \(small.epsilon)")
}
