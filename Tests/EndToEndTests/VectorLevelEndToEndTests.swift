import AuditCore
import Foundation
import MIATestSupport
import Testing

/// The C kernels' vector level is recorded beside the BLAS kernel (issue 14): `mia-audit doctor`
/// prints it and `metrics.json`'s `blas.vector_level` holds it, as `MIA_KERNELS` caps it; a value
/// that names no level is refused with the variable's name, not a crash.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct VectorLevelEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-vector-level-e2e-\(getpid())"
    let levels = ["generic", "avx2", "avx512"]

    /// The level doctor prints under `MIA_KERNELS=cap`, and the CPU's best it names.
    func doctorLevels(cap: String) throws -> (level: String, best: String, stdout: String) {
        let r = try mia(["doctor", "--threads", "1"], environment: ["MIA_KERNELS": cap])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("vectors:") }, "\(r.stdout)")
        // "vectors:   avx2 (the C kernels' instruction set; avx512 is this CPU's best, ...)"
        let words = line.split(separator: " ").map(String.init)
        let best = try #require(line.range(of: "; ").map { line[$0.upperBound...].split(separator: " ")[0] })
        return (words[1], String(best), r.stdout)
    }

    @Test func doctorPrintsTheLevelMIAKernelsCaps() throws {
        for cap in levels {
            let (level, best, stdout) = try doctorLevels(cap: cap)
            let expected = levels[min(levels.firstIndex(of: cap)!, try #require(levels.firstIndex(of: best)))]
            #expect(level == expected, "MIA_KERNELS=\(cap): \(stdout)")
            #expect(stdout.contains("MIA_KERNELS=\(cap)"), "the variables line names it: \(stdout)")
            #expect(
                stdout.contains("warning: the C kernels run at") == (expected != best),
                "a cap below the CPU's best is a warning: \(stdout)")
            #expect(stdout.contains("per busy thread") && stdout.contains("load average"), "\(stdout)")
            // The FMA peak at the same level, on the sgemm's one thread, with the sgemm's share.
            if expected == "generic" {
                #expect(stdout.contains("peak:      not measured"), "\(stdout)")
            } else {
                #expect(stdout.contains("(\(expected) FMAs, 12 independent chains on 1 thread,"), "\(stdout)")
                #expect(stdout.contains("per busy thread in CPU time); sgemm at "), "\(stdout)")
            }
        }
        let bad = try mia(["doctor"], environment: ["MIA_KERNELS": "avx9"])
        #expect(bad.status != 0 && bad.stderr.contains("MIA_KERNELS=avx9 is not one of generic, avx2, avx512"))
        #expect(!bad.stderr.contains("Fatal error"), "refused, not a crash: \(bad.stderr)")
        // Every command refuses it before it starts, not only doctor: the kernels would stop the
        // process at their first use, inside a plugin.
        let run = try mia(["plugins"], environment: ["MIA_KERNELS": "AVX512"])
        #expect(run.status == 1 && run.stderr.contains("MIA_KERNELS=AVX512 is not one of generic, avx2, avx512"))
        #expect(!run.stderr.contains("Fatal error"), "\(run.stderr)")
    }

    @Test func metricsRecordTheLevelMIAKernelsCaps() throws {
        let dir = folder + "/signals"
        let n = 120, c = 3
        let labels = (0..<n).map { Int32($0 % c) }
        let member = (0..<n).map { UInt8(($0 / 3) % 2) }
        var logits = [Float](repeating: 0, count: n * c)
        for i in 0..<n { logits[i * c + Int(labels[i])] = Float(i % 7) * 0.3 + (member[i] == 1 ? 1.0 : 0) }
        try Npy.write(labels, shape: [n], to: dir + "/labels.npy")
        try Npy.write(logits, shape: [n, c], to: dir + "/target_logits.npy")
        try Npy.write(member, shape: [n], to: dir + "/target_membership.npy")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for cap in ["generic", "avx2"] {
            let output = folder + "/run-\(cap)"
            let config = folder + "/\(cap).yaml"
            try """
            run: {name: vectors, output: \(output), threads: 1}
            signals: {path: \(dir)}
            audit:
              bootstrap_samples: 0
              attacks:
                - plugin: loss-threshold
            report: {html: false}

            """.write(toFile: config, atomically: true, encoding: .utf8)
            let r = try mia(["run", config, "--quiet"], environment: ["MIA_KERNELS": cap])
            #expect(r.status == 0, "\(r.stderr)")
            let metrics = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
                    as? [String: Any])
            let blas = try #require(metrics["blas"] as? [String: Any])
            let (level, _, _) = try doctorLevels(cap: cap)
            #expect(blas["vector_level"] as? String == level, "MIA_KERNELS=\(cap): \(blas)")
            #expect(blas["kernel"] is String && blas["cpu"] is String, "beside the BLAS kernel and the CPU")
        }
    }
}
