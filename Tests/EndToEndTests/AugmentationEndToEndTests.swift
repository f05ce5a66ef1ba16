import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// `audit.augmentations` end to end: the host asks every model about the flipped and shifted
/// records through the backend's ordinary predict, lends them to LiRA and RMIA (ABI 1.3), keeps
/// them in the store, and keys the scores by them.
func augmentedConfig(output: String, augmentations: String?) -> String {
    """
    run:
      name: e2e-augmentations
      output: \(output)
      seed: 9
      threads: 2
    dataset:
      plugin: idx
      options:
        images: \(fashionImages)
        labels: \(fashionLabels)
      audit_records: 400
      population_records: 100
    model:
      plugin: native
      options:
        architecture: mlp
        hidden_sizes: [64]
        optimizer: adam
        learning_rate: 0.001
        batch_size: 128
        epochs: 8
    reference_models:
      count: 4
    audit:
      fprs: [0.01, 0.1]
      bootstrap_samples: 0
    \(augmentations.map { "  augmentations: \($0)" } ?? "")
      attacks:
        - plugin: lira
          name: lira-offline
        - plugin: rmia
          name: rmia-offline
    report:
      html: false
    """
}

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct AugmentationEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-augment-\(getpid())"

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func array(_ output: String, _ name: String) throws -> ([Float], [Int]) {
        try Npy.read(Float.self, from: "\(output)/signals/\(name).npy")
    }

    @Test func liraOverFlipsAndShiftsMatchesARecomputationFromTheSignalFiles() throws {
        let output = folder + "/run"
        try? FileManager.default.removeItem(atPath: folder)
        let config = try write(augmentedConfig(output: output, augmentations: "[flip, shift:1]"), "augmented.yaml")
        let first = try mia(["run", config, "--verbose"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("18 query views per record"))

        // View 0 of every augmented array is the un-augmented array, bit for bit.
        let n = 400, p = 100, c = 10, r = 4, a = 18
        let (target, targetShape) = try array(output, "augmented_target_logits")
        let (reference, referenceShape) = try array(output, "augmented_reference_logits")
        let (population, populationShape) = try array(output, "augmented_population_reference_logits")
        #expect(targetShape == [a, n, c] && referenceShape == [a, r, n, c] && populationShape == [a, r, p, c])
        #expect(Array(target[0..<(n * c)]) == (try array(output, "target_logits")).0)
        #expect(Array(reference[0..<(r * n * c)]) == (try array(output, "reference_logits")).0)
        #expect(Array(population[0..<(r * p * c)]) == (try array(output, "population_reference_logits")).0)
        // The views are other queries: the mirrored records get other logits.
        #expect(Array(target[(n * c)..<(2 * n * c)]) != Array(target[0..<(n * c)]))

        // LiRA offline (global variance) written out here: per view, φ of the target against a
        // Gaussian fitted to the OUT reference models' φ, the negative log p-values summed.
        let labels = try Npy.read(Int32.self, from: output + "/signals/labels.npy").values
        let membership = try Npy.read(UInt8.self, from: output + "/signals/reference_membership.npy").values
        func phi(_ x: [Float], _ row: Int, _ y: Int) -> Double {
            let z = (0..<c).map { Double(x[row * c + $0]) }
            let others = (0..<c).filter { $0 != y }.map { z[$0] }
            let top = others.max()!
            return z[y] - (top + log(others.map { exp($0 - top) }.reduce(0, +)))
        }
        var expected = [Double](repeating: 0, count: n)
        var finite = [Bool](repeating: true, count: n)
        for v in 0..<a {
            var out = [[Double]](repeating: [], count: n)
            for m in 0..<r {
                for i in 0..<n where membership[m * n + i] == 0 {
                    out[i].append(phi(reference, (v * r + m) * n + i, Int(labels[i])))
                }
            }
            let means = out.map { $0.isEmpty ? Double.nan : $0.reduce(0, +) / Double($0.count) }
            var ss = 0.0, dof = 0, total = 0.0, count = 0
            for i in 0..<n {
                total += out[i].reduce(0, +)
                count += out[i].count
                if out[i].count >= 2 {
                    ss += out[i].map { ($0 - means[i]) * ($0 - means[i]) }.reduce(0, +)
                    dof += out[i].count - 1
                }
            }
            let sd = max(ss / Double(dof), 1e-8).squareRoot()
            for i in 0..<n {
                let mu = out[i].isEmpty ? total / Double(count) : means[i]
                let z = (phi(target, v * n + i, Int(labels[i])) - mu) / sd
                let s = -log(0.5 * erfc(z / 2.0.squareRoot()))
                if s.isFinite { expected[i] += s } else { finite[i] = false }
            }
        }
        let lira = try Npy.read(Double.self, from: output + "/scores/lira-offline.npy").values
        var compared = 0
        for i in 0..<n where finite[i] {
            #expect(abs(lira[i] - expected[i]) < 1e-6 * max(1, abs(expected[i])), "record \(i)")
            compared += 1
        }
        #expect(compared > 300)

        // A second run asks no model again and reuses the scores; without augmentations the
        // scores are other scores (the key covers the views), and view 0's, not reused ones.
        let second = try mia(["run", config, "--verbose"])
        #expect(second.status == 0)
        #expect(!second.stderr.contains("augmented views of"), "\(second.stderr)")
        #expect(second.stderr.contains("attack lira-offline: scores reused"))
        let plainConfig = try write(augmentedConfig(output: output, augmentations: nil), "plain.yaml")
        let plain = try mia(["run", plainConfig, "--verbose"])
        #expect(plain.status == 0)
        #expect(!plain.stderr.contains("scores reused"), "\(plain.stderr)")
        let plainLira = try Npy.read(Double.self, from: output + "/scores/lira-offline.npy").values
        #expect(plainLira != lira)
        // No augmented file of the earlier run is left beside signals that have none.
        #expect(!FileManager.default.fileExists(atPath: output + "/signals/augmented_target_logits.npy"))
    }

    @Test func anUnknownAugmentationIsRefused() throws {
        let bad = try write(
            augmentedConfig(output: folder + "/bad", augmentations: "[rotate]"), "bad.yaml")
        let result = try mia(["validate", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown augmentation `rotate`"), "\(result.stderr)")
    }
}
