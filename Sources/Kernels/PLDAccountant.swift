#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Privacy loss distribution (PLD) accounting of the Poisson-subsampled Gaussian mechanism
/// (DP-SGD): a tighter upper bound on ε than `RDPAccountant`, for the same steps.
///
/// Neighbouring relation: add/remove one record (as Opacus and Google's `dp-accounting` by
/// default). One step adds N(0, σ²) noise (σ the noise multiplier, sensitivity 1) to a sum over a
/// batch in which each record is included with probability q. With the record, the output is
/// `P = (1 − q) N(0, σ²) + q N(1, σ²)`; without it, `Q = N(0, σ²)`. Removing a record is the pair
/// (P, Q), adding one the pair (Q, P); each is composed over the steps on its own and ε is the
/// larger of the two (the mechanism must be indistinguishable in both directions).
///
/// Discretisation (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022, "Connect the dots"): on
/// the grid of losses `l_i = i·d`, the mass P puts on losses in `[l_i, l_{i+1}]` is split between
/// the two ends so that both its P-mass and its Q-mass are kept (`e^{-L}` is linear in the
/// weights); that replaces every `(1 − e^{ε − L})₊`, convex in e^ε, by its chord, so δ(ε) of
/// the discrete PLD is at least the true one at every ε: an upper bound, and composition keeps
/// it one. The bucket masses come from the Gaussian CDF in closed form (the loss is monotone in
/// the noise), each difference of CDFs taken on the tail side (erfc) where it is accurate. Noise
/// beyond 9.5 σ (mass < 1e-20) goes pessimistically to loss +∞ (upper tail) or to the lowest
/// grid loss (lower tail). Composition: `PrivacyLossDistribution.selfComposed` (one FFT; tails
/// cut by a Chernoff bound at 1e-15, added to δ). If the composed window would need more than
/// `maxWindow` grid points the grid is coarsened (still an upper bound, less tight) and the
/// result says which d was used.
///
/// Not rigorously bounded: floating-point rounding in the FFT (≈ 1e-16 per mass). Tests compare
/// with `dp-accounting` (PyPI) on a grid of σ, q and steps, with the closed form of one Gaussian
/// step, and check ε ≤ RDP's ε.
public enum PLDAccountant {
    /// The default loss grid spacing, as `dp-accounting`'s PLD accountant.
    public static let defaultDiscretisation = 1e-4
    /// The default largest composed window, in grid points (2²⁰ doubles = 8 MiB per array).
    public static let defaultMaxWindow = 1 << 20
    /// Noise tails beyond this many standard deviations are cut (pessimistically).
    static let tailSigmas = 9.5

    /// Which neighbouring dataset is the one with the record.
    public enum Direction: String, Sendable {
        /// Removing a record: the pair (P with it, Q without it).
        case remove
        /// Adding a record: the pair (Q without it, P with it).
        case add
    }

    /// ε after the composition, and how it was computed.
    public struct Result: Sendable, Equatable {
        /// The upper bound on ε at `delta` (0 when nothing was released, +∞ without noise).
        public var epsilon: Double
        public var delta: Double
        /// The loss grid spacing used (larger than asked when the window had to be coarsened).
        public var discretisation: Double
        /// The direction that gave the larger ε.
        public var direction: Direction
    }

    /// ε at `delta` after `steps` steps of sampling rate `q` in [0, 1] and noise multiplier
    /// `sigma` ≥ 0.
    public static func epsilon(
        q: Double, sigma: Double, steps: Int, delta: Double,
        discretisation: Double = defaultDiscretisation, maxWindow: Int = defaultMaxWindow
    ) -> Result {
        precondition(q >= 0 && q <= 1 && sigma >= 0 && steps >= 0 && delta > 0 && delta < 1 && discretisation > 0)
        if q == 0 || steps == 0 {
            return Result(epsilon: 0, delta: delta, discretisation: discretisation, direction: .remove)
        }
        if sigma == 0 {
            return Result(epsilon: .infinity, delta: delta, discretisation: discretisation, direction: .remove)
        }
        var d = discretisation
        // A tiny σ gives one step a loss range of ~1/(2σ²): coarsen until one step's grid fits
        // the window too (still an upper bound), instead of allocating it.
        let span = [Direction.remove, .add].map { lossRange(q: q, sigma: sigma, direction: $0) }.map { $0.1 - $0.0 }
            .max()!
        while span / d > Double(maxWindow) { d *= 4 }
        while true {
            let pair = [Direction.remove, .add].map {
                distribution(q: q, sigma: sigma, direction: $0, discretisation: d)
            }
            if let composed = PrivacyLossDistribution.selfComposed(pair, steps, maxWindow: maxWindow) {
                let remove = composed[0].epsilon(delta: delta)
                let add = composed[1].epsilon(delta: delta)
                return Result(
                    epsilon: max(remove, add), delta: delta, discretisation: d, direction: add > remove ? .add : .remove
                )
            }
            d *= 4
        }
    }

