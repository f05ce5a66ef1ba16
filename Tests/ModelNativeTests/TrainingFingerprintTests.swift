import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// Pins what each kind of training gives, bit for bit: the final weights (parameters and
/// batch-norm state), every history figure but the time, the ε, the `checkpoint_epochs` files
/// and the model the host saves at each `on_checkpoint`. The figures were recorded from the four
/// separate training loops (commit 169e811) before they became one loop with step strategies;
/// the store's keys, the quick start's figures and the studies rely on trainings not changing.
///
/// They depend on the machine's OpenBLAS kernel and thread count (sgemm sums in a kernel-specific
/// order): on another machine, or after a change to the GEMM code, record them anew from a commit
/// whose loops are trusted (the failure message prints the new value).
struct FingerprintCase: CustomTestStringConvertible, Sendable {
    let name: String
    let options: [String: OptionValue]
    var publicRecords = false
    var hostCheckpoints: [Int] = []
    /// The records' shape (12 features).
    var shape = [12]
    var testDescription: String { name }
}

private let base: [String: OptionValue] = [
    "architecture": .string("mlp"), "hidden_sizes": .list([.int(16)]), "epochs": .int(4), "batch_size": .int(16),
    "dropout": .double(0.1), "learning_rate": .double(0.01),
]

private func with(_ extra: [String: OptionValue], _ options: [String: OptionValue] = base) -> [String: OptionValue] {
    options.merging(extra) { $1 }
}

let fingerprintCases: [FingerprintCase] = [
    FingerprintCase(
        name: "plain", options: with(["batch_norm": .bool(true), "checkpoint_epochs": .list([.int(2)])]),
        hostCheckpoints: [1, 3]),
    FingerprintCase(
        name: "plain-cnn-sgd",
        options: [
            "architecture": .string("cnn"), "cnn_channels": .list([.int(3)]), "cnn_blocks": .int(1),
            "dense_width": .int(6),
            "epochs": .int(2), "batch_size": .int(16), "optimizer": .string("sgd"), "nesterov": .bool(true),
            "learning_rate": .double(0.05), "lr_schedule": .string("cosine"), "label_smoothing": .double(0.1),
        ],
        shape: [3, 2, 2]),
    FingerprintCase(
        name: "plain-early-stopping",
        options: with([
            "hidden_sizes": .list([.int(64)]), "epochs": .int(40), "batch_size": .int(8),
            "early_stopping_patience": .int(2),
            "dropout": .double(0),
        ])),
    FingerprintCase(
        name: "dp-sgd-poisson",
        options: with([
            "dp_sgd": .bool(true), "dp_noise_multiplier": .double(0.7), "checkpoint_epochs": .list([.int(3)]),
        ]),
        hostCheckpoints: [2]),
    FingerprintCase(
        name: "dp-sgd-shuffle",
        options: with(["dp_sgd": .bool(true), "dp_sampling": .string("shuffle"), "epochs": .int(3)])),
    FingerprintCase(
        name: "distillation",
        options: with(["distillation": .bool(true), "teacher_epochs": .int(3), "checkpoint_epochs": .list([.int(2)])]),
        publicRecords: true, hostCheckpoints: [1]),
    FingerprintCase(
        name: "distillation-dp-teacher",
        options: with(["distillation": .bool(true), "dp_sgd": .bool(true), "epochs": .int(3)]),
        publicRecords: true),
    FingerprintCase(
        name: "distillation-early-stopping",
        options: with([
            "distillation": .bool(true), "teacher_epochs": .int(2), "epochs": .int(12),
            "early_stopping_patience": .int(1),
            "learning_rate": .double(0.05),
        ]),
        publicRecords: true),
    FingerprintCase(
        name: "adversarial",
        options: with([
            "adversarial_regularization": .double(0.5), "adversarial_steps": .int(2),
            "adversarial_hidden_sizes": .list([.int(8)]),
            "checkpoint_epochs": .list([.int(1)]),
        ]),
        publicRecords: true, hostCheckpoints: [2, 4]),
    FingerprintCase(
        name: "adversarial-early-stopping",
        options: with([
            "adversarial_regularization": .double(1), "epochs": .int(12), "early_stopping_patience": .int(1),
            "learning_rate": .double(0.05),
        ]),
        publicRecords: true),
]

/// FNV-1a, 64 bits.
struct Fingerprint {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add<T>(_ items: [T]) {
        items.withUnsafeBytes { for b in $0 { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 } }
    }
    mutating func add(_ d: Double?) { add([d?.bitPattern ?? 0x7ff8_dead_beef_0001]) }
    var hex: String { String(value, radix: 16) }
}

