import Kernels

/// Deterministic pseudo-random floats in [-1, 1) for test inputs.
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<n).map { _ in Float(2 * rng.nextDouble() - 1) }
}
