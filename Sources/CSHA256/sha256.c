#include "mia_sha256.h"

#include "mia_cpuid.h"

// The round constants: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes (FIPS 180-4, 4.2.2).
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

void mia_sha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
    for (; blocks > 0; blocks--, data += 64) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++) w[t] = load_be32(data + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// The extensions keep the eight words in two registers: ABEF = (lane 3 to 0) a, b, e, f and
// CDGH = c, d, g, h. sha256rnds2(cdgh, abef, wk) runs two rounds with the two words of wk's low
// half and returns the new ABEF; after two rounds the old ABEF is the new CDGH, so the two
// registers swap roles at every call. sha256msg1/msg2 compute four words of the schedule
// W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16] at a time: msg1 adds the σ0 terms to the
// W[t-16] ones, the W[t-7] terms are added from two registers shifted by one word, and msg2 adds
// the σ1 terms, which for the last two words depend on the first two it computes.
SHA_TARGET static void blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);  // lanes 0..3: a, b, c, d
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);  // lanes 0..3: e, f, g, h
    __m128i badc = _mm_shuffle_epi32(dcba, 0xB1);                // lanes: b, a, d, c
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);                // lanes: h, g, f, e
    __m128i abef = _mm_alignr_epi8(badc, efgh, 8);               // lanes: f, e, b, a
    __m128i cdgh = _mm_blend_epi16(efgh, badc, 0xF0);            // lanes: h, g, d, c

    for (; blocks > 0; blocks--, data += 64) {
        const __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i m[4];  // the schedule's last 16 words, four per register, W[4i..4i+3] in m[i % 4]
        for (int i = 0; i < 16; i++) {
            __m128i w;
            if (i < 4) {
                w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), bswap);
            } else {
                __m128i older = m[(i - 4) & 3], old = m[(i - 3) & 3];
                __m128i prev2 = m[(i - 2) & 3], prev1 = m[(i - 1) & 3];
                w = _mm_sha256msg1_epu32(older, old);              // W[t-16] + σ0(W[t-15])
                w = _mm_add_epi32(w, _mm_alignr_epi8(prev1, prev2, 4));  // + W[t-7]
                w = _mm_sha256msg2_epu32(w, prev1);                // + σ1(W[t-2])
            }
            m[i & 3] = w;
            __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * i]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);           // rounds 4i, 4i+1: new ABEF
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));  // 4i+2, 4i+3
            // After the two calls `abef` holds ABEF again and `cdgh` CDGH (roles swapped twice).
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);       // lanes: a, b, e, f
    __m128i hgdc = _mm_shuffle_epi32(cdgh, 0xB1);       // lanes: g, h, c, d
    dcba = _mm_blend_epi16(feba, hgdc, 0xF0);           // lanes: a, b, c, d
    hgfe = _mm_alignr_epi8(hgdc, feba, 8);              // lanes: e, f, g, h
    _mm_storeu_si128((__m128i *)&state[0], dcba);
    _mm_storeu_si128((__m128i *)&state[4], hgfe);
}
#endif

// SHA (leaf 7 ebx bit 29), SSSE3 and SSE4.1 (leaf 1 ecx bits 9, 19), from the project's one
// cpuid entry (CCPUID; all zero off x86-64).
static int cpu_has_extensions(void) {
    uint32_t one[4], seven[4];
    if (!mia_cpuid(1, 0, one) || !mia_cpuid(7, 0, seven)) return 0;
    return ((one[2] >> 9) & 1) && ((one[2] >> 19) & 1) && ((seven[1] >> 29) & 1);
}

// -1 until the first call decides; a race decides twice, identically.
static int extensions = -1;

int mia_sha256_uses_extensions(void) {
    int v = __atomic_load_n(&extensions, __ATOMIC_RELAXED);
    if (v < 0) {
        v = cpu_has_extensions();
        __atomic_store_n(&extensions, v, __ATOMIC_RELAXED);
    }
    return v;
}

int mia_sha256_blocks_extensions(uint32_t state[8], const uint8_t *data, size_t blocks) {
#if defined(__x86_64__)
    if (!mia_sha256_uses_extensions()) return 0;
    blocks_shani(state, data, blocks);
    return 1;
#else
    (void)state; (void)data; (void)blocks;
    return 0;
#endif
}

void mia_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks) {
    if (!mia_sha256_blocks_extensions(state, data, blocks)) mia_sha256_blocks_portable(state, data, blocks);
}
