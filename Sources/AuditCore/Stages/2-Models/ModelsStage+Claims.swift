import Foundation
import PluginKit

// Claims on the store (`Claim`): a model of the store (one of the audit's models, or a
// distillation student) is trained by one worker at a time, whichever process it runs in. The
// worker that gets the claim on the model's folder looks in the store again (another worker may
// have finished it meanwhile) and trains only what is still missing; the others leave it to it.
extension ModelsStage {
    /// One attempt: holding the claim on `key`'s store folder, `reusable` (what the store holds
    /// by then) or else `train`; nil, logged, when another worker holds the claim. The models
    /// stage (`trainMissing`) puts such a model back in its queue and trains the others meanwhile.
    func underClaimOnce<T>(_ key: String, _ role: String, reusable: () -> T?, train: () throws -> T) throws -> T? {
        guard let claim = try Claim.acquire(in: store.folder(key)) else {
            logger.info("\(role) is being trained by another worker")
            return nil
        }
        defer { claim.release() }
        if let stored = reusable() { return stored }
        return try train()
    }

    /// `underClaimOnce` until it gives the result, waiting 1 s between attempts for the worker
    /// that holds the claim (and taking `reusable` as soon as that worker has stored it); throws
    /// `cancelled` when the run is interrupted meanwhile.
    func underClaim<T>(_ key: String, _ role: String, reusable: () -> T?, train: () throws -> T) throws -> T {
        while true {
            if let result = try underClaimOnce(key, role, reusable: reusable, train: train) { return result }
            Thread.sleep(forTimeInterval: 1)
            if cancellation.isCancelled { throw PluginError(.cancelled, "interrupted while waiting for \(role)") }
            if let stored = reusable() { return stored }
        }
    }
}
