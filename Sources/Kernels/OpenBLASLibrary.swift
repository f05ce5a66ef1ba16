#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who decided which kernel OpenBLAS runs on.
public enum BLASKernelSource: String, Sendable, Codable {
    /// OpenBLAS's own detection, kept: it matches the CPU (or the CPU runs nothing better).
    case openblas
    /// mia-audit set `OPENBLAS_CORETYPE` because OpenBLAS fell back to a weaker kernel.
    case miaAudit = "mia-audit"
    /// `OPENBLAS_CORETYPE` was set by the user or the environment; left as it was.
    case environment
    /// mia-audit's choice computed a wrong product, so OpenBLAS's own kernel runs.
    case rejected
    /// Something else loaded OpenBLAS into the process before Kernels did: nothing could be chosen.
    case preloaded
}

/// OpenBLAS, opened at first use rather than linked, so its kernel can be chosen before it
/// initialises (`OpenBLASKernelChoice`).
///
/// OpenBLAS picks its kernel in a library constructor, at load time. Nothing in the project links
/// it: the first BLAS call in any copy of Kernels (the host's or a plugin's, even in another host
/// process) opens it here, checks the kernel it took against the CPU, and when it fell back to a
/// weaker one closes it, sets `OPENBLAS_CORETYPE` and opens it again; the new kernel must then
/// reproduce exact products (`agreesWithNaiveProduct`) or OpenBLAS's own choice is restored.
/// The one piece of global state in Kernels: the loaded library, immutable once loaded (and the
/// run's thread count, kept in the environment so every copy sees it: `BLASThreads`). Opening it
/// sets OpenBLAS to one thread for good: `BLAS.gemm` spreads fixed pieces over threads itself.
final class OpenBLASLibrary: @unchecked Sendable {
    typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetInt = @convention(c) () -> Int32
    typealias GetString = @convention(c) () -> UnsafeMutablePointer<CChar>?

    /// File names tried in order (Debian's runtime package installs the first).
    static let fileNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    let sgemm: SGEMM
    let setNumThreads: SetThreads
    let getNumThreads: GetInt
    /// OpenMP builds keep the thread count per calling thread: each piece's thread sets it to 1.
    let isOpenMP: Bool
    let info: BLASLibraryInfo

    /// The process's OpenBLAS, opened on first use. Traps with a message naming the library when
    /// it cannot be opened: BLAS calls have no error path (the host checks `BLAS.load()` first).
    static let shared: OpenBLASLibrary = {
        do { return try loaded.get() } catch { fatalError("\(error)") }
    }()

    /// The outcome of opening it, once per process (per copy of Kernels).
    static let loaded = Result<OpenBLASLibrary, Error> {
        try OpenBLASLibrary(environment: currentEnvironment(), cpu: .current)
    }

