import Kernels

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
    ///
    /// Each parameter's update depends only on its own values, so the array is cut into fixed
    /// slices updated in parallel; the result does not depend on the threads.
    func step(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int, lr: Float) {
        steps += 1
        let slices = count >= 65536 ? 4 : 1
        Parallel.forEach(slices) { s in
            let range = Parallel.range(s, of: slices, count: count)
            self.update(
                p + range.lowerBound, g + range.lowerBound, offset: range.lowerBound, count: range.count, lr: lr)
        }
    }

    private func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, offset: Int, count: Int, lr: Float
    ) {
        let wd = weightDecay
        switch kind {
        case .sgd:
            let mu = momentum
            let b = first.pointer + offset
            let firstStep = steps == 1
            if mu == 0 {
                for i in 0..<count { p[i] -= lr * (g[i] + wd * p[i]) }
            } else if nesterov {
                for i in 0..<count {
                    let gi = g[i] + wd * p[i]
                    b[i] = firstStep ? gi : mu * b[i] + gi
                    p[i] -= lr * (gi + mu * b[i])
                }
            } else {
                for i in 0..<count {
                    let gi = g[i] + wd * p[i]
                    b[i] = firstStep ? gi : mu * b[i] + gi
                    p[i] -= lr * b[i]
                }
            }
        case .adam, .adamw:
            let t = Float(steps)
            let adam = AdamStep(
                decay: kind == .adamw ? 1 - lr * wd : 1, l2: kind == .adam ? wd : 0, beta1: beta1, beta2: beta2,
                stepSize: lr / (1 - powf(beta1, t)), correction2: (1 - powf(beta2, t)).squareRoot(), epsilon: epsilon)
            adam.apply(p, g, first.pointer + offset, second.pointer + offset, count: count)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif
