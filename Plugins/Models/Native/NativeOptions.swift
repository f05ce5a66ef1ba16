import Kernels
import PluginKit

/// The `native` backend's options, decoded and checked once when a model is created.
///
/// Every key has a default (see `NativeOptions.specs`), so `{}` is a valid configuration: an
/// MLP 512-256 with ReLU, Adam at 1e-3, batch 128, 10 epochs.
struct NativeOptions: Equatable {
    enum Architecture: String, CaseIterable { case logistic, mlp, lenet5, cnn }
    enum Schedule: String, CaseIterable { case constant, step, cosine }

    var architecture = Architecture.mlp
    var hiddenSizes = [512, 256]
    var cnnChannels = [32, 64, 128]
    var cnnBlocks = 3
    var denseWidth = 128
    var activation = Activation.relu
    var dropout = 0.0
    var batchNorm = false
    var optimizer = Optimizer.Kind.adam
    var learningRate = 1e-3
    var momentum = 0.9
    var nesterov = false
    var weightDecay = 0.0
    var lrSchedule = Schedule.constant
    var lrStepEpochs = 10
    var lrGamma = 0.1
    var labelSmoothing = 0.0
    var epochs = 10
    var batchSize = 128
    var shuffle = true
    var initialization = WeightInit.he
    var earlyStoppingPatience = 0
    var heldoutEvery = 1
    var checkpointEpochs: [Int] = []
    var checkpointFolder = ""
    var privacy = PrivacyOptions()
    var defences = DefenceOptions()

    static let specs: [OptionSpec] =
        [
            OptionSpec(
                "architecture", .string, default: "\"mlp\"", choices: Architecture.allCases.map(\.rawValue),
                "network: logistic (softmax regression), mlp (hidden_sizes), lenet5, cnn (cnn_channels, cnn_blocks, dense_width)"
            ),
            OptionSpec(
                "hidden_sizes", .intList, default: "[512, 256]",
                "mlp: width of each hidden dense layer, input side first"
            ).within(1...65536).length(1...64),
            OptionSpec(
                "cnn_channels", .intList, default: "[32, 64, 128]",
                "cnn: output channels of each block's 3x3 convolution (the last value repeats when cnn_blocks is larger)"
            ).within(1...65536).length(1...64),
            OptionSpec(
                "cnn_blocks", .int, default: "3",
                "cnn: number of blocks, each a 3x3 convolution (padding 1) then a 2x2 max-pool while the image is at least 4x4"
            ).within(1...64),
            OptionSpec(
                "dense_width", .int, default: "128", "cnn: width of the hidden dense layer after the blocks (0: none)"
            ).within(0...65536),
            OptionSpec(
                "activation", .string, default: "\"relu\"", choices: ["relu", "tanh", "sigmoid"],
                "nonlinearity after every hidden layer"),
            OptionSpec(
                "dropout", .float, default: "0", "dropout rate in [0, 1) after every hidden dense layer (0: off)"
            ).within(0...1).atMost(1, exclusive: true),
            OptionSpec("batch_norm", .bool, default: "false", "batch normalisation before every hidden activation"),
            OptionSpec(
                "optimizer", .string, default: "\"adam\"", choices: Optimizer.Kind.allCases.map(\.rawValue),
                "update rule: sgd (with momentum, nesterov), adam, or adamw (decoupled weight decay)"),
            OptionSpec("learning_rate", .float, default: "0.001", "initial learning rate, > 0").above(0),
            OptionSpec("momentum", .float, default: "0.9", "sgd: momentum in [0, 1) (0: plain SGD)").within(0...1)
                .atMost(1, exclusive: true),
            OptionSpec("nesterov", .bool, default: "false", "sgd: Nesterov momentum"),
            OptionSpec("weight_decay", .float, default: "0", "L2 penalty (sgd, adam) or decoupled decay (adamw), >= 0")
                .atLeast(0),
            OptionSpec(
                "lr_schedule", .string, default: "\"constant\"", choices: Schedule.allCases.map(\.rawValue),
                "learning rate per epoch: constant; step (times lr_gamma every lr_step_epochs); cosine (to 0 over the epochs)"
            ),
            OptionSpec("lr_step_epochs", .int, default: "10", "step schedule: epochs between decays, >= 1").within(
                1...1_000_000),
            OptionSpec("lr_gamma", .float, default: "0.1", "step schedule: factor of each decay, > 0").above(0),
            OptionSpec("label_smoothing", .float, default: "0", "label smoothing in [0, 1) of the cross-entropy target")
                .within(0...1).atMost(1, exclusive: true),
            OptionSpec("epochs", .int, default: "10", "passes over the training records, >= 0").within(0...1_000_000),
            OptionSpec(
                "early_stopping_patience", .int, default: "0",
                "stop when the held-out loss has not improved for this many epochs and keep the best epoch's weights (0: off; needs held-out records; with dp_sgd the epsilon covers every epoch run)"
            ).within(0...1_000_000),
            OptionSpec(
                "heldout_every", .int, default: "1",
                "evaluate the held-out records after every N-th epoch and after the last one (1: every epoch; the history's held-out loss and accuracy are empty in between; the weights do not change with it; early stopping needs 1)"
            ).within(1...1_000_000),
            OptionSpec(
                "checkpoint_epochs", .intList, default: "[]",
                "epochs after which to save the model to checkpoint_folder as epoch-<e>.bin"
            ).within(1...1_000_000),
            OptionSpec(
                "checkpoint_folder", .string, default: "\"\"",
                "folder for checkpoint_epochs (created if missing; required with checkpoint_epochs)"),
            OptionSpec(
                "batch_size", .int, default: "128", "records per step, >= 1 (the last batch of an epoch may be smaller)"
            ).within(1...16_777_216),
            OptionSpec("shuffle", .bool, default: "true", "reshuffle the records every epoch (seeded)"),
            OptionSpec(
                "init", .string, default: "\"he\"", choices: WeightInit.allCases.map(\.rawValue),
                "initial weights of dense and conv layers: he (U(+-sqrt(6/fan_in)) before ReLU, U(+-sqrt(3/fan_in)) otherwise, zero biases) or torch (PyTorch's default: weights and biases U(+-1/sqrt(fan_in)))"
            ),
        ] + PrivacyOptions.specs + DefenceOptions.specs

