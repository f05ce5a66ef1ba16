import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// `predict` runs a dense network in chunks of up to 4,096 records, each in slices of 512 records
/// through every layer on one thread (where packing the weights costs little), a network with
/// large records in chunks of 1,024 (its memory), and the logits' bits do not depend on the
/// thread count.
@Suite(.serialized) struct InferenceChunkTests {
    private let mlp: [String: OptionValue] = [
        "architecture": .string("mlp"), "hidden_sizes": .list([.int(512), .int(256)]), "epochs": .int(1),
        "batch_size": .int(128),
    ]

    @Test func theChunkGrowsForDenseNetworksAndStaysForLargeRecords() throws {
        let t1 = try makeModel(mlp, shape: [1, 28, 28], classes: 10).network
        #expect(InferenceChunk.records(count: 10_000, network: t1, batch: 128) == 4096)
        #expect(InferenceChunk.records(count: 3000, network: t1, batch: 128) == 3000)
        #expect(InferenceChunk.records(count: 50, network: t1, batch: 128) == 128, "never below the training batch")
        let lenet = try makeModel(["architecture": .string("lenet5")], shape: [1, 28, 28], classes: 10).network
        #expect(lenet.batchFloatsPerRecord > 16_000)
        #expect(InferenceChunk.records(count: 10_000, network: lenet, batch: 128) == 1024)
        // A very wide MLP: 4,096 records would take more than the budget.
        let wide = try makeModel(
            ["architecture": .string("mlp"), "hidden_sizes": .list([.int(4096), .int(4096)])], shape: [784],
            classes: 10
        ).network
        let chunk = InferenceChunk.records(count: 10_000, network: wide, batch: 128)
        #expect(chunk >= InferenceChunk.smallest && chunk < InferenceChunk.largest)
        #expect(chunk * wide.batchFloatsPerRecord * 4 <= InferenceChunk.budget || chunk == InferenceChunk.smallest)
    }

    /// A dense network (batch norm and dropout included) runs its chunks in slices of 512 records,
    /// each through every layer on one thread; the logits are those of the whole-batch forward
    /// pass (to rounding: a product's rows may sum differently as other blocks), so no slice reads
    /// or writes another's rows. LeNet-5's record-wise stages keep the whole-batch pass.
    @Test func denseNetworksRunInSlicesThatMatchTheWholeBatch() throws {
        var options = mlp
        options["hidden_sizes"] = .list([.int(64), .int(32)])
        options["batch_norm"] = .bool(true)
        options["dropout"] = .double(0.2)
        let model = try makeModel(options, shape: [40], classes: 5)
        let (x, y) = syntheticData(count: 256, features: 40, classes: 5, seed: 6)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                try model.train(TrainingData(features: xp, labels: yp, seed: 2)) { _ in }
            }
        }
        let network = model.network
        #expect(network.runsInSlices)
        let lenet = try makeModel(["architecture": .string("lenet5")], shape: [1, 28, 28], classes: 10).network
        #expect(!lenet.runsInSlices)
        let count = 1300  // two full slices and a short one
        network.reserve(batch: count)
        let features = randomFloats(count * 40, seed: 7)
        let (whole, sliced) = features.withUnsafeBufferPointer { f in
            let z = network.forward(batch: count, training: false, input: f.baseAddress!)
            let whole = Array(UnsafeBufferPointer(start: z, count: count * 5))
            let s = network.forwardInSlices(batch: count, input: f.baseAddress!)
            return (whole, Array(UnsafeBufferPointer(start: s, count: count * 5)))
        }
        var worst: Float = 0
        for (a, b) in zip(whole, sliced) { worst = max(worst, abs(a - b) / max(abs(a), 1)) }
        #expect(worst < 1e-5, "largest relative difference \(worst)")
    }

    /// The T1 MLP over 9,000 records (chunks of 4,096, 4,096 and 808; its first layer's products
    /// cut into 8 pieces each) gives the same logits on 1, 2 and 3 threads.
    @Test func logitsHaveTheSameBitsOnAnyThreadCount() throws {
        let model = try makeModel(mlp, shape: [784], classes: 10)
        let (x, y) = syntheticData(count: 256, features: 784, classes: 10, seed: 3)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                try model.train(TrainingData(features: xp, labels: yp, seed: 1)) { _ in }
            }
        }
        let count = 9000
        let features = randomFloats(count * 784, seed: 4)
        func logits(threads: Int) throws -> [UInt32] {
            let before = BLAS.threadCount
            BLAS.setThreadCount(threads)
            defer { BLAS.setThreadCount(before) }
            var out = [Float](repeating: .nan, count: count * 10)
            try features.withUnsafeBufferPointer { f in
                try out.withUnsafeMutableBufferPointer { o in
                    try model.predict(features: f, count: count, into: o)
                }
            }
            return out.map(\.bitPattern)
        }
        let one = try logits(threads: 1)
        #expect(!one.contains(Float.nan.bitPattern))
        #expect(model.network.capacity == 4096)
        #expect(try logits(threads: 2) == one)
        #expect(try logits(threads: 3) == one)
    }
}
