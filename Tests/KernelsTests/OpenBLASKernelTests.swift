import Testing

@testable import Kernels

/// An AVX-512 server CPU like the Xeon (family 6, model 207) OpenBLAS 0.3.21 runs as Prescott.
private let xeon = CPUFeatures(
    modelName: "Xeon", vendor: "GenuineIntel", family: 6, model: 207, avx2: true, fma: true,
    avx512f: true, avx512bw: true, avx512dq: true, avx512vl: true, avx512bf16: true)

@Test func theBestKernelFollowsTheCPUsFeatures() {
    #expect(OpenBLASKernelChoice.best(for: xeon) == "Cooperlake")
    var noBF16 = xeon
    noBF16.avx512bf16 = false
    #expect(OpenBLASKernelChoice.best(for: noBF16) == "SkylakeX")
    // AVX-512 F without VL (Knights Landing-like) does not run SkylakeX kernels: AVX2 + FMA does.
    var noVL = noBF16
    noVL.avx512vl = false
    #expect(OpenBLASKernelChoice.best(for: noVL) == "Haswell")
    let avx2NoFMA = CPUFeatures(avx2: true)
    #expect(OpenBLASKernelChoice.best(for: avx2NoFMA) == nil)
    #expect(OpenBLASKernelChoice.best(for: CPUFeatures()) == nil)
}

@Test func aFallbackToAWeakerKernelIsReplacedAndAGoodOneKept() {
    typealias C = OpenBLASKernelChoice
    #expect(C.decide(took: "Prescott", cpu: xeon, environment: [:]) == .switchTo("Cooperlake"))
    #expect(C.decide(took: "Haswell", cpu: xeon, environment: ["PATH": "/bin"]) == .switchTo("Cooperlake"))
    let haswell = CPUFeatures(avx2: true, fma: true)
    #expect(C.decide(took: "Prescott", cpu: haswell, environment: [:]) == .switchTo("Haswell"))
    #expect(C.decide(took: "Sandybridge", cpu: haswell, environment: [:]) == .switchTo("Haswell"))
    // As good as the best (another AVX-512 family, AMD's own AVX2 one): kept.
    #expect(C.decide(took: "SkylakeX", cpu: xeon, environment: [:]) == .keep)
    #expect(C.decide(took: "Zen", cpu: haswell, environment: [:]) == .keep)
    // A name this code does not know (a newer OpenBLAS) is never second-guessed; nor an old CPU.
    #expect(C.decide(took: "Zen5", cpu: xeon, environment: [:]) == .keep)
    #expect(C.decide(took: "Prescott", cpu: CPUFeatures(), environment: [:]) == .keep)
}

@Test func aValueTheUserSetIsNeverOverridden() {
    typealias C = OpenBLASKernelChoice
    for value in ["Prescott", "Haswell", "", "NoSuchCore"] {
        #expect(C.decide(took: "Prescott", cpu: xeon, environment: ["OPENBLAS_CORETYPE": value]) == .environment(value))
    }
    // OPENBLAS_L2_SIZE alone does not stop the choice (it is never written either).
    #expect(
        C.decide(took: "Prescott", cpu: xeon, environment: ["OPENBLAS_L2_SIZE": "2097152"]) == .switchTo("Cooperlake"))
}

@Test func theKernelRunningHereComputesExactProducts() throws {
    let info = try BLAS.load()
    #expect(info.source != .rejected, "\(info.note)")
    #expect(BLAS.checkAgainstNaiveProduct() == nil)
    if info.source == .miaAudit {
        #expect(info.kernel == OpenBLASKernelChoice.best(for: .current))
        #expect(OpenBLASKernelChoice.tier(of: info.kernel) != nil)
    }
}

/// A broken sgemm: C = 0 whatever the inputs.
private let zeroingSGEMM: OpenBLASLibrary.SGEMM = { _, _, _, m, n, _, _, _, _, _, _, _, c, ldc in
    for i in 0..<Int(m) { for j in 0..<Int(n) { c![i * Int(ldc) + j] = 0 } }
}

/// A kernel off by one ulp in one element of large products only (as a wrong blocked path would be).
private let offByOneULP: OpenBLASLibrary.SGEMM = { o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
    OpenBLASLibrary.shared.sgemm(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    if m * n * k > 100_000 { c![Int(ldc) + 1] = c![Int(ldc) + 1].nextUp }
}

@Test func theCheckRefusesAWrongProduct() {
    #expect(OpenBLASLibrary.agreesWithNaiveProduct(OpenBLASLibrary.shared.sgemm) == nil)
    let zero = OpenBLASLibrary.agreesWithNaiveProduct(zeroingSGEMM)
    #expect(zero?.contains("sgemm 13x17x29") == true)
    let ulp = OpenBLASLibrary.agreesWithNaiveProduct(offByOneULP)
    #expect(ulp?.contains("at (1, 1)") == true)
}

@Test func theCPUIsReadFromCPUID() {
    let cpu = CPUFeatures.current
    #if arch(x86_64)
        #expect(!cpu.vendor.isEmpty && cpu.modelName != "unknown")
        // Every x86-64 CPU with AVX-512 F/BW/DQ/VL has AVX2 and FMA too.
        if cpu.hasAVX512Kernels { #expect(cpu.hasAVX2Kernels) }
    #endif
    #expect(
        cpu.names.allSatisfy {
            ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"].contains($0)
        })
}

@Test func measuredRateIsPositive() {
    let rate = BLAS.measureGFLOPS(seconds: 0.01)
    #expect(rate > 0.1 && rate.isFinite)
    // Doctor's rate goes through the pieces a training's products take (8 of 64 columns for 512³).
    let r = BLAS.measureRate(windows: 2, seconds: 0.005)
    #expect(r.gflops > 0.1 && r.gflopsPerThread > 0.1 && r.gflopsPerThread.isFinite)
    #expect(r.pieces == GEMMPieces(m: 512, n: 512, k: 512) && r.pieces.count == 8 && r.threads == BLAS.threadCount)
}
