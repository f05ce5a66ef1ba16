import Foundation

extension AuditConfig {
    /// Dirac gradient canaries (`audit.canaries.kind: dirac`) go into DP-SGD steps: the model
    /// this audit trains must have `dp_sgd: true` (whether its backend offers them is checked
    /// against the plugin, `AuditPlan.diracCanaryErrors`).
    static func checkDiracModel(_ kindNode: ConfigNode, _ top: ConfigNode) throws {
        let dp = top["model"]?["options"]?["dp_sgd"]
        guard let dp, (try? dp.bool()) == true else {
            throw kindNode.error(
                "Dirac gradient canaries are inserted into DP-SGD steps; the model must train with DP-SGD (`model.options.dp_sgd: true`)"
            )
        }
    }
}
