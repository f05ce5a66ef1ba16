#include "mia_peak.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Twelve named accumulators, not an array (an array indexed in a loop may live in memory), and
// not more: AVX2 has 16 ymm registers and the chains and the constant must all stay in them.
// Twelve covers latency × pipes on the CPUs this runs on (4 cycles × 2 pipes on Zen and Intel).
// The empty asm makes each iteration's results observable, so the compiler cannot fold the loop.
#define MIA_CHAINS(T, SET, FMA, STORE, LANES)                                                   \
    T x0 = SET(0), x1 = SET(1), x2 = SET(2), x3 = SET(3), x4 = SET(4), x5 = SET(5), x6 = SET(6), \
      x7 = SET(7), x8 = SET(8), x9 = SET(9), x10 = SET(10), x11 = SET(11);                      \
    const T h = SET(0.5f);                                                                     \
    for (long i = 0; i < iterations; i++) {                                                    \
        x0 = FMA(x0, h, h); x1 = FMA(x1, h, h); x2 = FMA(x2, h, h); x3 = FMA(x3, h, h);         \
        x4 = FMA(x4, h, h); x5 = FMA(x5, h, h); x6 = FMA(x6, h, h); x7 = FMA(x7, h, h);         \
        x8 = FMA(x8, h, h); x9 = FMA(x9, h, h); x10 = FMA(x10, h, h); x11 = FMA(x11, h, h);     \
        __asm__ volatile("" : "+x"(x0), "+x"(x1), "+x"(x2), "+x"(x3), "+x"(x4), "+x"(x5));      \
        __asm__ volatile("" : "+x"(x6), "+x"(x7), "+x"(x8), "+x"(x9), "+x"(x10), "+x"(x11));    \
    }                                                                                          \
    const T all[12] = {x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11};                        \
    double sum = 0;                                                                            \
    float lanes[LANES];                                                                        \
    for (int c = 0; c < 12; c++) {                                                             \
        STORE(lanes, all[c]);                                                                  \
        for (int l = 0; l < LANES; l++) sum += lanes[l];                                       \
    }                                                                                          \
    return sum;

__attribute__((target("avx512f"))) static double chains_avx512(long iterations) {
    MIA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static double chains_avx2(long iterations) {
    MIA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 8)
}
#endif

double mia_fma_chains(int level, long iterations) {
#if defined(__x86_64__)
    if (level == MIA_KERNELS_AVX512) return chains_avx512(iterations);
    if (level == MIA_KERNELS_AVX2) return chains_avx2(iterations);
#endif
    (void)level, (void)iterations;
    return -1;
}

double mia_fma_chains_flops(int level) {
#if defined(__x86_64__)
    if (level == MIA_KERNELS_AVX512) return 2.0 * 12 * 16;
    if (level == MIA_KERNELS_AVX2) return 2.0 * 12 * 8;
#endif
    (void)level;
    return 0;
}
