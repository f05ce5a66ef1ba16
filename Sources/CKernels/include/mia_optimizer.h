// The Adam / AdamW parameter update in AVX2 and AVX-512 (optimizer.c), for `AdamStep` in
// Kernels/AdamStep.swift, which holds the plain level in Swift and calls these at the process's
// `VectorLevel`. Per element i, in this order, each operation rounded once (no fused
// multiply-add), exactly as the Swift loop:
//   p' = p[i]·decay;  g' = g[i] + l2·p';
//   m[i] = beta1·m[i] + one_minus_beta1·g';  v[i] = beta2·v[i] + one_minus_beta2·(g'·g');
//   p[i] = p' − (step_size·m[i]) / (√v[i] / correction2 + epsilon)
// Square root and division are IEEE (correctly rounded) at every level, so every level gives
// the same bits.
#ifndef MIA_OPTIMIZER_H
#define MIA_OPTIMIZER_H
#include <stddef.h>
#include "mia_kernels.h"

/// One step's constants, computed once by the caller (in Swift, so every level sees the same
/// floats): `decay` is 1 − ηλ for AdamW and 1 for Adam, `l2` is λ for Adam and 0 for AdamW,
/// `step_size` η / (1 − β₁ᵗ) and `correction2` √(1 − β₂ᵗ).
typedef struct {
    float decay, l2, beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, correction2, epsilon;
} mia_adam_step;

/// Updates p, m, v [n] in place from g [n]. `level` is MIA_KERNELS_AVX2 or MIA_KERNELS_AVX512 on
/// a CPU that has it; aborts otherwise (a caller's bug: the plain level is Swift's).
void mia_adam_update(int level, const mia_adam_step *s, float *p, const float *g, float *m, float *v, ptrdiff_t n);

#endif
