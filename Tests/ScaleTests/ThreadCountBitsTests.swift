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
    @Test(.timeLimit(.minutes(5))) func theSameModelTrainsToTheSameFileOnOneThreadAndOnTwo() throws {
        let binary = try ReleaseBinary.path()
        var files: [[String: Data]] = []
        for threads in [1, 2] {
            let dir = try ReleaseBinary.scratch("threads-\(threads)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let config = ReleaseBinary.config(
                output: dir + "/run", auditRecords: 600, populationRecords: 100, hidden: 512, epochs: 1, references: 1,
                threads: threads
            )
            .replacingOccurrences(of: "  threads: \(threads)\n", with: "  threads: \(threads)\n  parallel_models: 1\n")
            try config.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
            let train = try Command.run(binary, ["train", dir + "/a.yaml", "-v"], cwd: dir, timeout: 240)
            #expect(train.status == 0, "\(train.stderr)")
            let store = dir + "/run/models"
            var models: [String: Data] = [:]
            for key in ReleaseBinary.finishedModels(store: store) {
                models[key] = FileManager.default.contents(atPath: "\(store)/\(key)/model.bin")
            }
            #expect(models.count == 2, "threads \(threads): \(models.keys.sorted())")
            files.append(models)
        }
        #expect(files[0].keys.sorted() == files[1].keys.sorted(), "the store keys do not depend on run.threads")
        for (key, one) in files[0] {
            #expect(one == files[1][key], "model \(key): run.threads 1 and 2 stored different weights")
        }
    }
}
