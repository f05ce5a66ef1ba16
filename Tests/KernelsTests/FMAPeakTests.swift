import CKernels
import Testing

@testable import Kernels

/// The peak's chains run the FMAs they are counted for: after n iterations of x ← x/2 + 1/2 from
/// x = c, each lane holds 1 + (c − 1)/2ⁿ (exact in binary floating point for these n), so the
/// sum over 12 chains and L lanes is L · (12 + 54/2ⁿ). A loop the compiler shortened or folded
/// would give another sum; the generic level times nothing.
@Test(arguments: [0, 1, 3, 7, 20])
func fmaChainsRunTheCountedIterations(iterations: Int) {
    for level in VectorLevel.allCases where level <= VectorLevel.best(for: .current) {
        let sum = mia_fma_chains(level.rawValue, iterations)
        let lanes: Double =
            switch level {
            case .generic: 0
            case .avx2: 8
            case .avx512: 16
            }
        guard level != .generic else {
            #expect(sum == -1 && mia_fma_chains_flops(level.rawValue) == 0)
            #expect(FMAPeak.measure(threads: 1, level: level) == nil)
            continue
        }
        let expected = lanes * (12 + 54 / Double(1 << iterations))
        #expect(sum == expected, "\(level), \(iterations) iterations")
        #expect(mia_fma_chains_flops(level.rawValue) == 2 * 12 * lanes)
    }
}

@Test func peakIsMeasuredOnTheThreadsAskedAtTheLevelAsked() throws {
    let level = VectorLevel.best(for: .current)
    guard level != .generic else { return }
    let peak = try #require(FMAPeak.measure(threads: 2, level: level, windows: 1, seconds: 0.005))
    #expect(peak.threads == 2 && peak.level == level)
    #expect(peak.gflops > 0 && peak.gflops.isFinite && peak.gflopsPerThread > 0 && peak.gflopsPerThread.isFinite)
}
