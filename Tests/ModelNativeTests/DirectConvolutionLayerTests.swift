import Kernels
import Testing

@testable import ModelNative

/// `Conv2D` on the direct kernels (`DirectConvolution`) against the same layer on im2col + GEMM:
/// the same outputs, parameter gradients and input gradients up to rounding, and gradients
/// that match finite differences.

@Test(arguments: [(0, Activation.tanh), (1, .identity), (2, .sigmoid)])
func directConvolutionGradients(_ padding: Int, _ f: Activation) {
    checkGradients(
        {
            Conv2D(
                input: Shape(height: 5, width: 4, channels: 2), filters: 3, kernel: 3, stride: 1, padding: padding,
                activation: f, direct: true)
        },
        batch: 2)
}

@Test(arguments: [
    (Shape(height: 28, width: 28, channels: 1), 6, 5, 2),  // LeNet-5 conv1
    (Shape(height: 14, width: 14, channels: 6), 16, 5, 0),  // LeNet-5 conv2
    (Shape(height: 9, width: 7, channels: 3), 4, 3, 1),
])
func directAndGEMMConvolutionsAgree(_ input: Shape, _ filters: Int, _ kernel: Int, _ padding: Int) {
    let batch = 3
    func layer(_ direct: Bool) -> Conv2D {
        Conv2D(
            input: input, filters: filters, kernel: kernel, stride: 1, padding: padding, activation: .relu,
            direct: direct)
    }
    let (d, m) = (layer(true), layer(false))
    #expect(d.isDirect && !m.isDirect)
    let direct = Harness(d, batch: batch)
    let gemm = Harness(m, batch: batch)
    gemm.parameters = direct.parameters
    let x = randomFloats(batch * input.count, seed: 5)
    let dy = randomFloats(batch * d.outputShape.count, seed: 6)
    func close(_ a: [Float], _ b: [Float], _ what: String) {
        #expect(a.count == b.count)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst < 1e-5, "\(what): relative difference \(worst)")
    }
    close(direct.forward(x), gemm.forward(x), "output")
    /// Forward then backward from `dy`: (parameter gradients, input gradient).
    func backward(_ h: Harness) -> ([Float], [Float]) {
        var y = h.forward(x)
        var d = dy
        var dx = [Float](repeating: 0, count: x.count)
        h.layer.backward(x, &y, &d, &dx, batch: batch)
        return (h.gradients, dx)
    }
    let (gd, dxd) = backward(direct)
    let (gm, dxm) = backward(gemm)
    close(gd, gm, "parameter gradients")
    close(dxd, dxm, "input gradient")
}

@Test func lenetLayersChooseTheDirectKernels() {
    let conv1 = Conv2D(
        input: Shape(height: 28, width: 28, channels: 1), filters: 6, kernel: 5, stride: 1, padding: 2,
        activation: .relu)
    let conv2 = Conv2D(
        input: Shape(height: 14, width: 14, channels: 6), filters: 16, kernel: 5, stride: 1, padding: 0,
        activation: .relu)
    let wide = Conv2D(
        input: Shape(height: 14, width: 14, channels: 32), filters: 64, kernel: 3, stride: 1, padding: 1,
        activation: .relu)
    let strided = Conv2D(
        input: Shape(height: 14, width: 14, channels: 3), filters: 8, kernel: 3, stride: 2, padding: 1,
        activation: .relu)
    #expect(conv1.isDirect && conv2.isDirect)
    #expect(!wide.isDirect && !strided.isDirect)
}
