// ReLU after a convolution (bias per row, then relu, in place) and ReLU's gradient, in AVX2 and
// AVX-512 (contract in mia_pool.h), each function compiled for its own instruction set.
// `Pointwise` (Kernels/Activation.swift) calls these above the generic level; its Swift loops
// are the generic level and the reference. One add and one ordered comparison per element, as
// the Swift code: v < 0 (false for NaN and -0) picks 0, y > 0 (false for NaN) keeps dy.
#include <stdlib.h>
#include "mia_pool.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#define MIA_R_AVX2 __attribute__((target("avx2,fma")))
#define MIA_R_AVX512 __attribute__((target("avx512f")))

MIA_R_AVX2 static inline __m256i first_r_avx2(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

MIA_R_AVX2 static inline __m256 add_relu_avx2(__m256 y, __m256 b) {
    const __m256 v = _mm256_add_ps(y, b);
    return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ), v);
}

/// Runs over the rows as one flat array (cols >= 8): the vector that crosses a row end takes each
/// lane's own row's bias, so only the last row ends with a masked store (a masked store at each
/// row end would stall the next row's load).
MIA_R_AVX2 static void add_row_bias_relu_avx2(float *y, ptrdiff_t rows, ptrdiff_t cols, const float *bias) {
    const ptrdiff_t n = rows * cols;
    ptrdiff_t i = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t end = (r + 1) * cols;
        const __m256 b = _mm256_set1_ps(bias[r]);
        for (; i + 8 <= end; i += 8) _mm256_storeu_ps(y + i, add_relu_avx2(_mm256_loadu_ps(y + i), b));
        if (i == end) continue;
        const __m256i mine = first_r_avx2(end - i);
        if (r + 1 < rows) {
            const __m256 both = _mm256_blendv_ps(_mm256_set1_ps(bias[r + 1]), b, _mm256_castsi256_ps(mine));
            _mm256_storeu_ps(y + i, add_relu_avx2(_mm256_loadu_ps(y + i), both));
            i += 8;
        } else {
            _mm256_maskstore_ps(y + i, mine, add_relu_avx2(_mm256_maskload_ps(y + i, mine), b));
            i = n;
        }
    }
}

MIA_R_AVX2 static inline __m256 keep_positive_avx2(__m256 dy, __m256 y) {
    return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ), dy);
}

MIA_R_AVX2 static void relu_backward_avx2(float *dy, const float *y, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(dy + i, keep_positive_avx2(_mm256_loadu_ps(dy + i), _mm256_loadu_ps(y + i)));
    if (i < count) {
        const __m256i m = first_r_avx2(count - i);
        _mm256_maskstore_ps(dy + i, m, keep_positive_avx2(_mm256_maskload_ps(dy + i, m), _mm256_maskload_ps(y + i, m)));
    }
}

static inline __mmask16 first_r_avx512(ptrdiff_t n) { return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u); }

MIA_R_AVX512 static inline __m512 add_relu_avx512(__m512 y, __m512 b) {
    const __m512 v = _mm512_add_ps(y, b);
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_setzero_ps());
}

/// As the AVX2 version, 16 lanes (cols >= 16).
MIA_R_AVX512 static void add_row_bias_relu_avx512(float *y, ptrdiff_t rows, ptrdiff_t cols, const float *bias) {
    const ptrdiff_t n = rows * cols;
    ptrdiff_t i = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t end = (r + 1) * cols;
        const __m512 b = _mm512_set1_ps(bias[r]);
        for (; i + 16 <= end; i += 16) _mm512_storeu_ps(y + i, add_relu_avx512(_mm512_loadu_ps(y + i), b));
        if (i == end) continue;
        const __mmask16 mine = first_r_avx512(end - i);
        if (r + 1 < rows) {
            const __m512 both = _mm512_mask_mov_ps(_mm512_set1_ps(bias[r + 1]), mine, b);
            _mm512_storeu_ps(y + i, add_relu_avx512(_mm512_loadu_ps(y + i), both));
            i += 16;
        } else {
            _mm512_mask_storeu_ps(y + i, mine, add_relu_avx512(_mm512_maskz_loadu_ps(mine, y + i), b));
            i = n;
        }
    }
}

MIA_R_AVX512 static inline __m512 keep_positive_avx512(__m512 dy, __m512 y) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ), dy);
}

MIA_R_AVX512 static void relu_backward_avx512(float *dy, const float *y, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm512_storeu_ps(dy + i, keep_positive_avx512(_mm512_loadu_ps(dy + i), _mm512_loadu_ps(y + i)));
    if (i < count) {
        const __mmask16 m = first_r_avx512(count - i);
        _mm512_mask_storeu_ps(dy + i, m, keep_positive_avx512(_mm512_maskz_loadu_ps(m, dy + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}
#endif

int mia_add_row_bias_relu(int level, float *y, ptrdiff_t rows, ptrdiff_t cols, const float *bias) {
#if defined(__x86_64__)
    if (level == MIA_KERNELS_AVX512 && cols >= 16) { add_row_bias_relu_avx512(y, rows, cols, bias); return 1; }
    if (level >= MIA_KERNELS_AVX2 && cols >= 8) { add_row_bias_relu_avx2(y, rows, cols, bias); return 1; }
#endif
    (void)level, (void)y, (void)rows, (void)cols, (void)bias;
    return 0;
}

void mia_relu_backward(int level, float *dy, const float *y, ptrdiff_t count) {
#if defined(__x86_64__)
    if (level == MIA_KERNELS_AVX512) { relu_backward_avx512(dy, y, count); return; }
    if (level == MIA_KERNELS_AVX2) { relu_backward_avx2(dy, y, count); return; }
#endif
    (void)level, (void)dy, (void)y, (void)count;
    abort();
}
