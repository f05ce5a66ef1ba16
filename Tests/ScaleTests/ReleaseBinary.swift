import Foundation
import Testing

/// The release `mia-audit` that the end-to-end tests of this target run as a user would, and
/// helpers to run it and to write tiny configs.
enum ReleaseBinary {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `.build/release/mia-audit`, built first when it is missing; `MIA_AUDIT_BINARY` names
    /// another (e.g. an older build, to see a test fail before its fix).
    static func path() throws -> String {
        if let other = ProcessInfo.processInfo.environment["MIA_AUDIT_BINARY"] { return other }
        let path = packageRoot + "/.build/release/mia-audit"
        if !FileManager.default.isExecutableFile(atPath: path) {
            let build = try Command.run(
                "/usr/bin/env", ["swift", "build", "-c", "release"], cwd: packageRoot, timeout: 3600)
            try #require(build.status == 0, "swift build -c release failed: \(build.stderr)")
        }
        return path
    }

    /// A tiny audit on Fashion-MNIST: an MLP, `references` reference models.
    static func config(
        output: String, auditRecords: Int = 200, populationRecords: Int = 100, hidden: Int = 32, epochs: Int = 2,
        references: Int = 4, threads: Int = 1, attacks: [String] = ["loss-threshold"]
    ) -> String {
        """
        run:
          name: scale-test
          output: \(output)
          seed: 7
          threads: \(threads)
        dataset:
          plugin: idx
          options:
            images: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
            labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz
          audit_records: \(auditRecords)
          population_records: \(populationRecords)
        model:
          plugin: native
          options:
            architecture: mlp
            hidden_sizes: [\(hidden)]
            epochs: \(epochs)
        reference_models:
          count: \(references)
        audit:
          bootstrap_samples: 0
          attacks:
        \(attacks.map { "    - plugin: \($0)" }.joined(separator: "\n"))
        report:
          html: false

        """
    }

    /// A fresh folder under the temporary directory.
    static func scratch(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mia-\(name)-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Keys of the models that hold a finished record (`meta.json`) in a store folder.
    static func finishedModels(store: String) -> [String] {
        let keys = (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
        return keys.filter { FileManager.default.fileExists(atPath: "\(store)/\($0)/meta.json") }.sorted()
    }
}

/// A child process with its output in files (no pipe to fill up).
struct Command {
    var status: Int32
    var stdout: String
    var stderr: String

    static func start(_ executable: String, _ arguments: [String], cwd: String, environment: [String: String] = [:])
        throws -> (Process, String, String)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mia-cmd-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, base + ".out", base + ".err")
    }

    static func run(
        _ executable: String, _ arguments: [String], cwd: String, environment: [String: String] = [:],
        timeout: Double = 120
    ) throws -> Command {
        let (p, out, err) = try start(executable, arguments, cwd: cwd, environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            Issue.record("`\(executable) \(arguments.joined(separator: " "))` took more than \(timeout) s")
        }
        p.waitUntilExit()
        let read = { (path: String) -> String in
            defer { unlink(path) }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return Command(status: p.terminationStatus, stdout: read(out), stderr: read(err))
    }
}
