import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

/// Checkpoint logits across the C ABI (1.4, `MIA_NEEDS_CHECKPOINTS`): the host lends every epoch
/// at once only to an attack that asks; the built-in `loss-trajectory` reads them through
/// PluginKit's bridge; a config that cannot provide them is refused before any work.
@Suite struct TrajectoryABITests {
    static let registry = PluginRegistry.discover(includeEnvironment: false)

    /// Four records of two classes, one reference model (records 0 and 1 members) and the target
    /// (records 0 and 2 members); two checkpoints. Every model's logits are (a, 0) or (0, a) by
    /// label: margin a. At the checkpoints members have margin 4, non-members 0; at the end all 2.
    func signals(swapTargetEpochs: Bool = false) -> SignalSet {
        let labels: [Int32] = [0, 1, 0, 1]
        func logits(_ a: [Float]) -> [Float] { a.indices.flatMap { labels[$0] == 0 ? [a[$0], 0] : [0, a[$0]] } }
        let info = DatasetInfo(recordCount: 4, classCount: 2, featureShape: [1])
        let p = Population(info: info, features: [0, 0, 0, 0], labels: labels, auditCount: 4, populationCount: 0)
        var m = Memberships(recordCount: 4, referenceCount: 1, seed: 0)
        m.target = [true, false, true, false]
        m.references = [[true, true, false, false]]
        func model(_ role: String) -> TrainedModel {
            let record = ModelRecord(
                key: role, role: role, seed: 0, memberCount: 2, backend: "b", backendVersion: "1", history: [],
                trainSeconds: 0)
            return TrainedModel(role: role, key: role, record: record, logits: logits([2, 2, 2, 2]), cached: true)
        }
        let s = SignalSet(population: p, memberships: m, target: model("target"), references: [model("reference 1")])
        let target = logits([4, 0, 4, 0]), other = logits([0, 4, 0, 4])
        s.checkpoints = CheckpointSignals(
            epochs: [3, 6], targetLogits: swapTargetEpochs ? other + other : target + target,
            referenceLogits: logits([4, 4, 0, 0]) + logits([4, 4, 0, 0]))
        return s
    }

    @Test func checkpointsAreLentOnlyToAnAttackThatAsks() {
        let s = signals()
        let lent = s.withCSignals(needs: [.referenceModels, .checkpoints], features: [], featureShape: [1], seed: 0) {
            c in
            let e = Int(c.pointee.checkpoint_count)
            return (
                e, Array(UnsafeBufferPointer(start: c.pointee.checkpoint_epochs, count: e)),
                Array(UnsafeBufferPointer(start: c.pointee.checkpoint_target_logits, count: e * 8)),
                Array(UnsafeBufferPointer(start: c.pointee.checkpoint_reference_logits, count: e * 8))
            )
        }
        #expect(lent.0 == 2 && lent.1 == [3, 6])
        #expect(lent.2 == [4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0])
        #expect(lent.3 == [4, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0, 0, 0])
        let notAsked = s.withCSignals(needs: [.referenceModels], features: [], featureShape: [1], seed: 0) { c in
            (c.pointee.checkpoint_count, c.pointee.checkpoint_target_logits == nil)
        }
        #expect(notAsked.0 == 0 && notAsked.1)
    }

    @Test func theBuiltInLossTrajectoryReadsThemThroughTheBridge() throws {
        let info = try #require(Self.registry.component(.attack, named: "loss-trajectory"))
        let bridge = HostBridge(label: "t", logger: Logger(label: "t"), cancellation: CancellationFlag())
        let attack = try DynamicAttack(info, optionsJSON: "{\"model\": \"logistic_regression\"}", bridge: bridge)
        #expect(attack.requirements == [.referenceModels, .checkpoints])
        func score(_ s: SignalSet, needs: AttackRequirements) throws -> [Double] {
            try s.withCSignals(needs: needs, features: [], featureShape: [1], seed: 1) {
                try attack.score($0, queries: nil).scores
            }
        }
        // The final margins are all 2: only the checkpoints tell the target's members (0, 2).
        let scores = try score(signals(), needs: attack.requirements)
        #expect(min(scores[0], scores[2]) > max(scores[1], scores[3]) + 0.2, "\(scores)")
        #expect(abs(scores[0] - scores[2]) < 1e-12 && abs(scores[1] - scores[3]) < 1e-12)
        // With the target's epochs swapped the members look like non-members: the scores follow.
        let swapped = try score(signals(swapTargetEpochs: true), needs: attack.requirements)
        #expect(min(swapped[1], swapped[3]) > max(swapped[0], swapped[2]) + 0.2, "\(swapped)")
        // Without the checkpoints lent, the plugin says what to set.
        let error = #expect(throws: PluginError.self) { try score(signals(), needs: [.referenceModels]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("audit.checkpoints"))
    }

    func planError(_ text: String) throws -> String {
        let config = try AuditConfig.parse(text, file: "t.yaml")
        do {
            _ = try AuditPlan.make(config, registry: Self.registry, logger: Logger(label: "t"))
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func aConfigThatCannotLendCheckpointsIsRefused() throws {
        let trajectory = goodConfig + "\n    - plugin: loss-trajectory\n"
        let missing = try planError(trajectory)
        #expect(
            missing.contains("attack `loss-trajectory` needs checkpoint logits; set `audit.checkpoints`"), "\(missing)")
        let withCheckpoints = trajectory.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  checkpoints: [1, 2]\n")
        #expect(!(try planError(withCheckpoints)).contains("needs checkpoint logits"))
        let defended = withCheckpoints.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  output_defences: [label_only]\n")
        #expect(try planError(defended).contains("cannot run behind `audit.output_defences` yet"))
    }
}
