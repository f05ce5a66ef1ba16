import Foundation
import PluginKit
import Testing

@testable import ModelPython

/// The `python` backend end to end with the NumPy softmax-regression example worker, and with
/// workers that fail in every way the backend must survive.
@Suite struct PythonWorkerTests {
    static let numpyWorker = Repository.examples + "/numpy_worker.py"

    /// Softmax regression by full-batch gradient descent from zero weights, as the example
    /// documents, written out independently in Swift: returns [d + 1, k] (W, then b).
    static func referenceWeights(features: [Float], labels: [Int32], d: Int, k: Int, steps: Int, rate: Double)
        -> [Double]
    {
        let n = labels.count
        var w = [Double](repeating: 0, count: (d + 1) * k)
        for _ in 0..<steps {
            var gradient = [Double](repeating: 0, count: (d + 1) * k)
            for i in 0..<n {
                var z = [Double](repeating: 0, count: k)
                for c in 0..<k {
                    z[c] = w[d * k + c]
                    for j in 0..<d { z[c] += Double(features[i * d + j]) * w[j * k + c] }
                }
                let m = z.max()!
                let e = z.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                for c in 0..<k {
                    let g = e[c] / total - (Int(labels[i]) == c ? 1 : 0)
                    for j in 0..<d { gradient[j * k + c] += Double(features[i * d + j]) * g }
                    gradient[d * k + c] += g
                }
            }
            for p in 0..<w.count { w[p] -= rate * gradient[p] / Double(n) }
        }
        return w
    }

