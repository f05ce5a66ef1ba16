import CKernels
import Foundation

/// The instruction set the C kernels (Sources/CKernels: im2col, col2im, direct convolution, max
/// pooling, ReLU) run with, chosen once
/// per process from cpuid, so one binary uses AVX-512 or AVX2 where the CPU has them and plain
/// code on any other x86-64 (or another architecture). Every level gives the same bits.
///
/// `MIA_KERNELS=generic` (or `avx2`) in the environment caps the level, for tests and for
/// comparing runs; a value other than `generic`, `avx2` or `avx512` stops the process with a
/// message naming it (a typo must not silently run another path). A cap above what the CPU
/// has gives the CPU's best.
public enum VectorLevel: Int32, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case generic = 0
    case avx2 = 1
    case avx512 = 2

    public static func < (a: VectorLevel, b: VectorLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    /// The best level `cpu` supports (AVX2 needs AVX2 + FMA; AVX-512 needs AVX-512 F with the
    /// OS saving its registers, which `CPUFeatures` folds in).
    public static func best(for cpu: CPUFeatures) -> VectorLevel {
        guard mia_kernels_have_x86() != 0 else { return .generic }
        if cpu.avx512f && cpu.hasAVX2Kernels { return .avx512 }
        if cpu.hasAVX2Kernels { return .avx2 }
        return .generic
    }

    /// The level for `cpu` under the cap `setting` (the value of `MIA_KERNELS`, nil if unset);
    /// nil when `setting` is not a level's name.
    public static func chosen(for cpu: CPUFeatures, setting: String?) -> VectorLevel? {
        let best = best(for: cpu)
        guard let setting else { return best }
        guard let cap = allCases.first(where: { $0.description == setting }) else { return nil }
        return min(cap, best)
    }

    /// This process's level.
    public static let current: VectorLevel = {
        let setting = ProcessInfo.processInfo.environment["MIA_KERNELS"]
        guard let level = chosen(for: .current, setting: setting) else {
            fatalError("MIA_KERNELS=\(setting ?? "") is not one of generic, avx2, avx512")
        }
        return level
    }()
}

extension WindowGeometry {
    /// The same window as the C kernels take it.
    var cWindow: mia_window {
        mia_window(height: height, width: width, channels: channels, kernel: kernel, stride: stride, padding: padding)
    }
}
