/// Which OpenBLAS kernel ("core type") a process should run on: a pure decision from the CPU's
/// features, the kernel OpenBLAS took by itself, and the environment.
///
/// OpenBLAS 0.3.21 (Debian 12) does not know CPUs newer than it, and falls back to its SSE3
/// `Prescott` kernels on them: 4-5 times slower sgemm on an AVX-512 Xeon. Its
/// `OPENBLAS_CORETYPE` variable picks a kernel instead, read once when the library loads.
/// A value already in the environment is never replaced: some machines set it on purpose (older
/// OpenBLAS builds compute wrong results on some CPUs), and `OPENBLAS_L2_SIZE` is never touched.
public enum OpenBLASKernelChoice {
    /// OpenBLAS's variable, read when the library loads (DYNAMIC_ARCH builds such as Debian's).
    public static let coretypeVariable = "OPENBLAS_CORETYPE"
    /// Set beside `OPENBLAS_CORETYPE` when mia-audit set it, as "<kernel> <kernel OpenBLAS took>",
    /// so another copy of Kernels in the process (each plugin has one) and child processes tell
    /// mia-audit's choice from the user's.
    public static let markerVariable = "MIA_AUDIT_OPENBLAS_CORETYPE"

    /// What to do once OpenBLAS has taken `took` by itself.
    public enum Decision: Equatable, Sendable {
        /// `OPENBLAS_CORETYPE` was already set (to this value): leave it.
        case environment(String)
        /// OpenBLAS's own kernel is as good as any this CPU runs (or unknown to us): keep it.
        case keep
        /// OpenBLAS fell back to a weaker kernel than the CPU runs: load it again with this one.
        case switchTo(String)
    }

    /// The fastest kernel family whose instructions this CPU has: `Cooperlake` (AVX-512 F/BW/DQ/VL
    /// and BF16), `SkylakeX` (AVX-512 F/BW/DQ/VL), `Haswell` (AVX2 and FMA); nil for older CPUs,
    /// where OpenBLAS's own choice stands.
    public static func best(for cpu: CPUFeatures) -> String? {
        if cpu.hasAVX512Kernels { return cpu.avx512bf16 ? "Cooperlake" : "SkylakeX" }
        if cpu.hasAVX2Kernels { return "Haswell" }
        return nil
    }

    /// The instruction-set tier of an OpenBLAS x86-64 kernel name (case-insensitive): 0 SSE only,
    /// 1 AVX, 2 AVX2 + FMA, 3 AVX-512; nil for a name not listed (a newer or non-x86 kernel, which
    /// is never second-guessed).
    public static func tier(of kernel: String) -> Int? {
        switch kernel.lowercased() {
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano", "katmai", "coppermine",
            "northwood", "banias", "athlon", "opteron", "opteron_sse3", "barcelona", "bobcat":
            return 0
        case "sandybridge", "bulldozer", "piledriver", "steamroller":
            return 1
        case "haswell", "zen", "excavator":
            return 2
        case "skylakex", "cooperlake", "sapphirerapids":
            return 3
        default:
            return nil
        }
    }

    /// The decision for a process whose environment is `environment`, on `cpu`, where OpenBLAS
    /// loaded without `OPENBLAS_CORETYPE` took `took`.
    public static func decide(took: String, cpu: CPUFeatures, environment: [String: String]) -> Decision {
        if let set = environment[coretypeVariable] { return .environment(set) }
        guard let best = best(for: cpu), let bestTier = tier(of: best), let tookTier = tier(of: took),
            tookTier < bestTier
        else { return .keep }
        return .switchTo(best)
    }
}
