// 2×2 / stride-2 max pooling in AVX2 and AVX-512, and its gradient in AVX-512 (contract in
// mia_pool.h), each function compiled for its own instruction set (target attributes), so the
// rest of the binary stays baseline x86-64. `Pooling` (Kernels/Pooling.swift) calls these when
// its `VectorLevel` is above generic; its plain loops are the generic level and the reference.
//
// One output row at a time, in chunks of 8 (AVX2) or 16 (AVX-512) windows: the two input rows
// are loaded as vectors (masked at the row end, so nothing past the row is read), split into
// even and odd columns, and the four window entries compared in the plain loop's order with an
// ordered `>` (AVX2: a row of 8 windows or more ends with a chunk overlapping the one before,
// which rewrites equal values; a shorter row is one masked chunk). The gradient writes each
// input row once: an input is 0 + dy of its window when argmax names it, else 0 (each argmax
// entry lies in its own window). It runs only at AVX-512 and on rows of 8 windows or more:
// elsewhere the plain loop (clear, then one add per window) was as fast or faster
// (benchmarks/README.md), so AVX2 has no gradient here.
#include <string.h>
#include "mia_pool.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#define MIA_P_AVX2 __attribute__((target("avx2,fma")))
#define MIA_P_AVX512 __attribute__((target("avx512f")))

static inline ptrdiff_t pmin(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t pmax(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }

/// Zeroes the inputs no window reads: the last column of each pooled row when the width is
/// odd, and the rows below the last window (the gradient's plain loop leaves them 0).
static void zero_unread(float *plane, ptrdiff_t h, ptrdiff_t w) {
    const ptrdiff_t oh = h / 2, ow = w / 2;
    if (w > 2 * ow)
        for (ptrdiff_t r = 0; r < 2 * oh; r++) plane[r * w + w - 1] = 0;
    if (h > 2 * oh) memset(plane + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(float));
}

// ---- AVX2: 8 windows per vector; masks are vectors of all-ones / zero lanes ----

MIA_P_AVX2 static inline __m256i first_avx2(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)pmin(pmax(n, 0), 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Lanes 0, 2, …, 14 (imm 0x88) or 1, 3, …, 15 (imm 0xDD) of the 16 floats a:b.
#define MIA_HALF_AVX2(a, b, imm) \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, imm)), 0xD8))

MIA_P_AVX2 static inline void take_avx2(__m256 *m, __m256i *best, __m256 v, __m256i at) {
    const __m256 wins = _mm256_cmp_ps(v, *m, _CMP_GT_OQ);
    *m = _mm256_blendv_ps(*m, v, wins);
    *best = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*best), _mm256_castsi256_ps(at), wins));
}

MIA_P_AVX2 static void forward_avx2(const float *x, ptrdiff_t channels, ptrdiff_t h, ptrdiff_t w, float *y,
                                    int32_t *argmax) {
    const ptrdiff_t oh = h / 2, ow = w / 2;
    const __m256i steps = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            const ptrdiff_t r0 = c * h * w + 2 * oy * w;
            float *yr = y + (c * oh + oy) * ow;
            int32_t *ar = argmax + (c * oh + oy) * ow;
            for (ptrdiff_t ox0 = 0; ox0 < ow; ox0 += 8) {
                // The last chunk ends at ow, overlapping the one before (equal values again).
                // Rows under 8 windows: one chunk, loads and stores masked at the row end.
                const ptrdiff_t ox = ow >= 8 ? pmin(ox0, ow - 8) : 0, lanes = pmin(ow, 8);
                const float *t = x + r0 + 2 * ox, *b = t + w;
                const __m256i lo = first_avx2(2 * lanes), hi = first_avx2(2 * lanes - 8);
                const __m256 t0 = lanes == 8 ? _mm256_loadu_ps(t) : _mm256_maskload_ps(t, lo);
                const __m256 t1 = lanes == 8 ? _mm256_loadu_ps(t + 8) : _mm256_maskload_ps(t + 8, hi);
                const __m256 b0 = lanes == 8 ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, lo);
                const __m256 b1 = lanes == 8 ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, hi);
                const __m256i base = _mm256_add_epi32(_mm256_set1_epi32((int)(r0 + 2 * ox)), steps);
                __m256 m = MIA_HALF_AVX2(t0, t1, 0x88);
                __m256i best = base;
                take_avx2(&m, &best, MIA_HALF_AVX2(t0, t1, 0xDD), _mm256_add_epi32(base, _mm256_set1_epi32(1)));
                take_avx2(&m, &best, MIA_HALF_AVX2(b0, b1, 0x88), _mm256_add_epi32(base, _mm256_set1_epi32((int)w)));
                take_avx2(
                    &m, &best, MIA_HALF_AVX2(b0, b1, 0xDD), _mm256_add_epi32(base, _mm256_set1_epi32((int)w + 1)));
                if (lanes == 8) {
                    _mm256_storeu_ps(yr + ox, m);
                    _mm256_storeu_si256((__m256i *)(ar + ox), best);
                } else {
                    _mm256_maskstore_ps(yr + ox, first_avx2(lanes), m);
                    _mm256_maskstore_epi32((int *)(ar + ox), first_avx2(lanes), best);
                }
            }
        }
    }
}

// ---- AVX-512: 16 windows per vector; masks are bit masks ----

static inline __mmask16 first_avx512(ptrdiff_t n) {
    return (__mmask16)(n >= 16 ? 0xffffu : n <= 0 ? 0u : (1u << n) - 1u);
}