/// Trains a case and returns its fingerprint and history length.
func fingerprint(_ c: FingerprintCase) throws -> (hex: String, epochs: Int) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("native-fingerprint-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var options = c.options
    if options["checkpoint_epochs"] != nil { options["checkpoint_folder"] = .string(folder) }
    let model = try makeModel(options, shape: c.shape)
    let (x, y) = syntheticData(count: 96, features: 12, seed: 31)
    // Held-out labels partly at odds with the features: its loss turns up, so early stopping acts.
    let (hx, hy0) = syntheticData(count: 48, features: 12, seed: 32)
    let hy = hy0.enumerated().map { $0.offset % 3 == 0 ? Int32(($0.element + 1) % 3) : $0.element }
    let (px, py) = syntheticData(count: 40, features: 12, seed: 33)
    var print = Fingerprint()
    var history: [EpochRecord] = []
    var fired: [Int] = []
    let saved = folder + "-host.bin"
    defer { try? FileManager.default.removeItem(atPath: saved) }
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try hx.withUnsafeBufferPointer { hxp in
                try hy.withUnsafeBufferPointer { hyp in
                    try px.withUnsafeBufferPointer { pxp in
                        try py.withUnsafeBufferPointer { pyp in
                            let data = TrainingData(
                                features: xp, labels: yp, heldoutFeatures: hxp, heldoutLabels: hyp, seed: 17,
                                auxiliaryFeatures: c.publicRecords ? pxp : nil,
                                auxiliaryLabels: c.publicRecords ? pyp : nil,
                                checkpointEpochs: c.hostCheckpoints,
                                onCheckpoint: { epoch in
                                    fired.append(epoch)
                                    try model.save(to: saved)
                                    print.add([UInt8](try Data(contentsOf: URL(fileURLWithPath: saved))))
                                    print.add(try logits(model, hx))
                                })
                            try model.train(data) { history.append($0) }
                        }
                    }
                }
            }
        }
    }
    #expect(fired == c.hostCheckpoints.filter { $0 <= history.count }, "\(c.name)")
    let n = model.network
    print.add(Array(UnsafeBufferPointer(start: n.parameters.pointer, count: n.parameterCount)))
    print.add(Array(UnsafeBufferPointer(start: n.state.pointer, count: n.stateCount)))
    for r in history {
        print.add([r.epoch])
        for d in [r.trainLoss, r.trainAccuracy, r.heldoutLoss, r.heldoutAccuracy, r.dpEpsilon] { print.add(d) }
    }
    print.add(model.dpEpsilon)
    if case .list(let epochs)? = c.options["checkpoint_epochs"] {
        for case .int(let e) in epochs where e <= history.count {
            print.add([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/epoch-\(e).bin"))))
        }
    }
    return (print.hex, history.count)
}

/// Fingerprints by OpenBLAS kernel (floating-point sums follow it): on a 2-core
/// "Intel(R) Xeon(R) Processor" (KVM, family 6 model 207) with Debian's OpenBLAS 0.3.21 (pthread),
/// its default thread count.
/// - `Prescott`: recorded from the four loops BEFORE the refactor into one loop, the kernel
///   OpenBLAS took by itself on that CPU; the refactored loop reproduced every one.
/// - `Cooperlake`: the kernel Kernels now chooses on that CPU (`OpenBLASKernelChoice`), recorded
///   from the one loop: it guards the loop against later changes.
/// On a kernel with no row the test prints the fingerprints (to record them) and checks nothing.
let recordedFingerprints: [String: [String: (hex: String, epochs: Int)]] = [
    "Prescott": [
        "plain": ("53295ee3c8d0244b", 4),
        "plain-cnn-sgd": ("aaa23c4e97ad9dc6", 2),
        "plain-early-stopping": ("975be5c7d2b46492", 3),
        "dp-sgd-poisson": ("e177cfebdfc1d360", 4),
        "dp-sgd-shuffle": ("6c9c109b16f3936a", 3),
        "distillation": ("2d94d319727929d5", 4),
        "distillation-dp-teacher": ("3737c452884792fa", 3),
        "distillation-early-stopping": ("fd1be3d7f2ee362a", 7),
        "adversarial": ("d7fa9b47b0e3c567", 4),
        "adversarial-early-stopping": ("8a27eef3c08308f", 3),
    ],
    "Cooperlake": [
        "plain": ("8189bd0a591013cf", 4),
        "plain-cnn-sgd": ("382e9110d489bcae", 2),
        "plain-early-stopping": ("bf9303ce540bb8c4", 3),
        "dp-sgd-poisson": ("9f7171e8fc31ac9e", 4),
        "dp-sgd-shuffle": ("386058ec84bb28d4", 3),
        "distillation": ("9d270131328201c2", 4),
        "distillation-dp-teacher": ("bf669dcd65038ec9", 3),
        "distillation-early-stopping": ("365e413f19521c11", 7),
        "adversarial": ("4a75277b8c9a4db3", 4),
        "adversarial-early-stopping": ("31aebc63733e45a7", 3),
    ],
]

@Test(arguments: fingerprintCases)
func everyTrainingGivesTheWeightsHistoryAndCheckpointsItGaveBeforeTheRefactor(_ c: FingerprintCase) throws {
    let got = try fingerprint(c)
    Swift.print("fingerprint \(c.name): \(got.hex) after \(got.epochs) epochs")
    let kernel = BLAS.coreName
    guard let recorded = recordedFingerprints[kernel] else {
        Swift.print(
            "fingerprint \(c.name): no row for OpenBLAS kernel \(kernel); record \(got.hex), \(got.epochs) epochs")
        return
    }
    let expected = try #require(
        recorded[c.name], "no fingerprint recorded for \(c.name): \(got.hex), \(got.epochs) epochs")
    #expect(got.epochs == expected.epochs, "\(c.name)")
    #expect(got.hex == expected.hex, "\(c.name)")
}
