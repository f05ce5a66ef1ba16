import Foundation
import PluginKit

extension SignalSet {
    /// The signals as an attacker behind `defence` sees them.
    ///
    /// The defence applies to the reference models' outputs too: the attacker calibrates
    /// against its own models post-processed the way the target's outputs reach it (a top-1 or
    /// label-only target compared with full reference logits would mismatch every
    /// distribution). Small arrays are defended in memory; mapped reference arrays are
    /// defended block by block into a file in `folder`, mapped, and unlinked (the mapping keeps
    /// it until the defended signals go; `folder` is removed when empty), so no copy of them is
    /// held in memory and none is left on disk.
    func defended(by defence: OutputDefence, folder: String) throws -> SignalSet {
        let c = classCount
        func defend(_ a: SignalArray, _ name: String, shape: [Int]) throws -> SignalArray {
            guard a.isMapped else {
                return SignalArray(a.withUnsafeBufferPointer { defence.apply(Array($0), classCount: c) })
            }
            let path = (folder as NSString).appendingPathComponent(name)
            let writer = try NpyWriter<Float>(path: path, shape: shape)
            var out: [Float] = []
            try a.forEachBlock(rowLength: c) { block in
                if out.count != block.count { out = [Float](repeating: 0, count: block.count) }
                out.withUnsafeMutableBufferPointer { defence.apply(block, classCount: c, into: $0) }
                try out.withUnsafeBufferPointer { try writer.append($0) }
            }
            try writer.finish()
            // Mapped, the file needs no name: unlinked now, its space is freed with the mapping.
            let mapped = try SignalArray.mapping(path)
            unlink(path)
            rmdir(folder)  // only when empty
            return mapped
        }
        let defended = SignalSet(
            classCount: c, labels: labels, targetLogits: defence.apply(targetLogits, classCount: c),
            targetMembership: targetMembership, referenceCount: referenceCount,
            referenceLogits: try defend(
                referenceLogits, "reference_logits.npy", shape: [referenceCount, recordCount, c]),
            referenceMembership: referenceMembership, populationLabels: populationLabels,
            populationTargetLogits: defence.apply(populationTargetLogits, classCount: c),
            populationReferenceLogits: try defend(
                populationReferenceLogits, "population_reference_logits.npy",
                shape: [referenceCount, populationCount, c]),
            key: key + "|\(defence)")
        defended.releasedProbabilities = true
        return defended
    }
}
