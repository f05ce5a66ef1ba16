import Foundation
import Kernels
import Logging

/// The BLAS a run computed on, and how fast it was: `metrics.json`'s `blas`, the report's run
/// section and `mia-audit doctor`. A slow setup (a generic kernel, one thread) shows at once.
/// The one record of the CPU, kernel, configuration and threads a reproduction must match
/// (`RunEnvironment` holds only the library hashes), and of the C kernels' vector level.
public struct BLASSummary: Codable, Sendable, Equatable {
    /// The library file opened ("libopenblas.so.0").
    var library: String
    /// The library's own build line, version first ("OpenBLAS 0.3.21 DYNAMIC_ARCH ...").
    var version: String
    /// The kernel family running ("SkylakeX").
    var kernel: String
    /// Who chose it: "openblas", "mia-audit", "environment", "rejected" or "preloaded"
    /// (`BLASKernelSource`).
    var chosenBy: String
    /// Detail on the choice ("OpenBLAS took Prescott by itself").
    var note: String
    /// BLAS threads when measured (the run's `run.threads`).
    var threads: Int
    /// sgemm 512³ through `BLAS.gemm`'s pieces at those threads, the best of 5 windows of 20 ms,
    /// GFLOP/s of wall time (`GEMMRate`: what the run's products get when it has its threads).
    var gflops: Double
    /// The CPU's model name (cpuid brand string).
    var cpu: String
    /// The CPU features that decide the kernel ("avx2 fma avx512f ...").
    var cpuFeatures: [String]
    /// The instruction set of the project's own C kernels (`VectorLevel`: "generic", "avx2" or
    /// "avx512"; Sources/CKernels), the CPU's best capped by `MIA_KERNELS`. Every level gives
    /// the same bits, so it tells speed, not results. Nil in files written before it was recorded.
    var vectorLevel: String?

    init(
        library: String, version: String, kernel: String, chosenBy: String, note: String,
        threads: Int, gflops: Double, cpu: String, cpuFeatures: [String], vectorLevel: String? = nil
    ) {
        self.library = library
        self.version = version
        self.kernel = kernel
        self.chosenBy = chosenBy
        self.note = note
        self.threads = threads
        self.gflops = gflops
        self.cpu = cpu
        self.cpuFeatures = cpuFeatures
        self.vectorLevel = vectorLevel
    }

    /// Opens BLAS if needed and measures it at the current thread count.
    static func measure() throws -> BLASSummary { try measureWithRate().summary }

    /// `measure()` and the rate measured (with its CPU-time figure and pieces, for `doctor`).
    static func measureWithRate() throws -> (summary: BLASSummary, rate: GEMMRate) {
        let info = try BLAS.load()
        let cpu = CPUFeatures.current
        let rate = BLAS.measureRate()
        let summary = BLASSummary(
            library: info.library, version: info.config, kernel: info.kernel, chosenBy: info.source.rawValue,
            note: info.note, threads: rate.threads, gflops: rate.gflops, cpu: cpu.modelName,
            cpuFeatures: cpu.names, vectorLevel: try checkedVectorLevel().description)
        return (summary, rate)
    }

    /// This process's `VectorLevel`; an error naming the variable when `MIA_KERNELS` is not a
    /// level's name (where `VectorLevel.current` would stop the process).
    static func checkedVectorLevel() throws -> VectorLevel {
        let setting = ProcessInfo.processInfo.environment["MIA_KERNELS"]
        guard VectorLevel.chosen(for: .current, setting: setting) != nil else {
            throw VectorLevelSettingError(value: setting ?? "")
        }
        return VectorLevel.current
    }

    /// One line: "OpenBLAS 0.3.21 ..., kernel SkylakeX (chosen by mia-audit: ...)".
    var kernelLine: String {
        Self.line(library: library, version: version, kernel: kernel, chosenBy: chosenBy, note: note)
    }

    static func line(library: String, version: String, kernel: String, chosenBy: String, note: String) -> String {
        "\(version.isEmpty ? library : version), kernel \(kernel) (chosen by \(chosenBy)\(note.isEmpty ? "" : ": \(note)"))"
    }

    /// Opens BLAS (a missing library is a thrown error here, not a trap later) and logs which
    /// kernel runs, once per process: info level, or warning when a chosen kernel was refused.
    static func logChoice(_ logger: Logger) throws {
        let info = try BLAS.load()
        guard !logged.swap() else { return }
        let line =
            "BLAS: "
            + Self.line(
                library: info.library, version: info.config, kernel: info.kernel,
                chosenBy: info.source.rawValue, note: info.note)
        if info.source == .rejected { logger.warning("\(line)") } else { logger.info("\(line)") }
    }

    private static let logged = OnceFlag()

    enum CodingKeys: String, CodingKey {
        case library, version, kernel, note, threads, gflops, cpu
        case chosenBy = "chosen_by"
        case cpuFeatures = "cpu_features"
        case vectorLevel = "vector_level"
    }
}

/// `MIA_KERNELS` names no vector level.
struct VectorLevelSettingError: Error, CustomStringConvertible {
    let value: String
    var description: String {
        "environment variable MIA_KERNELS=\(value) is not one of "
            + VectorLevel.allCases.map(\.description).joined(separator: ", ") + " (it caps the C kernels' vector level)"
    }
}

/// What is wrong with `MIA_KERNELS`, nil when it is unset or names a level. The host checks it
/// before any command runs: the C kernels would otherwise stop the process at their first use,
/// inside whichever plugin used them first.
public func vectorLevelSettingProblem() -> String? {
    do {
        _ = try BLASSummary.checkedVectorLevel()
        return nil
    } catch {
        return "\(error)"
    }
}

/// A flag that turns true once, whichever thread asks first.
private final class OnceFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    /// Sets the flag; returns its value before.
    func swap() -> Bool {
        lock.withLock {
            defer { value = true }; return value
        }
    }
}
