import Kernels
import Testing

/// The vectorised kernels give exactly what the plain loops give (the training fingerprints rely
/// on it): max pooling's maxima and argmax with ties and NaNs, and the overlapping-tail copy.

/// 2×2 / 2 max pooling by its definition: the first maximum in row-major window order, `>` only.
private func referenceMaxPool(_ x: [Float], _ g: WindowGeometry) -> ([Float], [Int32]) {
    var y: [Float] = [], arg: [Int32] = []
    for c in 0..<g.channels {
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                var best = c * g.height * g.width + 2 * oy * g.width + 2 * ox
                var m = x[best]
                for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                    let i = c * g.height * g.width + (2 * oy + dy) * g.width + 2 * ox + dx
                    if x[i] > m { m = x[i]; best = i }
                }
                y.append(m)
                arg.append(Int32(best))
            }
        }
    }
    return (y, arg)
}

@Test(arguments: [
    (28, 28, 6),  // LeNet-5's first pool: 14 outputs a row (8-wide vectors, overlapping tail)
    (10, 10, 16),  // its second: 5 a row (4-wide vectors)
    (6, 6, 2),  // 3 a row: the scalar loop
    (16, 17, 3),  // odd width: the last column is never read
    (9, 32, 1),  // odd height, 16 a row: two full vectors
])
func vectorMaxPoolEqualsTheDefinitionBitForBit(height: Int, width: Int, channels: Int) {
    let g = WindowGeometry(height: height, width: width, channels: channels, kernel: 2, stride: 2)
    var rng = SeededRandom(seed: UInt64(height * 100 + width))
    // Few distinct values, so windows hold ties; some NaNs and infinities.
    let x: [Float] = (0..<g.inputSize).map { i in
        switch i % 37 {
        case 5: return .nan
        case 11: return .infinity
        case 23: return -.infinity
        default: return Float(rng.next() % 5) - 2
        }
    }
    var y = [Float](repeating: -7, count: channels * g.outPlane)
    var arg = [Int32](repeating: -1, count: channels * g.outPlane)
    Pooling.maxForward(x, g, into: &y, argmax: &arg)
    let (ey, earg) = referenceMaxPool(x, g)
    #expect(arg == earg)
    #expect(y.map(\.bitPattern) == ey.map(\.bitPattern))
}

@Test func copyWithAnOverlappingTailCopiesExactlyTheRun() {
    let src = (0..<40).map { Float($0) + 0.5 }
    for count in 0...33 {
        var dst = [Float](repeating: -1, count: 40)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in Im2col.copy(s.baseAddress!, to: d.baseAddress! + 3, count: count)
            }
        }
        #expect(Array(dst[3..<(3 + count)]) == Array(src[0..<count]), "count \(count)")
        #expect(
            dst[0..<3].allSatisfy { $0 == -1 } && dst[(3 + count)...].allSatisfy { $0 == -1 },
            "count \(count) wrote outside")
    }
}
