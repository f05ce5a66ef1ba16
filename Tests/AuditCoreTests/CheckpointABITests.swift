import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

/// Checkpoints across the C ABI (1.1), with the built-in native backend: the host's
/// `DynamicModel.train(checkpointEpochs:onCheckpoint:)` on one side, PluginKit's bridge and the
/// backend's `reachedEpoch` on the other.
@Suite struct CheckpointABITests {
    static let registry = PluginRegistry.discover(includeEnvironment: false)
    let spec = ModelSpec(featureShape: [12], classCount: 3)

    func native(epochs: Int) throws -> DynamicModel {
        let info = try #require(Self.registry.component(.model, named: "native"))
        let json = "{\"architecture\": \"mlp\", \"hidden_sizes\": [16], \"batch_size\": 16, \"epochs\": \(epochs)}"
        return try DynamicModel(
            info, optionsJSON: json, spec: spec,
            bridge: HostBridge(label: "t", logger: Logger(label: "t"), cancellation: CancellationFlag()))
    }

    /// 80 records of 12 features in [-1, 1), labelled by the largest of three fixed linear scores.
    let data: (x: [Float], y: [Int32]) = {
        var state: UInt64 = 12345
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        let x = (0..<(80 * 12)).map { _ in next() }
        let w = (0..<(3 * 12)).map { _ in next() }
        let y = (0..<80).map { r -> Int32 in
            let scores = (0..<3).map { c in (0..<12).reduce(Float(0)) { $0 + x[r * 12 + $1] * w[c * 12 + $1] } }
            return Int32(scores.indices.max { scores[$0] < scores[$1] }!)
        }
        return (x, y)
    }()

    func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("abi-checkpoint-\(UUID()).bin").path
    }

    @Test func checkpointsCrossTheABIAtTheListedEpochsWithThoseWeights() throws {
        let model = try native(epochs: 4)
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        var fired: [Int] = []
        var kept: [Int: [Float]] = [:]
        // Epoch 6 is never reached (4 epochs): never called.
        _ = try model.train(features: data.x, labels: data.y, seed: 11, checkpointEpochs: [1, 3, 6]) { epoch in
            fired.append(epoch)
            try model.save(to: file)  // the host may save (and predict) inside the call
            let copy = try native(epochs: 4)
            try copy.load(from: file)
            kept[epoch] = try copy.predict(features: data.x, count: 80)
        }
        #expect(fired == [1, 3])
        for epoch in [1, 3] {
            let short = try native(epochs: epoch)
            _ = try short.train(features: data.x, labels: data.y, seed: 11)
            let expected = try short.predict(features: data.x, count: 80)
            #expect(kept[epoch]?.map(\.bitPattern) == expected.map(\.bitPattern), "epoch \(epoch)")
        }
    }

    @Test func aHostErrorAtACheckpointStopsTrainingWithItsMessage() throws {
        let model = try native(epochs: 5)
        var epochs: [Int] = []
        let error = #expect(throws: PluginError.self) {
            _ = try model.train(
                features: data.x, labels: data.y, seed: 11, checkpointEpochs: [2, 4],
                onCheckpoint: { _ in throw PluginError(.io, "the model store is full") },
                onEpoch: { epochs.append($0.epoch) })
        }
        #expect(error?.status == .io)
        #expect(error?.message.contains("the model store is full") == true, "\(String(describing: error))")
        #expect(error?.message.contains("epoch 2") == true, "\(String(describing: error))")
        #expect(epochs == [1, 2])
    }

    /// A host of ABI 1.0 hands a shorter `mia_train_args_t`: the plugin must not read the
    /// checkpoint fields past its `struct_size`, even when the memory there holds a valid list.
    @Test func aVersion10ArgsStructLeavesThePluginWithoutCheckpoints() throws {
        final class Calls { var epochs: [Int32] = [] }
        func train(structSize: Int) throws -> [Int32] {
            let model = try native(epochs: 3)
            let calls = Calls()
            var x = data.x, y = data.y
            var epochs: [Int32] = [1, 2, 3]
            var status = MIA_OK
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    epochs.withUnsafeMutableBufferPointer { ep in
                        var xt = TensorView.make(xp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [80, 12])
                        var yt = TensorView.make(yp.baseAddress!, dtype: MIA_DTYPE_I32, shape: [80])
                        withUnsafePointer(to: &xt) { xtp in
                            withUnsafePointer(to: &yt) { ytp in
                                var args = mia_train_args_t()
                                args.struct_size = UInt32(structSize)
                                args.features = xtp
                                args.labels = ytp
                                args.seed = 11
                                args.checkpoint_epochs = UnsafePointer(ep.baseAddress)
                                args.checkpoint_count = 3
                                args.on_checkpoint = { context, epoch, _ in
                                    Unmanaged<Calls>.fromOpaque(context!).takeUnretainedValue().epochs.append(epoch)
                                    return MIA_OK
                                }
                                args.on_checkpoint_context = Unmanaged.passUnretained(calls).toOpaque()
                                var error = mia_error_t()
                                status = model.table.pointee.train(model.instance, &args, &error)
                            }
                        }
                    }
                }
            }
            #expect(status == MIA_OK)
            return calls.epochs
        }
        let version10 = try #require(MemoryLayout<mia_train_args_t>.offset(of: \mia_train_args_t.auxiliary_features))
        #expect(try train(structSize: version10).isEmpty)
        #expect(try train(structSize: MemoryLayout<mia_train_args_t>.size) == [1, 2, 3])
    }
}
