import Foundation
import PluginKit

// Reference-chosen thresholds (`audit.pseudo_targets`): a real attacker does not know the
// target's members, so it cannot pick the threshold of a given FPR on the target's ROC curve. It
// can on its own reference models: each of the first K plays the target, the other R - 1 are the
// references, and the attack's scores with that model's known membership give the threshold
// (`referenceThresholds` in Metrics/OperatingPoints.swift, at evaluation).
extension AttacksStage {
    /// Whether `attack` can play against a pseudo-target: it reads reference models, and neither
    /// queries the target (the query service answers for the real target) nor trains on its
    /// known membership, nor reads checkpoints (a pseudo-target's signals carry none yet).
    static func choosesThresholdOnReferences(_ needs: AttackRequirements) -> Bool {
        needs.contains(.referenceModels) && !needs.contains(.queryAccess) && !needs.contains(.knownMembership)
            && !needs.contains(.checkpoints)
    }

    /// Runs every eligible attack of the plan against the first `audit.pseudo_targets` reference
    /// models of `signals`, each as the target; returns their scores by attack name. An attack
    /// that fails against a pseudo-target (an online attack short of IN models among R - 1, say)
    /// is left out with a warning: the run's own results do not depend on it.
    func runPseudoTargets(_ signals: SignalSet, _ population: Population) throws -> [String: [PseudoTargetScores]] {
        let k = min(config.pseudoTargets, signals.referenceCount)
        let attacks = plan.attacks.filter { Self.choosesThresholdOnReferences($0.requirements) }
        guard k > 0, signals.referenceCount >= 2, !attacks.isEmpty else { return [:] }
        var out: [String: [PseudoTargetScores]] = [:]
        var failed: Set<String> = []
        // One pseudo-target's signals in memory at a time.
        for m in 0..<k {
            let s = signals.pseudoTarget(m)
            for a in attacks where !failed.contains(a.name) {
                do {
                    let attack = try DynamicAttack(
                        a.component.info, optionsJSON: a.component.optionsJSON,
                        bridge: bridge("\(a.name) (pseudo-target \(m))"))
                    let (scores, mask) = try s.withCSignals(
                        needs: attack.requirements, features: population.features,
                        featureShape: population.info.featureShape,
                        seed: attackSeed(a.name), threads: config.threads
                    ) { try attack.score($0, queries: nil) }
                    out[a.name, default: []].append(
                        PseudoTargetScores(
                            model: m, scores: scores, isMember: s.targetMembership.map { $0 != 0 }, evaluationMask: mask
                        ))
                } catch let error as PluginError where error.status == .cancelled || cancellation.isCancelled {
                    throw error
                } catch {
                    failed.insert(a.name)
                    out[a.name] = nil
                    logger.warning(
                        "attack \(a.name): no reference-chosen threshold, it failed against pseudo-target \(m) (reference model \(m)): \(error)"
                    )
                }
            }
            progress.report(task: "pseudo-targets", done: m + 1, total: k)
        }
        logger.info(
            "pseudo-targets: \(k) reference model(s) attacked as the target by \(out.count) attack(s), for reference-chosen thresholds"
        )
        return out
    }
}

extension SignalSet {
    /// The signals with reference model `k` as the target (its logits and membership) and the
    /// other R - 1 reference models as the references, in memory.
    func pseudoTarget(_ k: Int) -> SignalSet {
        let n = recordCount, c = classCount, p = populationCount, r = referenceCount
        func split(_ a: SignalArray, rows: Int) -> ([Float], [Float]) {
            a.withUnsafeBufferPointer { b in
                let size = rows * c
                var rest: [Float] = []
                rest.reserveCapacity((r - 1) * size)
                for m in 0..<r where m != k { rest += b[(m * size)..<((m + 1) * size)] }
                return (Array(b[(k * size)..<((k + 1) * size)]), rest)
            }
        }
        let (target, references) = split(referenceLogits, rows: n)
        let (popTarget, popReferences) = p > 0 ? split(populationReferenceLogits, rows: p) : ([], [])
        var membership: [UInt8] = []
        for m in 0..<r where m != k { membership += referenceMembership[(m * n)..<((m + 1) * n)] }
        let pseudo = SignalSet(
            classCount: c, labels: labels, targetLogits: target,
            targetMembership: Array(referenceMembership[(k * n)..<((k + 1) * n)]),
            referenceCount: r - 1, referenceLogits: references, referenceMembership: membership,
            populationLabels: populationLabels,
            populationTargetLogits: popTarget, populationReferenceLogits: popReferences,
            key: key + "|pseudo-target \(k)")
        pseudo.releasedProbabilities = releasedProbabilities
        releaseReferencePages()
        return pseudo
    }
}
