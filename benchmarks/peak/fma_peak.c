// The CPU's single-precision multiply-add peak, measured: 12 independent chains of vector FMAs
// (no loads, no stores), on 1 thread and on N threads at once, at each vector width the CPU has.
// No GEMM, convolution or network can run above this rate, so it bounds every speed goal stated
// in FLOP/s (README, "Which goals hold"). Prints one JSON line.
//
//   cc -O2 -pthread benchmarks/peak/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak 2
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12  // independent FMAs per iteration: more than latency x pipes on any x86-64
static const long ITERATIONS = 50 * 1000 * 1000;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Twelve named accumulators, not an array (an array indexed in a loop may live in memory), and
// not more: AVX2 has 16 ymm registers and the chains and the constant must all stay in them.
#define CHAINS_OF(T, SET, FMA)                                                                  \
    T x0 = SET(0), x1 = SET(1), x2 = SET(2), x3 = SET(3), x4 = SET(4), x5 = SET(5), x6 = SET(6), \
      x7 = SET(7), x8 = SET(8), x9 = SET(9), x10 = SET(10), x11 = SET(11);                      \
    const T a = SET(0.5f), b = SET(0.5f);                                                      \
    for (long i = 0; i < n; i++) {                                                             \
        x0 = FMA(x0, a, b); x1 = FMA(x1, a, b); x2 = FMA(x2, a, b); x3 = FMA(x3, a, b);         \
        x4 = FMA(x4, a, b); x5 = FMA(x5, a, b); x6 = FMA(x6, a, b); x7 = FMA(x7, a, b);         \
        x8 = FMA(x8, a, b); x9 = FMA(x9, a, b); x10 = FMA(x10, a, b); x11 = FMA(x11, a, b);     \
        __asm__ volatile("" : "+x"(x0), "+x"(x1), "+x"(x2), "+x"(x3));                          \
    }                                                                                          \
    T s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11;

// x = x * a + b converges to b / (1 - a) = 1: every value stays a normal float.
__attribute__((target("avx512f"))) static float chains512(long n) {
    CHAINS_OF(__m512, _mm512_set1_ps, _mm512_fmadd_ps)
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float chains256(long n) {
    CHAINS_OF(__m256, _mm256_set1_ps, _mm256_fmadd_ps)
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float t = 0;
    for (int l = 0; l < 8; l++) t += lanes[l];
    return t;
}

typedef struct { int width; long n; float sink; } Job;

static void *run(void *p) {
    Job *j = p;
    j->sink = j->width == 16 ? chains512(j->n) : chains256(j->n);
    return NULL;
}

// GFLOP/s of `threads` threads each running `n` iterations (2 FLOP per lane per FMA).
static double measure(int width, int threads) {
    pthread_t t[64];
    Job jobs[64];
    double start = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (Job){width, ITERATIONS, 0};
        pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    float sink = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sink += jobs[i].sink;
    }
    double seconds = now() - start;
    if (sink != sink) fprintf(stderr, "NaN\n");  // keeps the chains' results alive
    return 2.0 * width * CHAINS * (double)ITERATIONS * threads / seconds / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > 64) { fprintf(stderr, "threads: 1 to 64\n"); return 2; }
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    printf("{\"mode\":\"fma_peak\",\"threads\":%d", threads);
    // Best of three: a shared machine can only slow a run down.
    for (int w = 0; w < 2; w++) {
        int width = w == 0 ? 16 : 8;
        if ((width == 16 && !avx512) || (width == 8 && !avx2)) continue;
        double one = 0, all = 0;
        for (int r = 0; r < 3; r++) {
            double a = measure(width, 1), b = measure(width, threads);
            if (a > one) one = a;
            if (b > all) all = b;
        }
        printf(",\"%s_gflops_1_thread\":%.1f,\"%s_gflops\":%.1f", width == 16 ? "avx512" : "avx2", one,
               width == 16 ? "avx512" : "avx2", all);
    }
    printf("}\n");
    return 0;
}
