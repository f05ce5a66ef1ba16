/// Batch normalisation per channel of channels-first data [batch, channels, plane] (for a
/// vector, plane = 1), as in Ioffe & Szegedy 2015.
///
/// Training: `μ_c`, `σ²_c` are the mean and biased variance of channel c over batch and plane
/// (accumulated in Double, two passes, so a large mean does not cancel the variance);
/// `x̂ = (x − μ) / √(σ² + ε)`, `y = γ x̂ + β`. Inference uses running estimates instead.
public enum BatchNormalization {
    /// The layout of the data: `batch` records of `channels` planes of `plane` values.
    public struct Layout: Sendable {
        public var batch: Int
        public var channels: Int
        public var plane: Int
        public init(batch: Int, channels: Int, plane: Int) {
            self.batch = batch
            self.channels = channels
            self.plane = plane
        }
        /// Values per channel: batch · plane.
        public var perChannel: Int { batch * plane }
    }

    /// Calls `body(channel, run)` for every contiguous run of one channel's values.
    @inline(__always)
    static func forEachRun(_ l: Layout, _ body: (Int, Int) -> Void) {
        for b in 0..<l.batch {
            for c in 0..<l.channels { body(c, (b &* l.channels &+ c) &* l.plane) }
        }
    }

    /// Training forward. Writes `y`, the normalised `xhat` (kept for the backward pass), and per
    /// channel `mean`, biased `variance` and `invStd = 1 / √(σ² + ε)`. `scratch`: 2 · channels.
    public static func forwardTraining(
        _ x: UnsafePointer<Float>, _ l: Layout, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        epsilon: Float, y: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
        invStd: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Double>
    ) {
        let sum = scratch
        let sq = scratch + l.channels
        sum.update(repeating: 0, count: l.channels)
        sq.update(repeating: 0, count: l.channels)
        let plane = l.plane
        forEachRun(l) { c, at in
            var s = 0.0
            for i in 0..<plane { s += Double(x[at &+ i]) }
            sum[c] += s
        }
        let n = Double(max(l.perChannel, 1))
        for c in 0..<l.channels { mean[c] = Float(sum[c] / n) }
        forEachRun(l) { c, at in
            var s = 0.0
            let m = mean[c]
            for i in 0..<plane {
                let d = Double(x[at &+ i] - m)
                s += d * d
            }
            sq[c] += s
        }
        for c in 0..<l.channels {
            variance[c] = Float(sq[c] / n)
            invStd[c] = 1 / (variance[c] + epsilon).squareRoot()
        }
        forEachRun(l) { c, at in
            let (m, r, g, b) = (mean[c], invStd[c], gamma[c], beta[c])
            for i in 0..<plane {
                let h = (x[at &+ i] - m) * r
                xhat[at &+ i] = h
                y[at &+ i] = g * h + b
            }
        }
    }

    /// Inference forward: `y = γ (x − mean) / √(var + ε) + β` with running statistics.
    public static func forwardInference(
        _ x: UnsafePointer<Float>, _ l: Layout, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>, epsilon: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        let plane = l.plane
        forEachRun(l) { c, at in
            let scale = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
            let shift = beta[c] - runningMean[c] * scale
            for i in 0..<plane { y[at &+ i] = x[at &+ i] * scale + shift }
        }
    }

    /// Backward: `dγ = Σ dy · x̂`, `dβ = Σ dy`, and
    /// `dx = γ · invStd · (dy − Σ dy / N − x̂ · Σ dy x̂ / N)` (sums per channel over its N values).
    /// `dx` may be nil (first layer). `scratch`: 2 · channels.
    public static func backward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, _ l: Layout, dx: UnsafeMutablePointer<Float>?,
        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        let sumDy = scratch
        let sumDyX = scratch + l.channels
        sumDy.update(repeating: 0, count: l.channels)
        sumDyX.update(repeating: 0, count: l.channels)
        let plane = l.plane
        forEachRun(l) { c, at in
            var a = 0.0
            var b = 0.0
            for i in 0..<plane {
                a += Double(dy[at &+ i])
                b += Double(dy[at &+ i] * xhat[at &+ i])
            }
            sumDy[c] += a
            sumDyX[c] += b
        }
        for c in 0..<l.channels {
            dBeta[c] = Float(sumDy[c])
            dGamma[c] = Float(sumDyX[c])
        }
        guard let dx else { return }
        let n = Double(max(l.perChannel, 1))
        forEachRun(l) { c, at in
            let a = gamma[c] * invStd[c]
            let meanDy = Float(sumDy[c] / n)
            let meanDyX = Float(sumDyX[c] / n)
            for i in 0..<plane {
                dx[at &+ i] = a * (dy[at &+ i] - meanDy - xhat[at &+ i] * meanDyX)
            }
        }
    }
}
