import Foundation
import MIATestSupport
import Testing

/// `plugins.libraries.<key>.isolation: process` is accepted for the library of a dataset, a
/// model or attacks alike: each runs in a child process (ModelIsolationTests checks what runs).
extension PluginSafetyTests {
    @Test func isolationOfADatasetModelOrAttackLibraryIsAccepted() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let csv = folder + "/scope.csv"
        try ("x,label\n" + (0..<40).map { "\($0),\($0 % 2)" }.joined(separator: "\n") + "\n").write(
            toFile: csv, atomically: true, encoding: .utf8)
        func validate(_ library: String) throws -> CommandResult {
            let path = folder + "/scope.yaml"
            try """
            run: {name: scope, output: \(folder)/runs/scope}
            plugins:
              libraries:
                \(library): {isolation: process}
            dataset:
              plugin: csv
              options: {path: \(csv), label_column: label}
              audit_records: 20
              population_records: 10
            model:
              plugin: native
              options: {architecture: mlp, hidden_sizes: [4], epochs: 1}
            reference_models: {count: 2}
            audit:
              attacks:
                - plugin: lira
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return try mia(["validate", path])
        }
        for library in ["libMIADatasetCSV.so", "mia-model-native", "libMIAAttacksReference.so"] {
            let r = try validate(library)
            #expect(r.status == 0, "\(library): \(r.stderr)")
            #expect(!r.stderr.contains("isolates attacks only"), "\(r.stderr)")
        }
        // And it runs: the CSV dataset's records come from a child process.
        _ = try validate("libMIADatasetCSV.so")
        let run = try mia(["run", folder + "/scope.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/runs/scope/metrics.json"))
    }
}
