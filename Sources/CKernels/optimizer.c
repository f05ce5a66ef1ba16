// The Adam / AdamW update (mia_optimizer.h) in AVX2 and AVX-512 F, each function compiled for
// its own instruction set. Swift's SIMD types compile to baseline x86-64 and its vector square
// root runs lane by lane, which put the plain update at 18 % of T1-MLP's training samples.
//
// No multiply-add may be fused: the plain level rounds every product, so these must too.
#include <stdlib.h>
#include "mia_optimizer.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#define MIA_OPT_AVX2 __attribute__((target("avx2")))
#define MIA_OPT_AVX512 __attribute__((target("avx512f")))

/// The header's formula on one vector of lanes; `V` is the vector type, `OP` the intrinsic
/// prefix. Loads and stores are the caller's (masked at the tail).
#define MIA_ADAM_LANES(OP, p0, g0, m0, v0)                                                            \
    do {                                                                                                \
        p0 = OP##_mul_ps(p0, decay);                                                                    \
        g0 = OP##_add_ps(g0, OP##_mul_ps(l2, p0));                                                      \
        m0 = OP##_add_ps(OP##_mul_ps(b1, m0), OP##_mul_ps(c1, g0));                                     \
        v0 = OP##_add_ps(OP##_mul_ps(b2, v0), OP##_mul_ps(c2, OP##_mul_ps(g0, g0)));                    \
        const V den = OP##_add_ps(OP##_div_ps(OP##_sqrt_ps(v0), corr), eps);                            \
        p0 = OP##_sub_ps(p0, OP##_div_ps(OP##_mul_ps(step, m0), den));                                  \
    } while (0)

#define MIA_ADAM_CONSTANTS(OP)                                                                         \
    const V decay = OP##_set1_ps(s->decay), l2 = OP##_set1_ps(s->l2);                                  \
    const V b1 = OP##_set1_ps(s->beta1), b2 = OP##_set1_ps(s->beta2);                                  \
    const V c1 = OP##_set1_ps(s->one_minus_beta1), c2 = OP##_set1_ps(s->one_minus_beta2);              \
    const V step = OP##_set1_ps(s->step_size), corr = OP##_set1_ps(s->correction2);                    \
    const V eps = OP##_set1_ps(s->epsilon)

MIA_OPT_AVX2 static void adam_avx2(const mia_adam_step *s, float *p, const float *g, float *m, float *v,
                                   ptrdiff_t n) {
    typedef __m256 V;
    MIA_ADAM_CONSTANTS(_mm256);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (ptrdiff_t i = 0; i < n; i += 8) {
        if (n - i >= 8) {
            V pi = _mm256_loadu_ps(p + i), gi = _mm256_loadu_ps(g + i);
            V mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
            MIA_ADAM_LANES(_mm256, pi, gi, mi, vi);
            _mm256_storeu_ps(m + i, mi);
            _mm256_storeu_ps(v + i, vi);
            _mm256_storeu_ps(p + i, pi);
        } else {
            // The last n - i < 8 elements: masked lanes read as 0 and are never written.
            const __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);
            V pi = _mm256_maskload_ps(p + i, k), gi = _mm256_maskload_ps(g + i, k);
            V mi = _mm256_maskload_ps(m + i, k), vi = _mm256_maskload_ps(v + i, k);
            MIA_ADAM_LANES(_mm256, pi, gi, mi, vi);
            _mm256_maskstore_ps(m + i, k, mi);
            _mm256_maskstore_ps(v + i, k, vi);
            _mm256_maskstore_ps(p + i, k, pi);
        }
    }
}

MIA_OPT_AVX512 static void adam_avx512(const mia_adam_step *s, float *p, const float *g, float *m, float *v,
                                       ptrdiff_t n) {
    typedef __m512 V;
    MIA_ADAM_CONSTANTS(_mm512);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        V pi = _mm512_maskz_loadu_ps(k, p + i), gi = _mm512_maskz_loadu_ps(k, g + i);
        V mi = _mm512_maskz_loadu_ps(k, m + i), vi = _mm512_maskz_loadu_ps(k, v + i);
        MIA_ADAM_LANES(_mm512, pi, gi, mi, vi);
        _mm512_mask_storeu_ps(m + i, k, mi);
        _mm512_mask_storeu_ps(v + i, k, vi);
        _mm512_mask_storeu_ps(p + i, k, pi);
    }
}
#endif

void mia_adam_update(int level, const mia_adam_step *s, float *p, const float *g, float *m, float *v, ptrdiff_t n) {
#if defined(__x86_64__)
    if (level == MIA_KERNELS_AVX512) { adam_avx512(s, p, g, m, v, n); return; }
    if (level == MIA_KERNELS_AVX2) { adam_avx2(s, p, g, m, v, n); return; }
#endif
    (void)level; (void)s; (void)p; (void)g; (void)m; (void)v; (void)n;
    abort();
}
