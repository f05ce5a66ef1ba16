import Foundation
import Logging
import Yams

/// One point of a study: an ordinary audit config, run in its own folder.
public struct SweepPoint {
    /// Position in the sweep, from 0.
    public var index: Int
    /// The point's folder name, `<index>-<slug of its values>` (`1-epochs-20`).
    public var name: String
    /// The value of each swept key, in the sweep's order.
    public var values: [SweptValue]
    /// Which value of each parameter this point takes.
    var valueIndices: [Int]
    /// The point's config: the study's config with the swept keys set, `run.output`,
    /// `run.name` and `run.model_store` set, and no `sweep:` section.
    var text: String
    /// The point's config, parsed.
    var config: AuditConfig
}

/// A study: one config with a `sweep:` section, expanded into one ordinary config per point.
///
/// Every point runs in `<run.output>/points/<index>-<slug>/`; all points share one model store,
/// `run.model_store` if the config sets it, else `<run.output>/models`, so a model that two
/// points (or an earlier run) determine alike is trained once. The comparison of the points goes
/// to `<run.output>/comparison.json` and `comparison.html`.
public struct Study {
    /// The config file, as given.
    var file: String
    /// Its text.
    var text: String
    /// The config without the sweep, as `AuditConfig.parse` reads it.
    public var base: AuditConfig
    public var sweep: Sweep
    public var points: [SweepPoint]
    /// The study's folder (absolute): `run.output` of the config.
    public var output: String { base.output }
    /// The shared model store (absolute).
    public var modelStore: String { base.modelStore }