    @Test func numpyWorkerTrainsPredictsSavesAndLoads() throws {
        let (d, k, n) = (4, 3, 60)
        let spec = ModelSpec(featureShape: [d], classCount: k)
        let (features, labels) = syntheticRecords(n: n, d: d, k: k, seed: 1)
        let model = try pythonModel(
            module: Self.numpyWorker, spec: spec, workerOptions: #"{"steps": 25, "learning_rate": 0.5}"#)
        let history = try model.train(features: features, labels: labels, seed: 7)
        #expect(history.count == 1)
        #expect(history.first.map { $0.trainLoss.isFinite && $0.trainLoss < log(3.0) } == true)

        let w = Self.referenceWeights(features: features, labels: labels, d: d, k: k, steps: 25, rate: 0.5)
        let logits = try model.predict(features, count: n)
        for i in 0..<n {
            for c in 0..<k {
                var z = w[d * k + c]
                for j in 0..<d { z += Double(features[i * d + j]) * w[j * k + c] }
                #expect(abs(Double(logits[i * k + c]) - z) < 1e-5 * max(1, abs(z)), "record \(i) class \(c)")
            }
        }

        // The saved file is the example's documented format: one [d + 1, k] float64 array.
        let dir = TemporaryDirectory("python")
        let path = dir.path + "/model.tmp"
        try model.save(to: path)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let layout = try bytes.withUnsafeBytes { try Npy.parse($0, source: path) }
        #expect(layout.descr == "<f8" && layout.shape == [d + 1, k])
        bytes.withUnsafeBytes { raw in
            for p in 0..<w.count {
                let saved = raw.loadUnaligned(fromByteOffset: layout.payloadOffset + 8 * p, as: Double.self)
                #expect(abs(saved - w[p]) < 1e-9)
            }
        }

        // A second model loads it and predicts the same logits, bit for bit.
        let copy = try pythonModel(module: Self.numpyWorker, spec: spec)
        try copy.load(from: path)
        #expect(try copy.predict(features, count: n) == logits)

        // A foreign file is refused with the worker's reason, and leaves the model unusable.
        let foreign = try dir.write("foreign.bin", "not a model")
        let refused = errorMessage { try copy.load(from: foreign) }
        #expect(refused?.contains("failed in `load`") == true, "\(refused ?? "no error")")
        #expect(errorMessage { _ = try copy.predict(features, count: 1) }?.contains("before train or load") == true)
    }

    @Test func largeBatchesCrossWithoutDeadlock() throws {
        // 20,000 records of 784 floats: 63 MB to the worker in one request.
        let spec = ModelSpec(featureShape: [1, 28, 28], classCount: 10)
        let (features, labels) = syntheticRecords(n: 200, d: 784, k: 10, seed: 2)
        let model = try pythonModel(module: Self.numpyWorker, spec: spec, workerOptions: #"{"steps": 2}"#)
        try model.train(features: features, labels: labels, seed: 1)
        var big = [Float](repeating: 0, count: 20_000 * 784)
        for r in 0..<100 { for i in 0..<(200 * 784) { big[r * 200 * 784 + i] = features[i] } }
        let logits = try model.predict(big, count: 20_000)
        let small = try model.predict(features, count: 200)
        #expect(Array(logits[(19_800 * 10)...]) == small)
    }

    @Test func classStyleWorkerAndProbabilityOutputs() throws {
        let dir = TemporaryDirectory("python")
        let module = try dir.write(
            "fixed_probabilities.py",
            """
            import numpy as np
            import mia_worker

            class Fixed(mia_worker.Worker):
                def train(self, features, labels, options, seed):
                    self.p = np.array([[0.5, 0.25, 0.25], [1.0, 0.0, 0.0]])
                def predict(self, features):
                    return self.p[np.arange(len(features)) % 2] * self.options["scale"]
                def save(self, path):
                    open(path, "w").write("x")
                def load(self, path):
                    pass
            """)
        let model = try pythonModel(
            module: module, spec: ModelSpec(featureShape: [2], classCount: 3), workerOptions: #"{"scale": 1}"#,
            extra: ["output": .string("probabilities")])
        try model.train(features: [0, 0, 0, 0], labels: [0, 1], seed: 0)
        let logits = try model.predict([0, 0, 0, 0], count: 2)
        #expect(logits[0] == log(Float(0.5)) && logits[1] == log(Float(0.25)) && logits[3] == 0)
        // A zero probability becomes the log of the smallest positive float, finite.
        #expect(logits[4] == log(Float.leastNonzeroMagnitude) && logits[4].isFinite)

        let scaled = try pythonModel(
            module: module, spec: ModelSpec(featureShape: [2], classCount: 3), workerOptions: #"{"scale": 3}"#,
            extra: ["output": .string("probabilities")])
        try scaled.train(features: [0, 0], labels: [0], seed: 0)
        let message = errorMessage { _ = try scaled.predict([0, 0], count: 1) }
        #expect(message?.contains("not a probability") == true, "\(message ?? "no error")")
    }

    @Test func heldoutRecordsReachATrainThatAsksForThem() throws {
        let dir = TemporaryDirectory("python")
        let module = try dir.write(
            "heldout.py",
            """
            def train(features, labels, options, seed, heldout=None):
                x, y = heldout
                return [{"epoch": 1, "train_loss": float(features.sum()), "heldout_loss": float(x.sum()),
                         "heldout_accuracy": float(y.sum()) / 10, "seconds": float("nan")}]
            def predict(features): pass
            def save(path): pass
            def load(path): pass
            """)
        let model = try pythonModel(module: module, spec: ModelSpec(featureShape: [2], classCount: 3))
        let features: [Float] = [1, 2, 3, 4]
        let labels: [Int32] = [0, 1]
        let heldoutFeatures: [Float] = [0.5, 0.25]
        let heldoutLabels: [Int32] = [2]
        var history: [EpochRecord] = []
        try features.withUnsafeBufferPointer { f in
            try labels.withUnsafeBufferPointer { l in
                try heldoutFeatures.withUnsafeBufferPointer { hf in
                    try heldoutLabels.withUnsafeBufferPointer { hl in
                        try model.train(
                            TrainingData(features: f, labels: l, heldoutFeatures: hf, heldoutLabels: hl, seed: 1)
                        ) {
                            history.append($0)
                        }
                    }
                }
            }
        }
        #expect(history.count == 1)
        #expect(
            history.first?.trainLoss == 10 && history.first?.heldoutLoss == 0.75
                && history.first?.heldoutAccuracy == 0.2)
        // NaN travels as null.
        #expect(history.first?.trainAccuracy.isNaN == true && history.first?.seconds.isNaN == true)
    }

    @Test func exceptionInTrainQuotesTheTracebackAndWorkerStaysUsable() throws {
        let dir = TemporaryDirectory("python")
        let module = try dir.write(
            "raising.py",
            """
            calls = 0
            def train(features, labels, options, seed):
                global calls
                calls += 1
                print("starting training")  # goes to stderr, never into the protocol
                if calls == 1:
                    raise ValueError("boom at step 3")
            def predict(features):
                import numpy as np
                return np.zeros((len(features), 2))
            def save(path): pass
            def load(path): pass
            """)
        let model = try pythonModel(module: module, spec: ModelSpec(featureShape: [1], classCount: 2))
        let message = errorMessage { try model.train(features: [1, 2], labels: [0, 1], seed: 0) }
        #expect(
            message?.contains("python worker `\(module)` failed in `train`: ValueError: boom at step 3") == true,
            "\(message ?? "no error")")
        #expect(message?.contains("raise ValueError(\"boom at step 3\")") == true, "\(message ?? "no error")")
        // The worker survived its user's exception: the next training works.
        try model.train(features: [1, 2], labels: [0, 1], seed: 0)
        #expect(try model.predict([5], count: 1) == [0, 0])
    }

