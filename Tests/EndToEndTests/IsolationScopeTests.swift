import Foundation
import MIATestSupport
import Testing

/// `plugins.libraries.<key>.isolation: process` for the library of a dataset or a model is
/// refused with the key: only attacks run in a child process.
extension PluginSafetyTests {
    @Test func isolationAskedForADatasetOrModelLibraryIsRefusedWithItsKey() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let csv = folder + "/scope.csv"
        try ("x,label\n" + (0..<40).map { "\($0),\($0 % 2)" }.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
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
        let dataset = try validate("libMIADatasetCSV.so")
        #expect(dataset.status == 2, "\(dataset.stderr)")
        #expect(dataset.stderr.contains("scope.yaml:4: `plugins.libraries.libMIADatasetCSV.so.isolation`: `process` isolates attacks only"), "\(dataset.stderr)")
        #expect(dataset.stderr.contains("dataset `csv`"), "\(dataset.stderr)")
        let model = try validate("mia-model-native")
        #expect(model.status == 2 && model.stderr.contains("`plugins.libraries.mia-model-native.isolation`") && model.stderr.contains("model `native`"), "\(model.stderr)")
        // The attacks' library may be isolated.
        let attacks = try validate("libMIAAttacksReference.so")
        #expect(attacks.status == 0, "\(attacks.stderr)")
    }
}
