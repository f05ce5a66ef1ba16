#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// An in-place radix-2 complex fast Fourier transform of f64 data in split form (real parts and
/// imaginary parts in two arrays), for a length that is a power of two.
///
/// Iterative Cooley–Tukey: a bit-reversal permutation, then log₂ n butterfly passes. Twiddle
/// factors come from a table of `cos`/`sin` of `2πk/n` computed once per plan (not by repeated
/// multiplication), so the rounding error grows like `log n` ulps. `forward` computes
/// `X_k = Σ_j x_j e^{-2πi jk/n}`; `inverse` computes `x_j = (1/n) Σ_k X_k e^{+2πi jk/n}` (scaled,
/// so inverse(forward(x)) = x). Used by the PLD accountant's self-composition; tests compare
/// with a direct O(n²) transform and check the round trip.
public struct FFTPlan: Sendable {
    /// The transform length, a power of two ≥ 1.
    public let count: Int
    private let cosines: [Double]
    private let sines: [Double]

    /// A plan for length `count`, which must be a power of two.
    public init(count: Int) {
        precondition(count >= 1 && count & (count - 1) == 0, "FFT length \(count) is not a power of two")
        self.count = count
        let half = max(1, count / 2)
        var c = [Double](repeating: 1, count: half)
        var s = [Double](repeating: 0, count: half)
        for k in 0..<half {
            let angle = 2 * Double.pi * Double(k) / Double(count)
            c[k] = cos(angle)
            s[k] = sin(angle)
        }
        cosines = c
        sines = s
    }

    /// The smallest power of two ≥ `n`.
    public static func length(atLeast n: Int) -> Int {
        var m = 1
        while m < n { m <<= 1 }
        return m
    }

    /// Forward transform of `(re, im)` in place (each of length `count`).
    public func forward(_ re: inout [Double], _ im: inout [Double]) { transform(&re, &im, sign: -1) }

    /// Inverse transform of `(re, im)` in place, divided by `count`.
    public func inverse(_ re: inout [Double], _ im: inout [Double]) {
        transform(&re, &im, sign: 1)
        let scale = 1 / Double(count)
        for i in 0..<count {
            re[i] *= scale
            im[i] *= scale
        }
    }

    private func transform(_ re: inout [Double], _ im: inout [Double], sign: Double) {
        precondition(re.count == count && im.count == count)
        let n = count
        if n == 1 { return }
        re.withUnsafeMutableBufferPointer { xr in
            im.withUnsafeMutableBufferPointer { xi in
                cosines.withUnsafeBufferPointer { wc in
                    sines.withUnsafeBufferPointer { ws in
                        // Bit-reversal permutation.
                        var j = 0
                        for i in 1..<n {
                            var bit = n >> 1
                            while j & bit != 0 {
                                j ^= bit
                                bit >>= 1
                            }
                            j |= bit
                            if i < j {
                                xr.swapAt(i, j)
                                xi.swapAt(i, j)
                            }
                        }
                        // Butterflies: blocks of length `len`, twiddle stride n / len in the table.
                        var len = 2
                        while len <= n {
                            let halfLen = len >> 1
                            let stride = n / len
                            var start = 0
                            while start < n {
                                for k in 0..<halfLen {
                                    let wr = wc[k * stride]
                                    let wi = sign * ws[k * stride]
                                    let a = start + k
                                    let b = a + halfLen
                                    let tr = xr[b] * wr - xi[b] * wi
                                    let ti = xr[b] * wi + xi[b] * wr
                                    xr[b] = xr[a] - tr
                                    xi[b] = xi[a] - ti
                                    xr[a] += tr
                                    xi[a] += ti
                                }
                                start += len
                            }
                            len <<= 1
                        }
                    }
                }
            }
        }
    }
}