    init() {}

    /// Reads `options`, keeping the default of every key it does not set, and checks ranges.
    init(_ options: PluginOptions) throws {
        let known = Set(Self.specs.map(\.name))
        if let unknown = options.values.keys.sorted().first(where: { !known.contains($0) }) {
            throw PluginError(.invalidArgument, "unknown option `\(unknown)` for model backend `native`")
        }
        func read<T>(_ key: String, _ get: (String) throws -> T, into value: inout T) throws {
            if options.has(key) { value = try get(key) }
        }
        func choice<E: RawRepresentable>(_ key: String, into value: inout E) throws where E.RawValue == String {
            guard options.has(key) else { return }
            let s = try options.string(key)
            guard let e = E(rawValue: s) else {
                throw PluginError(.invalidArgument, "option `\(key)`: unknown value `\(s)`")
            }
            value = e
        }
        try choice("architecture", into: &architecture)
        try read("hidden_sizes", options.ints, into: &hiddenSizes)
        try read("cnn_channels", options.ints, into: &cnnChannels)
        try read("cnn_blocks", options.int, into: &cnnBlocks)
        try read("dense_width", options.int, into: &denseWidth)
        try choice("activation", into: &activation)
        try read("dropout", options.double, into: &dropout)
        try read("batch_norm", options.bool, into: &batchNorm)
        try choice("optimizer", into: &optimizer)
        try read("learning_rate", options.double, into: &learningRate)
        try read("momentum", options.double, into: &momentum)
        try read("nesterov", options.bool, into: &nesterov)
        try read("weight_decay", options.double, into: &weightDecay)
        try choice("lr_schedule", into: &lrSchedule)
        try read("lr_step_epochs", options.int, into: &lrStepEpochs)
        try read("lr_gamma", options.double, into: &lrGamma)
        try read("label_smoothing", options.double, into: &labelSmoothing)
        try read("epochs", options.int, into: &epochs)
        try read("batch_size", options.int, into: &batchSize)
        try read("shuffle", options.bool, into: &shuffle)
        try choice("init", into: &initialization)
        try read("early_stopping_patience", options.int, into: &earlyStoppingPatience)
        try read("heldout_every", options.int, into: &heldoutEvery)
        try read("checkpoint_epochs", options.ints, into: &checkpointEpochs)
        try read("checkpoint_folder", options.string, into: &checkpointFolder)
        privacy = try PrivacyOptions(options)
        defences = try DefenceOptions(options)
        try check()
    }