    private init(handle: UnsafeMutableRawPointer, path: String, source: BLASKernelSource, note: String) throws {
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                throw BLASLoadError(message: "\(path) has no symbol \(name): not an OpenBLAS library")
            }
            return unsafeBitCast(p, to: type)
        }
        sgemm = try symbol("cblas_sgemm", SGEMM.self)
        setNumThreads = try symbol("openblas_set_num_threads", SetThreads.self)
        getNumThreads = try symbol("openblas_get_num_threads", GetInt.self)
        let corename = try symbol("openblas_get_corename", GetString.self)
        // openblas_get_parallel: 0 sequential, 1 pthreads, 2 OpenMP.
        isOpenMP = dlsym(handle, "openblas_get_parallel").map { unsafeBitCast($0, to: GetInt.self)() == 2 } ?? false
        let config = try symbol("openblas_get_config", GetString.self)
        info = BLASLibraryInfo(
            library: path, config: config().map { String(cString: $0) } ?? "",
            kernel: corename().map { String(cString: $0) } ?? "unknown", source: source, note: note)
        // OpenBLAS never threads a product itself (`BLASThreads`): its default becomes the run's
        // count unless one is already set, and OpenBLAS runs on the calling thread from now on.
        BLASThreads.adoptDefault(Int(getNumThreads()))
        setNumThreads(1)
    }

    /// Opens OpenBLAS for a process whose environment is `environment` (as `setenv` leaves it).
    convenience init(environment: [String: String], cpu: CPUFeatures) throws {
        typealias Choice = OpenBLASKernelChoice
        let flags = RTLD_NOW | RTLD_GLOBAL
        // Already in the process (linked by another host, or opened by another copy of Kernels).
        for name in Self.fileNames {
            guard let handle = dlopen(name, flags | RTLD_NOLOAD) else { continue }
            let set = environment[Choice.coretypeVariable]
            let marker = environment[Choice.markerVariable]?.split(separator: " ").map(String.init)
            if let set, let marker, marker.first == set {
                try self.init(
                    handle: handle, path: name, source: .miaAudit,
                    note: "OpenBLAS took \(marker.dropFirst().first ?? "?") by itself")
            } else if let set {
                try self.init(
                    handle: handle, path: name, source: .environment, note: "\(Choice.coretypeVariable)=\(set)")
            } else {
                try self.init(
                    handle: handle, path: name, source: .preloaded, note: "loaded before Kernels could choose")
            }
            return
        }
        var errors: [String] = []
        func open() -> (UnsafeMutableRawPointer, String)? {
            for name in Self.fileNames {
                if let h = dlopen(name, flags) { return (h, name) }
                errors.append(dlerror().map { String(cString: $0) } ?? name)
            }
            return nil
        }
        guard let (handle, path) = open() else {
            throw BLASLoadError(
                message: "cannot open OpenBLAS (install libopenblas0): " + errors.joined(separator: "; "))
        }
        let own = try OpenBLASLibrary(handle: handle, path: path, source: .openblas, note: "")
        switch Choice.decide(took: own.info.kernel, cpu: cpu, environment: environment) {
        case .environment(let set):
            try self.init(handle: handle, path: path, source: .environment, note: "\(Choice.coretypeVariable)=\(set)")
        case .keep:
            try self.init(handle: handle, path: path, source: .openblas, note: "")
        case .switchTo(let kernel):
            let took = own.info.kernel
            dlclose(handle)
            setenv(Choice.coretypeVariable, kernel, 0)
            setenv(Choice.markerVariable, "\(kernel) \(took)", 1)
            guard let (chosen, _) = open() else { throw BLASLoadError(message: "cannot open \(path) again") }
            let candidate = try OpenBLASLibrary(
                handle: chosen, path: path, source: .miaAudit, note: "OpenBLAS took \(took) by itself")
            let problem =
                candidate.info.kernel.lowercased() != kernel.lowercased()
                ? "this OpenBLAS ran \(candidate.info.kernel) when asked for \(kernel)"
                : Self.agreesWithNaiveProduct(candidate.sgemm)
            guard let problem else {
                try self.init(handle: chosen, path: path, source: .miaAudit, note: "OpenBLAS took \(took) by itself")
                return
            }
            dlclose(chosen)
            unsetenv(Choice.coretypeVariable)
            unsetenv(Choice.markerVariable)
            guard let (fallback, _) = open() else { throw BLASLoadError(message: "cannot open \(path) again") }
            try self.init(handle: fallback, path: path, source: .rejected, note: "\(kernel) refused: \(problem)")
        }
    }

    /// nil when `sgemm` reproduces exact products (small integers, so every correct kernel gives
    /// the same bits) for odd and multi-threaded shapes, both transposes and beta 0 and 1;
    /// otherwise what went wrong.
    static func agreesWithNaiveProduct(_ sgemm: SGEMM) -> String? {
        let shapes = [
            (m: 13, n: 17, k: 29, ta: false, tb: false, beta: Float(0)),
            (m: 7, n: 33, k: 16, ta: true, tb: false, beta: 1),
            (m: 96, n: 80, k: 72, ta: false, tb: true, beta: 0),
            (m: 130, n: 97, k: 65, ta: true, tb: true, beta: 1),
        ]
        for (s, shape) in shapes.enumerated() {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            // a is op(A) as [m, k]; stored as [k, m] when transposed. Same for b.
            let a = (0..<(m * k)).map { Float(($0 * 7 + s) % 9 - 4) }
            let b = (0..<(k * n)).map { Float(($0 * 5 + 3 * s) % 7 - 3) }
            let c0 = (0..<(m * n)).map { Float($0 % 5 - 2) }
            func opA(_ i: Int, _ p: Int) -> Float { shape.ta ? a[p * m + i] : a[i * k + p] }
            func opB(_ p: Int, _ j: Int) -> Float { shape.tb ? b[j * k + p] : b[p * n + j] }
            var c = c0
            sgemm(
                101, shape.ta ? 112 : 111, shape.tb ? 112 : 111, Int32(m), Int32(n), Int32(k), 1,
                a, Int32(shape.ta ? m : k), b, Int32(shape.tb ? k : n), shape.beta, &c, Int32(n))
            for i in 0..<m {
                for j in 0..<n {
                    var want = shape.beta * c0[i * n + j]
                    for p in 0..<k { want += opA(i, p) * opB(p, j) }
                    if c[i * n + j] != want {
                        return
                            "sgemm \(m)x\(n)x\(k) gave \(c[i * n + j]) at (\(i), \(j)) where the naive product is \(want)"
                    }
                }
            }
        }
        return nil
    }
}

/// The process environment as a dictionary (Foundation-free: Kernels links none).
func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        p += 1
    }
    return result
}

/// OpenBLAS could not be opened or is not OpenBLAS.
public struct BLASLoadError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The BLAS a process runs on, for `metrics.json`, the report and `mia-audit doctor`.
public struct BLASLibraryInfo: Sendable, Equatable {
    /// The file opened ("libopenblas.so.0").
    public var library: String
    /// `openblas_get_config()`: version and build ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ...").
    public var config: String
    /// `openblas_get_corename()`: the kernel family running ("SkylakeX").
    public var kernel: String
    /// Who chose the kernel.
    public var source: BLASKernelSource
    /// Detail on the choice ("OpenBLAS took Prescott by itself", "OPENBLAS_CORETYPE=Haswell").
    public var note: String
}