    /// Reads `file` and expands its sweep.
    public static func load(_ file: String) throws -> Study {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, line: nil, key: nil, "cannot read the config file (does it exist?)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    /// Whether a config text has a top-level `sweep:` section (so `mia-audit study` runs it).
    public static func hasSweep(_ text: String) -> Bool {
        guard let root = try? Yams.compose(yaml: text), case .mapping(let m) = root else { return false }
        return m["sweep"] != nil
    }

    /// Expands the sweep of `text` into its points, each checked by `AuditConfig.parse`.
    ///
    /// Errors name the file and the line of the study's config: a problem with a swept value
    /// points at the sweep's line that gave it, any other at the line of the key in the config.
    /// - Throws: `ConfigError`, or `ConfigErrors` when several points are wrong.
    static func parse(_ text: String, file: String) throws -> Study {
        let base = try AuditConfig.parse(text, file: file)
        guard let root = try Yams.compose(yaml: text) else {
            throw ConfigError(file: file, line: nil, key: nil, "the config is empty")
        }
        let top = ConfigNode(node: root, file: file, path: "")
        guard let sweepNode = top["sweep"] else {
            throw ConfigError(
                file: file, line: nil, key: "sweep",
                "the config has no `sweep:` section, so it is a single run: use `mia-audit run \(file)`")
        }
        let sweep = try Sweep.parse(sweepNode)

        // Where the points go: as written in the config, so the texts do not depend on the
        // working directory.
        let run = top["run"]
        let outputText = try run?["output"]?.string() ?? "runs/\(base.name)"
        let storeText = try run?["model_store"]?.string() ?? (outputText as NSString).appendingPathComponent("models")
        var withoutSweep = root
        if case .mapping(var m) = root {
            m["sweep"] = nil
            withoutSweep = .mapping(m)
        }

        let combinations = sweep.combinations
        let digits = String(max(combinations.count - 1, 0)).count
        var points: [SweepPoint] = []
        var errors: [(error: ConfigError, point: String?)] = []
        for (index, picks) in combinations.enumerated() {
            var tree = withoutSweep
            var values: [SweptValue] = []
            for (p, pick) in zip(sweep.parameters, picks) {
                let value = p.values[pick]
                values.append(SweptValue(key: p.path, node: value))
                do {
                    if isNull(value) {
                        if p.path.node(in: tree) != nil { tree = try p.path.setting(nil, in: tree) }
                    } else {
                        tree = try p.path.setting(value, in: tree)
                    }
                } catch let problem as ConfigKeyPath.Problem {
                    throw ConfigError(file: file, line: p.line, key: "sweep.parameters.\(p.path)", problem.description)
                }
            }
            let name =
                String(format: "%0\(digits)d", index)
                + pointSlug(values, nodes: zip(sweep.parameters, picks).map { $0.values[$1] })
            let output = (outputText as NSString).appendingPathComponent("points/\(name)")
            for (key, value) in [
                ("run.output", output), ("run.name", "\(base.name)-\(name)"), ("run.model_store", storeText),
            ] {
                tree = try ConfigKeyPath(key)!.setting(Node(value, Tag(.str), .doubleQuoted), in: tree)
            }
            let described = values.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
            let header =
                "# point \(index + 1) of \(combinations.count) of the sweep in "
                + "\((file as NSString).lastPathComponent): \(described)\n"
            let pointText = header + (try Yams.serialize(node: tree, width: -1))
            do {
                let config = try AuditConfig.parse(pointText, file: file)
                points.append(
                    SweepPoint(
                        index: index, name: name, values: values, valueIndices: picks, text: pointText, config: config))
            } catch let e as ConfigError {
                errors.append(relocate(e, point: name, picks: picks, sweep: sweep, root: root))
            }
        }
        try throwIfAny(errors)
        return Study(file: file, text: text, base: base, sweep: sweep, points: points)
    }

    /// Checks every point against the plugins found, before any is run.
    /// - Throws: `ConfigErrors` with every distinct problem of every point.
    public func plans(registry: PluginRegistry, logger: Logger) throws -> [AuditPlan] {
        var plans: [AuditPlan] = []
        var errors: [(error: ConfigError, point: String?)] = []
        guard let root = try Yams.compose(yaml: text) else { return [] }
        for point in points {
            do {
                plans.append(try AuditPlan.make(point.config, registry: registry, logger: logger))
            } catch let e as ConfigErrors {
                errors += e.errors.map {
                    Self.relocate($0, point: point.name, picks: point.valueIndices, sweep: sweep, root: root)
                }
            } catch let e as ConfigError {
                errors.append(Self.relocate(e, point: point.name, picks: point.valueIndices, sweep: sweep, root: root))
            }
        }
        try Self.throwIfAny(errors)
        return plans
    }

    /// The folder of a point (absolute).
    func folder(of point: SweepPoint) -> String { point.config.output }

    /// Throws the distinct errors: the same problem in several points is reported once, naming
    /// the first point and how many more share it.
    static func throwIfAny(_ errors: [(error: ConfigError, point: String?)]) throws {
        var order: [String] = []
        var found: [String: (error: ConfigError, points: [String])] = [:]
        for (e, point) in errors {
            let key = e.description
            if found[key] == nil { order.append(key); found[key] = (e, []) }
            if let point { found[key]!.points.append(point) }
        }
        let distinct = order.map { key -> ConfigError in
            var (e, points) = found[key]!
            if let first = points.first {
                let more =
                    points.count > 1 ? " (and \(points.count - 1) more point\(points.count == 2 ? "" : "s"))" : ""
                e.message = "in sweep point `\(first)`\(more): " + e.message
            }
            return e
        }
        if distinct.count == 1 { throw distinct[0] }
        if !distinct.isEmpty { throw ConfigErrors(errors: distinct) }
    }

    /// An error about a point, moved to the study's config: the line of the swept value when the
    /// key lies in (or holds) a swept key, else the line of the key in the config. Returns the
    /// point's name with it when the error concerns a swept value (others are the same for every
    /// point).
    static func relocate(_ e: ConfigError, point: String, picks: [Int], sweep: Sweep, root: Node) -> (
        error: ConfigError, point: String?
    ) {
        var out = e
        guard let key = e.key.flatMap(ConfigKeyPath.init) else {
            out.line = nil
            return (out, point)
        }
        if let k = sweep.parameters.firstIndex(where: { key.isWithin($0.path) || $0.path.isWithin(key) }) {
            let p = sweep.parameters[k]
            out.line = p.valueLines[picks[k]] ?? p.line
            return (out, point)
        }
        out.line = key.line(in: root)
        return (out, nil)
    }
}

extension Study {
    /// `-<last key>-<value>` for each swept key, made safe for a folder name (letters, digits,
    /// `.`, `_`, `-`), at most 60 characters.
    static func pointSlug(_ values: [SweptValue], nodes: [Node]) -> String {
        var slug = ""
        for (v, node) in zip(values, nodes) {
            let key = ConfigKeyPath(v.key)?.lastKey ?? v.key
            slug += "-\(key)-\(slugText(node))"
        }
        var safe = String(
            slug.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            })
        while safe.contains("__") { safe = safe.replacingOccurrences(of: "__", with: "_") }
        return String(safe.prefix(60))
    }

    /// A value in few characters: a scalar as written, a list's items joined by `x` (`64x64`),
    /// a mapping's values joined by `-`.
    static func slugText(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return isNull(node) ? "default" : s.string
        case .sequence(let seq): return seq.map(slugText).joined(separator: "x")
        case .mapping(let m): return m.map { slugText($0.value) }.joined(separator: "-")
        case .alias: return "alias"
        }
    }
}
