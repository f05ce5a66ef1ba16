// The AVX2 and AVX-512 versions of stride-1 im2col and col2im, each function compiled for its
// own instruction set (target attributes), so the rest of the binary stays baseline x86-64.
// Only called when cpuid says the CPU and the OS support them (Kernels/VectorKernels.swift).
//
// im2col: per patch row and output row, one vector load per 8 or 16 outputs, masked so that
// lanes in the padding read nothing and come out as zeros, and one store (AVX2: a row of 8 or
// more ends with a full vector overlapping the one before, which rewrites equal values;
// AVX-512: a masked store).
// col2im, AVX-512: "gathering" instead of the plain scatter: each vector of 16 inputs of one
// image row starts at zero and adds, for (ky, kx) in order, the one `dcol` entry each input
// has for that kernel position (masked-off lanes keep their value). That is the plain loop's
// order per input, so the sums are bit-identical; each input is written once, and 4 rows are
// summed side by side so the chains of adds overlap.
// col2im, AVX2: the plain scatter in 8-wide vectors, masked at the row ends.
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include "mia_kernels.h"

static inline ptrdiff_t mia_out_h(const mia_window *g) { return g->height + 2 * g->padding - g->kernel + 1; }
static inline ptrdiff_t mia_out_w(const mia_window *g) { return g->width + 2 * g->padding - g->kernel + 1; }
static inline ptrdiff_t mia_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t mia_max(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }

void mia_im2col_s1_avx2(const float *x, const mia_window *g, float *col);
void mia_col2im_s1_avx2(const float *dcol, const mia_window *g, float *dx);
void mia_im2col_s1_avx512(const float *x, const mia_window *g, float *col);
void mia_col2im_s1_avx512(const float *dcol, const mia_window *g, float *dx);

#define MIA_AVX2 __attribute__((target("avx2,fma")))
#define MIA_AVX512 __attribute__((target("avx512f")))
/// col2im sums this many image rows at once: independent chains of adds, so the adds of one
/// input (which must stay in order) overlap with those of the others.
#define MIA_ROWS 4

// ---- AVX2: 8 lanes; masks are vectors of all-ones / zero lanes ----

/// Lanes t with a <= t < b.
MIA_AVX2 static inline __m256i lanes_avx2(ptrdiff_t a, ptrdiff_t b) {
    const __m256i t = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i below_a = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)a), t);
    const __m256i below_b = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)b), t);
    return _mm256_andnot_si256(below_a, below_b);
}

MIA_AVX2 void mia_im2col_s1_avx2(const float *x, const mia_window *g, float *col) {
    const ptrdiff_t h = g->height, w = g->width, k = g->kernel, p = g->padding;
    const ptrdiff_t oh = mia_out_h(g), ow = mia_out_w(g);
    float *dst = col;
    for (ptrdiff_t c = 0; c < g->channels; c++) {
        const float *plane = x + c * h * w;
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            // Output rows whose input row oy - p + ky lies inside [0, h); the others are zeros.
            const ptrdiff_t ylo = mia_min(oh, mia_max(0, p - ky)), yhi = mia_max(ylo, mia_min(oh, h + p - ky));
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                // Output columns whose input column ox - p + kx lies inside [0, w).
                const ptrdiff_t lo = mia_min(ow, mia_max(0, p - kx));
                const ptrdiff_t hi = mia_max(lo, mia_min(ow, w + p - kx));
                const float *src = plane + (ky - p) * w + kx - p;
                for (ptrdiff_t j0 = 0; j0 < ow; j0 += 8) {
                    // The last chunk of a row of 8 or more starts at ow - 8 (overlapping).
                    const ptrdiff_t j = ow >= 8 ? mia_min(j0, ow - 8) : 0;
                    const ptrdiff_t lanes = mia_min(8, ow - j);
                    // The masks of this column chunk are the same in every output row.
                    const ptrdiff_t a = mia_max(0, lo - j), b = mia_max(a, mia_min(lanes, hi - j));
                    const __m256i load = lanes_avx2(a, b), store = lanes_avx2(0, lanes);
                    const int full_load = a == 0 && b == 8, full_store = lanes == 8;
                    for (ptrdiff_t oy = 0; oy < oh; oy++) {
                        __m256 v = _mm256_setzero_ps();
                        if (oy >= ylo && oy < yhi) {
                            const float *s = src + oy * w + j;
                            v = full_load ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, load);
                        }
                        if (full_store) _mm256_storeu_ps(dst + oy * ow + j, v);
                        else _mm256_maskstore_ps(dst + oy * ow + j, store, v);
                    }
                }
                dst += oh * ow;
            }
        }
    }
}