    @Test func crashQuotesTheStderrTail() throws {
        let dir = TemporaryDirectory("python")
        let module = try dir.write(
            "crashing.py",
            """
            import os, sys
            def train(features, labels, options, seed):
                for i in range(30):
                    sys.stderr.write(f"epoch {i}\\n")
                sys.stderr.write("fatal: out of cheese\\n")
                sys.stderr.flush()
                os._exit(3)
            def predict(features): pass
            def save(path): pass
            def load(path): pass
            """)
        let model = try pythonModel(module: module, spec: ModelSpec(featureShape: [1], classCount: 2))
        let message = errorMessage { try model.train(features: [1], labels: [0], seed: 0) }
        #expect(
            message?.contains("`\(module)` exited with status 3 during `train`") == true, "\(message ?? "no error")")
        #expect(message?.hasSuffix("epoch 29\nfatal: out of cheese") == true, "\(message ?? "no error")")
        #expect(message?.contains("epoch 9\n") == false, "only the tail is quoted")
        #expect(model.worker == nil)
    }

    @Test func hangingWorkerTimesOutAndIsKilled() throws {
        let dir = TemporaryDirectory("python")
        let pidFile = dir.path + "/pid"
        let module = try dir.write(
            "hanging.py",
            """
            import os, time
            def setup(spec, options):
                open(options["pid_file"], "w").write(str(os.getpid()))
            def train(features, labels, options, seed):
                time.sleep(60)
            def predict(features): pass
            def save(path): pass
            def load(path): pass
            """)
        let model = try pythonModel(
            module: module, spec: ModelSpec(featureShape: [1], classCount: 2),
            workerOptions: "{\"pid_file\": \"\(pidFile)\"}",
            timeout: 2)
        let start = Date()
        let message = errorMessage { try model.train(features: [1], labels: [0], seed: 0) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(
            message?.contains("did not answer `train` within 2 s and was stopped") == true, "\(message ?? "no error")")
        #expect(elapsed < 10, "took \(elapsed) s")
        let pid = pid_t(try String(contentsOfFile: pidFile, encoding: .utf8))!
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the worker process is gone")
    }

    @Test func missingModuleAndMissingInterpreterAreClearErrors() throws {
        let spec = ModelSpec(featureShape: [1], classCount: 2)
        let noModule = try pythonModel(module: "no_such_module_xyz", spec: spec)
        let message = errorMessage { try noModule.train(features: [1], labels: [0], seed: 0) }
        #expect(
            message?.contains("failed in `hello`: ModuleNotFoundError: No module named 'no_such_module_xyz'") == true,
            "\(message ?? "no error")")
        let noPython = try pythonModel(
            module: Self.numpyWorker, spec: spec, extra: ["python": .string("/nonexistent/python3")])
        let spawn = errorMessage { try noPython.train(features: [1], labels: [0], seed: 0) }
        #expect(spawn?.contains("cannot start `/nonexistent/python3`") == true, "\(spawn ?? "no error")")
        #expect(
            errorMessage { _ = try pythonModel(module: "m", spec: spec, workerOptions: "[1]") }?.contains(
                "must be a JSON object")
                == true)
        #expect(
            errorMessage { _ = try pythonModel(module: "/nowhere/worker.py", spec: spec) }?.contains("no worker file")
                == true)
    }
}
