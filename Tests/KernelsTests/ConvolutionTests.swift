import Kernels
import Testing

@Test func im2colGivesThePatchesOfAHandExample() {
    // One 3x3 single-channel image 1...9, 2x2 kernel, stride 1, no padding: four patches.
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let g = WindowGeometry(height: 3, width: 3, channels: 1, kernel: 2)
    var col = [Float](repeating: -1, count: 4 * 4)
    Im2col.forward(x, g, into: &col)
    // Rows (ky, kx), columns the output positions.
    #expect(col == [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9])
    // Padding 1, stride 2 on the same image: patches at (-1,-1), (-1,1), (1,-1), (1,1).
    let p = WindowGeometry(height: 3, width: 3, channels: 1, kernel: 2, stride: 2, padding: 1)
    #expect(p.outHeight == 2 && p.outWidth == 2)
    Im2col.forward(x, p, into: &col)
    #expect(col == [0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9])
}

@Test func im2colStacksChannels() {
    // A 1x3 image with 2 channels, kernel 2 wide... as a 1x2 kernel is not square, use 2x2 on
    // a 2x2 image: one patch, rows (c, ky, kx) = the image itself.
    let x: [Float] = [1, 2, 3, 4, 10, 20, 30, 40]
    let g = WindowGeometry(height: 2, width: 2, channels: 2, kernel: 2)
    var col = [Float](repeating: 0, count: 8)
    Im2col.forward(x, g, into: &col)
    #expect(col == x)
}

/// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c.
@Test(arguments: [
    WindowGeometry(height: 5, width: 4, channels: 3, kernel: 3, stride: 1, padding: 1),
    WindowGeometry(height: 6, width: 6, channels: 2, kernel: 3, stride: 2, padding: 0),
    WindowGeometry(height: 5, width: 5, channels: 1, kernel: 5, stride: 1, padding: 2),
    WindowGeometry(height: 7, width: 5, channels: 2, kernel: 3, stride: 2, padding: 2),
    WindowGeometry(height: 6, width: 9, channels: 2, kernel: 3, stride: 1, padding: 0),
])
func col2imIsTheAdjointOfIm2col(_ g: WindowGeometry) {
    let batch = 2
    let x = randomFloats(batch * g.inputSize, seed: 1)
    let rows = batch * g.outHeight * g.outWidth
    let c = randomFloats(rows * g.patchSize, seed: 2)
    var col = [Float](repeating: 0, count: c.count)
    var back = [Float](repeating: 1, count: x.count)
    let per = g.outHeight * g.outWidth * g.patchSize
    for b in 0..<batch {
        x.withUnsafeBufferPointer { Im2col.forward($0.baseAddress! + b * g.inputSize, g, into: &col[b * per]) }
        c.withUnsafeBufferPointer { Im2col.backward($0.baseAddress! + b * per, g, into: &back[b * g.inputSize]) }
    }
    let lhs = zip(col, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
}

@Test func maxPoolPicksTheWindowMaximumAndRoutesTheGradient() {
    // 4x4 one channel, 2x2 windows.
    let x: [Float] = [1, 5, 2, 0, 3, 4, 9, 1, 0, 0, 1, 2, 7, 0, 3, 8]
    let g = WindowGeometry(height: 4, width: 4, channels: 1, kernel: 2, stride: 2)
    var y = [Float](repeating: 0, count: 4)
    var arg = [Int32](repeating: 0, count: 4)
    Pooling.maxForward(x, g, into: &y, argmax: &arg)
    #expect(y == [5, 9, 7, 8])
    #expect(arg == [1, 6, 12, 15])
    var dx = [Float](repeating: 3, count: 16)
    Pooling.maxBackward([1, 2, 3, 4], argmax: arg, g, into: &dx)
    #expect(dx == [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4])
}

@Test func averagePoolAveragesAndSpreadsTheGradient() {
    // 2x2 image, 2 channels, one 2x2 window.
    let x: [Float] = [1, 2, 3, 4, 10, 20, 30, 40]
    let g = WindowGeometry(height: 2, width: 2, channels: 2, kernel: 2, stride: 2)
    var y = [Float](repeating: 0, count: 2)
    Pooling.averageForward(x, g, into: &y)
    #expect(y == [2.5, 25])
    var dx = [Float](repeating: 0, count: 8)
    Pooling.averageBackward([4, 8], g, into: &dx)
    #expect(dx == [1, 1, 1, 1, 2, 2, 2, 2])
}

@Test func batchNormalizationNormalisesEachChannel() {
    let rows = 50
    let channels = 3
    let x = randomFloats(rows * channels, seed: 5).enumerated().map { $0.element * Float($0.offset % 3 + 1) + 10 }
    let gamma: [Float] = [1, 2, 0.5]
    let beta: [Float] = [0, 1, -1]
    var y = [Float](repeating: 0, count: x.count)
    var xhat = y
    var mean = [Float](repeating: 0, count: 3)
    var variance = mean
    var invStd = mean
    var scratch = [Double](repeating: 0, count: 6)
    BatchNormalization.forwardTraining(
        x, .init(batch: rows, channels: channels, plane: 1), gamma: gamma, beta: beta, epsilon: 0, y: &y, xhat: &xhat,
        mean: &mean, variance: &variance, invStd: &invStd, scratch: &scratch)
    for c in 0..<channels {
        let column = (0..<rows).map { Double(y[$0 * channels + c]) }
        let m = column.reduce(0, +) / Double(rows)
        let v = column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(rows)
        #expect(abs(m - Double(beta[c])) < 1e-4)
        #expect(abs(v - Double(gamma[c] * gamma[c])) < 1e-3)
    }
}
