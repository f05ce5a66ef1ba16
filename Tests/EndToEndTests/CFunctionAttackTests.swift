import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

// A `c_function` attack through the release binary: a C function compiled here scores every
// record, and its scores are the margin computed here in Swift; config mistakes are refused
// with file, line and key; a non-finite return names the record.

private let cSource = """
    #include <math.h>
    #include <stdint.h>
    double margin_score(const float *logits, int32_t classes, int32_t label) {
        float best = -INFINITY;
        for (int32_t k = 0; k < classes; ++k) if (k != label && logits[k] > best) best = logits[k];
        return (double)logits[label] - (double)best;
    }
    double shifted_mean_in(const double *reference, const uint8_t *in, int64_t count, int32_t classes, int32_t label, double shift) {
        double sum = 0; int n = 0;
        for (int64_t r = 0; r < count; ++r) if (in[r]) { sum += reference[r * classes + label]; ++n; }
        return (n ? sum / n : 0) + shift;
    }
    double nan_at_three(int64_t index) { return index == 3 ? NAN : 1.0; }
    """

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct CFunctionAttackTests {
    let folder = NSTemporaryDirectory() + "mia-cfunction-\(getpid())"
    let n = 40, c = 3, r = 2

    func prepare() throws -> (logits: [Float], labels: [Int32], reference: [Float], membership: [UInt8]) {
        try FileManager.default.createDirectory(atPath: folder + "/signals", withIntermediateDirectories: true)
        try cSource.write(toFile: folder + "/attack.c", atomically: true, encoding: .utf8)
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        gcc.arguments = ["-shared", "-fPIC", "-O2", "-o", folder + "/libattack.so", folder + "/attack.c"]
        try gcc.run()
        gcc.waitUntilExit()
        try #require(gcc.terminationStatus == 0)
        var state: UInt32 = 12345
        func next() -> Float {
            state = state &* 1_103_515_245 &+ 12345; return Float(state >> 8) / Float(1 << 24) * 8 - 4
        }
        let logits = (0..<n * c).map { _ in next() }
        let labels = (0..<n).map { Int32($0 % c) }
        let reference = (0..<r * n * c).map { _ in next() }
        let membership = (0..<r * n).map { UInt8(($0 / n + $0 % n) % 2) }
        try Npy.write(logits, shape: [n, c], to: folder + "/signals/target_logits.npy")
        try Npy.write(labels, shape: [n], to: folder + "/signals/labels.npy")
        try Npy.write((0..<n).map { UInt8($0 % 2) }, shape: [n], to: folder + "/signals/target_membership.npy")
        try Npy.write(reference, shape: [r, n, c], to: folder + "/signals/reference_logits.npy")
        try Npy.write(membership, shape: [r, n], to: folder + "/signals/reference_membership.npy")
        return (logits, labels, reference, membership)
    }

    func config(_ attacks: String) -> String {
        """
        run:
          name: cfunction
          output: \(folder)/run
        signals:
          path: \(folder)/signals
        audit:
          bootstrap_samples: 0
          attacks:
        \(attacks)
        report:
          html: false
        """
    }

    func write(_ text: String) throws -> String {
        let path = folder + "/audit.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func scoresAreTheFormulaComputedInSwift() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (logits, labels, reference, membership) = try prepare()
        let path = try write(
            config(
                """
                    - name: margin
                      c_function:
                        library: libattack.so
                        symbol: margin_score
                        returns: double
                        parameters: [{role: logits, type: "const float*"}, {role: classes, type: int32_t}, {role: label, type: int32_t}]
                    - name: mean-in
                      c_function:
                        library: libattack.so
                        symbol: shifted_mean_in
                        returns: double
                        parameters:
                          - {role: reference_logits, type: "const double *"}
                          - {role: reference_membership, type: "const uint8_t *"}
                          - {role: reference_count, type: int64_t}
                          - {role: classes, type: int32_t}
                          - {role: label, type: int32_t}
                          - {role: constant, type: double, value: 0.25}
                """))
        let result = try mia(["run", path, "--quiet"])
        try #require(result.status == 0, "\(result.stderr)")
        let (margin, _) = try Npy.read(Double.self, from: folder + "/run/scores/margin.npy")
        let (meanIn, _) = try Npy.read(Double.self, from: folder + "/run/scores/mean-in.npy")
        for i in 0..<n {
            let row = (0..<c).map { Double(logits[i * c + $0]) }, y = Int(labels[i])
            let expected = row[y] - (0..<c).filter { $0 != y }.map { row[$0] }.max()!
            #expect(margin[i] == expected, "record \(i)")
            let ins = (0..<r).filter { membership[$0 * n + i] == 1 }.map { Double(reference[($0 * n + i) * c + y]) }
            let mean = (ins.isEmpty ? 0 : ins.reduce(0, +) / Double(ins.count)) + 0.25
            #expect(abs(meanIn[i] - mean) < 1e-12, "record \(i)")
        }
    }

    @Test(arguments: [
        ("{role: logits, type: \"float *\"}, {role: classes, type: int32_t}", "unknown C type `float *`"),
        (
            "{role: logit, type: \"const float *\"}, {role: classes, type: int32_t}",
            "unknown role `logit`; did you mean `logits`?"
        ),
        ("{role: logits, type: int32_t}, {role: classes, type: int32_t}", "role `logits` is passed as"),
        (
            "{role: logits, type: \"const float *\"}, {role: label, type: int32_t}",
            "the function must also take its length, role `classes`"
        ),
        ("{role: label, type: int32_t}, {role: label, type: int32_t}", "role `label` is given twice"),
    ])
    func badSignaturesAreNamedAtValidate(parameters: String, message: String) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try prepare()
        let path = try write(
            config(
                """
                    - c_function:
                        library: libattack.so
                        symbol: margin_score
                        returns: double
                        parameters: [\(parameters)]
                """))
        let result = try mia(["validate", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains(path + ":"), "\(result.stderr)")
        #expect(result.stderr.contains("audit.attacks[0].c_function.parameters"), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func missingSymbolAndNonFiniteScoresAreErrors() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try prepare()
        var path = try write(
            config(
                """
                    - c_function: {library: libattack.so, symbol: no_such_score, returns: double, parameters: [{role: index, type: int64_t}]}
                """))
        var result = try mia(["validate", path])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains(
                "`audit.attacks[0].c_function.symbol`: `\(folder)/libattack.so` exports no symbol `no_such_score`"),
            "\(result.stderr)")
        path = try write(
            config(
                """
                    - c_function: {library: libattack.so, symbol: nan_at_three, returns: double, parameters: [{role: index, type: int64_t}]}
                """))
        result = try mia(["run", path, "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("`nan_at_three` returned nan for record 3"), "\(result.stderr)")
    }
}
