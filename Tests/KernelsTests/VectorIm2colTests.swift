import Kernels
import Testing

/// im2col and col2im at every vector level this CPU has (generic, AVX2, AVX-512) give exactly
/// the bits of the plain Swift loops they replaced (below), on odd shapes: padding wider than
/// the kernel, strides, several channels, rows shorter than, equal to and longer than a vector.
/// The inputs hold -0, +∞ and NaN, so a sum that started elsewhere than 0 or took another order
/// would show.

/// The patch matrix by the plain loop (the Swift code before CKernels).
private func referenceIm2col(_ x: [Float], _ g: WindowGeometry) -> [Float] {
    let (h, w, k, s, p, oh, ow) = (g.height, g.width, g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
    var col = [Float](repeating: 0, count: g.patchSize * g.outPlane)
    var r = 0
    for c in 0..<g.channels {
        for ky in 0..<k {
            for kx in 0..<k {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let iy = oy * s - p + ky, ix = ox * s - p + kx
                        col[r * oh * ow + oy * ow + ox] =
                            iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(c * h + iy) * w + ix] : 0
                    }
                }
                r += 1
            }
        }
    }
    return col
}

/// col2im by the plain scatter loop: zero, then every entry added in (c, ky, kx, oy, ox) order.
private func referenceCol2im(_ dcol: [Float], _ g: WindowGeometry) -> [Float] {
    let (h, w, k, s, p, oh, ow) = (g.height, g.width, g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
    var dx = [Float](repeating: 0, count: g.inputSize)
    var r = 0
    for c in 0..<g.channels {
        for ky in 0..<k {
            for kx in 0..<k {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let iy = oy * s - p + ky, ix = ox * s - p + kx
                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                            dx[(c * h + iy) * w + ix] += dcol[r * oh * ow + oy * ow + ox]
                        }
                    }
                }
                r += 1
            }
        }
    }
    return dx
}

/// Random values with a few -0, +∞ and NaN (one NaN pattern, so any NaN sum has the same bits).
private func awkwardFloats(_ n: Int, seed: UInt64) -> [Float] {
    var v = randomFloats(n, seed: seed)
    for i in stride(from: 0, to: n, by: 7) { v[i] = -0.0 }
    for i in stride(from: 3, to: n, by: 97) { v[i] = .infinity }
    for i in stride(from: 5, to: n, by: 211) { v[i] = .nan }
    return v
}

private let oddShapes: [WindowGeometry] = [
    WindowGeometry(height: 14, width: 14, channels: 6, kernel: 5),  // LeNet-5 conv2
    WindowGeometry(height: 28, width: 28, channels: 1, kernel: 5, padding: 2),  // LeNet-5 conv1 (plain path)
    WindowGeometry(height: 7, width: 5, channels: 2, kernel: 3, stride: 1, padding: 1),
    WindowGeometry(height: 5, width: 37, channels: 3, kernel: 3, padding: 1),  // rows of 37: 2+ vectors and a tail
    WindowGeometry(height: 9, width: 17, channels: 2, kernel: 4, padding: 3),  // even kernel, padding > kernel / 2
    WindowGeometry(height: 3, width: 3, channels: 1, kernel: 2, padding: 4),  // padding past the kernel: zero rows
    WindowGeometry(height: 1, width: 1, channels: 4, kernel: 1),  // one pixel
    WindowGeometry(height: 6, width: 33, channels: 1, kernel: 1, padding: 0),  // 1×1 window, 33 wide
    WindowGeometry(height: 16, width: 16, channels: 2, kernel: 3, padding: 1),  // rows of exactly 16
    WindowGeometry(height: 8, width: 8, channels: 3, kernel: 3, padding: 1),  // rows of exactly 8
    WindowGeometry(height: 7, width: 5, channels: 2, kernel: 3, stride: 2, padding: 2),
    WindowGeometry(height: 15, width: 15, channels: 3, kernel: 3, stride: 3, padding: 1),
]

