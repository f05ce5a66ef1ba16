import Kernels

/// Who is in which model's training set: the truth every evaluation rests on.
///
/// The target trains on a random half of the N audit records. Reference models come in pairs
/// that split the records into complementary halves, so with an even count R every record is a
/// member of exactly R/2 reference models (what online attacks need); an odd last one takes a
/// random half. All seeded from the run's seed.
struct Memberships: Sendable, Equatable {
    /// [N] target membership.
    var target: [Bool]
    /// [R][N] reference membership.
    var references: [[Bool]]

    init(recordCount n: Int, referenceCount r: Int, seed: UInt64) {
        func half(_ perm: [Int], first: Bool) -> [Bool] {
            var mask = [Bool](repeating: !first, count: n)
            for i in perm.prefix(n / 2) { mask[i] = first }
            return mask
        }
        var rng = SeededRandom.derive(seed: seed, 1)
        target = half(rng.permutation(n), first: true)
        references = []
        var k: UInt64 = 0
        while references.count < r {
            var prng = SeededRandom.derive(seed: seed, 100 + k)
            let perm = prng.permutation(n)
            references.append(half(perm, first: true))
            if references.count < r { references.append(half(perm, first: false)) }
            k += 1
        }
    }

    static func indices(_ mask: [Bool], _ value: Bool = true) -> [Int] {
        mask.indices.filter { mask[$0] == value }
    }
}