    private func check() throws {
        func require(_ ok: Bool, _ key: String, _ what: String) throws {
            if !ok { throw PluginError(.invalidArgument, "option `\(key)` must be \(what)") }
        }
        try require(activation != .identity, "activation", "relu, tanh or sigmoid")
        try require(hiddenSizes.allSatisfy { $0 > 0 }, "hidden_sizes", "a list of positive widths")
        try require(
            !cnnChannels.isEmpty && cnnChannels.allSatisfy { $0 > 0 }, "cnn_channels",
            "a non-empty list of positive counts")
        try require(cnnBlocks >= 1, "cnn_blocks", ">= 1")
        try require(denseWidth >= 0, "dense_width", ">= 0")
        try require(dropout >= 0 && dropout < 1, "dropout", "in [0, 1)")
        try require(learningRate > 0 && learningRate.isFinite, "learning_rate", "a positive number")
        try require(momentum >= 0 && momentum < 1, "momentum", "in [0, 1)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight_decay", ">= 0")
        try require(lrStepEpochs >= 1, "lr_step_epochs", ">= 1")
        try require(lrGamma > 0 && lrGamma.isFinite, "lr_gamma", "a positive number")
        try require(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing", "in [0, 1)")
        try require(epochs >= 0, "epochs", ">= 0")
        try require(batchSize >= 1, "batch_size", ">= 1")
        try require(earlyStoppingPatience >= 0, "early_stopping_patience", ">= 0")
        try require(heldoutEvery >= 1, "heldout_every", ">= 1")
        try require(
            earlyStoppingPatience == 0 || heldoutEvery == 1, "heldout_every",
            "1 when early_stopping_patience is set (early stopping compares every epoch's held-out loss)")
        try require(checkpointEpochs.allSatisfy { $0 >= 1 }, "checkpoint_epochs", "a list of epochs >= 1")
        try require(
            checkpointEpochs.isEmpty || !checkpointFolder.isEmpty, "checkpoint_folder", "set when checkpoint_epochs is")
        if privacy.enabled && batchNorm {
            throw PluginError(
                .invalidArgument,
                "option `batch_norm` cannot be true with `dp_sgd: true`: batch normalisation mixes the records of a batch, so a record's gradient (which DP-SGD clips) is not its own; set batch_norm: false"
            )
        }
        if privacy.enabled && defences.adversarial {
            throw PluginError(
                .invalidArgument,
                "option `adversarial_regularization` cannot be non-zero with `dp_sgd: true`: DP-SGD's clipping and accountant cover the cross-entropy gradient only; use one or the other (or `distillation: true` with a DP-SGD teacher)"
            )
        }
    }

    /// The learning rate of epoch `epoch` (1-based) of `epochs`.
    func learningRate(epoch: Int) -> Double {
        switch lrSchedule {
        case .constant: return learningRate
        case .step: return learningRate * pow(lrGamma, Double((epoch - 1) / lrStepEpochs))
        case .cosine: return learningRate * 0.5 * (1 + cos(Double.pi * Double(epoch - 1) / Double(max(epochs, 1))))
        }
    }
}

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif
