import Foundation

/// `plugins.isolation: process` runs attacks' `score` in a child process; dataset and model
/// plugins always run in the host process. A `plugins.libraries.<key>.isolation: process` whose
/// library serves the config's dataset, model or target would look isolated and not be: it is
/// refused, naming the key (issue 13).
extension AuditPlan {
    static func isolationScopeErrors(
        _ config: AuditConfig, components: [(kind: String, component: ResolvedComponent)]
    ) -> [ConfigError] {
        var errors: [ConfigError] = []
        for o in config.pluginPolicy.libraries where o.isolation == .process {
            let served = components.filter { c in
                let p = c.component.info.plugin
                return o.key == p.path || o.key == (p.path as NSString).lastPathComponent || o.key == p.name
            }
            guard let first = served.first else { continue }
            let what = served.map { "\($0.kind) `\($0.component.info.name)`" }.joined(separator: ", ")
            errors.append(ConfigError(
                file: config.file, line: o.line, key: "plugins.libraries.\(o.key).isolation",
                "`process` isolates attacks only, but this library (\(first.component.info.plugin.path)) serves the \(what); "
                    + "dataset and model plugins run in the host process (their isolation is not implemented). "
                    + "Remove the key or set it to `none`"))
        }
        return errors
    }
}
