import Foundation
import Testing

/// The dependency rule of AuditCore, written at the top of Package.swift: the stages
/// (`Sources/AuditCore/Stages/`) use config, plugins, storage, metrics and report; those never
/// name a stage. Checked on the source text: every type a file under `Stages/` declares is looked
/// for, as a whole word outside comments and string literals, in the lower layers' files.
@Suite("AuditCore layers")
struct LayerRuleTests {
    static let auditCore = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/AuditCore")
    static let lowerLayers = ["Config", "Plugins", "Storage", "Metrics", "Report"]

    /// The Swift files under `folder` of AuditCore, with their text.
    static func sources(_ folder: String) throws -> [(path: String, text: String)] {
        let root = auditCore.appendingPathComponent(folder)
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return try files.filter { $0.hasSuffix(".swift") }.sorted().map { name in
            let path = root.appendingPathComponent(name).path
            return ("\(folder)/\(name)", try String(contentsOfFile: path, encoding: .utf8))
        }
    }

    /// `text` without `//` comments and the contents of one-line string literals.
    static func code(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var out = "", inString = false, previous: Character = " "
            for ch in line {
                if !inString && ch == "/" && previous == "/" { out.removeLast(); break }
                if ch == "\"" && previous != "\\" { inString.toggle() } else if inString { previous = ch; continue }
                out.append(ch)
                previous = ch
            }
            return out
        }.joined(separator: "\n")
    }

    /// The names of the types declared under `Stages/`.
    static func stageTypes() throws -> Set<String> {
        let declaration = try Regex(
            #"(?m)^(?:public |final |private |fileprivate )*(?:struct|class|enum|protocol) ([A-Z][A-Za-z0-9]*)"#)
        var names: Set<String> = []
        for file in try sources("Stages") {
            for match in file.text.matches(of: declaration) {
                if let name = match.output[1].substring { names.insert(String(name)) }
            }
        }
        return names
    }

    @Test("The stages declare the pipeline's types (the check below has something to look for)")
    func stagesDeclareTypes() throws {
        let names = try Self.stageTypes()
        for expected in [
            "DatasetStage", "ModelsStage", "SignalsStage", "AttacksStage", "EvaluationStage", "ReportStage", "Audit",
        ] {
            #expect(names.contains(expected), "\(expected) is declared under Stages/")
        }
    }

    @Test("Config, plugins, storage, metrics and report never name a stage")
    func lowerLayersNameNoStage() throws {
        let names = try Self.stageTypes()
        let word = try Regex(#"\b[A-Z][A-Za-z0-9]*\b"#)
        var found: [String] = []
        for layer in Self.lowerLayers {
            for file in try Self.sources(layer) {
                let code = Self.code(file.text)
                let used = Set(code.matches(of: word).map { String(code[$0.range]) })
                for name in used.intersection(names).sorted() { found.append("\(file.path) names \(name)") }
            }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "; "))")
    }

    @Test("The comment and string stripper keeps code and drops the rest")
    func stripper() {
        #expect(Self.code("let a = ModelsStage() // ReportStage") == "let a = ModelsStage() ")
        #expect(Self.code(#"print("SignalsStage \(x)") + Audit"#) == #"print("") + Audit"#)
    }
}
