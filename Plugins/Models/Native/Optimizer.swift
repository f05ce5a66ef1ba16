/// The update rules, one loop over the flat parameter array.
///
/// With gradient g, parameter p, learning rate η and weight decay λ (all as in PyTorch):
/// - `sgd`: g ← g + λp; with momentum μ: b ← μb + g (b₁ = g), then g ← b, or g ← g + μb
///   with Nesterov; p ← p − ηg.
/// - `adam`: g ← g + λp; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
///   p ← p − (η / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
/// - `adamw`: as Adam without the λp term, after decoupled decay p ← p(1 − ηλ).
final class Optimizer {
    enum Kind: String, CaseIterable { case sgd, adam, adamw }

    let kind: Kind
    let momentum: Float
    let nesterov: Bool
    let weightDecay: Float
    let beta1: Float = 0.9
    let beta2: Float = 0.999
    let epsilon: Float = 1e-8
    private let first: Buffer<Float>
    private let second: Buffer<Float>
    private(set) var steps = 0

    init(kind: Kind, count: Int, momentum: Float, nesterov: Bool, weightDecay: Float) {
        self.kind = kind
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        first = Buffer(count)
        second = Buffer(kind == .sgd ? 0 : count)
    }

    /// Back to the state before the first step.
    func reset() {
        steps = 0
        first.pointer.update(repeating: 0, count: first.count)
        second.pointer.update(repeating: 0, count: second.count)
    }

    /// One update of `p` [count] from `g` [count] (which it may overwrite) at rate `lr`.
    func step(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int, lr: Float) {
        steps += 1
        let wd = weightDecay
        switch kind {
        case .sgd:
            let mu = momentum
            let b = first.pointer
            if mu == 0 {
                for i in 0..<count { p[i] -= lr * (g[i] + wd * p[i]) }
            } else if nesterov {
                for i in 0..<count {
                    let gi = g[i] + wd * p[i]
                    b[i] = steps == 1 ? gi : mu * b[i] + gi
                    p[i] -= lr * (gi + mu * b[i])
                }
            } else {
                for i in 0..<count {
                    let gi = g[i] + wd * p[i]
                    b[i] = steps == 1 ? gi : mu * b[i] + gi
                    p[i] -= lr * b[i]
                }
            }
        case .adam, .adamw:
            let m = first.pointer
            let v = second.pointer
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            let t = Float(steps)
            let stepSize = lr / (1 - powf(b1, t))
            let correction2 = (1 - powf(b2, t)).squareRoot()
            let l2: Float = kind == .adam ? wd : 0
            if kind == .adamw && wd != 0 {
                let decay = 1 - lr * wd
                for i in 0..<count { p[i] *= decay }
            }
            for i in 0..<count {
                let gi = g[i] + l2 * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
