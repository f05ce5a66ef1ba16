import Foundation
import Testing

/// Issue 15's "done when": a newcomer finds each stage by its name in the tree, and one record's
/// logits, from the model plugin to the report, enter each stage once. Checked on the source
/// text: the folder `Stages/<n>-<Name>/` holds `<Name>Stage.swift`, which declares the stage type
/// with its `run`, and `Audit.runStages` calls the six `run`s once each, in run order.
@Suite("AuditCore stages by name")
struct StageNamesTests {
    static let stages = ["Dataset", "Models", "Signals", "Attacks", "Evaluation", "Report"]

    @Test("Stages/<n>-<Name>/<Name>Stage.swift declares <Name>Stage and its run")
    func eachStageIsFoundByName() throws {
        for (i, name) in Self.stages.enumerated() {
            let folder = "Stages/\(i + 1)-\(name)"
            let file = try LayerRuleTests.sources(folder).first { $0.path == "\(folder)/\(name)Stage.swift" }
            guard let file else {
                Issue.record("\(folder)/\(name)Stage.swift is missing")
                continue
            }
            let code = LayerRuleTests.code(file.text)
            let declaration = try Regex(#"(?m)^(?:public )?(?:final )?(?:struct|class) "# + name + #"Stage\b"#)
            #expect(code.contains(declaration), "\(file.path) declares \(name)Stage")
            #expect(code.contains("func run("), "\(file.path) has the stage's run")
        }
    }

    @Test("Audit.runStages calls each stage's run once, in run order")
    func auditCallsEachStageOnceInOrder() throws {
        let audit = try #require(try LayerRuleTests.sources("Stages").first { $0.path == "Stages/Audit.swift" })
        let code = LayerRuleTests.code(audit.text)
        let start = try #require(code.range(of: "static func runStages("), "Audit.runStages is declared")
        let end = try #require(code.range(of: "static func train(", range: start.upperBound..<code.endIndex))
        var body = String(code[start.upperBound..<end.lowerBound])
        // Signals brought from elsewhere (`providedSignals`) skip the dataset and models stages;
        // the path walked here is the one that trains the models.
        if let provided = body.range(of: "if let provided"), let other = body.range(of: "} else {") {
            body.removeSubrange(provided.lowerBound..<other.upperBound)
        }
        let call = try Regex(#"([A-Z][a-z]+)Stage\(context\)\.run\("#)
        let called = body.matches(of: call).compactMap { $0.output[1].substring.map(String.init) }
        #expect(called == Self.stages)
    }
}
