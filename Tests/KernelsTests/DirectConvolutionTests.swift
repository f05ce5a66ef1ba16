import Kernels
import Testing

/// The direct convolution kernels (CKernels/conv_direct.c) at every vector level this CPU has:
/// the bits of the order mia_conv.h defines, written out below as plain loops (fused
/// multiply-adds via `addingProduct`), on odd shapes with -0, ±∞ and NaN in the inputs (NaNs
/// compared as NaN, whatever their sign and payload); and
/// the convolution's value, against a naive one in Double, within a tolerance.

/// The levels this machine can run.
private let levels = VectorLevel.allCases.filter { $0 <= VectorLevel.best(for: .current) }

struct DirectConvCase: CustomStringConvertible, Sendable {
    let g: WindowGeometry
    let filters: Int
    var description: String { "\(g.channels)x\(g.height)x\(g.width) k\(g.kernel) p\(g.padding) -> \(filters)" }
}

private let shapes: [DirectConvCase] = [
    // LeNet-5 conv1
    DirectConvCase(g: WindowGeometry(height: 28, width: 28, channels: 1, kernel: 5, padding: 2), filters: 6),
    DirectConvCase(g: WindowGeometry(height: 14, width: 14, channels: 6, kernel: 5), filters: 16),  // LeNet-5 conv2
    DirectConvCase(g: WindowGeometry(height: 7, width: 9, channels: 3, kernel: 3, padding: 1), filters: 5),
    // padding k-1
    DirectConvCase(g: WindowGeometry(height: 17, width: 5, channels: 2, kernel: 5, padding: 4), filters: 3),
    DirectConvCase(g: WindowGeometry(height: 1, width: 1, channels: 1, kernel: 1), filters: 1),  // one pixel
    // rows of 29: 2 vectors
    DirectConvCase(g: WindowGeometry(height: 33, width: 31, channels: 4, kernel: 3), filters: 9),
    DirectConvCase(g: WindowGeometry(height: 20, width: 40, channels: 3, kernel: 5, padding: 2), filters: 17),
    // even kernel
    DirectConvCase(g: WindowGeometry(height: 9, width: 23, channels: 10, kernel: 4, padding: 3), filters: 12),
    DirectConvCase(g: WindowGeometry(height: 6, width: 16, channels: 2, kernel: 1), filters: 7),  // 1×1, rows of 16
    // 9 channels
    DirectConvCase(g: WindowGeometry(height: 8, width: 10, channels: 9, kernel: 2, padding: 1), filters: 4),
    // Forward across output channels (they fill more lanes than the rows): 12 channels, rows of
    // 5 (AVX2: two vectors, the second half full); 20 channels, rows of 3 (AVX2: two vectors
    // then one; AVX-512: two, the second a quarter full); rows of 13 (more than one block).
    DirectConvCase(g: WindowGeometry(height: 7, width: 7, channels: 3, kernel: 3), filters: 12),
    DirectConvCase(g: WindowGeometry(height: 5, width: 5, channels: 2, kernel: 3), filters: 20),
    DirectConvCase(g: WindowGeometry(height: 15, width: 15, channels: 2, kernel: 3), filters: 16),
]

/// 24 more shapes drawn from a fixed seed (SplitMix64): 1-5 channels, kernels 1-6, any padding
/// below the kernel, sides up to 18, 1-40 filters; so tile edges and the switches that pick
/// block sizes meet shapes nobody chose by hand.
private let drawnShapes: [DirectConvCase] = {
    var state: UInt64 = 0x6d69_615f_636f_6e76
    func next(_ range: ClosedRange<Int>) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return range.lowerBound + Int(z % UInt64(range.count))
    }
    return (0..<24).map { _ in
        let k = next(1...6)
        let padding = next(0...(k - 1))
        let side = max(1, k - 2 * padding)...18
        let g = WindowGeometry(
            height: next(side), width: next(side), channels: next(1...5), kernel: k, padding: padding)
        return DirectConvCase(g: g, filters: next(1...40))
    }
}()

