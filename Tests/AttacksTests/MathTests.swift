import Foundation
import Kernels
import Testing

@Suite struct ProbabilityTests {
    @Test func softmaxFamilyMatchesDirectFormulas() {
        let z: [Float] = [0.3, -1.2, 2.5, 0.0]
        let p = directSoftmax(z[...])
        z.withUnsafeBufferPointer { zp in
            var out = [Double](repeating: 0, count: 4)
            out.withUnsafeMutableBufferPointer { Probability.softmax(zp, into: $0) }
            for j in 0..<4 { #expect(abs(out[j] - p[j]) < 1e-12) }
            out.withUnsafeMutableBufferPointer { Probability.logSoftmax(zp, into: $0) }
            for j in 0..<4 { #expect(abs(out[j] - log(p[j])) < 1e-12) }
            #expect(abs(Probability.crossEntropy(zp, label: 1) + log(p[1])) < 1e-12)
            #expect(abs(Probability.logitScaledConfidence(zp, label: 2) - log(p[2] / (1 - p[2]))) < 1e-12)
            #expect(Probability.argmax(zp) == 2)
        }
    }

    @Test func logitScaledConfidenceStaysExactWhenPRoundsToOne() {
        // p_y = 1 / (1 + e^-50): log(p / (1 - p)) = 50 exactly, though 1 - p rounds to 0 in f64.
        let z: [Float] = [50, 0]
        z.withUnsafeBufferPointer { zp in
            #expect(abs(Probability.logitScaledConfidence(zp, label: 0) - 50) < 1e-12)
            #expect(abs(Probability.logitScaledConfidence(zp, label: 1) + 50) < 1e-12)
            // log p of the dominant class ≈ -e^-50, still resolved.
            var out = [0.0, 0.0]
            out.withUnsafeMutableBufferPointer { Probability.logSoftmax(zp, into: $0) }
            #expect(abs(out[0] / -exp(-50.0) - 1) < 1e-9)
        }
    }

    @Test func normalFunctions() {
        // Φ(1.96) = 0.9750021048517795 (tables).
        #expect(abs(Probability.normalCDF(1.96) - 0.975_002_104_851_779_5) < 1e-12)
        #expect(abs(Probability.normalLogPDF(1, mean: 0, sd: 1) - (-0.5 - 0.5 * log(2 * Double.pi))) < 1e-12)
        #expect(abs(Probability.normalLogPDF(3, mean: 1, sd: 2) - (-0.5 - log(2) - 0.5 * log(2 * Double.pi))) < 1e-12)
        for z in [-3.0, -0.5, 0, 0.7, 2, 5] {
            #expect(
                abs(Probability.normalLogSF(z) - log(1 - Probability.normalCDF(z))) < 1e-9
                    * max(1, abs(log(1 - Probability.normalCDF(z)))))
        }
        // The asymptotic branch joins the erfc branch at 37, and keeps growing past erfc's underflow.
        let below = Probability.normalLogSF(36.999_999), above = Probability.normalLogSF(37.000_001)
        #expect(abs(below - above) < 1e-4)
        #expect(Probability.normalLogSF(60) < Probability.normalLogSF(50))
        #expect(Probability.normalLogSF(60).isFinite)
    }

    /// Reference values of `log(1 - Φ(z))` from mpmath at 400 digits
    /// (`mp.log(mp.ncdf(-z))`), and, in the lower tail, a second method in this test: the Mills
    /// ratio series `Φ(z) ≈ φ(z)/|z| · (1 - 1/z² + 3/z⁴ - 15/z⁶ + 105/z⁸)` with
    /// `log(1 - Φ) ≈ -Φ - Φ²/2`.
    @Test func normalLogSFStaysInLogSpaceInBothTails() {
        let reference: [(Double, Double)] = [
            (-30, -4.906_713_927_148_187_059_5e-198), (-20, -2.753_624_118_606_233_695_1e-89),
            (-10, -7.619_853_024_160_526_066e-24), (-8.5, -9.479_534_822_203_318_399_1e-18),
            (5, -15.064_998_393_988_725_736), (30, -454.321_243_956_343_197_11), (40, -804.608_442_013_753_788_17),
        ]
        for (z, want) in reference {
            let got = Probability.normalLogSF(z)
            #expect(abs(got - want) <= 1e-12 * abs(want), "z = \(z): \(got) vs \(want)")
        }
        for z in stride(from: -36.0, through: -8.0, by: 0.5) {
            let t = 1 / (z * z)
            let phi =
                exp(-0.5 * z * z) / (2 * Double.pi).squareRoot() / -z
                * (1 - t + 3 * t * t - 15 * t * t * t + 105 * t * t * t * t)
            let second = -phi - phi * phi / 2
            // The series' truncation error is below its next term, 945/z¹⁰.
            #expect(abs(Probability.normalLogSF(z) - second) <= (1e-12 + 945 * pow(t, 5)) * abs(second), "z = \(z)")
        }
        // Offline LiRA scores -logSF: distinct z in the lower tail give distinct scores (no ties).
        let scores = stride(from: -37.0, through: -8.0, by: 0.01).map { -Probability.normalLogSF($0) }
        for k in 1..<scores.count { #expect(scores[k] > scores[k - 1], "tie at z = \(-37.0 + 0.01 * Double(k))") }
    }
}

@Suite struct StatisticsTests {
    @Test func meanVarianceAndCounting() {
        let x = [2.0, 4, 4, 4, 5, 5, 7, 9]
        let (m, v) = Statistics.meanVariance(x)
        #expect(m == 5)
        #expect(v == 4)
        #expect(abs(Statistics.meanVariance(x, ddof: 1).variance - 32.0 / 7) < 1e-12)
        x.withUnsafeBufferPointer { s in
            #expect(Statistics.countLess(s, 4) == 1)
            #expect(Statistics.countLessOrEqual(s, 4) == 4)
            #expect(Statistics.countLess(s, 100) == 8)
        }
        #expect(Statistics.quantile(sorted: x, 0.5) == 4.5)
        #expect(Statistics.quantile(sorted: x, 0.25) == 4)
    }

    @Test func kdeBandwidthAndDensity() {
        let samples = [0.0, 1, 2, 3, 10]
        // σ (ddof 1) = √(62.8/4 ... ) computed by hand: mean 3.2, squared deviations sum 62.8.
        let sd = (62.8 / 4).squareRoot()
        // Quartiles (linear): 1 and 3, IQR 2 → 2 / 1.34 < σ.
        let h = 0.9 * (2 / 1.34) * pow(5, -0.2)
        let kde = GaussianKDE(samples: samples)
        #expect(abs(kde.bandwidth - h) < 1e-12)
        #expect(2 / 1.34 < sd)
        for x in [-1.0, 0.5, 2.2, 9] {
            let direct =
                samples.map { exp(-0.5 * pow((x - $0) / h, 2)) / (h * (2 * Double.pi).squareRoot()) }.reduce(0, +) / 5
            #expect(abs(kde.density(x) / direct - 1) < 1e-12)
        }
        // Integrates to 1 (trapezoid over ±12 h around the samples).
        var integral = 0.0
        let step = 0.01
        for k in 0..<Int((10 + 24 * h) / step) {
            integral += kde.density(-12 * h + Double(k) * step) * step
        }
        #expect(abs(integral - 1) < 1e-3)
        // Far from the data the log density is finite where the density underflows.
        #expect(kde.density(500) == 0)
        #expect(kde.logDensity(500).isFinite)
        #expect(abs(kde.logDensity(500) - (-0.5 * pow(490 / h, 2) - log(5 * h) - 0.5 * log(2 * Double.pi))) < 1e-6)
    }
}
