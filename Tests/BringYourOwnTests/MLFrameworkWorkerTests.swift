import Foundation
import PluginKit
import Testing

@testable import ModelPython

/// Python interpreters with scikit-learn or PyTorch, for the example workers' tests.
///
/// Off by default (CI time is limited). `MIA_TEST_ML_FRAMEWORKS=1` creates a virtual
/// environment (`MIA_TEST_VENV`, default `~/.cache/mia-audit/test-venv`) and pip-installs what a
/// test needs into it; `MIA_TEST_PYTHON=/path/to/python` uses an existing interpreter instead
/// (a test whose framework it lacks then fails, naming it).
enum MLFrameworks {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["MIA_TEST_ML_FRAMEWORKS"] == "1" || environment["MIA_TEST_PYTHON"] != nil
    static let skipReason: Comment =
        "set MIA_TEST_ML_FRAMEWORKS=1 (installs scikit-learn and torch into a test venv) or MIA_TEST_PYTHON"
    static let lock = NSLock()

    /// An interpreter that imports `module`, after installing `package` into the test venv if needed.
    static func interpreter(importing module: String, package: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let python = environment["MIA_TEST_PYTHON"] {
            guard try run(python, ["-c", "import \(module)"]) == 0 else {
                throw PluginError(.unsupported, "MIA_TEST_PYTHON=\(python) cannot import \(module)")
            }
            return python
        }
        let venv =
            environment["MIA_TEST_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/mia-audit/test-venv"
        let python = venv + "/bin/python3"
        if !FileManager.default.fileExists(atPath: python) {
            guard try run("python3", ["-m", "venv", venv]) == 0 else {
                throw PluginError(.io, "cannot create a venv at \(venv)")
            }
        }
        if try run(python, ["-c", "import numpy, \(module)"]) != 0 {
            guard try run(python, ["-m", "pip", "install", "--quiet", "numpy", package]) == 0 else {
                throw PluginError(.io, "pip could not install \(package) into \(venv)")
            }
        }
        return python
    }

    /// Runs a command (looked up in PATH), its output to this process's stderr; returns its status.
    static func run(_ command: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The shipped scikit-learn and PyTorch example workers, trained and reloaded through the plugin.
@Suite(.enabled(if: MLFrameworks.enabled, MLFrameworks.skipReason))
struct MLFrameworkWorkerTests {
    static let spec = ModelSpec(featureShape: [8], classCount: 3)

    /// Trains, checks training accuracy, checks that the same seed gives the same model, and
    /// that a saved model reloads into a second instance with identical logits.
    func check(module: String, python: String, workerOptions: String, expectLogProbabilities: Bool) throws {
        let (features, labels) = syntheticRecords(n: 600, d: 8, k: 3, seed: 5)
        func make() throws -> PythonModel {
            try pythonModel(
                module: module, spec: Self.spec, workerOptions: workerOptions, timeout: 300,
                extra: ["python": .string(python)])
        }
        let model = try make()
        let history = try model.train(features: features, labels: labels, seed: 11)
        #expect(!history.isEmpty && history.allSatisfy { $0.trainLoss.isFinite })
        let logits = try model.predict(features, count: 600)
        var correct = 0
        for i in 0..<600 {
            let row = Array(logits[(i * 3)..<(i * 3 + 3)])
            if row.firstIndex(of: row.max()!) == Int(labels[i]) { correct += 1 }
            if expectLogProbabilities {
                let m = row.max()!
                let logSum = Double(m) + log(row.map { Foundation.exp(Double($0 - m)) }.reduce(0, +))
                #expect(abs(logSum) < 1e-3, "row \(i) is not log-probabilities")
            }
        }
        #expect(Double(correct) / 600 > 0.9, "training accuracy \(correct) / 600")

        let again = try make()
        try again.train(features: features, labels: labels, seed: 11)
        #expect(try again.predict(features, count: 600) == logits, "same seed, same model")

        let dir = TemporaryDirectory("frameworks")
        try model.save(to: dir.path + "/model.tmp")
        let loaded = try make()
        try loaded.load(from: dir.path + "/model.tmp")
        #expect(try loaded.predict(features, count: 600) == logits)
        let foreign = try dir.write("foreign.tmp", "junk")
        #expect(errorMessage { try loaded.load(from: foreign) }?.contains("failed in `load`") == true)
    }

    @Test func sklearnExample() throws {
        let python = try MLFrameworks.interpreter(importing: "sklearn", package: "scikit-learn")
        try check(
            module: Repository.examples + "/sklearn_worker.py", python: python,
            workerOptions: #"{"hidden": [32], "epochs": 200}"#, expectLogProbabilities: true)
    }

    @Test func torchExample() throws {
        let python = try MLFrameworks.interpreter(importing: "torch", package: "torch")
        try check(
            module: Repository.examples + "/torch_worker.py", python: python,
            workerOptions: #"{"hidden": [64], "epochs": 20, "batch_size": 64, "learning_rate": 0.01, "threads": 1}"#,
            expectLogProbabilities: false)
    }
}
