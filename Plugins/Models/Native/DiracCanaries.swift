import Kernels
import PluginKit

/// Dirac gradient canaries inside DP-SGD (ABI 1.4, `TrainingData.gradientCanaries`; Steinke,
/// Nasr and Jagielski 2023, white-box; Nasr et al. 2023): the host's m canaries, each the
/// vector C·e_j for a parameter coordinate j, the coordinates m distinct ones drawn from the
/// host's seed (stream 0: a seeded permutation of the parameters, its first m).
///
/// `insert` runs once per step, on the sum of clipped per-example gradients before the noise:
/// every canary draws its own Poisson coin with the records' rate q (stream 1, a draw for every
/// canary in order, in or out, so the draws do not depend on the coins), and each one that is
/// in and drawn adds C at its coordinate. `observe` runs on the privatised gradient the
/// optimizer is then given and adds its coordinate j_i to canary i's score.
final class DiracCanaries {
    let request: GradientCanaries
    let coordinates: [Int]
    private(set) var scores: [Double]
    private let clipNorm: Float
    private var sampling: SeededRandom

    init(_ request: GradientCanaries, parameterCount p: Int, clipNorm: Double) throws {
        guard request.count <= p else {
            throw PluginError(
                .invalidArgument,
                "\(request.count) gradient canaries need as many distinct parameters, but the model has \(p)")
        }
        self.request = request
        var draw = SeededRandom.derive(seed: request.seed, 0)
        coordinates = Array(draw.permutation(p).prefix(request.count))
        scores = [Double](repeating: 0, count: request.count)
        self.clipNorm = Float(clipNorm)
        sampling = SeededRandom.derive(seed: request.seed, 1)
    }

    /// Adds the canaries that are in and join this step (rate `q`) to `sum` (before the noise).
    func insert(into sum: UnsafeMutablePointer<Float>, q: Double) {
        for (i, j) in coordinates.enumerated() where sampling.nextDouble() < q && request.included[i] {
            sum[j] += clipNorm
        }
    }

    /// Adds each canary's coordinate of the privatised gradient `g` to its score.
    func observe(_ g: UnsafePointer<Float>) {
        for (i, j) in coordinates.enumerated() { scores[i] += Double(g[j]) }
    }

    /// Hands the coordinates and scores to the host.
    func report() throws { try request.report(coordinates: coordinates, scores: scores) }
}
