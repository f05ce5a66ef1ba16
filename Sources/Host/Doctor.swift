import ArgumentParser
import AuditCore

/// `mia-audit doctor`: the CPU and the BLAS the native code runs on, and how fast, so a slow
/// setup (a generic kernel, too few threads) is visible before an audit is run.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the CPU, the BLAS library and kernel (and who chose it), threads and a measured sgemm rate.")

    @Option(help: "BLAS threads to measure with (default: OpenBLAS's own, from OPENBLAS_NUM_THREADS or the cores).")
    var threads: Int?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
    }

    func run() throws {
        _ = global.makeLogger()
        do {
            let (lines, warnings) = try BLASSummary.doctor(threads: threads)
            lines.forEach { print($0) }
            warnings.forEach { print("warning: \($0)") }
        } catch {
            printError("\(error)")
            throw ExitStatus.failed
        }
    }
}
