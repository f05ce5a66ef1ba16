import Foundation
import Kernels

extension BLASSummary {
    /// What `mia-audit doctor` prints: the CPU, its features, the BLAS library and kernel with
    /// who chose it, the OpenBLAS variables set, threads and a measured sgemm rate. `warnings`
    /// name what makes the setup slow (a kernel weaker than the CPU runs, a refused choice).
    public static func doctor(threads: Int?) throws -> (lines: [String], warnings: [String]) {
        _ = try BLAS.load()
        if let threads { BLAS.setThreadCount(threads) }
        let summary = try measure()
        let cpu = CPUFeatures.current
        let best = OpenBLASKernelChoice.best(for: cpu)
        let environment = ProcessInfo.processInfo.environment
        let variables = [
            OpenBLASKernelChoice.coretypeVariable, "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", OpenBLASKernelChoice.markerVariable,
        ]
        .compactMap { name in environment[name].map { "\(name)=\($0)" } }
        let lines = [
            "cpu:       \(summary.cpu) (\(cpu.vendor.isEmpty ? "?" : cpu.vendor) family \(cpu.family) model \(cpu.model))",
            "features:  \(summary.cpuFeatures.isEmpty ? "none of avx2 fma avx512f/bw/dq/vl" : summary.cpuFeatures.joined(separator: " "))",
            "blas:      \(summary.version.isEmpty ? "?" : summary.version)",
            "library:   \(summary.library)",
            "kernel:    \(summary.kernel) (chosen by \(summary.chosenBy)\(summary.note.isEmpty ? "" : ": \(summary.note)"))",
            "best:      \(best ?? "OpenBLAS's own choice") for this CPU",
            "variables: \(variables.isEmpty ? "none set" : variables.joined(separator: " "))",
            "threads:   \(summary.threads)",
            "sgemm:     \(String(format: "%.0f", summary.gflops)) GFLOP/s (512 x 512 x 512, \(summary.threads) threads)",
        ]
        var warnings: [String] = []
        if let best, let bestTier = OpenBLASKernelChoice.tier(of: best),
            let tier = OpenBLASKernelChoice.tier(of: summary.kernel), tier < bestTier
        {
            warnings.append(
                "kernel \(summary.kernel) is weaker than this CPU runs (\(best))"
                    + (summary.chosenBy == "environment" ? ": OPENBLAS_CORETYPE is set" : ""))
        }
        if summary.chosenBy == BLASKernelSource.rejected.rawValue { warnings.append(summary.note) }
        if let check = BLAS.checkAgainstNaiveProduct() { warnings.append("sgemm is wrong: \(check)") }
        return (lines, warnings)
    }
}
