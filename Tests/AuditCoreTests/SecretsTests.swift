import Foundation
import Testing

@testable import AuditCore

/// `${NAME}` and `${file:PATH}` in config strings (issue 13, item 12).
@Suite struct SecretsTests {
    static func config(_ header: String) -> String {
        """
        run:
          name: t
        signals:
          path: /tmp
        audit:
          attacks:
            - plugin: lira
              options:
                note: "\(header)"

        """
    }

    func expanded(_ header: String) throws -> String {
        let config = try AuditConfig.parse(Self.config(header), file: NSTemporaryDirectory() + "t.yaml")
        return try #require(config.attacks[0].component.options?["note"]).string()
    }

    @Test func environmentAndFileReferencesExpandAndAreRedacted() throws {
        let name = "MIA_TEST_SECRET_\(getpid())"
        let token = "tok-\(UUID().uuidString)"
        setenv(name, token, 1)
        defer { unsetenv(name) }
        #expect(try expanded("Bearer ${\(name)}") == "Bearer \(token)")
        // A literal `${` is written `$${`.
        #expect(try expanded("cost $${x}") == "cost ${x}")
        let file = NSTemporaryDirectory() + "mia-secret-\(getpid()).txt"
        let fromFile = "file-\(UUID().uuidString)"
        try (fromFile + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try expanded("k=${file:\(file)}") == "k=\(fromFile)")
        // Both are secrets now: redacted from anything written through AtomicFile.
        let out = NSTemporaryDirectory() + "mia-secret-out-\(getpid()).json"
        try AtomicFile.write("{\"a\": \"\(token)\", \"b\": \"x\(fromFile)x\"}", to: out)
        let written = try String(contentsOfFile: out, encoding: .utf8)
        #expect(
            !written.contains(token) && !written.contains(fromFile) && written == "{\"a\": \"***\", \"b\": \"x***x\"}",
            "\(written)")
    }

    @Test func anUnsetVariableIsAnErrorNamingKeyAndLine() throws {
        do {
            _ = try expanded("Bearer ${MIA_TEST_SURELY_UNSET_VARIABLE}")
            Issue.record("accepted")
        } catch {
            let text = "\(error)"
            #expect(
                text.contains("t.yaml:9") && text.contains("`audit.attacks[0].options.note`")
                    && text.contains("environment variable `MIA_TEST_SURELY_UNSET_VARIABLE`"), "\(text)")
        }
        #expect(throws: ConfigError.self) { try expanded("${not a name}") }
        #expect(throws: ConfigError.self) { try expanded("${UNCLOSED") }
    }
}
