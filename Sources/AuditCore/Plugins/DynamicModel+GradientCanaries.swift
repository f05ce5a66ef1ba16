import Foundation
import PluginABI
import PluginKit

extension DynamicModel {
    /// Runs `body` with a `mia_gradient_canaries_t` (ABI 1.4) lent for `canaries` (nil when
    /// there are none), its coins and output arrays pinned for the call; afterwards, when the
    /// backend set `out_inserted`, hands its coordinates and scores to `canaries.report`.
    static func lending<R>(
        _ canaries: GradientCanaries?, _ body: (UnsafeMutablePointer<mia_gradient_canaries_t>?) throws -> R
    ) throws -> R {
        guard let canaries else { return try body(nil) }
        let m = canaries.count
        let coins = canaries.included.map { UInt8($0 ? 1 : 0) }
        var coordinates = [Int64](repeating: -1, count: m)
        var scores = [Double](repeating: .nan, count: m)
        var c = mia_gradient_canaries_t()
        c.struct_size = UInt32(MemoryLayout<mia_gradient_canaries_t>.size)
        c.count = Int32(m)
        c.seed = canaries.seed
        let (result, inserted) = try coins.withUnsafeBufferPointer { coinsView in
            try coordinates.withUnsafeMutableBufferPointer { coordinatesView in
                try scores.withUnsafeMutableBufferPointer { scoresView in
                    c.included = coinsView.baseAddress
                    c.out_coordinates = coordinatesView.baseAddress
                    c.out_scores = scoresView.baseAddress
                    let r = try withUnsafeMutablePointer(to: &c) { try body($0) }
                    return (r, c.out_inserted == 1)
                }
            }
        }
        if inserted { try canaries.report(coordinates: coordinates.map { Int($0) }, scores: scores) }
        return result
    }
}
