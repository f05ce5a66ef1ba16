import Foundation
import PluginKit

// What the store holds of the distillation students (`audit.trajectory.source: distillation`),
// for `mia-audit plan`: one student per model of the audit, trained by the run after the models.
// A student's key holds its teacher's soft targets, so it is known only once the store holds the
// teacher's logits on these records (read from there, with the dataset); until then, and for a
// target trained elsewhere (asked for its logits by the run only), whether it is stored is unknown.
extension ModelsStage {
    public struct StudentStatus {
        /// The distillation epochs of each student (`audit.trajectory.epochs`).
        public var epochs: Int
        /// Every student, the target's first ("student of target", ...).
        public var roles: [String]
        public var finished: [String]
        public var claimed: [String]
        public var missing: [String]
        /// The students whose key waits for their teacher's logits.
        public var unknown: [String]
        /// The mean training time of the students in the store (measured), when there are any.
        public var secondsPerStudent: Double?
    }

    /// The students of the audit's models (`status.jobs`, after a target trained elsewhere) and
    /// which the store holds, nil when the audit distils none; reads the dataset only when some
    /// teacher's logits are stored.
    public func studentStatus(_ status: StoreStatus) throws -> StudentStatus? {
        guard config.trajectory.distills else { return nil }
        var result = StudentStatus(
            epochs: config.trajectory.epochs, roles: [], finished: [], claimed: [], missing: [], unknown: [])
        if plan.targetChoice != nil {
            result.roles.append("student of target")
            result.unknown.append("student of target")
        }
        var population: Population?
        var seconds: [Double] = []
        for job in status.jobs {
            let role = "student of \(job.role)"
            result.roles.append(role)
            guard let logits = try teacherLogits(job, status, &population), let population else {
                result.unknown.append(role)
                continue
            }
            let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
            let key = try studentRecipe(job.key, job.role, logits: logits, population, spec).key
            if storedStudent(key, n: population.auditCount, c: spec.classCount) != nil {
                result.finished.append(role)
                if let record = store.record(key) { seconds.append(record.trainSeconds) }
            } else if Claim.isHeld(in: store.folder(key)) {
                result.claimed.append(role)
            } else {
                result.missing.append(role)
            }
        }
        if !seconds.isEmpty { result.secondsPerStudent = seconds.reduce(0, +) / Double(seconds.count) }
        return result
    }

    /// `job`'s logits on every audit and population record when the store holds the model and
    /// them (nil otherwise), loading the dataset into `population` the first time.
    private func teacherLogits(_ job: ModelJob, _ status: StoreStatus, _ population: inout Population?) throws
        -> [Float]?
    {
        let total = config.auditRecords + config.populationRecords
        let path = store.logitsPath(job.key, audit: config.auditRecords, population: config.populationRecords)
        guard status.finished.contains(where: { $0.key == job.key }),
            reusableLogits(path, shape: [total, plan.datasetInfo.classCount])
        else { return nil }
        if population == nil { population = try DatasetStage(context).run() }
        return try Npy.read(Float.self, from: path).values
    }
}
