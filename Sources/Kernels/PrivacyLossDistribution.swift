#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A discrete privacy loss distribution (PLD): probability mass on the losses `(offset + i) · d`
/// for i in `0 ..< masses.count`, and `infinityMass` on +∞ (Koskela, Jälkö, Honkela 2020; Meiser
/// and Mohammad 2018 call these "privacy buckets").
///
/// For a pair of output distributions (P, Q) the privacy loss is `L = log(P(o)/Q(o))`, o ~ P. The
/// hockey-stick divergence `δ(ε) = E_P[(1 − e^{ε−L})₊]` is the smallest δ for which (P, Q) is
/// (ε, δ)-indistinguishable; a discrete PLD whose δ(ε) is at least the true one for every ε
/// *dominates* the pair, and the composition of dominating PLDs dominates the composition
/// (Zhu, Dong, Wang 2022), so ε read from it is an upper bound. Composition is the convolution of
/// the masses (losses add); `selfComposed` does it in one FFT. Owner: the accountants in Kernels.
public struct PrivacyLossDistribution: Sendable, Equatable {
    /// The spacing d of the loss grid.
    public let discretisation: Double
    /// The grid index of `masses[0]`.
    public let offset: Int
    /// Mass at loss `(offset + i) · d`; non-negative.
    public let masses: [Double]
    /// Mass at loss +∞ (outputs only one side can produce, and pessimistically truncated tails).
    public let infinityMass: Double

    public init(discretisation: Double, offset: Int, masses: [Double], infinityMass: Double) {
        precondition(discretisation > 0 && !masses.isEmpty && infinityMass >= 0)
        self.discretisation = discretisation
        self.offset = offset
        self.masses = masses
        self.infinityMass = infinityMass
    }

    /// The PLD of a mechanism that reveals nothing: all mass on loss 0.
    public static func identity(discretisation: Double) -> PrivacyLossDistribution {
        PrivacyLossDistribution(discretisation: discretisation, offset: 0, masses: [1], infinityMass: 0)
    }

    /// The loss of `masses[i]`.
    public func loss(_ i: Int) -> Double { Double(offset + i) * discretisation }

    /// `δ(ε) = infinityMass + Σ_i masses[i] (1 − e^{ε − loss(i)})₊`.
    public func delta(epsilon: Double) -> Double {
        var delta = infinityMass
        for i in masses.indices.reversed() {
            let l = loss(i)
            if l <= epsilon { break }
            delta += masses[i] * -expm1(epsilon - l)
        }
        return delta
    }

    /// The smallest ε ≥ 0 with `δ(ε) ≤ delta`; +∞ when `infinityMass > delta`.
    ///
    /// δ(ε) is decreasing and, between two grid losses, equal to `A − e^{ε − l_j} S` with A the
    /// mass above the segment and S that mass weighted by `e^{l_j − l}`; the scan walks down the
    /// grid keeping A and S (S rescaled by `e^{−d}` per step, so no exponential overflows) and
    /// solves that equation in the segment where δ crosses `delta`.
    public func epsilon(delta target: Double) -> Double {
        precondition(target > 0 && target < 1)
        if infinityMass > target { return .infinity }
        var above = infinityMass  // infinityMass + mass strictly above the current grid point
        var weighted = 0.0  // Σ_{k above j} masses[k] · e^{l_j − l_k}
        let shrink = exp(-discretisation)
        var j = masses.count - 1
        while j >= 0 {
            // Here `above`, `weighted` describe the losses above l_j; δ(l_j) = above − weighted.
            if above - weighted > target {
                // δ crosses `target` in (l_j, l_{j+1}]: solve above − e^{ε − l_j} · weighted = target.
                return max(0, loss(j) + log((above - target) / weighted))
            }
            above += masses[j]
            weighted = (weighted + masses[j]) * shrink
            j -= 1
        }
        // Below the lowest grid loss: the same equation, anchored one step below it.
        if weighted <= 0 || above <= target { return 0 }
        return max(0, loss(-1) + log((above - target) / weighted))
    }

    /// The PLD of `count` independent compositions of this one, with the tails outside a window
    /// holding all but `tailBound` of the mass cut pessimistically: the upper tail's mass (at most
    /// `tailBound / 2`, by a Chernoff bound on the sum of losses) is added to `infinityMass`; the
    /// lower tail's mass wraps around the cyclic convolution onto losses in the window, where it
    /// can only increase δ. Nil when the window would need more than `maxWindow` grid points.
    ///
    /// One FFT of the masses, the `count`-th power of every coefficient (repeated squaring), one
    /// inverse FFT: O(N log N) for an N-point window, whatever `count` is.
    public func selfComposed(_ count: Int, tailBound: Double = 1e-15, maxWindow: Int = 1 << 22)
        -> PrivacyLossDistribution?
    {
        Self.selfComposed([self], count, tailBound: tailBound, maxWindow: maxWindow)?[0]
    }

