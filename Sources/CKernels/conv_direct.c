// Direct stride-1 convolution of one image (forward, filter gradient, input gradient) for thin
// layers, where im2col + a small GEMM spends its time copying and packing (LeNet-5's conv1 and
// conv2). The body (conv_direct_body.h) is compiled four times: plain C (one lane, `fmaf`, a
// library call on a CPU without FMA), the same with the FMA instruction, AVX2 + FMA (8 lanes)
// and AVX-512 F (16 lanes), each with its own target attribute, so the binary stays baseline
// x86-64; `mia_conv_*` (mia_conv.h) pick one by the level. The forward runs its vectors along a
// row, or across output channels where those fill more lanes (LeNet-5's conv2: 16 channels,
// rows of 10); the filter gradient along rows for fewer than 8 output channels, else across
// them. Which way the forward and the filter gradient run changes no element's chain of
// operations, so never a bit; the input gradient's order itself depends on the shape (along
// rows for fewer than 8 output channels, else 16-lane groups across them: mia_conv.h).
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mia_conv.h"

static inline ptrdiff_t mia_cmin(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t mia_cmax(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }
#define mia_imin(a, b) ((a) < (b) ? (a) : (b))

/// Floats a padded buffer may be read past its end by one full vector (16 lanes) plus a kernel row.
#define MIA_SLACK 64
/// From this many output channels on, the filter gradient runs across channels (mia_conv.h).
#define MIA_CONV_OC_MIN 8
/// The most rows an input-gradient block across channels takes (its lane buffer's size).
#define MIA_DXOC_RB_MAX 4
#define MIA_DXOC_CB_MAX 8

// ---- plain C: one lane; 16 scalar accumulators per filter-gradient group ----
#define SUFFIX(name) name##_generic
#define ATTR
#include "conv_direct_scalar.h"
#include "conv_direct_undef.h"

#if defined(__x86_64__)
// ---- plain C with the FMA instruction (the generic level on a CPU that has it): same code ----
#define SUFFIX(name) name##_generic_fma
#define ATTR __attribute__((target("fma")))
#include "conv_direct_scalar.h"
#include "conv_direct_undef.h"
#endif

#if defined(__x86_64__)
#include <immintrin.h>

// ---- AVX2 + FMA: 8 lanes; a group of 16 is two vectors (lanes 0-7, 8-15) ----
#define MIA_T_AVX2 __attribute__((target("avx2,fma")))
MIA_T_AVX2 static inline __m256i first_lanes_avx2(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
MIA_T_AVX2 static inline void store_n_avx2(float *p, __m256 v, ptrdiff_t n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, first_lanes_avx2(n), v);
}
MIA_T_AVX2 static inline __m256 load_n_avx2(const float *p, ptrdiff_t n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first_lanes_avx2(n));
}
/// The 128-bit tail of the canonical sum: lanes (0..3) + (lanes 4..7 moved down), then pairs.
MIA_T_AVX2 static inline float sum8_tail(__m256 r8) {
    const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
    const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
    return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}
MIA_T_AVX2 static inline float sum16_avx2(const __m256 *a) { return sum8_tail(_mm256_add_ps(a[0], a[1])); }
#define SUFFIX(name) name##_avx2
#define ATTR MIA_T_AVX2
#define VEC __m256
#define VL 8
#define V_ZERO _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_LOAD_N(p, n) load_n_avx2(p, n)
#define V_BCAST(x) _mm256_set1_ps(x)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_STORE_N(p, v, n) store_n_avx2(p, v, n)
#define V_SUM16(acc) sum16_avx2(acc)
#define FWDOC_OV 2
#define DWOC_OV 2
#define DWOC_TB 5
#define FWDOC_P 6
#define FWD_OB 6
#define FWD_RB 2
#define DX_CB 6
#define DX_RB 2
#define DXOC_CB 3
#define DXOC_RB 2
#define DW_OB 3
#define DW_KB 3
#include "conv_direct_body.h"
#include "conv_direct_undef.h"

// ---- AVX-512 F: 16 lanes, bit masks ----
#define MIA_T_AVX512 __attribute__((target("avx512f")))
static inline __mmask16 first_lanes_avx512(ptrdiff_t n) { return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u); }
MIA_T_AVX512 static inline float sum16_avx512(const __m512 *a) {
    const __m256 lo = _mm512_castps512_ps256(a[0]);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[0]), 1));
    const __m256 r8 = _mm256_add_ps(lo, hi);
    const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
    const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
    return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}