MIA_AVX2 void mia_col2im_s1_avx2(const float *dcol, const mia_window *g, float *dx) {
    const ptrdiff_t h = g->height, w = g->width, k = g->kernel, p = g->padding;
    const ptrdiff_t oh = mia_out_h(g), ow = mia_out_w(g);
    for (ptrdiff_t i = 0; i < g->channels * h * w; i++) dx[i] = 0;
    const float *src = dcol;
    for (ptrdiff_t c = 0; c < g->channels; c++) {
        float *plane = dx + c * h * w;
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            const ptrdiff_t ylo = mia_min(oh, mia_max(0, p - ky)), yhi = mia_max(ylo, mia_min(oh, h + p - ky));
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                const ptrdiff_t lo = mia_min(ow, mia_max(0, p - kx));
                const ptrdiff_t hi = mia_max(lo, mia_min(ow, w + p - kx));
                float *d = plane + (ky - p) * w + kx - p;
                for (ptrdiff_t j = lo; j < hi; j += 8) {
                    const ptrdiff_t lanes = mia_min(8, hi - j);
                    const __m256i m = lanes_avx2(0, lanes);
                    for (ptrdiff_t oy = ylo; oy < yhi; oy++) {
                        float *t = d + oy * w + j;
                        const float *s = src + oy * ow + j;
                        if (lanes == 8) _mm256_storeu_ps(t, _mm256_add_ps(_mm256_loadu_ps(t), _mm256_loadu_ps(s)));
                        else _mm256_maskstore_ps(t, m, _mm256_add_ps(_mm256_maskload_ps(t, m), _mm256_maskload_ps(s, m)));
                    }
                }
                src += oh * ow;
            }
        }
    }
}

// ---- AVX-512: 16 lanes; masks are bit masks ----

static inline __mmask16 lanes_avx512(ptrdiff_t a, ptrdiff_t b) {
    return (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
}

MIA_AVX512 void mia_im2col_s1_avx512(const float *x, const mia_window *g, float *col) {
    const ptrdiff_t h = g->height, w = g->width, k = g->kernel, p = g->padding;
    const ptrdiff_t oh = mia_out_h(g), ow = mia_out_w(g);
    float *dst = col;
    for (ptrdiff_t c = 0; c < g->channels; c++) {
        const float *plane = x + c * h * w;
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            const ptrdiff_t ylo = mia_min(oh, mia_max(0, p - ky)), yhi = mia_max(ylo, mia_min(oh, h + p - ky));
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                const ptrdiff_t lo = mia_min(ow, mia_max(0, p - kx));
                const ptrdiff_t hi = mia_max(lo, mia_min(ow, w + p - kx));
                const float *src = plane + (ky - p) * w + kx - p;
                for (ptrdiff_t j = 0; j < ow; j += 16) {
                    const ptrdiff_t lanes = mia_min(16, ow - j);
                    const ptrdiff_t a = mia_max(0, lo - j), b = mia_max(a, mia_min(lanes, hi - j));
                    const __mmask16 load = lanes_avx512(a, b), store = lanes_avx512(0, lanes);
                    const __m512 zero = _mm512_setzero_ps();
                    ptrdiff_t oy = 0;
                    for (; oy < ylo; oy++) _mm512_mask_storeu_ps(dst + oy * ow + j, store, zero);
                    for (; oy < yhi; oy++) _mm512_mask_storeu_ps(dst + oy * ow + j, store, _mm512_maskz_loadu_ps(load, src + oy * w + j));
                    for (; oy < oh; oy++) _mm512_mask_storeu_ps(dst + oy * ow + j, store, zero);
                }
                dst += oh * ow;
            }
        }
    }
}

MIA_AVX512 void mia_col2im_s1_avx512(const float *dcol, const mia_window *g, float *dx) {
    const ptrdiff_t h = g->height, w = g->width, k = g->kernel, p = g->padding;
    const ptrdiff_t oh = mia_out_h(g), ow = mia_out_w(g);
    for (ptrdiff_t c = 0; c < g->channels; c++) {
        const float *dc = dcol + c * k * k * oh * ow;
        float *plane = dx + c * h * w;
        for (ptrdiff_t j = 0; j < w; j += 16) {
            const ptrdiff_t lanes = mia_min(16, w - j);
            for (ptrdiff_t iy0 = 0; iy0 < h; iy0 += MIA_ROWS) {
                __m512 acc[MIA_ROWS];
                for (int r = 0; r < MIA_ROWS; r++) acc[r] = _mm512_setzero_ps();
                for (ptrdiff_t ky = 0; ky < k; ky++) {
                    for (ptrdiff_t kx = 0; kx < k; kx++) {
                        const ptrdiff_t a = mia_max(0, kx - p - j), b = mia_min(lanes, ow + kx - p - j);
                        if (b <= a) continue;
                        const __mmask16 m = lanes_avx512(a, b);
                        const float *src = dc + (ky * k + kx) * oh * ow + j + p - kx;
                        for (int r = 0; r < MIA_ROWS; r++) {
                            const ptrdiff_t oy = iy0 + r + p - ky;
                            if (iy0 + r >= h || oy < 0 || oy >= oh) continue;
                            acc[r] = _mm512_mask_add_ps(acc[r], m, acc[r], _mm512_maskz_loadu_ps(m, src + oy * ow));
                        }
                    }
                }
                const __mmask16 store = lanes_avx512(0, lanes);
                for (int r = 0; r < MIA_ROWS && iy0 + r < h; r++) _mm512_mask_storeu_ps(plane + (iy0 + r) * w + j, store, acc[r]);
            }
        }
    }
}
#endif
