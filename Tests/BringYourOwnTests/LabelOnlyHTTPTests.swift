import AttacksClassifier
import Foundation
import PluginKit
import Testing

@testable import ModelHTTP

/// The label-only boundary attack against a prediction API that answers class indices only
/// (`response: label`): the test server's model has logits (c - 1) s, s = 0.1 Σ_j (j + 1) x_j,
/// so its label is 2 where s > 0 and 0 where s < 0, and a record's distance to the boundary is
/// |s| / ‖0.1 (1, 2, 3)‖.
@Suite struct LabelOnlyHTTPTests {
    /// The HTTP backend as the host's query service would serve it to an attack.
    final class HTTPQueries: TargetQueries {
        let model: HTTPModel
        init(_ model: HTTPModel) { self.model = model }
        func predictTarget(features: [Float], count: Int) throws -> [Float] {
            var out = [Float](repeating: .nan, count: count * 3)
            try features.withUnsafeBufferPointer { f in
                try out.withUnsafeMutableBufferPointer { try model.predict(features: f, count: count, into: $0) }
            }
            return out
        }
        func trainShadow(features: [Float], labels: [Int32], seed: UInt64) throws -> any ShadowModel {
            throw PluginError(.unsupported, "an http target cannot train")
        }
    }

    @Test func boundaryDistanceThroughALabelOnlyAPI() throws {
        let server = try TestServer()
        let model = try HTTPModel(
            options: PluginOptions([
                "url": .string(server.url("/label")), "cache_folder": .string(""), "response": .string("label"),
                "batch_size": .int(256),
            ]),
            spec: ModelSpec(featureShape: [3], classCount: 3), host: .standalone)
        let n = 6
        let x = HTTPModelTests.records(n)
        let s = (0..<n).map { i in (0..<3).reduce(0.0) { $0 + 0.1 * Double($1 + 1) * Double(x[i * 3 + $1]) } }
        let labels = s.map { Int32($0 > 0 ? 2 : 0) }
        let truth = s.map { abs($0) / (0.1 * 14.0.squareRoot()) }
        let attack = try BoundaryDistanceAttack(
            options: PluginOptions(["query_budget": .int(250), "binary_steps": .int(14), "gradient_queries": .int(20)]),
            host: .standalone)
        var scores = [Double](repeating: 0, count: n), mask = [UInt8](repeating: 1, count: n)
        let logits = [Float](repeating: 0, count: n * 3)
        try labels.withUnsafeBufferPointer { l in
            try logits.withUnsafeBufferPointer { z in
                try x.withUnsafeBufferPointer { f in
                    let signals = Signals(
                        recordCount: n, classCount: 3, labels: l, targetLogits: z, features: f, featureShape: [3],
                        query: HTTPQueries(model))
                    try scores.withUnsafeMutableBufferPointer { sp in
                        try mask.withUnsafeMutableBufferPointer {
                            try attack.score(signals, into: sp, evaluationMask: $0)
                        }
                    }
                }
            }
        }
        for i in 0..<n {
            #expect(abs(scores[i] - truth[i]) <= 0.05 * truth[i] + 1e-3, "record \(i): \(scores[i]) vs \(truth[i])")
        }
        // The API answered every query the attack made, and no more than the budget allows.
        let answered = try server.stats().records
        #expect(answered > n && answered <= 250 * n)
    }
}