/// The levels this machine can run.
private let levels = VectorLevel.allCases.filter { $0 <= VectorLevel.best(for: .current) }

@Test(arguments: oddShapes)
func im2colAtEveryLevelIsThePlainCopy(_ g: WindowGeometry) {
    let x = awkwardFloats(g.inputSize, seed: 11)
    let expected = referenceIm2col(x, g)
    let guardCount = 40
    for level in levels {
        var col = [Float](repeating: 12345, count: expected.count + guardCount)
        x.withUnsafeBufferPointer { Im2col.forward($0.baseAddress!, g, into: &col, level: level) }
        #expect(col[..<expected.count].map(\.bitPattern) == expected.map(\.bitPattern), "\(level) \(g)")
        #expect(col[expected.count...].allSatisfy { $0 == 12345 }, "\(level) \(g) wrote past the patch matrix")
    }
}

@Test(arguments: oddShapes)
func col2imAtEveryLevelSumsInThePlainOrder(_ g: WindowGeometry) {
    let dcol = awkwardFloats(g.patchSize * g.outPlane, seed: 12)
    let expected = referenceCol2im(dcol, g)
    let guardCount = 40
    for level in levels {
        var dx = [Float](repeating: 12345, count: expected.count + guardCount)
        dcol.withUnsafeBufferPointer { Im2col.backward($0.baseAddress!, g, into: &dx, level: level) }
        #expect(dx[..<expected.count].map(\.bitPattern) == expected.map(\.bitPattern), "\(level) \(g)")
        #expect(dx[expected.count...].allSatisfy { $0 == 12345 }, "\(level) \(g) wrote past the image")
    }
}

@Test func col2imKeepsTheOrderOfTermsThatDoNotAssociate() {
    // One input read by three patch positions whose sum depends on the order: 1e8 + 1 - 1e8 is 0
    // in Float left to right, 1 in another order. A 1×3 image, 1×... kernel 3, padding 1: the
    // middle input is read by kx = 0, 1, 2 of the one output row of three.
    let g = WindowGeometry(height: 1, width: 3, channels: 1, kernel: 3, padding: 1)
    var dcol = [Float](repeating: 0, count: g.patchSize * g.outPlane)
    // Rows (ky, kx); ky = 1 is the image row. Middle input: ox = 2 for kx 0, ox 1 for kx 1, ox 0 for kx 2.
    dcol[(1 * 3 + 0) * 3 + 2] = 1e8
    dcol[(1 * 3 + 1) * 3 + 1] = 1
    dcol[(1 * 3 + 2) * 3 + 0] = -1e8
    for level in levels {
        var dx = [Float](repeating: 7, count: 3)
        Im2col.backward(dcol, g, into: &dx, level: level)
        #expect(dx == [0, 0, 0], "\(level)")
    }
}

@Test func theLevelIsCappedByTheSettingAndTheCPU() {
    let avx512 = CPUFeatures(avx2: true, fma: true, avx512f: true, avx512bw: true, avx512dq: true, avx512vl: true)
    let avx2 = CPUFeatures(avx2: true, fma: true)
    let old = CPUFeatures()
    #expect(VectorLevel.chosen(for: old, setting: nil) == .generic)
    #expect(VectorLevel.chosen(for: avx512, setting: "generic") == .generic)
    #expect(VectorLevel.chosen(for: avx2, setting: "avx512") == VectorLevel.best(for: avx2))
    #expect(VectorLevel.chosen(for: avx512, setting: "AVX2") == nil)
    #expect(VectorLevel.chosen(for: avx512, setting: "") == nil)
    #if arch(x86_64)
        #expect(VectorLevel.chosen(for: avx512, setting: nil) == .avx512)
        #expect(VectorLevel.chosen(for: avx512, setting: "avx2") == .avx2)
        #expect(VectorLevel.chosen(for: avx2, setting: nil) == .avx2)
        #expect(VectorLevel.chosen(for: CPUFeatures(avx2: true), setting: nil) == .generic)  // AVX2 without FMA
    #endif
}