/// The canonical sums of 16 accumulators a[0..15] at once, out[m] = V_SUM16(a[m]): the same
/// adds as sum16_avx512, each with the lower lanes as its first operand, on transposed data.
MIA_T_AVX512 static inline void sum16x16_avx512(const __m512 *a, float *out) {
    __m512 b[8], c4[4], d[2];
    for (int p = 0; p < 8; p++)  // lanes l + 8 onto l: [a_i r8 | a_j r8]
        b[p] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * p], a[2 * p + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * p], a[2 * p + 1], 0xEE));
    for (int p = 0; p < 4; p++)  // lanes l + 4 onto l: quarter q holds a_{4p+q}'s r4
        c4[p] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * p], b[2 * p + 1], 0x88),
                              _mm512_shuffle_f32x4(b[2 * p], b[2 * p + 1], 0xDD));
    for (int p = 0; p < 2; p++)  // lanes l + 2 onto l, within each quarter
        d[p] = _mm512_add_ps(_mm512_shuffle_ps(c4[2 * p], c4[2 * p + 1], 0x44),
                             _mm512_shuffle_ps(c4[2 * p], c4[2 * p + 1], 0xEE));
    // lane 1 onto lane 0: element 4q + e holds a_{4e+q}'s sum
    const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_ps(out, _mm512_permutexvar_ps(idx, e));
}
#define SUFFIX(name) name##_avx512
#define ATTR MIA_T_AVX512
#define VEC __m512
#define VL 16
#define V_ZERO _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_LOAD_N(p, n) _mm512_maskz_loadu_ps(first_lanes_avx512(n), p)
#define V_BCAST(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_STORE_N(p, v, n) _mm512_mask_storeu_ps(p, first_lanes_avx512(n), v)
#define V_FMA_N(a, b, c, n) _mm512_mask3_fmadd_ps(a, b, c, first_lanes_avx512(n))
#define V_SUM16(acc) sum16_avx512(acc)
#define V_SUM16X16(acc, out) sum16x16_avx512(acc, out)
#define FWDOC_OV 1
#define DWOC_OV 1
#define DWOC_TB 13
#define FWDOC_P 12
#define FWD_OB 8
#define FWD_RB 2
#define DX_CB 8
#define DX_RB 2
#define DXOC_CB 6
#define DXOC_RB 2
#define DW_OB 4
#define DW_KB 5
#include "conv_direct_body.h"
#endif

// ---- padding and the entries ----

/// Output channels rounded up to 16: the row length of the transposed output gradient.
static ptrdiff_t padded_cout(ptrdiff_t cout) { return (cout + 15) / 16 * 16; }

/// Floats of the zero-padded input (with its slack): the transposed dz follows it.
static ptrdiff_t padded_input_size(const mia_window *g) {
    return g->channels * (g->height + 2 * g->padding) * (g->width + 2 * g->padding) + MIA_SLACK;
}

/// Floats of the input gradient's lane buffer (across channels): MIA_DXOC_CB_MAX ·
/// MIA_DXOC_RB_MAX rows of the width rounded up to 16, 16 floats per element.
static ptrdiff_t dxoc_lanes_size(const mia_window *g) {
    return MIA_DXOC_CB_MAX * MIA_DXOC_RB_MAX * ((g->width + 15) / 16 * 16) * 16;
}

size_t mia_conv_scratch(const mia_window *g, ptrdiff_t cout) {
    const ptrdiff_t k = g->kernel, coutp = padded_cout(cout);
    const ptrdiff_t oh = g->height + 2 * g->padding - k + 1, ow = g->width + 2 * g->padding - k + 1;
    // After the padded input: dz transposed (the gradients across channels), w transposed (the
    // forward across channels, and the input gradient across channels after dz), the input
    // gradient's lane buffer.
    const ptrdiff_t across = cout >= MIA_CONV_OC_MIN;
    const ptrdiff_t dzt = across ? oh * ow * coutp : 0;
    const ptrdiff_t wt = g->channels * k * k * coutp;
    const ptrdiff_t xp = padded_input_size(g) + dzt + wt + (across ? dxoc_lanes_size(g) : 0);
    const ptrdiff_t dzp = cout * (g->height + k - 1) * (g->width + k - 1) + MIA_SLACK;
    return (size_t)(xp > dzp ? xp : dzp);
}

