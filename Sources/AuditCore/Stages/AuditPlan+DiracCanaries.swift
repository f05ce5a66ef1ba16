import Foundation

extension AuditPlan {
    /// Refuses Dirac gradient canaries (`audit.canaries.kind: dirac`) with a model backend that
    /// cannot insert them: one without DP-SGD options (`dp_sgd`), e.g. `python` or `http`. (A
    /// backend that declares `dp_sgd` but does not insert them is refused after training, when it
    /// left ABI 1.4 `out_inserted` unset.)
    static func diracCanaryErrors(_ config: AuditConfig, registry: PluginRegistry) -> [ConfigError] {
        guard config.canaries?.kind == .dirac, let choice = config.model,
            let info = registry.component(.model, named: choice.plugin)
        else { return [] }
        guard info.options.contains(where: { $0.name == "dp_sgd" }) else {
            return [
                choice.pluginNode.error(
                    "the `\(info.name)` model backend does not offer Dirac gradient canaries (`audit.canaries.kind: dirac`): they are inserted into DP-SGD steps, and it has no `dp_sgd` option; use the native backend with `dp_sgd: true`, or record canaries (mislabelled, ood_blank, ood_noise, natural)"
                )
            ]
        }
        // The child of `plugins.isolation: process` does not carry the canaries across yet.
        if config.pluginPolicy.settings(library: info.plugin.path, name: info.plugin.name).isolation == .process {
            return [
                choice.pluginNode.error(
                    "Dirac gradient canaries (`audit.canaries.kind: dirac`) are not yet passed to a model backend run in a child process (`plugins.isolation: process` applies to `\(info.plugin.path)`); run the model in process, or use record canaries"
                )
            ]
        }
        return []
    }
}
