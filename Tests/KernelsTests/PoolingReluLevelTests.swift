import Kernels
import Testing

/// Max pooling and the ReLU passes at every vector level this CPU has (CKernels/pool.c and
/// relu.c above generic) give exactly the bits of the plain Swift loops (the generic level):
/// odd sizes, row ends that cut a vector, -0 against +0, ±infinity, NaN and ties.

private let poolLevels = VectorLevel.allCases.filter { $0 <= VectorLevel.best(for: .current) }

/// Awkward values: ties (few distinct), signed zeros, infinities, NaN.
private func awkward(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in
        switch rng.next() % 16 {
        case 0: .nan
        case 1: .infinity
        case 2: -.infinity
        case 3: -0.0
        case 4: 0
        default: Float(Int(rng.next() % 7) - 3) * 0.5
        }
    }
}

private let sentinel = Float(bitPattern: 0x7FC0_1234)

private func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

@Test(arguments: [
    (28, 28, 6),  // LeNet-5's first pool: 14 a row
    (10, 10, 16),  // its second: 5 a row
    (2, 2, 1), (3, 3, 2), (5, 7, 2),  // one or three windows a row, odd sizes
    (16, 17, 3), (9, 32, 1),  // odd width; 16 a row
    (7, 66, 2), (4, 34, 1), (6, 18, 1),  // 33, 17 and 9 a row: a lane past each vector width
])
func maxPoolEveryLevelGivesThePlainLoopsBits(height: Int, width: Int, channels: Int) {
    let g = WindowGeometry(height: height, width: width, channels: channels, kernel: 2, stride: 2)
    let out = channels * g.outPlane
    let x = awkward(g.inputSize, seed: UInt64(height * 1000 + width))
    func forward(_ level: VectorLevel) -> ([Float], [Int32]) {
        var y = [Float](repeating: sentinel, count: out + 3)
        var arg = [Int32](repeating: -5, count: out + 3)
        Pooling.maxForward(x, g, into: &y, argmax: &arg, level: level)
        return (y, arg)
    }
    let (plainY, plainArg) = forward(.generic)
    // The gradient: signed zeros, NaN, infinities; dx starts as garbage.
    let dy = awkward(out, seed: UInt64(width))
    func backward(_ level: VectorLevel) -> [Float] {
        var dx = [Float](repeating: 7, count: g.inputSize + 3)
        Pooling.maxBackward(dy, argmax: plainArg, g, into: &dx, level: level)
        return dx
    }
    let plainDx = backward(.generic)
    #expect(plainDx.suffix(3) == [7, 7, 7])
    for level in poolLevels where level != .generic {
        let (y, arg) = forward(level)
        #expect(bits(y) == bits(plainY), "\(level) maxima, \(height)×\(width)×\(channels)")
        #expect(arg == plainArg, "\(level) argmax, \(height)×\(width)×\(channels)")
        #expect(bits(backward(level)) == bits(plainDx), "\(level) gradient, \(height)×\(width)×\(channels)")
    }
}

@Test func maxPoolTiesKeepTheFirstAndNaNIsNeverReplacedAtEveryLevel() {
    // 4×4 one channel: windows (0,1,4,5), (2,3,6,7), (8,9,12,13), (10,11,14,15).
    let x: [Float] = [
        -0.0, 0, 1, .nan,
        0, 0, .nan, 1,
        .infinity, 2, -.infinity, -.infinity,
        .infinity, 3, -.infinity, -.infinity,
    ]
    let g = WindowGeometry(height: 4, width: 4, channels: 1, kernel: 2, stride: 2)
    for level in poolLevels {
        var y = [Float](repeating: 0, count: 4)
        var arg = [Int32](repeating: -1, count: 4)
        Pooling.maxForward(x, g, into: &y, argmax: &arg, level: level)
        // -0 first: +0 is not greater; 1 then NaN (not greater); +inf first; -inf first.
        #expect(arg == [0, 2, 8, 10], "\(level)")
        #expect(y[0].bitPattern == (-0.0 as Float).bitPattern && y[1] == 1, "\(level)")
        var dx = [Float](repeating: 9, count: 16)
        Pooling.maxBackward([-0.0, .nan, 2, 3], argmax: arg, g, into: &dx, level: level)
        #expect(dx[0].bitPattern == Float(0).bitPattern, "\(level): 0 + -0 is +0")
        #expect(dx[2].isNaN && dx[8] == 2 && dx[10] == 3, "\(level)")
        #expect([1, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15].allSatisfy { dx[$0].bitPattern == 0 }, "\(level)")
    }
}

@Test(arguments: [(6, 784), (16, 100), (3, 1), (2, 15), (2, 17), (1, 33), (4, 8), (2, 0), (5, 9), (3, 40), (7, 23)])
func reluPassesEveryLevelGiveThePlainLoopsBits(rows: Int, cols: Int) {
    let y0 = awkward(rows * cols, seed: UInt64(rows * 7919 + cols))
    var bias = awkward(rows, seed: UInt64(cols + 1))
    bias[0] = -0.0
    func forward(_ level: VectorLevel) -> [Float] {
        var y = y0 + [sentinel]
        Pointwise.addRowBiasActivate(&y, rows: rows, cols: cols, bias: bias, .relu, level: level)
        return y
    }
    let dy0 = awkward(rows * cols, seed: UInt64(cols * 31 + rows))
    func backward(_ level: VectorLevel) -> [Float] {
        var dy = dy0 + [sentinel]
        Pointwise.activationBackward(&dy, output: y0, count: rows * cols, .relu, level: level)
        return dy
    }
    let (plainForward, plainBackward) = (forward(.generic), backward(.generic))
    for level in poolLevels where level != .generic {
        #expect(bits(forward(level)) == bits(plainForward), "\(level) forward, \(rows)×\(cols)")
        #expect(bits(backward(level)) == bits(plainBackward), "\(level) backward, \(rows)×\(cols)")
    }
}

@Test func reluKeepsNaNAndMinusZeroAndZeroesNegativesAtEveryLevel() {
    let y: [Float] = [-0.0, .nan, -1, 2, -.infinity, .infinity, 0, -0.5, 3]
    for level in poolLevels {
        var out = y
        Pointwise.addRowBiasActivate(&out, rows: 1, cols: y.count, bias: [0], .relu, level: level)
        // -0 + 0 is +0; NaN stays NaN; negatives become +0.
        #expect(bits(out) == bits([0, .nan, 0, 2, 0, .infinity, 0, 0, 3]), "\(level)")
        var dy: [Float] = [1, 2, 3, 4, 5, .nan, 7, 8, -0.0]
        Pointwise.activationBackward(&dy, output: y, count: y.count, .relu, level: level)
        #expect(bits(dy) == bits([0, 0, 0, 4, 0, .nan, 0, 0, -0.0]), "\(level)")
    }
}