    /// `selfComposed` of one or two PLDs; two share one complex FFT (the first in the real
    /// part, the second in the imaginary part; their spectra are separated by conjugate symmetry).
    public static func selfComposed(
        _ pair: [PrivacyLossDistribution], _ count: Int, tailBound: Double = 1e-15, maxWindow: Int = 1 << 22
    ) -> [PrivacyLossDistribution]? {
        precondition(count >= 0 && tailBound > 0 && tailBound < 1 && (1...2).contains(pair.count))
        if count == 0 { return pair.map { .identity(discretisation: $0.discretisation) } }
        if count == 1 { return pair }
        let finite = pair.map { $0.masses.reduce(0, +) }
        let windows = pair.indices.map { k in
            finite[k] > 0
                ? pair[k].chernoffWindow(count, finite: finite[k], tailBound: tailBound / 2) : (low: 0, high: 0)
        }
        let width = windows.map { $0.high - $0.low + 1 }.max()!
        if width > maxWindow { return nil }
        let n = FFTPlan.length(atLeast: width)
        let plan = FFTPlan(count: n)
        var re = [Double](repeating: 0, count: n)
        var im = [Double](repeating: 0, count: n)
        for (i, m) in pair[0].masses.enumerated() { re[i % n] += m }
        if pair.count == 2 { for (i, m) in pair[1].masses.enumerated() { im[i % n] += m } }
        plan.forward(&re, &im)
        if pair.count == 1 {
            for k in 0..<n { (re[k], im[k]) = power(re[k], im[k], count) }
        } else {
            // X = (Z_k + conj Z_{-k}) / 2 and Y = (Z_k − conj Z_{-k}) / 2i are the spectra of the
            // two real sequences; Z'_k = X_k^count + i Y_k^count.
            var outRe = [Double](repeating: 0, count: n)
            var outIm = [Double](repeating: 0, count: n)
            for k in 0..<n {
                let m = (n - k) & (n - 1)
                let (a, b, c, d) = (re[k], im[k], re[m], im[m])
                let x = power((a + c) / 2, (b - d) / 2, count)
                let y = power((b + d) / 2, (c - a) / 2, count)
                outRe[k] = x.0 - y.1
                outIm[k] = x.1 + y.0
            }
            re = outRe
            im = outIm
        }
        plan.inverse(&re, &im)
        return pair.indices.map { k in
            let pld = pair[k]
            if finite[k] <= 0 {
                return PrivacyLossDistribution(
                    discretisation: pld.discretisation, offset: 0, masses: [0], infinityMass: 1)
            }
            let values = k == 0 ? re : im
            let (low, high) = windows[k]
            // Position s mod n holds the mass of the relative index sum s, for s in low...high.
            var composed = [Double](repeating: 0, count: high - low + 1)
            for s in low...high { composed[s - low] = max(0, values[s % n]) }
            let infinity = min(1, max(0, -expm1(Double(count) * log(finite[k]))))
            return PrivacyLossDistribution(
                discretisation: pld.discretisation, offset: count * pld.offset + low, masses: composed,
                infinityMass: min(1, infinity + tailBound / 2))
        }
    }

    /// (a + ib)^count by repeated squaring.
    static func power(_ a: Double, _ b: Double, _ count: Int) -> (Double, Double) {
        var (rr, ri) = (1.0, 0.0)
        var (br, bi) = (a, b)
        var e = count
        while e > 0 {
            if e & 1 == 1 { (rr, ri) = (rr * br - ri * bi, rr * bi + ri * br) }
            e >>= 1
            if e > 0 { (br, bi) = (br * br - bi * bi, 2 * br * bi) }
        }
        return (rr, ri)
    }

    /// Relative-index bounds [low, high] on the sum of `count` independent draws of the
    /// normalised finite masses (index i counted from 0) such that each tail beyond has
    /// probability ≤ `tailBound`: Chernoff, `P(S ≥ s) ≤ exp(count · K(t) − t s)` with K the log
    /// moment generating function, minimised over t by golden-section search on log t
    /// (the bound is quasi-convex in t).
    func chernoffWindow(_ count: Int, finite: Double, tailBound: Double) -> (low: Int, high: Int) {
        let logMasses = masses.map { $0 > 0 ? log($0 / finite) : -Double.infinity }
        let top = count * (masses.count - 1)
        let logTail = log(tailBound)
        let c = Double(count)
        // Smallest s with c·K(t) − t s ≤ log(tailBound), for the sign `sign` (+1 upper, −1 lower).
        func edge(_ t: Double, _ sign: Double) -> Double {
            var peak = -Double.infinity
            for (i, lm) in logMasses.enumerated() where lm > -.infinity { peak = max(peak, lm + sign * t * Double(i)) }
            var sum = 0.0
            for (i, lm) in logMasses.enumerated() where lm > -.infinity { sum += exp(lm + sign * t * Double(i) - peak) }
            let k = peak + log(sum)
            return (c * k - logTail) / t  // in units of sign · s
        }
        func best(_ sign: Double) -> Double {
            // t per grid index; the useful range spans from the whole window down to one index.
            var lo = log(1e-9)
            var hi = log(50.0)
            let g = 0.618_033_988_749_894_8
            var x1 = hi - g * (hi - lo)
            var x2 = lo + g * (hi - lo)
            var f1 = edge(exp(x1), sign)
            var f2 = edge(exp(x2), sign)
            for _ in 0..<12 {
                if f1 < f2 {
                    hi = x2; x2 = x1; f2 = f1
                    x1 = hi - g * (hi - lo); f1 = edge(exp(x1), sign)
                } else {
                    lo = x1; x1 = x2; f1 = f2
                    x2 = lo + g * (hi - lo); f2 = edge(exp(x2), sign)
                }
            }
            return min(f1, f2)
        }
        let upper = best(1)
        let lower = -best(-1)
        // Clamped in floating point first: a loose bound can exceed Int's range.
        let high = upper.isNaN ? top : Int(min(Double(top), max(0, upper.rounded(.up))))
        let low = lower.isNaN ? 0 : Int(max(0, min(Double(top), lower.rounded(.down))))
        return (low, max(low, high))
    }
}