    /// The privacy losses of one step in `direction` over the noise values within `tailSigmas` σ.
    static func lossRange(q: Double, sigma: Double, direction: Direction) -> (Double, Double) {
        let z = tailSigmas * sigma
        switch direction {
        case .remove: return (removeLoss(-z, q: q, sigma: sigma), removeLoss(1 + z, q: q, sigma: sigma))
        case .add: return (-removeLoss(z, q: q, sigma: sigma), -removeLoss(-z, q: q, sigma: sigma))
        }
    }

    /// The discrete PLD of one step in `direction`, on the grid of spacing `discretisation`.
    public static func distribution(q: Double, sigma: Double, direction: Direction, discretisation d: Double)
        -> PrivacyLossDistribution
    {
        precondition(q > 0 && q <= 1 && sigma > 0 && d > 0)
        // The loss as a function of the noise x (remove: increasing; add: its negative), and
        // its inverse, x(l); the distribution x is drawn from is P for remove, Q for add.
        let lossRange = lossRange(q: q, sigma: sigma, direction: direction)
        let first = Int((lossRange.0 / d).rounded(.down))
        let last = max(first + 1, Int((lossRange.1 / d).rounded(.up)))
        let n = last - first + 1
        // Noise value at each grid loss.
        let xs = (0..<n).map { i -> Double in
            let l = Double(first + i) * d
            return direction == .remove ? removeNoise(l, q: q, sigma: sigma) : removeNoise(-l, q: q, sigma: sigma)
        }
        // P- and Q-mass of the noise interval [a, b].
        func mixture(_ a: Double, _ b: Double) -> Double {
            (1 - q) * normalMass(a / sigma, b / sigma) + q * normalMass((a - 1) / sigma, (b - 1) / sigma)
        }
        func pure(_ a: Double, _ b: Double) -> Double { normalMass(a / sigma, b / sigma) }
        let (pMass, qMass) = direction == .remove ? (mixture, pure) : (pure, mixture)
        // The noise interval of losses in [l_i, l_j] (i < j), below l_i, above l_j.
        func between(_ i: Int, _ j: Int) -> (Double, Double) { direction == .remove ? (xs[i], xs[j]) : (xs[j], xs[i]) }
        func below(_ i: Int) -> (Double, Double) { direction == .remove ? (-.infinity, xs[i]) : (xs[i], .infinity) }
        func above(_ i: Int) -> (Double, Double) { direction == .remove ? (xs[i], .infinity) : (-.infinity, xs[i]) }

        var masses = [Double](repeating: 0, count: n)
        let b0 = below(0)
        masses[0] = pMass(b0.0, b0.1)
        let keep = -expm1(-d)  // 1 − e^{-d}
        for i in 0..<(n - 1) {
            let (a, b) = between(i, i + 1)
            let pi = pMass(a, b)
            if pi <= 0 { continue }
            let kappa = qMass(a, b)
            // Weight on l_{i+1} that keeps the bucket's Q-mass: (π − e^{l_i} κ) / (1 − e^{−d}).
            let lowLoss = Double(first + i) * d
            let scaled = kappa > 0 ? exp(lowLoss + log(kappa)) : 0
            let upper = min(pi, max(0, (pi - scaled) / keep))
            masses[i + 1] += upper
            masses[i] += pi - upper
        }
        let top = above(n - 1)
        return PrivacyLossDistribution(
            discretisation: d, offset: first, masses: masses, infinityMass: pMass(top.0, top.1))
    }

    /// Removal loss at noise x: `log(1 − q + q·exp((2x − 1)/(2σ²)))`.
    static func removeLoss(_ x: Double, q: Double, sigma: Double) -> Double {
        let a = (2 * x - 1) / (2 * sigma * sigma)
        if a > 30 { return a + log(q) + log1p((1 - q) / q * exp(-a)) }
        return log1p(q * expm1(a))
    }

    /// The noise x at which the removal loss is l (−∞ below the loss's infimum log(1 − q)).
    static func removeNoise(_ l: Double, q: Double, sigma: Double) -> Double {
        // log(e^l − (1 − q)) − log q, without overflow for large l or cancellation near log(1 − q).
        let logExcess: Double
        if l > 30 {
            logExcess = l + log1p(-(1 - q) * exp(-l))
        } else {
            let excess = expm1(l) + q
            if excess <= 0 { return -.infinity }
            logExcess = log(excess)
        }
        return sigma * sigma * (logExcess - log(q)) + 0.5
    }

    /// Φ(b) − Φ(a) for a ≤ b, from the tail on the side where it is small (accurate to a few
    /// ulps of the result's tail rather than of 1).
    static func normalMass(_ a: Double, _ b: Double) -> Double {
        if !(a < b) { return 0 }
        let r = 0.707_106_781_186_547_5
        if a >= 0 { return 0.5 * (erfc(a * r) - erfc(b * r)) }
        if b <= 0 { return 0.5 * (erfc(-b * r) - erfc(-a * r)) }
        return 1 - 0.5 * erfc(-a * r) - 0.5 * erfc(b * r)
    }
}
