import Kernels

/// Inverted dropout: in training each value is kept with probability 1 − p and scaled by
/// 1 / (1 − p), so inference is the identity. The mask comes from the layer's own seeded stream
/// (`reseed`), drawn in record order, so a training is reproducible.
final class Dropout: Layer {
    let inputShape: Shape
    var outputShape: Shape { inputShape }
    let rate: Float
    private var rng = SeededRandom(seed: 0)
    private var mask: Buffer<Float>?

    init(input: Shape, rate: Float) {
        inputShape = input
        self.rate = rate
    }

    var parameterCount: Int { 0 }
    var summary: String { "dropout(\(inputShape))" }

    func reseed(_ seed: UInt64) { rng = SeededRandom(seed: seed) }

    func reserve(batch: Int) {
        if (mask?.count ?? 0) < batch * inputShape.count { mask = Buffer(batch * inputShape.count) }
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let n = batch * inputShape.count
        guard training, rate > 0 else {
            y.update(from: x, count: n)
            return
        }
        let m = mask!.pointer
        let keep = 1 / (1 - rate)
        // 24 random bits per value: keep when u ≥ p.
        let threshold = UInt64((Double(rate) * 0x1.0p24).rounded(.up))
        for i in 0..<n {
            m[i] = (rng.next() >> 40) >= threshold ? keep : 0
            y[i] = x[i] * m[i]
        }
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        guard let dx else { return }
        let n = batch * inputShape.count
        if rate > 0 {
            let m = mask!.pointer
            for i in 0..<n { dx[i] = dy[i] * m[i] }
        } else {
            dx.update(from: dy, count: n)
        }
    }
}
