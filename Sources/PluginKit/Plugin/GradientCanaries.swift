import PluginABI

/// Dirac gradient canaries of a white-box DP audit (ABI 1.4, `mia_gradient_canaries_t`): the
/// host's request (m canaries, a seed, a coin per canary) and, once a backend inserted them into
/// its DP-SGD steps, their parameter coordinates and scores.
///
/// The host owns it and reads the result after `train`; a backend fills it through `report`
/// (on the training thread, once, after the last step). A backend that cannot insert gradient
/// canaries throws `PluginError(.invalidArgument, …)` or leaves it unreported, and the host
/// refuses the audit.
public final class GradientCanaries {
    /// Whether canary i is in the training (the host's seeded fair coins); count m = `included.count`.
    public let included: [Bool]
    /// Seeds the coordinates (a draw of m distinct parameter coordinates) and each canary's
    /// per-step Poisson sampling.
    public let seed: UInt64
    /// Written by `report`: canary i's parameter coordinate (0-based).
    public private(set) var coordinates: [Int] = []
    /// Written by `report`: canary i's score, the sum over steps of the privatised gradient's
    /// coordinate `coordinates[i]`.
    public private(set) var scores: [Double] = []
    /// True once a backend reported.
    public private(set) var inserted = false

    public init(included: [Bool], seed: UInt64) {
        self.included = included
        self.seed = seed
    }

    public var count: Int { included.count }

    /// Called by a backend after its last step: one coordinate and one score per canary.
    public func report(coordinates: [Int], scores: [Double]) throws {
        guard coordinates.count == count, scores.count == count else {
            throw PluginError(
                .internal,
                "gradient canaries: \(coordinates.count) coordinates and \(scores.count) scores for \(count) canaries")
        }
        self.coordinates = coordinates
        self.scores = scores
        inserted = true
    }

    /// The plugin side of the C struct: the host's request from `c`, nil for a null pointer.
    static func read(_ c: UnsafeMutablePointer<mia_gradient_canaries_t>?) -> GradientCanaries? {
        guard let c, c.pointee.count > 0, let included = c.pointee.included else { return nil }
        let n = Int(c.pointee.count)
        return GradientCanaries(included: (0..<n).map { included[$0] != 0 }, seed: c.pointee.seed)
    }

    /// Writes the result into the host's struct `c` (its `out_` arrays hold `count` entries).
    func write(to c: UnsafeMutablePointer<mia_gradient_canaries_t>) {
        guard inserted, let coordinatesOut = c.pointee.out_coordinates, let scoresOut = c.pointee.out_scores else {
            return
        }
        for i in 0..<count {
            coordinatesOut[i] = Int64(coordinates[i])
            scoresOut[i] = scores[i]
        }
        c.pointee.out_inserted = 1
    }
}
