import Foundation
import Kernels
import Logging

/// The BLAS a run computed on, and how fast it was: `metrics.json`'s `blas`, the report's run
/// section and `mia-audit doctor`. A slow setup (a generic kernel, one thread) shows at once.
/// The one record of the CPU, kernel, configuration and threads a reproduction must match
/// (`RunEnvironment` holds only the library hashes).
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
    /// sgemm 512³ at those threads, about 50 ms of products, GFLOP/s.
    var gflops: Double
    /// The CPU's model name (cpuid brand string).
    var cpu: String
    /// The CPU features that decide the kernel ("avx2 fma avx512f ...").
    var cpuFeatures: [String]

    init(
        library: String, version: String, kernel: String, chosenBy: String, note: String,
        threads: Int, gflops: Double, cpu: String, cpuFeatures: [String]
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
    }

    /// Opens BLAS if needed and measures it at the current thread count.
    static func measure() throws -> BLASSummary {
        let info = try BLAS.load()
        let cpu = CPUFeatures.current
        return BLASSummary(
            library: info.library, version: info.config, kernel: info.kernel, chosenBy: info.source.rawValue,
            note: info.note, threads: BLAS.threadCount, gflops: BLAS.measureGFLOPS(), cpu: cpu.modelName,
            cpuFeatures: cpu.names)
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