/// Random values with a few -0, ±∞ and NaN.
private func awkward(_ n: Int, seed: UInt64) -> [Float] {
    var v = randomFloats(n, seed: seed)
    for i in stride(from: 0, to: n, by: 7) { v[i] = -0.0 }
    for i in stride(from: 3, to: n, by: 97) { v[i] = .infinity }
    for i in stride(from: 4, to: n, by: 101) { v[i] = -.infinity }
    for i in stride(from: 5, to: n, by: 211) { v[i] = .nan }
    return v
}

/// x with `pad` zeros around each of its `planes` planes [h, w].
private func padded(_ x: [Float], planes: Int, h: Int, w: Int, pad: Int) -> [Float] {
    let (hp, wp) = (h + 2 * pad, w + 2 * pad)
    var out = [Float](repeating: 0, count: planes * hp * wp)
    for c in 0..<planes {
        for y in 0..<h { for x0 in 0..<w { out[(c * hp + y + pad) * wp + x0 + pad] = x[(c * h + y) * w + x0] } }
    }
    return out
}

/// The three kernels in mia_conv.h's order, one plain loop per element.
private func referenceForward(_ x: [Float], _ g: WindowGeometry, _ f: Int, _ w: [Float]) -> [Float] {
    let (k, oh, ow, wp) = (g.kernel, g.outHeight, g.outWidth, g.width + 2 * g.padding)
    let hp = g.height + 2 * g.padding
    let xp = padded(x, planes: g.channels, h: g.height, w: g.width, pad: g.padding)
    var y = [Float](repeating: 0, count: f * oh * ow)
    for oc in 0..<f {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var a: Float = 0
                for c in 0..<g.channels {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            a = a.addingProduct(
                                w[oc * g.patchSize + (c * k + ky) * k + kx], xp[(c * hp + oy + ky) * wp + ox + kx])
                        }
                    }
                }
                y[(oc * oh + oy) * ow + ox] = a
            }
        }
    }
    return y
}

private func referenceInputGradient(_ dz: [Float], _ g: WindowGeometry, _ f: Int, _ w: [Float]) -> [Float] {
    let (k, h, wd, p) = (g.kernel, g.height, g.width, g.padding)
    let (oh, ow) = (g.outHeight, g.outWidth)
    let q = k - 1 - p
    let dzp = padded(dz, planes: f, h: oh, w: ow, pad: q)
    let (hq, wq) = (h + k - 1, wd + k - 1)
    var dx = [Float](repeating: 0, count: g.inputSize)
    for c in 0..<g.channels {
        for iy in 0..<h {
            for ix in 0..<wd {
                let wi = { (oc: Int, ky: Int, kx: Int) in (oc * g.channels + c) * k * k + ky * k + kx }
                if f < 8 {
                    // One chain over (oc, ky, kx): rows of dzp outside dz (its padding) are
                    // skipped; padding columns count.
                    var a: Float = 0
                    for oc in 0..<f {
                        for ky in 0..<k where (q..<(q + oh)).contains(iy + k - 1 - ky) {
                            for kx in 0..<k {
                                a = a.addingProduct(
                                    w[wi(oc, ky, kx)], dzp[(oc * hq + iy + k - 1 - ky) * wq + ix + k - 1 - kx])
                            }
                        }
                    }
                    dx[(c * h + iy) * wd + ix] = a
                    continue
                }
                // 16 lanes, lane l over the taps inside dz (rows and columns), each tap's
                // channels oc ≡ l (mod 16) ascending; then the lanes' canonical sum.
                var s = [Float](repeating: 0, count: 16)
                for ky in 0..<k where (0..<oh).contains(iy + p - ky) {
                    for kx in 0..<k where (0..<ow).contains(ix + p - kx) {
                        for oc in 0..<f {
                            s[oc % 16] = s[oc % 16].addingProduct(
                                w[wi(oc, ky, kx)], dz[(oc * oh + iy + p - ky) * ow + ix + p - kx])
                        }
                    }
                }
                let r = (0..<8).map { s[$0] + s[$0 + 8] }
                let r4 = (0..<4).map { r[$0] + r[$0 + 4] }
                dx[(c * h + iy) * wd + ix] = (r4[0] + r4[2]) + (r4[1] + r4[3])
            }
        }
    }
    return dx
}

