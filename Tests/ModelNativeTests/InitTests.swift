import PluginKit
import Testing

@testable import ModelNative

/// xoshiro256** seeded through SplitMix64, and the seed derivation, written again from the
/// published algorithms (Blackman & Vigna) so the expected weights do not come from the code
/// under test.
private struct ReferenceXoshiro {
    var s: [UInt64] = []

    init(seed: UInt64) {
        var x = seed
        for _ in 0..<4 {
            x = x &+ 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            s.append(z ^ (z >> 31))
        }
    }

    /// The stream the network's initialisation uses: sub-task 0 of `seed`.
    init(networkSeed seed: UInt64) {
        self.init(seed: seed ^ (0 &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
    }

    mutating func next() -> UInt64 {
        func rotl(_ v: UInt64, _ k: UInt64) -> UInt64 { (v << k) | (v >> (64 - k)) }
        let result = rotl(s[1] &* 5, 7) &* 9
        let t = s[1] << 17
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result
    }

    /// Uniform on [-bound, bound): 53 random bits scaled to [0, 1), then 2u - 1 times bound.
    mutating func uniform(_ bound: Double) -> Float {
        let u = Double(next() >> 11) / 9_007_199_254_740_992  // 2^53
        return Float((2 * u - 1) * bound)
    }
}

/// LeNet-5 on [1, 28, 28] with 10 classes: per layer (weights, biases, fan-in, followed by ReLU).
private let lenetLayers: [(weights: Int, biases: Int, fanIn: Int, relu: Bool)] = [
    (6 * 25, 6, 25, true),  // conv 6@5x5 pad 2
    (16 * 150, 16, 150, true),  // conv 16@5x5 on 6 channels
    (120 * 400, 120, 400, true),  // dense 16*5*5 -> 120
    (84 * 120, 84, 120, true),  // dense 120 -> 84
    (10 * 84, 10, 84, false),  // dense 84 -> 10, no activation
]

private func lenet(_ extra: [String: OptionValue] = [:]) throws -> NativeModel {
    var options: [String: OptionValue] = ["architecture": .string("lenet5")]
    options.merge(extra) { $1 }
    return try NativeModel(
        options: PluginOptions(options), spec: ModelSpec(featureShape: [1, 28, 28], classCount: 10), host: .standalone)
}

private func parameters(_ model: NativeModel, seed: UInt64) -> [Float] {
    model.network.initialize(seed: seed)
    return Array(UnsafeBufferPointer(start: model.network.parameters.pointer, count: model.network.parameterCount))
}

/// The default (`init: he`) draws what the backend drew before the option existed: per layer,
/// weights U(±√(6/fan_in)) before a ReLU and U(±√(3/fan_in)) for the output layer, from one
/// stream in layer order, biases 0 and not drawn. Checked bit for bit against that recipe run
/// on an independent generator.
@Test func defaultInitializationIsUnchanged() throws {
    let seed: UInt64 = 20_261_125
    var rng = ReferenceXoshiro(networkSeed: seed)
    var expected: [Float] = []
    for layer in lenetLayers {
        let bound = ((layer.relu ? 6.0 : 3.0) / Double(layer.fanIn)).squareRoot()
        for _ in 0..<layer.weights { expected.append(rng.uniform(bound)) }
        expected += [Float](repeating: 0, count: layer.biases)
    }
    let byDefault = parameters(try lenet(), seed: seed)
    let named = parameters(try lenet(["init": .string("he")]), seed: seed)
    #expect(byDefault.count == 61_706)
    #expect(byDefault.count == expected.count)
    #expect(byDefault.map(\.bitPattern) == expected.map(\.bitPattern))
    #expect(named.map(\.bitPattern) == expected.map(\.bitPattern))
}

/// `init: torch` is PyTorch's default: weights and biases U(±1/√fan_in), each layer's weights
/// then its biases, from the same single stream (bit for bit against the independent generator).
@Test func torchInitializationFollowsItsRecipe() throws {
    let seed: UInt64 = 7
    var rng = ReferenceXoshiro(networkSeed: seed)
    var expected: [Float] = []
    for layer in lenetLayers {
        let bound = 1 / Double(layer.fanIn).squareRoot()
        for _ in 0..<(layer.weights + layer.biases) { expected.append(rng.uniform(bound)) }
    }
    let p = parameters(try lenet(["init": .string("torch")]), seed: seed)
    #expect(p.map(\.bitPattern) == expected.map(\.bitPattern))
    // Every layer's values (biases too) lie within its bound and reach close to it.
    var offset = 0
    for layer in lenetLayers {
        let bound = Float(1 / Double(layer.fanIn).squareRoot())
        let values = p[offset..<(offset + layer.weights + layer.biases)]
        #expect(values.allSatisfy { abs($0) <= bound })
        #expect(values.map { abs($0) }.max()! > 0.9 * bound)
        #expect(p[(offset + layer.weights)..<(offset + layer.weights + layer.biases)].contains { $0 != 0 })
        offset += layer.weights + layer.biases
    }
}

/// The distribution of `init: torch` against the closed form of U(-b, b), b = 1/√fan_in: mean 0
/// (standard error b/√(3n)), variance b²/3 (the sample variance's standard error is
/// √(Var X² / n) = b²·√(4/45) / √n, since E X⁴ = b⁴/5). A dense 784 → 512 layer gives
/// n = 401,408 weights; the bounds allow 5 standard errors. The He default's variance, 6·b²/3
/// per ReLU layer, is far outside.
@Test func torchInitializationMatchesTheUniformClosedForm() throws {
    let model = try NativeModel(
        options: PluginOptions([
            "architecture": .string("mlp"), "hidden_sizes": .list([.int(512)]), "init": .string("torch"),
        ]),
        spec: ModelSpec(featureShape: [784], classCount: 10), host: .standalone)
    model.network.initialize(seed: 3)
    let n = 784 * 512
    let w = UnsafeBufferPointer(start: model.network.parameters.pointer, count: n)
    let b = 1 / 784.0.squareRoot()
    var sum = 0.0
    var sumSquares = 0.0
    for x in w {
        sum += Double(x)
        sumSquares += Double(x) * Double(x)
    }
    let mean = sum / Double(n)
    let variance = sumSquares / Double(n) - mean * mean
    #expect(w.allSatisfy { abs(Double($0)) <= b })
    #expect(abs(mean) < 5 * b / (3 * Double(n)).squareRoot())
    let closedForm = b * b / 3
    let standardError = b * b * (4.0 / 45).squareRoot() / Double(n).squareRoot()
    #expect(abs(variance - closedForm) < 5 * standardError)
    #expect(abs(variance - 2 * closedForm * 3) > 100 * standardError)
    // The 512 hidden biases: U(±b) as well, so not zero and with a variance near b²/3 (5 SE).
    let biases = UnsafeBufferPointer(start: model.network.parameters.pointer + n, count: 512)
    let bv = biases.reduce(0.0) { $0 + Double($1) * Double($1) } / 512
    #expect(biases.allSatisfy { abs(Double($0)) <= b })
    #expect(abs(bv - closedForm) < 5 * b * b * (4.0 / 45).squareRoot() / 512.0.squareRoot())
}

/// The option is listed with its choices and default, and an unknown scheme is refused.
@Test func initOptionIsDeclaredAndChecked() throws {
    let spec = try #require(NativeOptions.specs.first { $0.name == "init" })
    #expect(spec.defaultJSON == "\"he\"")
    #expect(spec.choices == ["he", "torch"])
    #expect(try NativeOptions(PluginOptions([:])).initialization == .he)
    #expect(throws: PluginError.self) { try NativeOptions(PluginOptions(["init": .string("glorot")])) }
}
