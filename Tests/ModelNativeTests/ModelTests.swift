import Foundation
import Kernels
import PluginABI
import PluginKit
import Testing

@testable import ModelNative

/// Synthetic, learnable data: class = arg-max of three fixed projections of the features.
func syntheticData(count: Int, features: Int, classes: Int = 3, seed: UInt64) -> ([Float], [Int32]) {
    let x = randomFloats(count * features, seed: seed)
    let w = randomFloats(classes * features, seed: 99)
    var y = [Int32]()
    for r in 0..<count {
        var best = 0
        var bestScore = -Float.infinity
        for c in 0..<classes {
            var score: Float = 0
            for j in 0..<features { score += x[r * features + j] * w[c * features + j] }
            if score > bestScore {
                best = c
                bestScore = score
            }
        }
        y.append(Int32(best))
    }
    return (x, y)
}

func makeModel(_ options: [String: OptionValue], shape: [Int], classes: Int = 3) throws -> NativeModel {
    try NativeModel(
        options: PluginOptions(options), spec: ModelSpec(featureShape: shape, classCount: classes), host: .standalone)
}

func trainedWeights(_ options: [String: OptionValue], shape: [Int], seed: UInt64) throws -> (
    [Float], [EpochRecord], NativeModel
) {
    let size = shape.reduce(1, *)
    let (x, y) = syntheticData(count: 100, features: size, seed: 5)
    let model = try makeModel(options, shape: shape)
    var history: [EpochRecord] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try model.train(TrainingData(features: xp, labels: yp, heldoutFeatures: xp, heldoutLabels: yp, seed: seed))
            { history.append($0) }
        }
    }
    let n = model.network
    return (
        Array(UnsafeBufferPointer(start: n.parameters.pointer, count: n.parameterCount))
            + Array(UnsafeBufferPointer(start: n.state.pointer, count: n.stateCount)), history, model
    )
}

let mlpOptions: [String: OptionValue] = [
    "architecture": .string("mlp"), "hidden_sizes": .list([.int(16), .int(8)]), "dropout": .double(0.2),
    "batch_norm": .bool(true), "epochs": .int(3), "batch_size": .int(32), "learning_rate": .double(0.01),
]
let cnnOptions: [String: OptionValue] = [
    "architecture": .string("cnn"), "cnn_channels": .list([.int(4), .int(6)]), "cnn_blocks": .int(2),
    "dense_width": .int(8), "dropout": .double(0.1), "batch_norm": .bool(true), "epochs": .int(2),
    "batch_size": .int(16),
    "optimizer": .string("sgd"), "nesterov": .bool(true), "learning_rate": .double(0.05),
    "lr_schedule": .string("cosine"),
]

@Test func sameSeedGivesBitIdenticalWeights() throws {
    for (options, shape) in [(mlpOptions, [12]), (cnnOptions, [2, 8, 8])] {
        let (a, ha, _) = try trainedWeights(options, shape: shape, seed: 11)
        let (b, hb, _) = try trainedWeights(options, shape: shape, seed: 11)
        let (c, _, _) = try trainedWeights(options, shape: shape, seed: 12)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(ha.map(\.trainLoss) == hb.map(\.trainLoss))
        #expect(a != c)
        #expect(ha.count == options["epochs"].flatMap { if case .int(let e) = $0 { e } else { nil } })
        #expect(ha.allSatisfy { $0.trainLoss.isFinite && $0.heldoutAccuracy >= 0 && $0.heldoutAccuracy <= 1 })
    }
}

@Test func trainingLowersTheLoss() throws {
    var options = mlpOptions
    options["epochs"] = .int(15)
    options["dropout"] = .double(0)
    let (_, history, _) = try trainedWeights(options, shape: [12], seed: 1)
    #expect(history.last!.trainLoss < 0.6 * history.first!.trainLoss)
    #expect(history.last!.heldoutAccuracy > 0.8)
}

@Test func saveThenLoadGivesIdenticalLogits() throws {
    for (options, shape) in [(mlpOptions, [12]), (cnnOptions, [2, 8, 8])] {
        let (_, _, model) = try trainedWeights(options, shape: shape, seed: 3)
        let x = randomFloats(7 * shape.reduce(1, *), seed: 4)
        let before = try logits(model, x)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("native-\(UUID()).model").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let fresh = try makeModel(options, shape: shape)
        try fresh.load(from: path)
        let after = try logits(fresh, x)
        #expect(before.map { $0.bitPattern } == after.map { $0.bitPattern })
    }
}