private func referenceFilterGradient(_ x: [Float], _ g: WindowGeometry, _ f: Int, _ dz: [Float], into dw: inout [Float])
{
    let (k, oh, ow, wp) = (g.kernel, g.outHeight, g.outWidth, g.width + 2 * g.padding)
    let hp = g.height + 2 * g.padding
    let xp = padded(x, planes: g.channels, h: g.height, w: g.width, pad: g.padding)
    for oc in 0..<f {
        for c in 0..<g.channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    // Fewer than 8 filters: 16 lanes by column, then their canonical sum; else one chain.
                    var s = [Float](repeating: 0, count: 16)
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let l = f < 8 ? ox % 16 : 0
                            s[l] = s[l].addingProduct(
                                dz[(oc * oh + oy) * ow + ox], xp[(c * hp + oy + ky) * wp + ox + kx])
                        }
                    }
                    let r = (0..<8).map { s[$0] + s[$0 + 8] }
                    let r4 = (0..<4).map { r[$0] + r[$0 + 4] }
                    let t = f < 8 ? (r4[0] + r4[2]) + (r4[1] + r4[3]) : s[0]
                    let i = oc * g.patchSize + (c * k + ky) * k + kx
                    dw[i] = dw[i] + t
                }
            }
        }
    }
}

/// The bits of each value, every NaN as one pattern: IEEE 754 leaves open which NaN an operation
/// on two NaNs returns, and compilers may swap the operands of an addition (a sum of a +NaN
/// input and a −NaN from ∞ − ∞ can come out either way); every other value must match exactly.
private func bits(_ v: ArraySlice<Float>) -> [UInt32] { v.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }

@Test(arguments: shapes + drawnShapes)
func directConvolutionAtEveryLevelHasTheBitsOfItsDefinition(_ s: DirectConvCase) {
    let (g, f) = (s.g, s.filters)
    #expect(DirectConvolution.supports(g, filters: f))
    let x = awkward(g.inputSize, seed: 21)
    let w = awkward(f * g.patchSize, seed: 22)
    let dz = awkward(f * g.outPlane, seed: 23)
    let y0 = referenceForward(x, g, f, w)
    let dx0 = referenceInputGradient(dz, g, f, w)
    var dw0 = awkward(f * g.patchSize, seed: 24)  // the gradient adds to what is there
    let start = dw0
    referenceFilterGradient(x, g, f, dz, into: &dw0)
    referenceFilterGradient(x, g, f, dz, into: &dw0)  // twice: a second image adds on
    let guardCount = 40
    var scratch = [Float](repeating: .nan, count: DirectConvolution.scratchCount(g, filters: f))
    for level in levels {
        var y = [Float](repeating: 12345, count: y0.count + guardCount)
        var dx = [Float](repeating: 12345, count: dx0.count + guardCount)
        var dw = start + [Float](repeating: 12345, count: guardCount)
        DirectConvolution.forward(x, g, filters: f, weights: w, scratch: &scratch, into: &y, level: level)
        for _ in 0..<2 {
            DirectConvolution.filterGradient(
                x, g, filters: f, outputGradient: dz, scratch: &scratch, into: &dw, level: level)
        }
        DirectConvolution.inputGradient(dz, g, filters: f, weights: w, scratch: &scratch, into: &dx, level: level)
        #expect(bits(y[..<y0.count]) == bits(y0[...]), "forward \(level) \(s)")
        #expect(bits(dw[..<dw0.count]) == bits(dw0[...]), "filter gradient \(level) \(s)")
        #expect(bits(dx[..<dx0.count]) == bits(dx0[...]), "input gradient \(level) \(s)")
        for (name, v, n) in [("forward", y, y0.count), ("filter gradient", dw, dw0.count), ("input", dx, dx0.count)] {
            #expect(v[n...].allSatisfy { $0 == 12345 }, "\(name) \(level) \(s) wrote past its output")
        }
    }
}

