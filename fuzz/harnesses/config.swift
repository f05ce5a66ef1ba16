import Foundation
import PluginKit

/// The YAML config through validation (Sources/AuditCore/Config): the input is a config file's
/// text, parsed by `AuditConfig.parse` (YAML, keys, types, ranges, secrets, counts), then every
/// component's `options:` checked by `OptionChecker.check`, the function `validate` and `run`
/// use, against a schema with every option type, choices, ranges and list lengths. A config
/// error is the expected way to refuse; anything else (a trap, an overflow) is a crash.
let schema: [OptionSpec] = [
    OptionSpec("flag", .bool, default: "false", "a bool"),
    OptionSpec("count", .int, default: "3", "an int").within(1...1_000_000),
    OptionSpec("rate", .float, default: "0.5", "a float").above(0).atMost(1e6),
    OptionSpec("kind", .string, default: "\"a\"", choices: ["a", "b", "c"], "a choice"),
    OptionSpec("name", .string, "any string"),
    OptionSpec("file", .path, "a path"),
    OptionSpec("sizes", .intList, default: "[2]", "ints").atLeast(1).length(1...8),
    OptionSpec("weights", .floatList, "floats").within(-10...10),
    OptionSpec("names", .stringList, "strings").length(atLeast: 1),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let config = try? AuditConfig.parse(text, file: "/fuzz/config.yaml") else { return 0 }
    precondition(config.referenceCount >= 0 && config.auditRecords >= 0 && config.populationRecords >= 0)
    precondition(config.fprs.allSatisfy { $0.isFinite })
    let components = [config.dataset, config.model, config.target?.component].compactMap { $0 } + config.attacks.map(\.component)
    for c in components {
        if let values = try? OptionChecker.check(
            c.options, against: schema, component: c.plugin, baseDirectory: config.baseDirectory, at: c.pluginNode)
        {
            precondition(values.count >= 4, "a default was not filled in")
            _ = OptionChecker.json(values)
        }
    }
    return 0
}
