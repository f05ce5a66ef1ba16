import Foundation
import PluginKit

extension AttacksStage {
    /// Runs one attack; with `plugins.on_failure: continue`, a plugin error (a failed, crashed,
    /// exited or timed-out `score` in a child process) leaves this attack out of the results
    /// with an error line, and returns nil. A cancellation always stops the run.
    func continuingOnFailure<T>(_ name: String, _ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let error as PluginError
            where config.pluginPolicy.onFailure == .continue && error.status != .cancelled && !cancellation.isCancelled
        {
            logger.error("attack \(name) left out of the results (plugins.on_failure: continue): \(error)")
            return nil
        }
    }
}
