import CKernels

/// One Adam or AdamW update of a flat parameter array: the plain level in Swift, AVX2 and
/// AVX-512 in C (Sources/CKernels/optimizer.c), chosen by `VectorLevel`. Every level computes,
/// per element and in this order with each operation rounded once,
///
///     p' = p·decay;  g' = g + l2·p'
///     m  = β₁·m + (1−β₁)·g';  v = β₂·v + (1−β₂)·(g'·g')
///     p  = p' − (stepSize·m) / (√v / correction2 + ε)
///
/// so a model's weights do not depend on the level (`AdamStepTests`). The optimizer (the native
/// backend's `Optimizer`) owns m, v and the step count and fills in the constants.
public struct AdamStep: Sendable {
    /// 1 − ηλ for AdamW, 1 for Adam.
    public var decay: Float
    /// λ for Adam (L2 in the gradient), 0 for AdamW.
    public var l2: Float
    public var beta1: Float
    public var beta2: Float
    /// η / (1 − β₁ᵗ).
    public var stepSize: Float
    /// √(1 − β₂ᵗ).
    public var correction2: Float
    public var epsilon: Float

    public init(
        decay: Float, l2: Float, beta1: Float, beta2: Float, stepSize: Float, correction2: Float, epsilon: Float
    ) {
        self.decay = decay
        self.l2 = l2
        self.beta1 = beta1
        self.beta2 = beta2
        self.stepSize = stepSize
        self.correction2 = correction2
        self.epsilon = epsilon
    }

    /// Updates `p`, `m` and `v` [count] in place from the gradient `g` [count].
    public func apply(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, count: Int, level: VectorLevel = .current
    ) {
        guard level == .generic else {
            var s = mia_adam_step(
                decay: decay, l2: l2, beta1: beta1, beta2: beta2, one_minus_beta1: 1 - beta1,
                one_minus_beta2: 1 - beta2, step_size: stepSize, correction2: correction2, epsilon: epsilon)
            mia_adam_update(level.rawValue, &s, p, g, m, v, count)
            return
        }
        // Eight lanes at a time in explicit vectors, then the tail; both compute the same
        // expression per element, so the split does not change any result.
        typealias V = SIMD8<Float>
        let (b1, b2, eps) = (V(repeating: beta1), V(repeating: beta2), V(repeating: epsilon))
        let (c1, c2) = (V(repeating: 1 - beta1), V(repeating: 1 - beta2))
        let (vl2, vdecay, vstep, vcorr) = (
            V(repeating: l2), V(repeating: decay), V(repeating: stepSize), V(repeating: correction2)
        )
        var i = 0
        while i &+ 8 <= count {
            var pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self) * vdecay
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) + vl2 * pi
            let mi = b1 * UnsafeRawPointer(m + i).loadUnaligned(as: V.self) + c1 * gi
            let vi = b2 * UnsafeRawPointer(v + i).loadUnaligned(as: V.self) + c2 * (gi * gi)
            pi -= vstep * mi / (vi.squareRoot() / vcorr + eps)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            i &+= 8
        }
        while i < count {
            let pi = p[i] * decay
            let gi = g[i] + l2 * pi
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * (gi * gi)
            p[i] = pi - stepSize * m[i] / (v[i].squareRoot() / correction2 + epsilon)
            i &+= 1
        }
    }
}
