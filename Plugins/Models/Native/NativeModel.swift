import Kernels
import PluginKit

/// The built-in `native` model backend: logistic regression, MLPs and CNNs trained on the CPU
/// with OpenBLAS.
///
/// Guarantees (the `ModelBackend` contract): the same seed, options and data give bit-identical
/// weights on the same machine (OpenBLAS kernel), whatever the BLAS thread count (every reduction
/// runs in a fixed order, and every product in pieces fixed by its shape, `GEMMPieces`); an
/// instance owns all its memory, so
/// distinct instances train on distinct threads at once; BLAS threading is left to the host;
/// cancellation is checked before every batch. Every buffer of a training is allocated before
/// its first batch.
public final class NativeModel: ModelBackend {
    public static let name = "native"
    public static let summary =
        "CPU neural networks on OpenBLAS: logistic, MLP, LeNet-5 and configurable CNNs; SGD/Adam/AdamW"
    public static var options: [OptionSpec] { NativeOptions.specs }

    let settings: NativeOptions
    let spec: ModelSpec
    let host: HostServices
    let network: Network
    /// The epsilon of the last DP-SGD training's (epsilon, `dp_delta`) guarantee, from the
    /// Renyi-DP accountant; nil when the model was not trained with DP-SGD in this instance.
    public internal(set) var dpEpsilon: Double?
    /// True once the weights come from a training or a file.
    private(set) var isReady = false

    public convenience init(options: PluginOptions, spec: ModelSpec, host: HostServices) throws {
        try self.init(settings: NativeOptions(options), spec: spec, host: host)
    }

    /// A model of decoded settings (a distillation's teacher is one).
    init(settings: NativeOptions, spec: ModelSpec, host: HostServices) throws {
        self.settings = settings
        self.spec = spec
        self.host = host
        let (input, layers) = try ArchitectureBuilder.layers(settings, spec: spec)
        network = Network(input: input, layers: layers, initialization: settings.initialization)
    }

    public func predict(
        features: UnsafeBufferPointer<Float>, count: Int, into logits: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard isReady else { throw PluginError(.invalidArgument, "the model is neither trained nor loaded") }
        let k = spec.classCount
        guard count >= 0, features.count == count * spec.featureSize, logits.count == count * k else {
            throw PluginError(
                .invalidArgument,
                "predict: expected [\(count), \(spec.featureSize)] features and [\(count), \(k)] logits, got \(features.count) and \(logits.count) floats"
            )
        }
        guard count > 0, let x = features.baseAddress, let out = logits.baseAddress else { return }
        // Records per chunk (`InferenceChunk`); the buffers grow to it on the first `predict`.
        network.reserve(batch: InferenceChunk.records(count: count, network: network, batch: settings.batchSize))
        let chunk = network.capacity
        var first = 0
        while first < count {
            let n = min(chunk, count - first)
            let records = x + first * spec.featureSize
            let z =
                network.runsInSlices
                ? network.forwardInSlices(batch: n, input: records)
                : network.forward(batch: n, training: false, input: records)
            (out + first * k).update(from: z, count: n * k)
            first += n
        }
    }

    /// Mean loss and accuracy on records, in inference mode.
    func evaluate(_ features: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>, count: Int) -> (
        loss: Double, accuracy: Double
    ) {
        guard count > 0 else { return (.nan, .nan) }
        let chunk = network.capacity
        var loss = 0.0
        var correct = 0
        var first = 0
        while first < count {
            let n = min(chunk, count - first)
            let z = network.forward(batch: n, training: false, input: features + first * spec.featureSize)
            let r = SoftmaxCrossEntropy.evaluate(
                logits: z, labels: labels + first, rows: n, classes: spec.classCount,
                smoothing: Float(settings.labelSmoothing))
            loss += r.loss
            correct += r.correct
            first += n
        }
        return (loss / Double(count), Double(correct) / Double(count))
    }

    func markReady() { isReady = true }
}
