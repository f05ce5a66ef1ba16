import Foundation
@_exported import PluginKit  // Npy and NpyError live in PluginKit, as AuditCore re-exports them

/// Stand-in for the signals stage's `NpyAny` (Stages/3-Signals/ProvidedSignals.swift), which
/// `Storage/MembershipFile.swift` names: the config harness compiles the Config folder with the
/// files its types need, and never reads a membership file.
enum NpyAny {
    static func descr(_ path: String) throws -> String { throw NpyError(path: path, message: "not read by the fuzz harness") }
}

