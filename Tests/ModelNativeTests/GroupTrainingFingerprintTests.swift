import Dispatch
import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// A model's bits are a function of its store key alone (options, data, seed): the same weights
/// whether it was trained alone or side by side with other models (the host's layout, one BLAS
/// thread each), and on any BLAS thread count. The store, resume and Slurm shards rely on it.
/// Unlike `TrainingFingerprintTests` these compare runs on one machine, so they hold on every
/// OpenBLAS kernel.
///
/// The thread count once mattered (issue 14, found by this test): OpenBLAS's threaded sgemm
/// sums in another order than its one-thread path (on `Cooperlake` for k above about 256, on
/// `Haswell` for every shape; benchmarks/README.md, "Thread count and bits"). Now OpenBLAS
/// always runs on one thread and `BLAS.gemm` cuts large products into pieces fixed by their
/// shape (`GEMMPieces`), so one thread and two give the same bits.
///
/// The shapes make every kind of product run: LeNet-5 on 28×28 images (record-wise convolution
/// stages on the batch's shards; dense products at batch 64 above OpenBLAS's single-thread
/// limit, which its threads summed differently, each one piece now) and an MLP whose products
/// at batch 128 are cut into 2 to 8 pieces spread over the threads (`GEMMPieces`).
struct GroupCase: CustomTestStringConvertible, Sendable {
    let name: String
    let options: [String: OptionValue]
    let shape: [Int]
    var testDescription: String { name }
}

let groupCases: [GroupCase] = [
    GroupCase(
        name: "lenet5-adam",
        options: [
            "architecture": .string("lenet5"), "epochs": .int(2), "batch_size": .int(64), "optimizer": .string("adam"),
            "learning_rate": .double(0.001), "init": .string("torch"),
        ],
        shape: [1, 28, 28]),
    GroupCase(
        name: "mlp-wide-dropout",
        options: [
            "architecture": .string("mlp"), "hidden_sizes": .list([.int(512), .int(128)]), "epochs": .int(2),
            "batch_size": .int(128), "dropout": .double(0.1),
        ],
        shape: [256]),
]

/// Trains `c` on `records` synthetic records with training seed `seed`; `onEpoch` runs after
/// each epoch (to change the thread count mid-training). Returns the FNV-1a of the parameters,
/// the state and the history's losses.
private func groupFingerprint(_ c: GroupCase, seed: UInt64, records: Int = 192, onEpoch: (Int) -> Void = { _ in })
    throws -> String
{
    let size = c.shape.reduce(1, *)
    let model = try makeModel(c.options, shape: c.shape, classes: 10)
    let (x, y) = syntheticData(count: records, features: size, classes: 10, seed: 41)
    let (hx, hy) = syntheticData(count: 32, features: size, classes: 10, seed: 42)
    var history: [EpochRecord] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try hx.withUnsafeBufferPointer { hxp in
                try hy.withUnsafeBufferPointer { hyp in
                    let data = TrainingData(
                        features: xp, labels: yp, heldoutFeatures: hxp, heldoutLabels: hyp, seed: seed)
                    try model.train(data) { record in
                        history.append(record)
                        onEpoch(record.epoch)
                    }
                }
            }
        }
    }
    var print = Fingerprint()
    let n = model.network
    print.add(Array(UnsafeBufferPointer(start: n.parameters.pointer, count: n.parameterCount)))
    print.add(Array(UnsafeBufferPointer(start: n.state.pointer, count: n.stateCount)))
    for r in history { for d in [r.trainLoss, r.heldoutLoss] { print.add(d) } }
    return print.hex
}

/// Runs `body` with OpenBLAS on `threads` threads, then restores the count it had.
private func withBLASThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let before = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(before) }
    return try body()
}

@Suite(.serialized) struct GroupTrainingFingerprintTests {
    @Test(arguments: groupCases)
    func aModelTrainsToTheSameBitsAloneAndInAGroup(_ c: GroupCase) throws {
        let seeds: [UInt64] = [7, 8, 9]
        let alone = try withBLASThreads(1) { try groupFingerprint(c, seed: seeds[0]) }
        let again = try withBLASThreads(1) { try groupFingerprint(c, seed: seeds[0]) }
        #expect(again == alone, "\(c.name): the same training twice")

        // Side by side as the host trains them: three models at once, one BLAS thread each.
        let group = try withBLASThreads(1) { () throws -> [String] in
            let lock = NSLock()
            var prints = [String](repeating: "", count: seeds.count)
            var failure: Error?
            Parallel.perform(seeds.count) { i in  // each call writes its own slot, under `lock`
                do {
                    let p = try groupFingerprint(c, seed: seeds[i])
                    lock.withLock { prints[i] = p }
                } catch {
                    lock.withLock { failure = error }
                }
            }
            if let failure { throw failure }
            return prints
        }
        #expect(group[0] == alone, "\(c.name): trained in a group of three vs alone")
        #expect(Set(group).count == seeds.count, "\(c.name): different seeds give different models")
    }

    @Test(arguments: groupCases)
    func aModelHasTheSameBitsOnOneTwoAndThreeBLASThreads(_ c: GroupCase) throws {
        let one = try withBLASThreads(1) { try groupFingerprint(c, seed: 7) }
        let two = try withBLASThreads(2) { try groupFingerprint(c, seed: 7) }
        let three = try withBLASThreads(3) { try groupFingerprint(c, seed: 7) }
        // A resume or a shard that goes on with another thread count: 1 thread for the first
        // epoch, 2 for the second.
        let switched = try withBLASThreads(1) { try groupFingerprint(c, seed: 7) { _ in BLAS.setThreadCount(2) } }
        #expect(one == two, "\(c.name): one BLAS thread vs two")
        #expect(one == three, "\(c.name): one BLAS thread vs three")
        #expect(one == switched, "\(c.name): one BLAS thread vs one then two")
        // The host's two layouts: alone on all threads vs side by side on one each.
        let group = try withBLASThreads(1) { () throws -> [String] in
            let lock = NSLock()
            var prints = [String](repeating: "", count: 2)
            var failure: Error?
            Parallel.perform(2) { i in  // each call writes its own slot, under `lock`
                do {
                    let p = try groupFingerprint(c, seed: [7, 8][i])
                    lock.withLock { prints[i] = p }
                } catch {
                    lock.withLock { failure = error }
                }
            }
            if let failure { throw failure }
            return prints
        }
        #expect(group[0] == two, "\(c.name): in a group on one thread each vs alone on two")
    }
}
