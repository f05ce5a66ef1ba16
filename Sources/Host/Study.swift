import ArgumentParser
import AuditCore
import Foundation
import Logging
import PluginKit

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run a study: every point of a config's `sweep:` section as its own run, then one comparison.",
        discussion: """
            Each point runs in `<run.output>/points/<index>-<name>/`, all sharing one model store, so a \
            model two points determine alike is trained once. Points already finished with the same \
            config are skipped: run the command again to resume an interrupted study. The comparison is \
            written to `<run.output>/comparison.json` and `comparison.html`. Every point is checked \
            against the plugins before any runs; `--check` stops there.
            """)

    @Argument(help: "The study config (YAML with a `sweep:` section).") var config: String
    @Flag(help: "Check every point and list them, without running any.") var check = false
    @Flag(help: "Run every point again, reusing no stored model, logits file or score (and store them).") var fresh =
        false
    @OptionGroup var global: GlobalOptions

    func run() throws { try runStudy(config, check: check, fresh: fresh, global: global) }
}

/// Whether the config file has a `sweep:` section (so it is a study, not a single run).
func isStudy(_ file: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: file) else { return false }
    return AuditCore.Study.hasSweep(String(decoding: data, as: UTF8.self))
}

/// `mia-audit study`: checks every point, runs those not finished, writes and names the comparison.
/// `run` may call it for a config with a `sweep:` section.
func runStudy(_ config: String, check: Bool, fresh: Bool = false, global: GlobalOptions) throws {
    let logger = global.makeLogger()
    let study: AuditCore.Study
    let plans: [AuditPlan]
    do {
        study = try AuditCore.Study.load(config)
        let registry = PluginRegistry.discover(folders: global.pluginPaths + study.base.pluginPaths)
        reportProblems(registry, logger: logger)
        plans = try study.plans(registry: registry, logger: logger)
    } catch let e as ConfigError {
        printError(e.description)
        throw ExitStatus.invalidConfig
    } catch let e as ConfigErrors {
        for error in e.errors { printError(error.description) }
        throw ExitStatus.invalidConfig
    }
    let count = study.points.count
    print(
        "\(config): \(study.sweep.mode.rawValue) sweep of \(study.sweep.parameters.map(\.path.description).joined(separator: ", ")): \(count) point\(count == 1 ? "" : "s")"
    )
    if check {
        for p in study.points {
            print("  \(p.name): " + p.values.map { "\($0.key) = \($0.value)" }.joined(separator: ", "))
        }
        print("study folder: \(study.output)\nmodel store:  \(study.modelStore)")
        return
    }

    let quiet = global.quiet
    try runLongWork(quiet: quiet, resumeHint: "; run the same command again to resume") { progress, cancellation in
        let runner = StudyRunner(
            study: study, plans: plans, logger: logger, progress: progress, cancellation: cancellation)
        runner.fresh = fresh
        let comparison = try runner.run { event in
            guard !quiet else { return }
            switch event {
            case .skipped(let p):
                print("point \(p.index + 1)/\(count) \(p.name): finished earlier, skipped")
            case .starting(let p, let inStore, let total):
                print(
                    "point \(p.index + 1)/\(count) \(p.name): running (\(inStore) of \(total) models already in the store)"
                )
            case .finished(let p, let summary):
                progress.finishLine()
                let best = summary.strongestAttack
                print(
                    String(
                        format: "point %d/%d %@: done in %.1f s; test accuracy %.4f", p.index + 1, count, p.name,
                        summary.totalSeconds, summary.target.testAccuracy)
                        + (best.map { String(format: ", strongest attack %@ AUC %.4f", $0.attack, $0.auc) } ?? ""))
            }
        }
        progress.finishLine()
        print(StudyRunner.table(comparison), terminator: "")
        print("points:     \((study.output as NSString).appendingPathComponent("points"))")
        print("comparison: \(runner.comparisonJSONPath)")
        if study.base.html { print("report:     \(runner.comparisonHTMLPath)") }
    }
}
