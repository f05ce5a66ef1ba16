import AuditCore
import Foundation

extension Plan {
    /// The distillation students' lines of `plan` (`audit.trajectory.source: distillation`).
    func printStudents(_ students: ModelsStage.StudentStatus) {
        print(
            "students: \(students.roles.count) to distill for the loss trajectory (one per model, \(students.epochs) "
                + "epochs each, trained by `mia-audit run` after the models)")
        print("  in the store:        \(students.finished.count)")
        print("  being trained now:   \(students.claimed.count)")
        print("  to train:            \(students.missing.count)")
        if !students.unknown.isEmpty {
            print(
                "  not known yet:       \(students.unknown.count) (a student's key holds its teacher's logits: "
                    + "known once the teacher is in the store; a target trained elsewhere only when the run asks it)")
        }
        for role in students.missing.prefix(10) { print("  missing: \(role)") }
        if let seconds = students.secondsPerStudent {
            print(
                String(
                    format: "measured on %d stored students: %.2f s of training per student", students.finished.count,
                    seconds))
        }
    }
}
