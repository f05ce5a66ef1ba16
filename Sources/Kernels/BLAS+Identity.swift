/// Which BLAS computes: floating-point sums follow its kernel, so a bit-for-bit reproduction
/// needs the same one (README, "What is reproducible"). Both come from the library `BLAS` opened
/// (`OpenBLASLibrary`), after its kernel choice.
extension BLAS {
    /// The OpenBLAS kernel running (`openblas_get_corename()`, e.g. `Haswell`, `SkylakeX`).
    public static var coreName: String { library.kernel }

    /// OpenBLAS's build configuration (`openblas_get_config()`: version, threading, core).
    public static var configuration: String { library.config }
}