func logits(_ model: NativeModel, _ x: [Float]) throws -> [Float] {
    let count = x.count / model.spec.featureSize
    var out = [Float](repeating: .nan, count: count * model.spec.classCount)
    try x.withUnsafeBufferPointer { xp in
        try out.withUnsafeMutableBufferPointer { try model.predict(features: xp, count: count, into: $0) }
    }
    return out
}

@Test func corruptForeignOrMismatchedFilesAreErrors() throws {
    let (_, _, model) = try trainedWeights(mlpOptions, shape: [12], seed: 3)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("native-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = dir.appendingPathComponent("good").path
    try model.save(to: good)
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))

    func expectLoadFails(_ content: [UInt8], _ fragment: String, options: [String: OptionValue] = mlpOptions) throws {
        let path = dir.appendingPathComponent(UUID().uuidString).path
        try Data(content).write(to: URL(fileURLWithPath: path))
        let other = try makeModel(options, shape: [12])
        do {
            try other.load(from: path)
            Issue.record("loading \(fragment) succeeded")
        } catch let e as PluginError {
            #expect(e.status == .invalidArgument)
            #expect(e.message.contains(fragment), "\(e.message)")
        }
    }
    var flipped = bytes
    flipped[bytes.count / 2] ^= 0x10
    try expectLoadFails(flipped, "checksum")
    try expectLoadFails(Array(bytes.prefix(bytes.count - 9)), "checksum")
    try expectLoadFails(Array("not a model at all, just some text".utf8), "magic")
    try expectLoadFails([], "magic")
    var wider = mlpOptions
    wider["hidden_sizes"] = .list([.int(17), .int(8)])
    try expectLoadFails(bytes, "architecture", options: wider)
    // A missing file is an I/O error.
    #expect(throws: PluginError.self) { try model.load(from: dir.appendingPathComponent("missing").path) }
}

@Test func optionsAreCheckedAndDocumented() throws {
    #expect(NativeModel.options.allSatisfy { $0.defaultJSON != nil && !$0.summary.isEmpty })
    // Every default parses back into the default options.
    var defaults: [String: OptionValue] = [:]
    for spec in NativeModel.options {
        defaults[spec.name] = try JSONDecoder().decode(OptionValue.self, from: Data(spec.defaultJSON!.utf8))
    }
    #expect(try NativeOptions(PluginOptions(defaults)) == NativeOptions())
    #expect(throws: PluginError.self) { try makeModel(["dropout": .double(1.5)], shape: [4]) }
    #expect(throws: PluginError.self) { try makeModel(["optimizer": .string("rmsprop")], shape: [4]) }
    #expect(throws: PluginError.self) { try makeModel(["learning_rat": .double(0.1)], shape: [4]) }
    #expect(throws: PluginError.self) { try makeModel(["architecture": .string("lenet5")], shape: [784]) }
    let lenet = try makeModel(["architecture": .string("lenet5")], shape: [1, 28, 28], classes: 10)
    #expect(
        lenet.network.layers.map { $0.outputShape.count } == [
            28 * 28 * 6, 14 * 14 * 6, 10 * 10 * 16, 5 * 5 * 16, 120, 84, 10,
        ])
}

@Test func predictBeforeTrainingAndBadLabelsAreErrors() throws {
    let model = try makeModel(mlpOptions, shape: [4])
    #expect(throws: PluginError.self) { _ = try logits(model, [1, 2, 3, 4]) }
    let x = [Float](repeating: 0, count: 8)
    let y: [Int32] = [0, 3]
    #expect(throws: PluginError.self) {
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                try model.train(TrainingData(features: xp, labels: yp, seed: 1)) { _ in }
            }
        }
    }
}

@Test func cancellationStopsTraining() throws {
    var host = mia_host_t_cancelled()
    try withUnsafePointer(to: &host) { hp in
        let model = try NativeModel(
            options: PluginOptions(mlpOptions), spec: ModelSpec(featureShape: [12], classCount: 3),
            host: HostServices(hp))
        let (x, y) = syntheticData(count: 40, features: 12, seed: 1)
        do {
            try x.withUnsafeBufferPointer { xp in
                try y.withUnsafeBufferPointer { yp in
                    try model.train(TrainingData(features: xp, labels: yp, seed: 1)) { _ in }
                }
            }
            Issue.record("training was not cancelled")
        } catch let e as PluginError {
            #expect(e.status == .cancelled)
        }
    }
}

/// A host table whose cancel flag is always up.
func mia_host_t_cancelled() -> mia_host_t {
    var host = mia_host_t()
    host.struct_size = UInt32(MemoryLayout<mia_host_t>.size)
    host.is_cancelled = { _ in true }
    return host
}
