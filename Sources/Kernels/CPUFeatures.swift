import CCPUID

/// What this CPU can run, as far as choosing a BLAS kernel goes: read once from cpuid.
///
/// A feature counts only when the operating system also saves its registers (XCR0), as a CPU
/// can report AVX-512 that a hypervisor or kernel has switched off.
public struct CPUFeatures: Sendable, Equatable {
    /// cpuid's brand string, e.g. "Intel(R) Xeon(R) Processor"; "unknown" off x86-64.
    public var modelName: String
    /// "GenuineIntel", "AuthenticAMD", ...; empty off x86-64.
    public var vendor: String
    /// Display family and model (with their extended fields folded in), as Linux prints them.
    public var family: Int
    public var model: Int
    public var avx2 = false
    public var fma = false
    public var avx512f = false
    public var avx512bw = false
    public var avx512dq = false
    public var avx512vl = false
    /// AVX-512 BF16: what OpenBLAS's `Cooperlake` kernels add over `SkylakeX`.
    public var avx512bf16 = false

    public init(
        modelName: String = "unknown", vendor: String = "", family: Int = 0, model: Int = 0,
        avx2: Bool = false, fma: Bool = false, avx512f: Bool = false, avx512bw: Bool = false,
        avx512dq: Bool = false, avx512vl: Bool = false, avx512bf16: Bool = false
    ) {
        self.modelName = modelName
        self.vendor = vendor
        self.family = family
        self.model = model
        self.avx2 = avx2
        self.fma = fma
        self.avx512f = avx512f
        self.avx512bw = avx512bw
        self.avx512dq = avx512dq
        self.avx512vl = avx512vl
        self.avx512bf16 = avx512bf16
    }

    /// AVX-512 F, BW, DQ and VL together: what OpenBLAS's `SkylakeX` kernels need.
    public var hasAVX512Kernels: Bool { avx512f && avx512bw && avx512dq && avx512vl }
    /// AVX2 and FMA together: what OpenBLAS's `Haswell` kernels need.
    public var hasAVX2Kernels: Bool { avx2 && fma }

    /// The features above that are present, in a fixed order ("avx2 fma avx512f ...").
    public var names: [String] {
        [
            ("avx2", avx2), ("fma", fma), ("avx512f", avx512f), ("avx512bw", avx512bw), ("avx512dq", avx512dq),
            ("avx512vl", avx512vl), ("avx512_bf16", avx512bf16),
        ].filter(\.1).map(\.0)
    }

    /// This machine's CPU.
    public static let current = CPUFeatures.read()

    static func read() -> CPUFeatures {
        func cpuid(_ leaf: UInt32, _ sub: UInt32 = 0) -> [UInt32] {
            var r: [UInt32] = [0, 0, 0, 0]
            _ = r.withUnsafeMutableBufferPointer { mia_cpuid(leaf, sub, $0.baseAddress) }
            return r
        }
        func bit(_ r: UInt32, _ n: Int) -> Bool { r & (1 << UInt32(n)) != 0 }
        func text(_ words: [UInt32]) -> String {
            let bytes = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        let leaf0 = cpuid(0)
        guard leaf0[0] > 0 else { return CPUFeatures() }
        var f = CPUFeatures()
        f.vendor = text([leaf0[1], leaf0[3], leaf0[2]])
        let leaf1 = cpuid(1)
        let baseFamily = Int((leaf1[0] >> 8) & 0xF), baseModel = Int((leaf1[0] >> 4) & 0xF)
        f.family = baseFamily == 0xF ? baseFamily + Int((leaf1[0] >> 20) & 0xFF) : baseFamily
        f.model = baseFamily == 0x6 || baseFamily == 0xF ? baseModel + (Int((leaf1[0] >> 16) & 0xF) << 4) : baseModel
        if cpuid(0x8000_0000)[0] >= 0x8000_0004 {
            let name = text(cpuid(0x8000_0002) + cpuid(0x8000_0003) + cpuid(0x8000_0004))
            f.modelName = name.split(separator: " ").joined(separator: " ")
        }
        let xcr0 = mia_xcr0()
        let osAVX = xcr0 & 0x6 == 0x6  // SSE and AVX (YMM) state
        let osAVX512 = osAVX && xcr0 & 0xE0 == 0xE0  // opmask, ZMM0-15 high halves, ZMM16-31
        let leaf7 = cpuid(7), leaf7s1 = leaf7[0] >= 1 ? cpuid(7, 1) : [0, 0, 0, 0]
        f.fma = osAVX && bit(leaf1[2], 12)
        f.avx2 = osAVX && bit(leaf7[1], 5)
        f.avx512f = osAVX512 && bit(leaf7[1], 16)
        f.avx512dq = osAVX512 && bit(leaf7[1], 17)
        f.avx512bw = osAVX512 && bit(leaf7[1], 30)
        f.avx512vl = osAVX512 && bit(leaf7[1], 31)
        f.avx512bf16 = osAVX512 && bit(leaf7s1[0], 5)
        return f
    }
}
