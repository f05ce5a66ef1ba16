// The CPU's single-precision multiply-add peak: twelve independent chains of vector FMAs, no
// loads or stores, so that no product, convolution or network can run faster on the same
// cores. `FMAPeak` (Kernels/FMAPeak.swift) times it on several threads for `mia-audit doctor`,
// which prints the sgemm rate as a share of it.
#ifndef MIA_PEAK_H
#define MIA_PEAK_H
#include <stddef.h>
#include "mia_kernels.h"

/// Chains of x ← x·½ + ½ per lane, started at x = 0 … 11 (one value per chain), run `iterations`
/// times: 12 · lanes FMAs an iteration (lanes 16 at AVX-512, 8 at AVX2). Returns the sum of
/// every lane of every chain, Σ_c lanes · (1 + (c − 1) / 2^iterations), which the caller can
/// check; -1 when `level` is generic or the build is not x86-64 (nothing measured).
double mia_fma_chains(int level, long iterations);

/// FLOPs one iteration of mia_fma_chains does at `level` (2 per FMA lane), 0 where it does none.
double mia_fma_chains_flops(int level);

#endif