int mia_conv_supported(const mia_window *g, ptrdiff_t cout) {
    return g->stride == 1 && g->padding >= 0 && g->padding < g->kernel && g->kernel >= 1 && cout >= 1 &&
           g->channels >= 1 && g->height + 2 * g->padding >= g->kernel && g->width + 2 * g->padding >= g->kernel;
}

/// Copies `src` [planes, h, w] into `dst` [planes, h + 2 pad, w + 2 pad] with zeros around, and
/// zeros the slack after it. Rows are short (10 to 28 floats in LeNet-5): plain loops, not
/// one library call per row.
static void pad_planes(const float *src, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, ptrdiff_t pad, float *dst) {
    const ptrdiff_t hp = h + 2 * pad, wp = w + 2 * pad;
    if (pad == 0) {
        memcpy(dst, src, (size_t)(planes * h * w) * sizeof(float));
        memset(dst + planes * h * w, 0, MIA_SLACK * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)(planes * hp * wp + MIA_SLACK) * sizeof(float));
    for (ptrdiff_t c = 0; c < planes; c++)
        for (ptrdiff_t y = 0; y < h; y++) {
            float *d = dst + c * hp * wp + (y + pad) * wp + pad;
            const float *s = src + (c * h + y) * w;
            for (ptrdiff_t x = 0; x < w; x++) d[x] = s[x];
        }
}

