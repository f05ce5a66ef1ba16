import Foundation
import Testing

@testable import AuditCore

/// `audit.checkpoints`: read, and refused with the file and line of the offending value.
@Suite struct CheckpointConfigTests {
    /// `goodConfig` (epochs: 2) with `audit.checkpoints` set to `value` (it lands on line 20).
    func config(_ value: String, epochs: Int = 40) -> String {
        goodConfig.replacingOccurrences(of: "epochs: 2", with: "epochs: \(epochs)")
            .replacingOccurrences(of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  checkpoints: \(value)\n")
    }

    @Test func checkpointsAreRead() throws {
        #expect(try AuditConfig.parse(config("[5, 10, 40]"), file: "t.yaml").checkpoints == [5, 10, 40])
        #expect(try AuditConfig.parse(goodConfig, file: "t.yaml").checkpoints.isEmpty)
        // Without `model.options.epochs` the last epoch is the backend's default: not checked here.
        let noEpochs = config("[500]").replacingOccurrences(of: "  options:\n    epochs: 40\n", with: "")
        #expect(try AuditConfig.parse(noEpochs, file: "t.yaml").checkpoints == [500])
    }

    @Test(arguments: [
        ("[10, 5]", "strictly ascending (5 follows 10)"),
        ("[5, 5]", "strictly ascending (5 follows 5)"),
        ("[0, 5]", "at least 1"),
        ("[5, 80]", "past the training's last epoch (`model.options.epochs` is 40)"),
        ("[5, ten]", "must be an integer"),
        ("[]", "at least one epoch"),
        ("5", "must be a list"),
    ])
    func badCheckpointsNameTheLine(value: String, message: String) throws {
        let error = try #require(parseError(config(value)))
        #expect(error.description.contains(message), "\(error)")
        #expect(error.line == 20, "\(error)")
        #expect(error.key?.hasPrefix("audit.checkpoints") == true, "\(error)")
    }

    @Test func checkpointsNeedModelsTheAuditTrains() throws {
        // The membership file is checked before `audit`; give it one.
        let membership = FileManager.default.temporaryDirectory.appendingPathComponent("members-\(UUID()).npy").path
        #expect(FileManager.default.createFile(atPath: membership, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: membership) }
        let target = config("[5]") + "\ntarget:\n  plugin: native\n  membership: \(membership)\n"
        let error = try #require(parseError(target))
        #expect(error.description.contains("with `target` the models were trained elsewhere"), "\(error)")
    }
}
