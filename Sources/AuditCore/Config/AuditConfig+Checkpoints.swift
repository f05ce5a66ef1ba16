import Foundation

extension AuditConfig {
    /// Reads `audit.checkpoints`: a non-empty list of positive epochs, strictly ascending, none
    /// past `model.options.epochs` when the config sets it, in an audit that trains its own models
    /// (a target trained elsewhere, or signals from a folder, have no epochs to stop at).
    static func parseCheckpoints(_ node: ConfigNode, _ top: ConfigNode) throws -> [Int] {
        for key in ["signals", "target"] where top[key] != nil {
            throw node.error(
                "`audit.checkpoints` needs models this audit trains; with `\(key)` the models were trained elsewhere")
        }
        let items = try node.list()
        guard !items.isEmpty else { throw node.error("must list at least one epoch (or leave the key out)") }
        let trained = try top["model"]?["options"]?["epochs"]?.int()
        var epochs: [Int] = []
        for item in items {
            let e = try item.int()
            guard e >= 1 else { throw item.error("a checkpoint epoch must be at least 1 (epochs count from 1)") }
            if let last = epochs.last, e <= last {
                throw item.error("checkpoint epochs must be strictly ascending (\(e) follows \(last))")
            }
            if let trained, e > trained {
                throw item.error(
                    "checkpoint epoch \(e) is past the training's last epoch (`model.options.epochs` is \(trained))")
            }
            epochs.append(e)
        }
        return epochs
    }
}
