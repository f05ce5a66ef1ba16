import PluginKit

/// The DP-SGD options of the `native` backend (`dp_*` keys), decoded once with the others.
///
/// With `dp_sgd: true` each step clips every record's gradient to L2 norm `dp_clip_norm` (C)
/// over all parameters, sums them, adds N(0, σ²C²) per coordinate (σ = `dp_noise_multiplier`)
/// and divides by the expected batch size before the configured optimizer's step (Abadi et al.
/// 2016, "Deep Learning with Differential Privacy").
struct PrivacyOptions: Equatable {
    enum Sampling: String, CaseIterable { case poisson, shuffle }

    var enabled = false
    var clipNorm = 1.0
    var noiseMultiplier = 1.0
    var delta = 1e-5
    var sampling = Sampling.poisson

    static let specs: [OptionSpec] = [
        OptionSpec(
            "dp_sgd", .bool, default: "false",
            "DP-SGD: per-example clipping and Gaussian noise; the log reports (epsilon, delta) from a Renyi-DP and a privacy-loss-distribution (PLD, tighter) accountant"
        ),
        OptionSpec("dp_clip_norm", .float, default: "1.0", "DP-SGD: L2 bound C of each record's gradient, > 0").above(
            0),
        OptionSpec(
            "dp_noise_multiplier", .float, default: "1.0",
            "DP-SGD: sigma, the noise standard deviation over C (noise N(0, sigma^2 C^2) per coordinate), >= 0"
        ).atLeast(0),
        OptionSpec("dp_delta", .float, default: "1e-5", "DP-SGD: the delta epsilon is reported at, in (0, 1)").above(0)
            .atMost(1, exclusive: true),
        OptionSpec(
            "dp_sampling", .string, default: "\"poisson\"", choices: Sampling.allCases.map(\.rawValue),
            "DP-SGD batches: poisson (each record joins each step with probability batch_size / n; what the accountant assumes) or shuffle (fixed-size batches of a permutation; epsilon is then computed as if Poisson)"
        ),
    ]

    init() {}

    init(_ options: PluginOptions) throws {
        if options.has("dp_sgd") { enabled = try options.bool("dp_sgd") }
        if options.has("dp_clip_norm") { clipNorm = try options.double("dp_clip_norm") }
        if options.has("dp_noise_multiplier") { noiseMultiplier = try options.double("dp_noise_multiplier") }
        if options.has("dp_delta") { delta = try options.double("dp_delta") }
        if options.has("dp_sampling") {
            let s = try options.string("dp_sampling")
            guard let v = Sampling(rawValue: s) else {
                throw PluginError(.invalidArgument, "option `dp_sampling`: unknown value `\(s)` (poisson or shuffle)")
            }
            sampling = v
        }
        func require(_ ok: Bool, _ key: String, _ what: String) throws {
            if !ok { throw PluginError(.invalidArgument, "option `\(key)` must be \(what)") }
        }
        try require(clipNorm > 0 && clipNorm.isFinite, "dp_clip_norm", "a positive number")
        try require(noiseMultiplier >= 0 && noiseMultiplier.isFinite, "dp_noise_multiplier", ">= 0")
        try require(delta > 0 && delta < 1, "dp_delta", "in (0, 1)")
    }
}