/// True when the plain level may use the FMA instruction for `fmaf` (the same rounding as the
/// library call, which emulates it on CPUs without one).
static int have_fma(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// Calls the level's variant of a body function: name_avx512, name_avx2, or the plain C one
/// (with the FMA instruction where the CPU has it).
#if defined(__x86_64__)
#define MIA_AT_LEVEL(level, name, ...)                                                                                \
    do {                                                                                                              \
        if ((level) == MIA_KERNELS_AVX512) name##_avx512(__VA_ARGS__);                                               \
        else if ((level) == MIA_KERNELS_AVX2) name##_avx2(__VA_ARGS__);                                              \
        else if (have_fma()) name##_generic_fma(__VA_ARGS__);                                                         \
        else name##_generic(__VA_ARGS__);                                                                             \
    } while (0)
#else
#define MIA_AT_LEVEL(level, name, ...) name##_generic(__VA_ARGS__)
#endif

static void check(int level, const mia_window *g, ptrdiff_t cout) {
    if (!mia_conv_supported(g, cout)) abort();
#if defined(__x86_64__)
    if (level < MIA_KERNELS_GENERIC || level > MIA_KERNELS_AVX512) abort();
#else
    if (level != MIA_KERNELS_GENERIC) abort();
#endif
}

/// dst [n, coutp] = src [rows, n] transposed, zeros in rows past `rows` (w [cout, patch] to
/// [patch, coutp], dz [cout, oh·ow] to [oh·ow, coutp]).
static void transpose_padded(const float *src, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t coutp, float *dst) {
    for (ptrdiff_t t = 0; t < n; t++) {
        for (ptrdiff_t r = 0; r < rows; r++) dst[t * coutp + r] = src[r * n + t];
        for (ptrdiff_t r = rows; r < coutp; r++) dst[t * coutp + r] = 0;
    }
}

/// The input as the kernels across output channels read it: x itself without padding (they
/// read single floats, never past the last one: LeNet-5's conv2 copied 4.7 KB per image for
/// nothing, 1.2 % of W1's samples), else x zero-padded into `scratch`.
static const float *padded_or_not(const float *x, const mia_window *g, float *scratch) {
    if (g->padding == 0) return x;
    pad_planes(x, g->channels, g->height, g->width, g->padding, scratch);
    return scratch;
}

/// Lanes doing useful work when n elements run in vectors of vl lanes, per 1000.
static ptrdiff_t lane_use(ptrdiff_t n, ptrdiff_t vl) { return n * 1000 / ((n + vl - 1) / vl * vl); }

void mia_conv_forward_images(int level, const float *x, ptrdiff_t images, const mia_window *g, ptrdiff_t cout,
                             const float *w, float *scratch, float *y) {
    check(level, g, cout);
    const ptrdiff_t k = g->kernel, ow = g->width + 2 * g->padding - k + 1;
    const ptrdiff_t in = g->channels * g->height * g->width, out = cout * (g->height + 2 * g->padding - k + 1) * ow;
#if defined(__x86_64__)
    // Vectors across output channels where they fill more lanes than across a row (the same
    // chains either way, so the same bits): w transposed to [patch, coutp] after the input,
    // once for all the images (it cost 0.6 µs per call for LeNet-5's conv2).
    const ptrdiff_t vl = level == MIA_KERNELS_AVX512 ? 16 : 8;
    if (level >= MIA_KERNELS_AVX2 && lane_use(cout, vl) > lane_use(ow, vl)) {
        const ptrdiff_t coutp = padded_cout(cout);
        float *wt = scratch + padded_input_size(g);
        transpose_padded(w, cout, g->channels * k * k, coutp, wt);
        for (ptrdiff_t i = 0; i < images; i++) {
            const float *xp = padded_or_not(x + i * in, g, scratch);
            if (level == MIA_KERNELS_AVX512) mia_conv_fwdoc_avx512(xp, g, cout, wt, coutp, y + i * out);
            else mia_conv_fwdoc_avx2(xp, g, cout, wt, coutp, y + i * out);
        }
        return;
    }
#endif
    for (ptrdiff_t i = 0; i < images; i++) {
        pad_planes(x + i * in, g->channels, g->height, g->width, g->padding, scratch);
        MIA_AT_LEVEL(level, mia_conv_fwd, scratch, g, cout, w, y + i * out);
    }
}

void mia_conv_forward(int level, const float *x, const mia_window *g, ptrdiff_t cout, const float *w, float *scratch,
                      float *y) {
    mia_conv_forward_images(level, x, 1, g, cout, w, scratch, y);
}

void mia_conv_backward_images(int level, const float *x, const float *dz, ptrdiff_t images, const mia_window *g,
                               ptrdiff_t cout, const float *w, float *scratch, float *dw, float *dx) {
    check(level, g, cout);
    const ptrdiff_t k = g->kernel, patch = g->channels * k * k;
    const ptrdiff_t oh = g->height + 2 * g->padding - k + 1, ow = g->width + 2 * g->padding - k + 1;
    const ptrdiff_t in = g->channels * g->height * g->width, plane = oh * ow, out = cout * plane;
    if (cout >= MIA_CONV_OC_MIN) {
        // Across output channels: dz transposed once per image for both gradients, w once.
        const ptrdiff_t coutp = padded_cout(cout);
        float *dzt = scratch + padded_input_size(g), *wt = dzt + plane * coutp, *lanes = wt + patch * coutp;
        if (dx) {  // w [cout, (c, ky, kx)] to [(ky, kx), c, coutp]
            const ptrdiff_t kk = k * k;
            for (ptrdiff_t c = 0; c < g->channels; c++)
                for (ptrdiff_t t = 0; t < kk; t++) {
                    float *d = wt + (t * g->channels + c) * coutp;
                    for (ptrdiff_t oc = 0; oc < cout; oc++) d[oc] = w[oc * patch + c * kk + t];
                    for (ptrdiff_t oc = cout; oc < coutp; oc++) d[oc] = 0;
                }
        }
        for (ptrdiff_t i = 0; i < images; i++) {
            transpose_padded(dz + i * out, cout, plane, coutp, dzt);
            if (dw) MIA_AT_LEVEL(level, mia_conv_dwoc, padded_or_not(x + i * in, g, scratch), g, cout, dzt, coutp, dw);
            if (!dx) continue;
            MIA_AT_LEVEL(level, mia_conv_dxoc, dzt, g, wt, coutp, lanes, dx + i * in);
        }
        return;
    }
    for (ptrdiff_t i = 0; i < images; i++) {
        const float *dzi = dz + i * out;
        if (dw) {
            pad_planes(x + i * in, g->channels, g->height, g->width, g->padding, scratch);
            MIA_AT_LEVEL(level, mia_conv_dw, scratch, g, cout, dzi, dw);
        }
        if (!dx) continue;
        pad_planes(dzi, cout, oh, ow, k - 1 - g->padding, scratch);
        MIA_AT_LEVEL(level, mia_conv_dx, scratch, g, cout, w, dx + i * in);
    }
}

void mia_conv_filter_grad(int level, const float *x, const mia_window *g, ptrdiff_t cout, const float *dz,
                          float *scratch, float *dw) {
    mia_conv_backward_images(level, x, dz, 1, g, cout, NULL, scratch, dw, NULL);
}

void mia_conv_input_grad(int level, const float *dz, const mia_window *g, ptrdiff_t cout, const float *w,
                         float *scratch, float *dx) {
    mia_conv_backward_images(level, NULL, dz, 1, g, cout, w, scratch, NULL, dx);
}
