import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// `plugins.isolation: process` for dataset and model plugins (issue 13): each instance lives in
/// a child process (`mia-audit isolated-serve`). A small native audit gives the same bits in a
/// child as in process, and a fixture model or dataset (Tests/Fixtures/FixtureMisbehavingModel)
/// that crashes, aborts, exits or hangs ends the run with an error naming the library, the
/// component, the call and the signal, and a `failed` run state.
@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct ModelIsolationTests {
    let folder = NSTemporaryDirectory() + "mia-model-isolation-\(getpid())"
    let library = packageRoot + "/.build/release/libTestFixtureMisbehavingModel.so"

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A small native audit with a checkpoint (train, its checkpoint callback, predict, save and
    /// load all cross the process boundary), in process or with every library isolated.
    func nativeConfig(_ name: String, plugins: String) throws -> String {
        try write(
            name,
            """
            run:
              name: same-bits
              output: \(folder)/runs/\(name)
              seed: 5
              threads: 2
            \(plugins)
            dataset:
              plugin: idx
              options:
                images: \(fashionImages)
                labels: \(fashionLabels)
              audit_records: 300
              population_records: 100
            model:
              plugin: native
              options: {architecture: mlp, hidden_sizes: [32], batch_size: 64, epochs: 3}
            reference_models: {count: 2}
            audit:
              fprs: [0.1]
              bootstrap_samples: 10
              checkpoints: [2]
              attacks:
                - plugin: loss-threshold
                - plugin: lira
                  name: lira-offline
                  options: {mode: offline}
            report: {html: false}
            """)
    }

    /// metrics.json without what may differ between two runs of the same audit (dates, times,
    /// the config's text with its output folder, the measured BLAS speed, peak memory).
    func comparable(_ output: String) throws -> NSDictionary {
        let data = try Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json"))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["config_yaml", "created_at", "blas", "peak_memory_bytes", "stage_seconds", "total_seconds"] {
            object[key] = nil
        }
        var target = try #require(object["target"] as? [String: Any])
        let history = try #require(target["history"] as? [[String: Any]])
        #expect(history.count == 3)
        target["history"] = history.map { $0.filter { $0.key != "seconds" } }
        object["target"] = target
        return NSDictionary(dictionary: object)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: fashionImages)))
    func anIsolatedNativeAuditGivesTheSameBitsAsInProcess() throws {
        let inProcess = try mia(["run", try nativeConfig("in-process", plugins: "")])
        #expect(inProcess.status == 0, "\(inProcess.stderr)")
        let isolated = try mia(["run", try nativeConfig("isolated", plugins: "plugins: {isolation: process}")])
        #expect(isolated.status == 0, "\(isolated.stderr)")
        for name in ["loss-threshold.npy", "lira-offline.npy", "lira-offline.mask.npy"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/runs/in-process/scores/\(name)"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/runs/isolated/scores/\(name)"))
            #expect(a == b, "\(name) differs")
        }
        // The checkpoint's logits too (predicted by a fresh instance that loaded the saved model).
        let checkpoints = try FileManager.default.subpathsOfDirectory(atPath: "\(folder)/runs/in-process/models").filter
        { $0.contains("epoch") && $0.hasSuffix(".npy") }
        #expect(!checkpoints.isEmpty)
        for c in checkpoints {
            #expect(
                FileManager.default.contentsEqual(
                    atPath: "\(folder)/runs/in-process/models/\(c)", andPath: "\(folder)/runs/isolated/models/\(c)"),
                "\(c)")
        }
        let a = try comparable("\(folder)/runs/in-process"), b = try comparable("\(folder)/runs/isolated")
        #expect(a == b, "metrics differ")
    }

    func fixtureConfig(_ name: String, dataset: String, model: String, datasetIn: String = "read") throws -> (
        path: String, output: String
    ) {
        let output = "\(folder)/runs/\(name)"
        let path = try write(
            name,
            """
            run: {name: \(name), output: \(output), threads: 1}
            plugins:
              paths: [\(library)]
              timeout_seconds: 1
              libraries:
                libTestFixtureMisbehavingModel.so: {isolation: process}
            dataset:
              plugin: crash-dataset
              options: {fail: \(dataset), in: \(datasetIn)}
              audit_records: 40
              population_records: 20
            model:
              plugin: crash-model
              options: \(model)
            reference_models: {count: 2}
            audit:
              bootstrap_samples: 0
              attacks:
                - plugin: loss-threshold
            report: {html: false}
            """)
        return (path, output)
    }

    func expectFailed(_ r: CommandResult, _ output: String, _ message: String) throws {
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("a plugin crashed"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output + "/metrics.json"))
        let state = try String(contentsOfFile: output + "/run.json", encoding: .utf8)
        #expect(state.contains("\"state\" : \"failed\""), "\(state)")
    }

    @Test func aMisbehavingModelInAChildIsAnErrorNamingLibraryComponentCallAndSignal() throws {
        let origin = "model `crash-model` (\(library)), run in a child process (plugins.isolation: process),"
        let cases = [
            ("segfault", "train", "crashed in train: the child process was killed by SIGSEGV (signal 11)"),
            ("abort", "train", "crashed in train: the child process was killed by SIGABRT (signal 6)"),
            ("exit", "train", "failed in train: the plugin called exit(0) during `train`"),
            (
                "hang", "train",
                "failed in train: `train` ran past plugins.timeout_seconds = 1 s; the child process was killed"
            ),
            ("segfault", "predict", "crashed in predict: the child process was killed by SIGSEGV (signal 11)"),
            ("abort", "predict", "crashed in predict: the child process was killed by SIGABRT (signal 6)"),
            ("exit", "predict", "failed in predict: the plugin called exit(0) during `predict`"),
            (
                "hang", "predict",
                "failed in predict: `predict` ran past plugins.timeout_seconds = 1 s; the child process was killed"
            ),
        ]
        for (fail, call, message) in cases {
            let (path, output) = try fixtureConfig(
                "model-\(fail)-\(call)", dataset: "none", model: "{fail: \(fail), in: \(call)}")
            let start = Date()
            try expectFailed(try mia(["run", path]), output, "\(origin) \(message)")
            #expect(Date().timeIntervalSince(start) < 60)
        }
    }

    @Test func aDatasetCrashingInItsLoadIsAnErrorNamingTheCall() throws {
        let origin = "dataset `crash-dataset` (\(library)), run in a child process (plugins.isolation: process),"
        let (path, output) = try fixtureConfig("dataset-segfault", dataset: "segfault", model: "{fail: none}")
        try expectFailed(
            try mia(["run", path]), output,
            "\(origin) crashed in read: the child process was killed by SIGSEGV (signal 11)")
        let (exitPath, exitOutput) = try fixtureConfig("dataset-exit", dataset: "exit", model: "{fail: none}")
        try expectFailed(
            try mia(["run", exitPath]), exitOutput, "\(origin) failed in read: the plugin called exit(0) during `read`")
        // A crash in `open` (when the plan asks the dataset its size) is refused as the config's
        // dataset that could not be opened, with the same words, before any run state is written.
        let (openPath, _) = try fixtureConfig(
            "dataset-open", dataset: "abort", model: "{fail: none}", datasetIn: "open")
        let opened = try mia(["run", openPath])
        #expect(opened.status == 2, "\(opened.stderr)")
        #expect(
            opened.stderr.contains(
                "the dataset could not be opened: \(origin) crashed in open: the child process was killed by SIGABRT (signal 6)"
            ), "\(opened.stderr)")
    }

    /// The fixture model behaving: the run completes through the child, and the logits it
    /// returned through shared memory are the known answer (feature 0 = the record's index).
    @Test func aWellBehavedIsolatedModelCompletes() throws {
        let (path, output) = try fixtureConfig("behaving", dataset: "none", model: "{fail: none}")
        let r = try mia(["run", path])
        #expect(r.status == 0, "\(r.stderr)")
        let (values, shape) = try Npy.read(Float.self, from: output + "/signals/target_logits.npy")
        #expect(shape == [40, 2])
        #expect((0..<40).allSatisfy { values[2 * $0] == Float($0) && values[2 * $0 + 1] == 0 })
    }
}
