#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Rényi-DP accounting of the subsampled Gaussian mechanism (DP-SGD), at integer orders.
///
/// One step adds N(0, σ²C²) noise to a sum of per-example gradients clipped to norm C, over a
/// batch in which every record is included independently with probability q (Poisson sampling).
/// For an integer order α ≥ 2 its RDP is (Mironov, Talwar, Zhang 2019, "Rényi Differential
/// Privacy of the Sampled Gaussian Mechanism", §3.3; Abadi et al. 2016's moments accountant):
///
///     A_α = Σ_{i=0}^{α} C(α, i) (1 − q)^{α−i} q^i exp((i² − i) / (2σ²)),
///     ε_RDP(α) = log(A_α) / (α − 1)   per step, and T · ε_RDP(α) after T steps (composition).
///
/// Conversion to (ε, δ)-DP: the standard one (Mironov 2017, Proposition 3),
/// `ε = min_α T · ε_RDP(α) + log(1/δ) / (α − 1)`. (TF Privacy's newer conversion and fractional
/// orders give slightly smaller ε; this one is an upper bound as well, just a looser one.)
///
/// Numerical stability: every term is summed in log space (log-binomials from `lgamma`,
/// log-sum-exp pairwise), so q near 0, σ small or α large neither overflow nor underflow.
/// Tested against an independent numerical integration of the RDP integral and TF Privacy's
/// published MNIST figure.
public enum RDPAccountant {
    /// The orders searched by default: every integer from 2 to 256.
    public static let defaultOrders = Array(2...256)

    /// The RDP of one step at integer order `alpha` ≥ 2, for sampling rate `q` in [0, 1] and
    /// noise multiplier `sigma` (noise standard deviation over clip norm). +∞ when σ = 0 and q > 0.
    public static func stepRDP(q: Double, sigma: Double, order alpha: Int) -> Double {
        precondition(alpha >= 2 && q >= 0 && q <= 1 && sigma >= 0)
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return Double(alpha) / (2 * sigma * sigma) }
        let logQ = log(q)
        let log1mQ = log1p(-q)
        var logA = -Double.infinity
        for i in 0...alpha {
            let term =
                logBinomial(alpha, i) + Double(i) * logQ + Double(alpha - i) * log1mQ
                + Double(i * i - i) / (2 * sigma * sigma)
            logA = logAddExp(logA, term)
        }
        return logA / Double(alpha - 1)
    }

    /// (ε, δ) after `steps` steps: the smallest `steps · ε_RDP(α) + log(1/δ)/(α − 1)` over
    /// `orders`, and the order that reached it.
    public static func epsilon(
        q: Double, sigma: Double, steps: Int, delta: Double, orders: [Int] = defaultOrders
    ) -> (epsilon: Double, order: Int) {
        precondition(delta > 0 && delta < 1 && steps >= 0 && !orders.isEmpty)
        var best = (epsilon: Double.infinity, order: orders[0])
        for alpha in orders {
            let eps = Double(steps) * stepRDP(q: q, sigma: sigma, order: alpha) + log(1 / delta) / Double(alpha - 1)
            if eps < best.epsilon { best = (eps, alpha) }
        }
        return best
    }

    /// log C(n, k) through log-gamma.
    static func logBinomial(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// log(eᵃ + eᵇ), exact when either is −∞.
    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        let m = max(a, b)
        return m + log1p(exp(-abs(a - b)))
    }
}
