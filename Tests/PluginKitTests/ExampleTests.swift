import Foundation
import PluginABI
import PluginKit
import Testing

// The two example plugins of examples/ build with the commands their READMEs give, export only
// the entry symbol, and score as their formulas say (checked against a computation written here).

/// Names of the dynamic symbols a library defines (`nm -D --defined-only`).
func definedDynamicSymbols(_ path: String) throws -> [String] {
    let result = try run("nm", ["-D", "--defined-only", path])
    guard result.status == 0 else { throw TestFailure("nm on \(path): \(result.output)") }
    return result.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
}

/// Record-by-record logits and labels shared by both examples' checks: 3 records, 4 classes,
/// including a large logit that would overflow a naive exp() in f32.
let exampleLogits: [Float] = [2, 1, 0.5, -1, 0, 3, 2.5, 1, 1000, 999, -5, 0]
let exampleLabels: [Int32] = [0, 2, 1]

@Suite(.serialized) struct ExampleTests {
    @Test func cExampleBuildsWithMakeAndScoresTheConfidenceGap() throws {
        let folder = try makeTemporaryFolder("c-attack")
        defer { removeFolder(folder) }
        let make = try run(
            "make", ["-C", packageRoot.appendingPathComponent("examples/c-attack").path, "OUT=\(folder.path)"])
        try #require(make.status == 0, "make failed:\n\(make.output)")
        #expect(make.output.contains("-std=c99 -O2 -Wall -Wextra -Werror -pedantic -fPIC -shared"))
        let path = folder.appendingPathComponent("libmia_c_attack.so").path
        let symbols = try definedDynamicSymbols(path)
        #expect(symbols.contains("mia_plugin_entry"))
        #expect(symbols.filter { $0.hasPrefix("mia_") || $0.hasPrefix("gap_") } == ["mia_plugin_entry"])

        let library = try LoadedLibrary(path)
        #expect(try library.descriptor(major: UInt32(MIA_ABI_MAJOR) + 1) == nil)
        let d = try #require(try library.descriptor())
        #expect(String(cString: d.pointee.toolchain) == "c")
        let list = components(d)
        #expect(list.count == 1)
        #expect(list.first?.kind == MIA_COMPONENT_ATTACK)
        #expect(list.first.map(name) == "confidence-gap")
        #expect(options(list[0])["temperature"]?.type == MIA_OPTION_FLOAT)

        for temperature in [1.0, 2.0] {
            let attack = try CAttack(list[0], options: "{\"temperature\": \(temperature)}")
            #expect(attack.requirements == 0)
            let scores = try attack.score(labels: exampleLabels, logits: exampleLogits, classCount: 4).scores
            for i in 0..<exampleLabels.count {
                // Independent check: softmax by direct division, in f64, shifted by the true logit
                // (a different stabilisation from the plugin's max-shift).
                let row = (0..<4).map { Double(exampleLogits[4 * i + $0]) }
                let y = Int(exampleLabels[i])
                let e = row.map { exp(($0 - row[y]) / temperature) }
                let p = e.map { $0 / e.reduce(0, +) }
                let expected = p[y] - (0..<4).filter { $0 != y }.map { p[$0] }.max()!
                #expect(abs(scores[i] - expected) < 1e-12, "record \(i) at T = \(temperature)")
            }
        }
        // Record 2 (label 1, logits 1000 and 999 on top): p = [e/(1+e), 1/(1+e), ~0, ~0] -> 1/(1+e) - e/(1+e).
        let defaults = try CAttack(list[0], options: "{}")
        let third = try defaults.score(labels: exampleLabels, logits: exampleLogits, classCount: 4).scores[2]
        #expect(abs(third - (1 - M_E) / (1 + M_E)) < 1e-12)

        #expect(
            callError { _ = try CAttack(list[0], options: "{\"temperature\": -1}") }
                == CallError(
                    status: MIA_ERR_INVALID_ARGUMENT,
                    message: "confidence-gap: option `temperature` must be positive and finite, got -1"))
        #expect(
            callError { _ = try defaults.score(labels: [0, 7], logits: [1, 2, 3, 4], classCount: 2) }
                == CallError(
                    status: MIA_ERR_INVALID_ARGUMENT, message: "confidence-gap: record 1 has label 7, outside [0, 2)"))
    }

    /// Builds the out-of-tree Swift package as its README says (about 10 s in release here, with
    /// its own .build folder reused between runs), then loads it.
    @Test func swiftExampleBuildsAsItsOwnPackageAndScoresTheTopKMargin() throws {
        let example = packageRoot.appendingPathComponent("examples/swift-attack")
        let build = try run("swift", ["build", "-c", "release", "--package-path", example.path])
        try #require(build.status == 0, "swift build failed:\n\(build.output)")
        let path = example.appendingPathComponent(".build/release/libTopKMarginAttack.so").path
        #expect(try definedDynamicSymbols(path).filter { !$0.hasPrefix("$s") } == ["mia_plugin_entry"])

        let library = try LoadedLibrary(path)
        let d = try #require(try library.descriptor())
        #expect(String(cString: d.pointee.name) == "example-swift-attack")
        #expect(String(cString: d.pointee.toolchain) == swiftToolchainID)
        let list = components(d)
        #expect(list.map(name) == ["top-k-margin"])
        #expect(list.first?.kind == MIA_COMPONENT_ATTACK)

        for k in [1, 2, 5] {
            let attack = try CAttack(list[0], options: "{\"k\": \(k)}")
            let scores = try attack.score(labels: exampleLabels, logits: exampleLogits, classCount: 4).scores
            // Hand-computed: others sorted descending per record, mean of the first min(k, 3).
            let others: [[Double]] = [[1, 0.5, -1], [3, 1, 0], [1000, 0, -5]]
            let trueLogit: [Double] = [2, 2.5, 999]
            for i in 0..<3 {
                let m = min(k, 3)
                let expected = trueLogit[i] - others[i].prefix(m).reduce(0, +) / Double(m)
                #expect(abs(scores[i] - expected) < 1e-9, "record \(i) at k = \(k)")
            }
        }
        #expect(
            callError { _ = try CAttack(list[0], options: "{\"k\": 0}") }
                == CallError(
                    status: MIA_ERR_INVALID_ARGUMENT, message: "top-k-margin: option `k` must be at least 1, got 0"))
    }
}
