import Kernels
import Testing

@testable import ModelNative

@Test func denseForwardMatchesAHandComputedCase() {
    let h = Harness(Dense(input: vector(3), outputs: 2, activation: .relu), batch: 2)
    // W = [[1, 0, -1], [0.5, 0.5, 0.5]], b = [0.5, -1]
    h.parameters = [1, 0, -1, 0.5, 0.5, 0.5, 0.5, -1]
    let y = h.forward([1, 2, 3, -1, 0, 4])
    // row 0: [1 - 3 + 0.5, 3 - 1] = [-1.5 -> 0, 2]; row 1: [-1 - 4 + 0.5 -> 0, 1.5 - 1]
    #expect(y == [0, 2, 0, 0.5])
}

@Test func convolutionForwardMatchesAHandComputedCase() {
    // 3x3 image 1...9, one 2x2 filter [[1, 0], [0, -1]] (x[i][j] - x[i+1][j+1]), bias 1.
    let h = Harness(
        Conv2D(
            input: Shape(height: 3, width: 3, channels: 1), filters: 1, kernel: 2, stride: 1, padding: 0,
            activation: .identity), batch: 1)
    h.parameters = [1, 0, 0, -1, 1]
    let y = h.forward([1, 2, 3, 4, 5, 6, 7, 8, 9])
    #expect(y == [-3, -3, -3, -3])
    // Two output channels, two input channels (channels-first): a 1x1 kernel mixing channels,
    // out0 = in0 + in1, out1 = in0 - in1, on a 1x2 image with in0 = [3, 5], in1 = [1, 2].
    let m = Harness(
        Conv2D(
            input: Shape(height: 1, width: 2, channels: 2), filters: 2, kernel: 1, stride: 1, padding: 0,
            activation: .identity), batch: 1)
    m.parameters = [1, 1, 1, -1, 0, 0]
    #expect(m.forward([3, 5, 1, 2]) == [4, 7, 2, 3])
}

@Test func batchNormUsesRunningStatisticsInInference() {
    let h = Harness(BatchNorm(input: vector(2), activation: .identity), batch: 2)
    h.parameters = [2, 1, 0, 3]  // gamma, beta
    _ = h.forward([0, 0, 2, 4])  // batch means [1, 2], biased variances [1, 4], unbiased [2, 8]
    #expect(abs(h.state[0] - 0.1) < 1e-6 && abs(h.state[1] - 0.2) < 1e-6)
    #expect(abs(h.state[2] - (0.9 + 0.2)) < 1e-6 && abs(h.state[3] - (0.9 + 0.8)) < 1e-6)
    let y = h.forward([1, 1, 1, 1], training: false)
    let expected0 = 2 * (1 - 0.1) / (1.1 + 1e-5).squareRoot()
    let expected1 = 1 * (1 - 0.2) / (1.7 + 1e-5).squareRoot() + 3
    #expect(abs(Double(y[0]) - expected0) < 1e-5 && abs(Double(y[1]) - expected1) < 1e-5)
}
