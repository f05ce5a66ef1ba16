import Foundation
import Kernels

extension BLASSummary {
    /// What `mia-audit doctor` prints: the CPU, its features, the BLAS library and kernel with
    /// who chose it, the vector level of the C kernels, the variables set, threads, a measured
    /// sgemm rate (`GEMMRate`: 512³ through the pieces every product of a training takes, wall
    /// and CPU time, beside the load average) and the CPU's measured FMA peak beside it
    /// (`FMAPeak`). `warnings` name what makes the setup slow (a kernel weaker than the CPU runs,
    /// a refused choice, C kernels capped below the CPU).
    public static func doctor(threads: Int?) throws -> (lines: [String], warnings: [String]) {
        _ = try BLAS.load()
        if let threads { BLAS.setThreadCount(threads) }
        let (summary, rate) = try measureWithRate()
        let vectors = try checkedVectorLevel(), bestVectors = VectorLevel.best(for: .current)
        let cpu = CPUFeatures.current
        let best = OpenBLASKernelChoice.best(for: cpu)
        let environment = ProcessInfo.processInfo.environment
        let variables = [
            OpenBLASKernelChoice.coretypeVariable, "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", OpenBLASKernelChoice.markerVariable, "MIA_KERNELS",
        ]
        .compactMap { name in environment[name].map { "\(name)=\($0)" } }
        let lines = [
            "cpu:       \(summary.cpu) (\(cpu.vendor.isEmpty ? "?" : cpu.vendor) family \(cpu.family) model \(cpu.model))",
            "features:  \(summary.cpuFeatures.isEmpty ? "none of avx2 fma avx512f/bw/dq/vl" : summary.cpuFeatures.joined(separator: " "))",
            "blas:      \(summary.version.isEmpty ? "?" : summary.version)",
            "library:   \(summary.library)",
            "kernel:    \(summary.kernel) (chosen by \(summary.chosenBy)\(summary.note.isEmpty ? "" : ": \(summary.note)"))",
            "best:      \(best ?? "OpenBLAS's own choice") for this CPU",
            "vectors:   \(vectors) (the C kernels' instruction set; \(bestVectors) is this CPU's best, MIA_KERNELS caps it)",
            "variables: \(variables.isEmpty ? "none set" : variables.joined(separator: " "))",
            "threads:   \(summary.threads)",
            "sgemm:     \(String(format: "%.0f", rate.gflops)) GFLOP/s (\(GEMMRate.size)^3 as a training's products run: "
                + "\(rate.pieces) over \(rate.threads) threads; best of 5 x 20 ms of wall time; "
                + "\(String(format: "%.0f", rate.gflopsPerThread)) GFLOP/s per busy thread in CPU time; "
                + "load average \(Self.loadAverage))",
            Self.peakLine(FMAPeak.measure(threads: rate.threads, level: vectors), sgemm: rate),
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
        if vectors < bestVectors {
            warnings.append("the C kernels run at \(vectors), below this CPU's \(bestVectors): MIA_KERNELS is set")
        }
        if let check = BLAS.checkAgainstNaiveProduct() { warnings.append("sgemm is wrong: \(check)") }
        return (lines, warnings)
    }

    /// The `peak` line: the CPU's multiply-add peak on the sgemm's threads at the C kernels'
    /// level, and the sgemm's wall-time rate as a share of the peak's (a BLAS kernel far below
    /// the CPU shows as a small share). Both are the best of short windows, so a busy machine
    /// lowers either; a share above 100 % can only mean the peak's windows caught more load, and
    /// says so. The peak per busy thread in CPU time is the one figure load does not lower.
    static func peakLine(_ peak: FMAPeak?, sgemm: GEMMRate) -> String {
        guard let peak, peak.gflops > 0 else {
            return "peak:      not measured (no vector FMA at the C kernels' level)"
        }
        let share = 100 * sgemm.gflops / peak.gflops
        return
            "peak:      \(String(format: "%.0f", peak.gflops)) GFLOP/s (\(peak.level) FMAs, 12 independent chains on "
            + "\(peak.threads) thread\(peak.threads == 1 ? "" : "s"), best of 5 x 20 ms of wall time: no product runs faster; "
            + "\(String(format: "%.0f", peak.gflopsPerThread)) GFLOP/s per busy thread in CPU time); "
            + "sgemm at \(String(format: "%.0f", share)) % of it"
            + (share > 100
                ? " (above 100 %: the machine was busier while the peak was timed; measure again when it is idle)" : "")
    }

    /// The 1-minute load average ("?" where /proc/loadavg is absent): a low wall-time rate on a
    /// loaded machine is the load, not the kernel.
    static var loadAverage: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init)
            ?? "?"
    }
}