MIA_P_AVX512 static inline void take_avx512(__m512 *m, __m512i *best, __m512 v, __m512i at) {
    const __mmask16 wins = _mm512_cmp_ps_mask(v, *m, _CMP_GT_OQ);
    *m = _mm512_mask_mov_ps(*m, wins, v);
    *best = _mm512_mask_mov_epi32(*best, wins, at);
}

MIA_P_AVX512 static void forward_avx512(const float *x, ptrdiff_t channels, ptrdiff_t h, ptrdiff_t w, float *y,
                                        int32_t *argmax) {
    const ptrdiff_t oh = h / 2, ow = w / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            const ptrdiff_t r0 = c * h * w + 2 * oy * w;
            float *yr = y + (c * oh + oy) * ow;
            int32_t *ar = argmax + (c * oh + oy) * ow;
            for (ptrdiff_t ox = 0; ox < ow; ox += 16) {
                const ptrdiff_t lanes = pmin(16, ow - ox);
                const __mmask16 lo = first_avx512(2 * lanes), hi = first_avx512(2 * lanes - 16);
                const float *t = x + r0 + 2 * ox, *b = t + w;
                const __m512 t0 = _mm512_maskz_loadu_ps(lo, t), t1 = _mm512_maskz_loadu_ps(hi, t + 16);
                const __m512 b0 = _mm512_maskz_loadu_ps(lo, b), b1 = _mm512_maskz_loadu_ps(hi, b + 16);
                const __m512i base = _mm512_add_epi32(_mm512_set1_epi32((int)(r0 + 2 * ox)), even);
                __m512 m = _mm512_permutex2var_ps(t0, even, t1);
                __m512i best = base;
                take_avx512(
                    &m, &best, _mm512_permutex2var_ps(t0, odd, t1), _mm512_add_epi32(base, _mm512_set1_epi32(1)));
                take_avx512(
                    &m, &best, _mm512_permutex2var_ps(b0, even, b1), _mm512_add_epi32(base, _mm512_set1_epi32((int)w)));
                take_avx512(&m, &best, _mm512_permutex2var_ps(b0, odd, b1),
                            _mm512_add_epi32(base, _mm512_set1_epi32((int)w + 1)));
                const __mmask16 store = first_avx512(lanes);
                _mm512_mask_storeu_ps(yr + ox, store, m);
                _mm512_mask_storeu_epi32(ar + ox, store, best);
            }
        }
    }
}

MIA_P_AVX512 static void backward_avx512(const float *dy, const int32_t *argmax, ptrdiff_t channels, ptrdiff_t h,
                                         ptrdiff_t w, float *dx) {
    const ptrdiff_t oh = h / 2, ow = w / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    // Interleaves a (lanes 0-15) with b (16-31): a0 b0 a1 b1 …, the first and second halves.
    const __m512i zip_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i zip_hi = _mm512_add_epi32(zip_lo, _mm512_set1_epi32(8));
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            const ptrdiff_t r0 = c * h * w + 2 * oy * w;
            const float *dr = dy + (c * oh + oy) * ow;
            const int32_t *ar = argmax + (c * oh + oy) * ow;
            for (ptrdiff_t ox = 0; ox < ow; ox += 16) {
                const ptrdiff_t lanes = pmin(16, ow - ox);
                const __mmask16 in = first_avx512(lanes);
                const __m512i a = _mm512_maskz_loadu_epi32(in, ar + ox);
                const __m512 d = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(in, dr + ox));
                const __m512i base = _mm512_add_epi32(_mm512_set1_epi32((int)(r0 + 2 * ox)), even);
#define MIA_PICK(off) \
    _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(base, _mm512_set1_epi32(off))), d)
                const __m512 tl = MIA_PICK(0), tr = MIA_PICK(1), bl = MIA_PICK((int)w), br = MIA_PICK((int)w + 1);
#undef MIA_PICK
                const __mmask16 lo = first_avx512(2 * lanes), hi = first_avx512(2 * lanes - 16);
                float *t = dx + r0 + 2 * ox, *b = t + w;
                _mm512_mask_storeu_ps(t, lo, _mm512_permutex2var_ps(tl, zip_lo, tr));
                _mm512_mask_storeu_ps(t + 16, hi, _mm512_permutex2var_ps(tl, zip_hi, tr));
                _mm512_mask_storeu_ps(b, lo, _mm512_permutex2var_ps(bl, zip_lo, br));
                _mm512_mask_storeu_ps(b + 16, hi, _mm512_permutex2var_ps(bl, zip_hi, br));
            }
        }
        zero_unread(dx + c * h * w, h, w);
    }
}
#endif

int mia_maxpool2_forward(int level, const float *x, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
                         float *y, int32_t *argmax) {
#if defined(__x86_64__)
    if (height >= 2 && width >= 2) {
        if (level == MIA_KERNELS_AVX512) { forward_avx512(x, channels, height, width, y, argmax); return 1; }
        if (level == MIA_KERNELS_AVX2) { forward_avx2(x, channels, height, width, y, argmax); return 1; }
    }
#endif
    (void)level, (void)x, (void)channels, (void)height, (void)width, (void)y, (void)argmax;
    return 0;
}

int mia_maxpool2_backward(int level, const float *dy, const int32_t *argmax, ptrdiff_t channels, ptrdiff_t height,
                          ptrdiff_t width, float *dx) {
#if defined(__x86_64__)
    if (height >= 2 && width / 2 >= 8 && level == MIA_KERNELS_AVX512) {
        backward_avx512(dy, argmax, channels, height, width, dx);
        return 1;
    }
#endif
    (void)level, (void)dy, (void)argmax, (void)channels, (void)height, (void)width, (void)dx;
    return 0;
}
