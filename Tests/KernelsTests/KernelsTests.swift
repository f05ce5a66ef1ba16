import Foundation
import Kernels
import Testing

/// Deterministic pseudo-random floats in [-1, 1) for test inputs.
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<n).map { _ in Float(2 * rng.nextDouble() - 1) }
}

@Test func crc32MatchesTheStandardCheckValue() {
    let bytes = Array("123456789".utf8)
    let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
    #expect(crc == 0xCBF4_3926)
    // Chaining two halves gives the same value.
    let a = bytes[0..<4].withUnsafeBytes { CRC32.checksum($0) }
    let b = bytes[4...].withUnsafeBytes { CRC32.checksum($0, continuing: a) }
    #expect(b == crc)
}

@Test func gemmMatchesAHandComputedProduct() {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[1, 0], [0, 1], [1, 1]] -> AB = [[4, 5], [10, 11]]
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    let b: [Float] = [1, 0, 0, 1, 1, 1]
    var c = [Float](repeating: 0, count: 4)
    BLAS.gemm(false, false, m: 2, n: 2, k: 3, a, lda: 3, b, ldb: 2, beta: 0, &c, ldc: 2)
    #expect(c == [4, 5, 10, 11])
    // Aᵀ-form: (Bᵀ)ᵀ with B stored transposed gives the same product.
    let bt: [Float] = [1, 0, 1, 0, 1, 1]
    BLAS.gemm(false, true, m: 2, n: 2, k: 3, a, lda: 3, bt, ldb: 3, beta: 0, &c, ldc: 2)
    #expect(c == [4, 5, 10, 11])
}

@Test func softmaxCrossEntropyMatchesHandComputedValues() {
    let logits: [Float] = [1, 2, 3, 0, 0, 0]
    let labels: [Int32] = [2, 0]
    var grad = [Float](repeating: 0, count: 6)
    let r = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, rows: 2, classes: 3, gradient: &grad, scale: 1)
    let row0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
    let row1 = log(3.0)
    #expect(abs(r.loss - (row0 + row1)) < 1e-5)
    // Row 0's arg-max is its label; row 1 ties, and the first maximum (0) is its label.
    #expect(r.correct == 2)
    let z = exp(1.0) + exp(2.0) + exp(3.0)
    let expected = [exp(1.0) / z, exp(2.0) / z, exp(3.0) / z - 1, 1.0 / 3 - 1, 1.0 / 3, 1.0 / 3]
    for (g, e) in zip(grad, expected) { #expect(abs(Double(g) - e) < 1e-6) }
}

@Test func labelSmoothingMatchesTheDefinition() {
    let k = 4
    let logits = randomFloats(3 * k, seed: 7).map { $0 * 3 }
    let labels: [Int32] = [0, 3, 1]
    let eps = 0.2
    var grad = [Float](repeating: 0, count: 3 * k)
    let r = SoftmaxCrossEntropy.evaluate(
        logits: logits, labels: labels, rows: 3, classes: k, smoothing: Float(eps), gradient: &grad, scale: 0.5)
    var loss = 0.0
    for row in 0..<3 {
        let z = (0..<k).map { Double(logits[row * k + $0]) }
        let lse = log(z.map(exp).reduce(0, +))
        for j in 0..<k {
            let q = (j == Int(labels[row]) ? 1 - eps : 0) + eps / Double(k)
            loss -= q * (z[j] - lse)
            let p = exp(z[j] - lse)
            #expect(abs(Double(grad[row * k + j]) - 0.5 * (p - q)) < 1e-6)
        }
    }
    #expect(abs(r.loss - loss) < 1e-5)
}

@Test func largeLogitsDoNotOverflow() {
    let logits: [Float] = [1000, 0, -1000]
    let labels: [Int32] = [1]
    let r = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, rows: 1, classes: 3)
    #expect(abs(r.loss - 1000) < 1e-3)
}

@Test(arguments: [Activation.relu, .tanh, .sigmoid, .identity])
func activationBackwardMatchesTheDerivative(_ f: Activation) {
    let z = randomFloats(64, seed: 3).map { $0 * 4 }
    var y = z
    Pointwise.activate(&y, count: y.count, f)
    var dy = [Float](repeating: 1, count: z.count)
    Pointwise.activationBackward(&dy, output: y, count: y.count, f)
    for i in z.indices {
        let x = Double(z[i])
        let (value, slope): (Double, Double)
        switch f {
        case .identity: (value, slope) = (x, 1)
        case .relu: (value, slope) = (max(x, 0), x > 0 ? 1 : 0)
        case .tanh: (value, slope) = (Foundation.tanh(x), 1 - Foundation.tanh(x) * Foundation.tanh(x))
        case .sigmoid: (value, slope) = (1 / (1 + exp(-x)), exp(-x) / ((1 + exp(-x)) * (1 + exp(-x))))
        }
        #expect(abs(Double(y[i]) - value) < 1e-6)
        #expect(abs(Double(dy[i]) - slope) < 1e-6)
    }
}

@Test func biasActivationIsFused() {
    var y: [Float] = [-1, 2, 0.5, -3]
    let bias: [Float] = [0.5, -1]
    Pointwise.addBiasActivate(&y, rows: 2, cols: 2, bias: bias, .relu)
    #expect(y == [0, 1, 1, 0])
    var s: [Float] = [1, 2, 3, 4, 5, 6]
    var sums = [Float](repeating: 9, count: 3)
    Pointwise.columnSums(&s, rows: 2, cols: 3, into: &sums)
    #expect(sums == [5, 7, 9])
}
