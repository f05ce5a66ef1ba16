import COpenBLAS

/// Which BLAS computes: floating-point sums follow its kernel, so a bit-for-bit reproduction
/// needs the same one (README, "What is reproducible").
extension BLAS {
    /// The OpenBLAS kernel chosen for this CPU (`openblas_get_corename()`, e.g. `Haswell`, `Zen`).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS's build configuration (`openblas_get_config()`: version, threading, core).
    public static var configuration: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
}
