import Foundation
import Testing

/// Issue 14, end to end: a model's bits are a function of its store key alone, whatever
/// `run.threads`. The release binary trains the same models on 1 thread and on 2 (one at a time,
/// so each model gets both threads): the keys and the stored model files must be identical.
/// The MLP's first layer (128 × 512 × 784 at batch 128) is a product OpenBLAS's threaded sgemm
/// summed in another order than one thread on `Cooperlake`, `SkylakeX` and `Haswell`; it now runs
/// as fixed one-thread pieces, and the host's thread count reaches the plugin's copy of Kernels
/// (`BLASThreads`). With `MIA_AUDIT_BINARY` set to a build before the fix, the files differ.
@Suite struct ThreadCountBitsTests {
    /// Trains the config's models with `threads` (and `parallel_models` when given); returns the
    /// stored model files by key and the run's log.
    private func storedModels(threads: Int, parallelModels: Int?, references: Int) throws -> (
        models: [String: Data], log: String
    ) {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("threads-\(threads)-\(parallelModels ?? 0)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ReleaseBinary.config(
            output: dir + "/run", auditRecords: 600, populationRecords: 100, hidden: 512, epochs: 1,
            references: references, threads: threads)
        if let parallelModels {
            config = config.replacingOccurrences(
                of: "  threads: \(threads)\n", with: "  threads: \(threads)\n  parallel_models: \(parallelModels)\n")
        }
        try config.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let train = try Command.run(binary, ["train", dir + "/a.yaml", "-v"], cwd: dir, timeout: 240)
        #expect(train.status == 0, "\(train.stderr)")
        let store = dir + "/run/models"
        var models: [String: Data] = [:]
        for key in ReleaseBinary.finishedModels(store: store) {
            models[key] = FileManager.default.contents(atPath: "\(store)/\(key)/model.bin")
        }
        #expect(models.count == references + 1, "threads \(threads): \(models.keys.sorted())")
        return (models, train.stderr)
    }

    private func expectSameFiles(_ a: [String: Data], _ b: [String: Data], _ what: String) {
        #expect(a.keys.sorted() == b.keys.sorted(), "the store keys do not depend on \(what)")
        for (key, one) in a {
            #expect(one == b[key], "model \(key): \(what) stored different weights")
        }
    }

    @Test(.timeLimit(.minutes(5))) func theSameModelTrainsToTheSameFileOnOneThreadAndOnTwo() throws {
        let one = try storedModels(threads: 1, parallelModels: 1, references: 1)
        let two = try storedModels(threads: 2, parallelModels: 1, references: 1)
        expectSameFiles(one.models, two.models, "run.threads 1 and 2")
    }

    /// Three models side by side on two threads: the third trains alone once the second worker
    /// finds the queue empty, and takes its thread (`ModelsStage.handOverThreads`), from
    /// whichever layer the training is in. Its file must be the one a single thread writes.
    @Test(.timeLimit(.minutes(5))) func theLastModelTakesTheIdleThreadAndKeepsItsBits() throws {
        let one = try storedModels(threads: 1, parallelModels: 1, references: 2)
        let handed = try storedModels(threads: 2, parallelModels: nil, references: 2)
        #expect(handed.log.contains("training 2 models side by side, 1 BLAS thread each"), "\(handed.log)")
        #expect(handed.log.contains("queue empty: 2 BLAS threads for each model still training"), "\(handed.log)")
        expectSameFiles(one.models, handed.models, "handing the idle thread to the last model")
    }
}
