import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// A misbehaving plugin (Tests/Fixtures/FixtureMisbehaving: crash, abort, exit(0), a call that
/// never returns) in process and in a child process (`plugins.isolation: process`), through the
/// release binary on small signals written by the test (no training).
@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct PluginSafetyTests {
    let folder = NSTemporaryDirectory() + "mia-plugin-safety-\(getpid())"
    let library = packageRoot + "/.build/release/libTestFixtureMisbehaving.so"

    /// Signals of 200 records, 4 classes, 4 reference models (each record IN for 2), 50 population records.
    func writeSignals() throws -> String {
        let path = folder + "/signals"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let n = 200, c = 4, r = 4, p = 50
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 400 - 2.5
        }
        try Npy.write((0..<n).map { Int32($0 % c) }, shape: [n], to: path + "/labels.npy")
        try Npy.write((0..<(n * c)).map { _ in next() }, shape: [n, c], to: path + "/target_logits.npy")
        try Npy.write((0..<n).map { UInt8($0 % 2) }, shape: [n], to: path + "/target_membership.npy")
        try Npy.write((0..<(r * n * c)).map { _ in next() }, shape: [r, n, c], to: path + "/reference_logits.npy")
        try Npy.write(
            (0..<(r * n)).map { UInt8(($0 / n + $0 % n) % 2) }, shape: [r, n], to: path + "/reference_membership.npy")
        try Npy.write((0..<p).map { Int32($0 % c) }, shape: [p], to: path + "/population_labels.npy")
        try Npy.write((0..<(p * c)).map { _ in next() }, shape: [p, c], to: path + "/population_target_logits.npy")
        try Npy.write(
            (0..<(r * p * c)).map { _ in next() }, shape: [r, p, c], to: path + "/population_reference_logits.npy")
        return path
    }

    func config(_ name: String, attacks: [String], plugins: String = "") throws -> (path: String, output: String) {
        let signals = try writeSignals()
        let output = folder + "/runs/" + name
        let text = """
            run:
              name: \(name)
              output: \(output)
              threads: 1
            plugins:
              paths: [\(library)]
            \(plugins.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            signals:
              path: \(signals)
            audit:
              fprs: [0.1]
              bootstrap_samples: 0
              attacks:
            \(attacks.map { "    - " + $0 }.joined(separator: "\n"))
            report:
              html: false
            """
        let path = folder + "/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, output)
    }

    // MARK: in process

    @Test func aCrashInProcessNamesThePluginCallInFlight() throws {
        for (attack, signal) in [("segfault-attack", "SIGSEGV"), ("abort-attack", "SIGABRT")] {
            let (path, _) = try config("crash-\(attack)", attacks: ["plugin: \(attack)"])
            let r = try mia(["run", path])
            #expect(r.status != 0, "\(attack)")
            #expect(r.stderr.contains("a plugin crashed: \(signal)"), "\(r.stderr)")
            #expect(r.stderr.contains("`score` of attack `\(attack)` (\(library))"), "\(r.stderr)")
        }
    }

    @Test func aPluginCallingExitCannotEndARunWithSuccess() throws {
        let (path, output) = try config("exit", attacks: ["plugin: exit-attack"])
        let r = try mia(["run", path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(
            r.stderr.contains("a plugin called exit() in `score` of attack `exit-attack` (\(library))"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output + "/metrics.json"))
    }

    @Test func aCallPastTheTimeLimitStopsTheRun() throws {
        let (path, _) = try config("timeout", attacks: ["plugin: hang-attack"], plugins: "timeout_seconds: 1")
        let start = Date()
        let r = try mia(["run", path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(
            r.stderr.contains("ran past its time limit: `score` of attack `hang-attack` (\(library))"), "\(r.stderr)")
        #expect(r.stderr.contains("plugins.timeout_seconds = 1.0 s"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func oneInterruptEndsAStuckPluginCall() throws {
        let (path, _) = try config("interrupt", attacks: ["plugin: hang-attack"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 3)
        kill(p.processIdentifier, SIGINT)
        let sent = Date()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: stderr, as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(text)")
        #expect(
            text.contains("`score` of attack `hang-attack` (\(library)) did not return within 5.0 s of the interrupt"),
            "\(text)")
        #expect(Date().timeIntervalSince(sent) < 20)
    }

    // MARK: in a child process

    @Test func isolatedFailuresAreErrorsNamingLibraryComponentCallAndSignal() throws {
        let cases = [
            ("segfault-attack", "crashed in score: the child process was killed by SIGSEGV (signal 11)"),
            ("abort-attack", "crashed in score: the child process was killed by SIGABRT (signal 6)"),
            ("exit-attack", "failed in score: the plugin called exit(0) during `score`"),
            (
                "hang-attack",
                "failed in score: `score` ran past plugins.timeout_seconds = 1 s; the child process was killed"
            ),
        ]
        for (attack, message) in cases {
            let (path, output) = try config(
                "isolated-\(attack)", attacks: ["plugin: \(attack)"], plugins: "isolation: process\ntimeout_seconds: 1")
            let r = try mia(["run", path])
            #expect(r.status == 1, "\(attack): \(r.stderr)")
            #expect(
                r.stderr.contains(
                    "attack `\(attack)` (\(library)), run in a child process (plugins.isolation: process), \(message)"),
                "\(r.stderr)")
            #expect(!r.stderr.contains("a plugin crashed"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output + "/metrics.json"))
        }
    }

    @Test func onFailureContinueKeepsTheOtherAttacks() throws {
        let (path, output) = try config(
            "continue", attacks: ["plugin: segfault-attack", "plugin: label-attack"],
            plugins: "on_failure: continue\nlibraries:\n  libTestFixtureMisbehaving.so: {isolation: process}")
        let r = try mia(["run", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stderr.contains("attack segfault-attack left out of the results (plugins.on_failure: continue)"),
            "\(r.stderr)")
        let metrics = try String(contentsOfFile: output + "/metrics.json", encoding: .utf8)
        #expect(metrics.contains("label-attack"))
        #expect(!FileManager.default.fileExists(atPath: output + "/scores/segfault-attack.npy"))
        // label-attack's known answer: each record's label, written back through shared memory.
        let (scores, _) = try Npy.read(Double.self, from: output + "/scores/label-attack.npy")
        #expect(scores == (0..<200).map { Double($0 % 4) })
    }

    @Test func isolatedScoresAreBitIdenticalToInProcess() throws {
        let attacks = [
            "plugin: loss-threshold", "{plugin: lira, name: lira-offline, options: {mode: offline}}",
            "{plugin: lira, name: lira-online, options: {mode: online}}",
            "{plugin: rmia, name: rmia-offline, options: {mode: offline}}",
            "plugin: label-attack",
        ]
        let (inProcess, a) = try config("same-in-process", attacks: attacks)
        let (isolated, b) = try config("same-isolated", attacks: attacks, plugins: "isolation: process")
        let first = try mia(["run", inProcess]), second = try mia(["run", isolated])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        for name in ["loss-threshold", "lira-offline", "lira-online", "rmia-offline", "label-attack"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: a + "/scores/\(name).npy"))
            let y = try Data(contentsOf: URL(fileURLWithPath: b + "/scores/\(name).npy"))
            #expect(x == y, "\(name)")
            #expect(x.count > 200 * 8)
        }
    }

    @Test func policyKeysAreChecked() throws {
        for (plugins, message) in [
            ("isolation: thread", "must be `none` or `process`"),
            ("timeout_seconds: -1", "must be a positive number of seconds"),
            ("on_failure: retry", "must be `stop` or `continue`"),
            ("libraries:\n  x.so: {isolate: process}", "unknown key `isolate`"),
        ] {
            let (path, _) = try config("bad", attacks: ["plugin: label-attack"], plugins: plugins)
            let r = try mia(["validate", path])
            #expect(r.status == 2, "\(plugins): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(plugins): \(r.stderr)")
        }
    }
}
