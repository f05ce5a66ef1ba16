/// Batch normalisation over the rows of a [rows, channels] array (for NHWC images, rows are
/// batch · H · W), as in Ioffe & Szegedy 2015.
///
/// Training: `μ_c`, `σ²_c` are the batch mean and biased variance of channel c (accumulated in
/// Double, two passes, so a large mean does not cancel the variance);
/// `x̂ = (x − μ) / √(σ² + ε)`, `y = γ x̂ + β`. Inference uses running estimates instead.
public enum BatchNormalization {
    /// Training forward. Writes `y`, the normalised `xhat` (kept for the backward pass), and per
    /// channel `mean`, biased `variance` and `invStd = 1 / √(σ² + ε)`. `scratch`: 2 · channels.
    public static func forwardTraining(
        _ x: UnsafePointer<Float>, rows: Int, channels: Int, gamma: UnsafePointer<Float>,
        beta: UnsafePointer<Float>, epsilon: Float, y: UnsafeMutablePointer<Float>,
        xhat: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
        variance: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        let sum = scratch
        let sq = scratch + channels
        sum.update(repeating: 0, count: channels)
        sq.update(repeating: 0, count: channels)
        for r in 0..<rows {
            let row = x + r &* channels
            for c in 0..<channels { sum[c] += Double(row[c]) }
        }
        let n = Double(max(rows, 1))
        for c in 0..<channels { mean[c] = Float(sum[c] / n) }
        for r in 0..<rows {
            let row = x + r &* channels
            for c in 0..<channels {
                let d = Double(row[c] - mean[c])
                sq[c] += d * d
            }
        }
        for c in 0..<channels {
            variance[c] = Float(sq[c] / n)
            invStd[c] = 1 / (variance[c] + epsilon).squareRoot()
        }
        for r in 0..<rows {
            let i = r &* channels
            for c in 0..<channels {
                let h = (x[i &+ c] - mean[c]) * invStd[c]
                xhat[i &+ c] = h
                y[i &+ c] = gamma[c] * h + beta[c]
            }
        }
    }

    /// Inference forward: `y = γ (x − mean) / √(var + ε) + β` with running statistics.
    public static func forwardInference(
        _ x: UnsafePointer<Float>, rows: Int, channels: Int, gamma: UnsafePointer<Float>,
        beta: UnsafePointer<Float>, runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>,
        epsilon: Float, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let scale = scratch
        let shift = scratch + channels
        for c in 0..<channels {
            scale[c] = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
            shift[c] = beta[c] - runningMean[c] * scale[c]
        }
        for r in 0..<rows {
            let i = r &* channels
            for c in 0..<channels { y[i &+ c] = x[i &+ c] * scale[c] + shift[c] }
        }
    }

    /// Backward: `dγ = Σ dy · x̂`, `dβ = Σ dy`, and
    /// `dx = (invStd / N) · (N · γ dy − Σ γ dy − x̂ · Σ γ dy x̂)` (sums over rows, per channel).
    /// `dx` may be nil (first layer). `scratch`: 2 · channels.
    public static func backward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, rows: Int, channels: Int, dx: UnsafeMutablePointer<Float>?,
        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        let sumDy = scratch
        let sumDyX = scratch + channels
        sumDy.update(repeating: 0, count: channels)
        sumDyX.update(repeating: 0, count: channels)
        for r in 0..<rows {
            let i = r &* channels
            for c in 0..<channels {
                sumDy[c] += Double(dy[i &+ c])
                sumDyX[c] += Double(dy[i &+ c] * xhat[i &+ c])
            }
        }
        for c in 0..<channels {
            dBeta[c] = Float(sumDy[c])
            dGamma[c] = Float(sumDyX[c])
        }
        guard let dx else { return }
        let n = Float(max(rows, 1))
        for c in 0..<channels {
            // Per channel: dx = a · dy + b · x̂ + d
            sumDy[c] = Double(gamma[c] * invStd[c] / n * Float(sumDy[c]))
            sumDyX[c] = Double(gamma[c] * invStd[c] / n * Float(sumDyX[c]))
        }
        for r in 0..<rows {
            let i = r &* channels
            for c in 0..<channels {
                let a = gamma[c] * invStd[c]
                dx[i &+ c] = a * dy[i &+ c] - Float(sumDy[c]) - xhat[i &+ c] * Float(sumDyX[c])
            }
        }
    }
}
