import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

// ABI 1.5 is additive: soft targets for distillation students (`mia_train_args_t.soft_targets`).
// A model backend of ABI 1.4 (Tests/Fixtures/Model14, compiled here) still loads and trains, and
// is refused only for a student, naming its library; a 1.5 backend that ignores the soft targets
// is refused after its training; the native backend trains on them through the C bridge.
@Suite(.serialized) struct SoftTargetABITests {
    static let registry = PluginRegistry.discover(includeEnvironment: false)

    func fixture(declaring15: Bool) throws -> (ComponentInfo, String) {
        let path = try compilePlugin(
            "cc",
            (declaring15 ? ["-DFIXTURE_DECLARES_1_5"] : [])
                + ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", headersFolder],
            fixturesFolder + "/Model14/model14.c", name: declaring15 ? "model15" : "model14")
        let registry = PluginRegistry()
        let info = try #require(registry.load(path), "\(registry.problems)")
        #expect(registry.problems.isEmpty, "\(registry.problems)")
        #expect(info.abiMinor == (declaring15 ? 5 : 4))
        return (try #require(registry.component(.model, named: "model-14")), path)
    }

    let spec = ModelSpec(featureShape: [2], classCount: 2)
    let x: [Float] = [1, 0, 3, 0, 5, 0]
    let y: [Int32] = [0, 1, 0]
    let soft = SoftTargetRequest(probabilities: [0.5, 0.5, 0.9, 0.1, 0.2, 0.8], temperature: 2)

    @Test func aPluginOfABI14LoadsTrainsAndIsRefusedOnlyForAStudent() throws {
        let (info, path) = try fixture(declaring15: false)
        let model = try DynamicModel(info, optionsJSON: "{}", spec: spec, bridge: testBridge)
        let history = try model.train(features: x, labels: y, seed: 1)
        #expect(history.count == 1)
        #expect(try model.predict(features: x, count: 3) == [-2, 0, 0, 0, 2, 0])  // feature 0 minus the mean 3
        let student = try DynamicModel(info, optionsJSON: "{}", spec: spec, bridge: testBridge)
        let error = #expect(throws: PluginError.self) {
            try student.train(features: x, labels: y, seed: 1, softTargets: soft)
        }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains(path) && message.contains("ABI 1.4") && message.contains("ABI 1.5"), "\(message)")
        // The plan refuses it before any work when `audit.trajectory` asks for students.
        let text = goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  trajectory: {source: distillation, epochs: 2}\n")
        let config = try AuditConfig.parse(text, file: "t.yaml")
        let errors = AuditPlan.trajectoryErrors(
            config, [], ResolvedComponent(info: info, options: [:], givenOptions: [:]))
        #expect(errors.contains { $0.key == "audit.trajectory" && "\($0)".contains(path) }, "\(errors)")
    }

    @Test func aPluginOfABI15ThatIgnoresTheSoftTargetsIsRefusedAfterTraining() throws {
        let (info, path) = try fixture(declaring15: true)
        let student = try DynamicModel(info, optionsJSON: "{}", spec: spec, bridge: testBridge)
        let error = #expect(throws: PluginError.self) {
            try student.train(features: x, labels: y, seed: 1, softTargets: soft)
        }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains(path) && message.contains("trained without the soft targets"), "\(message)")
    }

    /// The native backend through the C bridge: its student is the soft targets' model (the same
    /// weights as one trained on other labels), and another set of soft targets is another student.
    @Test func theNativeBackendTrainsAStudentOnTheSoftTargets() throws {
        let info = try #require(Self.registry.component(.model, named: "native"))
        let options = OptionChecker.json([
            "architecture": .string("logistic"), "epochs": .int(3), "batch_size": .int(2),
        ])
        func student(_ labels: [Int32], _ request: SoftTargetRequest?) throws -> [Float] {
            let model = try DynamicModel(info, optionsJSON: options, spec: spec, bridge: testBridge)
            _ = try model.train(features: x, labels: labels, seed: 4, softTargets: request)
            return try model.predict(features: x, count: 3)
        }
        let a = try student(y, soft)
        #expect(try student([1, 0, 1], soft) == a, "the labels do not move a student")
        var other = soft
        other.probabilities = [0.1, 0.9, 0.1, 0.9, 0.1, 0.9]
        #expect(try student(y, other) != a)
        #expect(try student(y, nil) != a)
    }
}
