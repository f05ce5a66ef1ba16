#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension SeededRandom {
    /// Adds independent N(0, std²) noise to each of `count` floats, in index order.
    ///
    /// Box-Muller with both values of each pair used (`√(−2 ln u) · (cos 2πv, sin 2πv)`, u in
    /// (0, 1)), drawn and summed in Double; half the draws and logarithms of calling
    /// `nextGaussian` per value, the same distribution. Deterministic for a given generator state.
    /// Tested statistically (sample mean and standard deviation over many values).
    public mutating func addGaussian(to x: UnsafeMutablePointer<Float>, count: Int, standardDeviation std: Double) {
        var i = 0
        while i < count {
            var u = nextDouble()
            while u <= Double.leastNormalMagnitude { u = nextDouble() }
            let v = 2 * Double.pi * nextDouble()
            let r = std * (-2 * log(u)).squareRoot()
            x[i] += Float(r * cos(v))
            if i + 1 < count { x[i + 1] += Float(r * sin(v)) }
            i += 2
        }
    }
}
