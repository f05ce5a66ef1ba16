import Foundation
import Kernels

/// A small neural attack model: standardised input, one ReLU hidden layer, a sigmoid output,
/// trained on binary cross-entropy with Adam at a constant learning rate of 1e-2
/// (`HiddenLayerNet`: batches of 64 shuffled each epoch by the seed, He-normal initial weights).
/// Deterministic given the seed.
struct SmallMLP: BinaryClassifier {
    var hiddenUnits: Int
    var epochs: Int
    var standardizer = Standardizer([], width: 0)
    var net = HiddenLayerNet()

    init(hiddenUnits: Int, epochs: Int) {
        self.hiddenUnits = hiddenUnits
        self.epochs = epochs
    }

    mutating func fit(_ x: [Double], width d: Int, labels y: [UInt8], seed: UInt64) throws {
        standardizer = Standardizer(x, width: d)
        let z = standardizer.apply(x, width: d)
        var rng = SeededRandom(seed: seed)
        net = HiddenLayerNet(inputs: d, hiddenUnits: hiddenUnits, rng: &rng)
        net.train(
            z, rows: y.count, width: d, epochs: epochs, loss: .logistic(labels: y), schedule: .constant(1e-2), rng: &rng
        )
    }

    func memberProbability(_ x: [Double], width d: Int) -> [Double] {
        net.outputs(standardizer.apply(x, width: d), width: d).map(sigmoid)
    }
}
