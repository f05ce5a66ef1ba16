/// Which tasks of a job array to submit so that every missing model is trained, and only those.
///
/// Task `t` of an array of `shardCount` runs `mia-audit train CONFIG --shard t/shardCount`,
/// which trains the missing models whose index ≡ t (mod shardCount) over all the audit's models
/// (target = 0, reference r = r). With `shardCount` = the number of models (the default) each
/// task trains one model; a smaller count packs several models into a task. Either way only the
/// indices `t` whose shard holds a missing model are submitted (`--array=1,4,7`), so a
/// resubmission sends only what is still missing.
public struct ArrayPlan: Equatable, Sendable {
    /// One array task: its index (= shard index) and the missing models it will train.
    public struct Task: Equatable, Sendable, Codable {
        var index: Int
        var models: [Model]
    }

    /// A model as a task's log and `jobs.json` name it.
    public struct Model: Equatable, Sendable, Codable {
        var index: Int
        var role: String
        var key: String

        public init(index: Int, role: String, key: String) {
            self.index = index
            self.role = role
            self.key = key
        }
    }

    /// N in `--shard I/N`.
    public var shardCount: Int
    /// The tasks to submit, by increasing index; empty when nothing is missing.
    public var tasks: [Task]

    /// Plans the array for `missing` among `total` models; `tasks` (clamped to 1...total) is the
    /// shard count, default `total`.
    public init(total: Int, missing: [Model], tasks: Int? = nil) {
        let n = max(1, min(tasks ?? total, max(total, 1)))
        shardCount = n
        var byShard: [Int: [Model]] = [:]
        for m in missing { byShard[m.index % n, default: []].append(m) }
        self.tasks = byShard.keys.sorted().map { Task(index: $0, models: byShard[$0]!.sorted { $0.index < $1.index }) }
    }

    /// The `--array` value: task indices with consecutive runs folded (`0-3,7,9-10`).
    var arraySpec: String {
        var parts: [String] = []
        let idx = tasks.map(\.index)
        var i = 0
        while i < idx.count {
            var j = i
            while j + 1 < idx.count, idx[j + 1] == idx[j] + 1 { j += 1 }
            parts.append(j > i ? "\(idx[i])-\(idx[j])" : "\(idx[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Expands an `--array` value (`1,4-6`, a range may have a `:step`, the whole a `%limit`)
    /// back into indices; nil when it is not one.
    static func indices(_ spec: String) -> [Int]? {
        var out: [Int] = []
        let body = spec.split(separator: "%", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        for part in body.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            let step = stepParts.count > 1 ? Int(stepParts[1]) : 1
            let range = stepParts[0].split(separator: "-")
            guard let step, step > 0, range.count <= 2, let lo = Int(range[0]) else { return nil }
            let hi = range.count > 1 ? Int(range[1]) : lo
            guard let hi, hi >= lo else { return nil }
            out.append(contentsOf: stride(from: lo, through: hi, by: step))
        }
        return out.isEmpty ? nil : out
    }
}