/// Several images in one forward call (the weights prepared once): each image's output has the
/// bits of its own call, and nothing is written past the last image.
@Test(arguments: shapes + drawnShapes)
func directConvolutionOfSeveralImagesHasTheBitsOfOneCallEach(_ s: DirectConvCase) {
    let (g, f, images) = (s.g, s.filters, 3)
    let x = awkward(g.inputSize * images, seed: 41)
    let w = awkward(f * g.patchSize, seed: 42)
    let out = f * g.outPlane
    var scratch = [Float](repeating: .nan, count: DirectConvolution.scratchCount(g, filters: f))
    for level in levels {
        var together = [Float](repeating: 12345, count: out * images + 40)
        DirectConvolution.forward(
            x, g, filters: f, weights: w, scratch: &scratch, into: &together, images: images, level: level)
        for i in 0..<images {
            var alone = [Float](repeating: 12345, count: out)
            x.withUnsafeBufferPointer { xb in
                DirectConvolution.forward(
                    xb.baseAddress! + i * g.inputSize, g, filters: f, weights: w, scratch: &scratch, into: &alone,
                    level: level)
            }
            #expect(bits(together[(i * out)..<((i + 1) * out)]) == bits(alone[...]), "image \(i) \(level) \(s)")
        }
        #expect(together[(out * images)...].allSatisfy { $0 == 12345 }, "\(level) \(s) wrote past its output")
    }
}

/// Both gradients of several images in one call (the weights and each output gradient prepared
/// once): the bits of one filter-gradient and one input-gradient call per image, the filter
/// gradients added in image order; and without the input gradient, the same filter gradient.
@Test(arguments: shapes + drawnShapes)
func directConvolutionBackwardOfSeveralImagesHasTheBitsOfOneCallEach(_ s: DirectConvCase) {
    let (g, f, images) = (s.g, s.filters, 3)
    let x = awkward(g.inputSize * images, seed: 51)
    let dz = awkward(f * g.outPlane * images, seed: 52)
    let w = awkward(f * g.patchSize, seed: 53)
    let start = awkward(f * g.patchSize, seed: 54)
    // The scratch with 64 guard floats after it: scratchCount must cover every layout.
    let scratchCount = DirectConvolution.scratchCount(g, filters: f)
    var scratch = [Float](repeating: .nan, count: scratchCount) + [Float](repeating: 12345, count: 64)
    for level in levels {
        var dwAlone = start
        var dxAlone = [Float](repeating: 12345, count: g.inputSize * images)
        x.withUnsafeBufferPointer { xb in
            dz.withUnsafeBufferPointer { db in
                dxAlone.withUnsafeMutableBufferPointer { out in
                    for i in 0..<images {
                        DirectConvolution.filterGradient(
                            xb.baseAddress! + i * g.inputSize, g, filters: f,
                            outputGradient: db.baseAddress! + i * f * g.outPlane, scratch: &scratch, into: &dwAlone,
                            level: level)
                        DirectConvolution.inputGradient(
                            db.baseAddress! + i * f * g.outPlane, g, filters: f, weights: w, scratch: &scratch,
                            into: out.baseAddress! + i * g.inputSize, level: level)
                    }
                }
            }
        }
        var dw = start + [Float](repeating: 12345, count: 40)
        var dx = [Float](repeating: 12345, count: g.inputSize * images + 40)
        var dwOnly = start
        DirectConvolution.backward(
            x, g, filters: f, outputGradient: dz, weights: w, scratch: &scratch, filterGradient: &dw,
            inputGradient: &dx, images: images, level: level)
        DirectConvolution.backward(
            x, g, filters: f, outputGradient: dz, weights: w, scratch: &scratch, filterGradient: &dwOnly,
            inputGradient: nil, images: images, level: level)
        #expect(bits(dw[..<start.count]) == bits(dwAlone[...]), "filter gradient \(level) \(s)")
        #expect(bits(dwOnly[...]) == bits(dwAlone[...]), "filter gradient alone \(level) \(s)")
        #expect(bits(dx[..<dxAlone.count]) == bits(dxAlone[...]), "input gradient \(level) \(s)")
        #expect(dw[start.count...].allSatisfy { $0 == 12345 }, "\(level) \(s) wrote past dw")
        #expect(dx[dxAlone.count...].allSatisfy { $0 == 12345 }, "\(level) \(s) wrote past dx")
        #expect(scratch[scratchCount...].allSatisfy { $0 == 12345 }, "\(level) \(s) wrote past its scratch")
    }
}

