import Foundation

/// Stand-in for AuditCore's `Secrets` (Config/Secrets.swift), which `Npy.swift`'s `AtomicFile`
/// names: the NPY harness compiles the storage files alone, and never writes.
final class Secrets {
    static let shared = Secrets()
    func redact(_ data: Data) -> Data { data }
}