/// The convolution itself, by the textbook loops in Double: terms outside the image skipped.
@Test(arguments: shapes + drawnShapes)
func directConvolutionComputesTheConvolution(_ s: DirectConvCase) {
    let (g, f) = (s.g, s.filters)
    let (k, h, wd, oh, ow, p) = (g.kernel, g.height, g.width, g.outHeight, g.outWidth, g.padding)
    let x = randomFloats(g.inputSize, seed: 31)
    let w = randomFloats(f * g.patchSize, seed: 32)
    let dz = randomFloats(f * g.outPlane, seed: 33)
    var y = [Double](repeating: 0, count: f * g.outPlane)
    var dw = [Double](repeating: 0, count: f * g.patchSize)
    var dx = [Double](repeating: 0, count: g.inputSize)
    for oc in 0..<f {
        for oy in 0..<oh {
            for ox in 0..<ow {
                for c in 0..<g.channels {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let (iy, ix) = (oy + ky - p, ox + kx - p)
                            guard iy >= 0 && iy < h && ix >= 0 && ix < wd else { continue }
                            let wi = oc * g.patchSize + (c * k + ky) * k + kx
                            let xi = (c * h + iy) * wd + ix
                            let o = (oc * oh + oy) * ow + ox
                            y[o] += Double(w[wi]) * Double(x[xi])
                            dw[wi] += Double(dz[o]) * Double(x[xi])
                            dx[xi] += Double(w[wi]) * Double(dz[o])
                        }
                    }
                }
            }
        }
    }
    var scratch = [Float](repeating: 0, count: DirectConvolution.scratchCount(g, filters: f))
    for level in levels {
        var yf = [Float](repeating: 0, count: y.count)
        var dwf = [Float](repeating: 0, count: dw.count)
        var dxf = [Float](repeating: 0, count: dx.count)
        DirectConvolution.forward(x, g, filters: f, weights: w, scratch: &scratch, into: &yf, level: level)
        DirectConvolution.filterGradient(
            x, g, filters: f, outputGradient: dz, scratch: &scratch, into: &dwf, level: level)
        DirectConvolution.inputGradient(dz, g, filters: f, weights: w, scratch: &scratch, into: &dxf, level: level)
        for (name, got, want) in [("forward", yf, y), ("filter gradient", dwf, dw), ("input gradient", dxf, dx)] {
            let worst = zip(got, want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-4, "\(name) \(level) \(s): relative error \(worst)")
        }
    }
}

@Test func directConvolutionTakesStrideOneAndPaddingBelowTheKernel() {
    #expect(
        DirectConvolution.supports(WindowGeometry(height: 5, width: 5, channels: 1, kernel: 3, padding: 2), filters: 2))
    #expect(
        !DirectConvolution.supports(WindowGeometry(height: 5, width: 5, channels: 1, kernel: 3, padding: 3), filters: 2)
    )
    #expect(
        !DirectConvolution.supports(WindowGeometry(height: 9, width: 9, channels: 1, kernel: 3, stride: 2), filters: 2))
    #expect(!DirectConvolution.supports(WindowGeometry(height: 2, width: 2, channels: 1, kernel: 3), filters: 2))
    // LeNet-5's layers are thin; the `cnn` block's 32 filters are not.
    #expect(DirectConvolution.suits(WindowGeometry(height: 14, width: 14, channels: 6, kernel: 5), filters: 16))
    #expect(
        !DirectConvolution.suits(
            WindowGeometry(height: 14, width: 14, channels: 32, kernel: 3, padding: 1), filters: 32))
}
