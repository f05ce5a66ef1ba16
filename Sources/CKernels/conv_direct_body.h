// The body of the direct stride-1 convolution kernels, included once per instruction set by
// conv_direct.c with these macros defined (a vector of VL floats; VL divides 16):
//   SUFFIX(name)        the function's name for this level     ATTR   its target attribute
//   VEC, VL             the vector type and its lane count
//   V_ZERO, V_LOAD(p), V_LOAD_N(p, n) (lanes >= n read nothing, zeros), V_BCAST(x), V_FMA(a, b, c)     c + a·b rounded once (fused)
//   V_STORE_N(p, v, n)  store the first n lanes (1 <= n <= VL)
//   V_FMA_N(a, b, c, n) lanes < n: fma; the others keep c (AVX-512 only: its masked FMA is one
//                       instruction; the other levels zero both factors past n instead)
//   V_SUM16(acc)        the canonical sum of a 16-lane accumulator group held in 16 / VL vectors
//   V_SUM16X16(acc, out) optional (AVX-512): sixteen such sums at once, one group per vector
//   and the tile sizes: FWD_OB, FWD_RB (forward: channels, rows), FWDOC_P, FWDOC_OV (forward
//   across channels: positions, vectors of channels), DX_CB, DX_RB, DXOC_CB, DXOC_RB (input
//   gradient along rows, and across channels: input channels, rows), DW_OB, DW_KB, DWOC_TB,
//   DWOC_OV (filter gradient across channels: taps, vectors of channels)
// Each output element is one chain of fused multiply-adds, or a group of 16 chains and their
// canonical sum, in an order fixed by the shape alone (see mia_conv.h), and vectors run across
// independent chains only, so every level gives the same bits; the blocking below (rows,
// channels, taps per pass) changes no chain.
// Accumulators live in registers: a block copies them out with a loop the compiler unrolls
// before any loop that indexes lanes at run time (otherwise clang keeps the array on the stack
// and stores every accumulator on every step: the forward across channels ran at half speed).

#define MIA_GROUP (16 / VL)
// The switches below instantiate blocks of up to these sizes; a larger tile would skip work.
_Static_assert(FWDOC_P >= 1 && FWDOC_P <= 12 && DWOC_TB >= 1 && DWOC_TB <= 13, "tile larger than its switch");
_Static_assert(DXOC_CB <= MIA_DXOC_CB_MAX && DXOC_RB <= MIA_DXOC_RB_MAX && FWD_OB <= 8 && DX_CB <= 8 && DW_OB <= 4 && DW_KB <= 5, "tile larger than its switch");

/// Stores an NB × RB tile of accumulators, acc[i][r] to dst + i·cs + r·rs, their first n lanes.
/// At AVX2 a partial vector goes out through a buffer: with AVX2's branchy masked store in the
/// blocks' epilogues, clang spilled accumulators inside their main loops (Zen 4: conv1's forward
/// 3.8 µs instead of 3.1, conv2's input gradient 9.35 instead of 8.85). AVX-512's mask stores
/// are cheap and did not; it keeps them.
ATTR static inline __attribute__((always_inline)) void SUFFIX(store_tile)(
    float *dst, ptrdiff_t cs, ptrdiff_t rs, VEC acc[8][4], const int NB, const int RB, ptrdiff_t n) {
#if VL == 16
    for (int i = 0; i < NB; i++)
        for (int r = 0; r < RB; r++) V_STORE_N(dst + i * cs + r * rs, acc[i][r], n);
#else
    if (n == VL) {
        for (int i = 0; i < NB; i++)
            for (int r = 0; r < RB; r++) V_STORE_N(dst + i * cs + r * rs, acc[i][r], VL);
        return;
    }
    float out[8][4][VL];
    for (int i = 0; i < NB; i++)
        for (int r = 0; r < RB; r++) V_STORE_N(out[i][r], acc[i][r], VL);
    for (int i = 0; i < NB; i++)
        for (int r = 0; r < RB; r++)
            for (ptrdiff_t l = 0; l < n; l++) dst[i * cs + r * rs + l] = out[i][r][l];
#endif
}

/// Forward block: output rows oy .. oy+RB-1, columns j .. j+n-1, channels oc .. oc+OB-1.
ATTR static inline __attribute__((always_inline)) void SUFFIX(fwd_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, ptrdiff_t channels, ptrdiff_t k, const float *w, ptrdiff_t patch,
    float *y, ptrdiff_t plane, ptrdiff_t ow, ptrdiff_t oy, ptrdiff_t j, ptrdiff_t n, ptrdiff_t oc, const int OB,
    const int RB) {
    VEC acc[8][4];
    for (int i = 0; i < OB; i++)
        for (int r = 0; r < RB; r++) acc[i][r] = V_ZERO;
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            const float *row = xp + c * hp * wp + (oy + ky) * wp + j;
            const float *wt = w + oc * patch + (c * k + ky) * k;
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                VEC xv[4];
                for (int r = 0; r < RB; r++) xv[r] = V_LOAD(row + r * wp + kx);
                for (int i = 0; i < OB; i++) {
                    const VEC wv = V_BCAST(wt[i * patch + kx]);
                    for (int r = 0; r < RB; r++) acc[i][r] = V_FMA(wv, xv[r], acc[i][r]);
                }
            }
        }
    }
    SUFFIX(store_tile)(y + oc * plane + oy * ow + j, plane, ow, acc, OB, RB, n);
}

/// y [cout, oh, ow] = W [cout, channels·k·k] ⋆ xp (the zero-padded input [channels, hp, wp]).
ATTR void SUFFIX(mia_conv_fwd)(const float *xp, const mia_window *g, ptrdiff_t cout, const float *w, float *y) {
    const ptrdiff_t k = g->kernel, hp = g->height + 2 * g->padding, wp = g->width + 2 * g->padding;
    const ptrdiff_t oh = hp - k + 1, ow = wp - k + 1, patch = g->channels * k * k;
#define MIA_FWD(OB, RB) SUFFIX(fwd_block)(xp, hp, wp, g->channels, k, w, patch, y, oh * ow, ow, oy, j, n, oc, OB, RB)
#define MIA_FWD_ROWS(RB)                                                                                              \
    for (ptrdiff_t oc = 0; oc < cout; oc += FWD_OB) {                                                                 \
        switch (mia_cmin(FWD_OB, cout - oc)) {                                                                        \
        case 8: MIA_FWD(8, RB); break;                                                                                \
        case 7: MIA_FWD(7, RB); break;                                                                                \
        case 6: MIA_FWD(6, RB); break;                                                                                \
        case 5: MIA_FWD(5, RB); break;                                                                                \
        case 4: MIA_FWD(4, RB); break;                                                                                \
        case 3: MIA_FWD(3, RB); break;                                                                                \
        case 2: MIA_FWD(2, RB); break;                                                                                \
        default: MIA_FWD(1, RB); break;                                                                               \
        }                                                                                                             \
    }
    for (ptrdiff_t j = 0; j < ow; j += VL) {
        const ptrdiff_t n = mia_cmin(VL, ow - j);
        ptrdiff_t oy = 0;
        for (; oy + FWD_RB <= oh; oy += FWD_RB) { MIA_FWD_ROWS(FWD_RB) }
        for (; oy < oh; oy++) { MIA_FWD_ROWS(1) }
    }
#undef MIA_FWD_ROWS
#undef MIA_FWD
}

/// Forward across output channels: P positions of one output row (oy, ox0 .. ox0+P-1) by OV
/// vectors of VL channels from oc. wt is w transposed, [patch, coutp] (zeros past cout). Each
/// element's chain is the forward's: fma over (c, ky, kx) in order from 0 (lanes past cout are
/// computed on zero weights and never stored).
ATTR static inline __attribute__((always_inline)) void SUFFIX(fwdoc_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, ptrdiff_t channels, ptrdiff_t k, const float *wt, ptrdiff_t coutp,
    ptrdiff_t cout, float *y, ptrdiff_t plane, ptrdiff_t ow, ptrdiff_t oy, ptrdiff_t ox0, ptrdiff_t oc, const int P,
    const int OV) {
    VEC acc[FWDOC_P][FWDOC_OV];
    for (int p = 0; p < P; p++)
        for (int v = 0; v < OV; v++) acc[p][v] = V_ZERO;
    const float *wr = wt + oc;
    for (ptrdiff_t c = 0; c < channels; c++) {
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            const float *r = xp + c * hp * wp + (oy + ky) * wp + ox0;
            for (ptrdiff_t kx = 0; kx < k; kx++, wr += coutp) {
                VEC wv[FWDOC_OV];
                for (int v = 0; v < OV; v++) wv[v] = V_LOAD(wr + v * VL);
                for (int p = 0; p < P; p++) {
                    const VEC xv = V_BCAST(r[kx + p]);
                    for (int v = 0; v < OV; v++) acc[p][v] = V_FMA(wv[v], xv, acc[p][v]);
                }
            }
        }
    }
    // All vectors out first (a loop the compiler unrolls, so acc stays in registers), then
    // each channel's P values to its plane.
    float out[FWDOC_P][FWDOC_OV * VL];
    for (int p = 0; p < P; p++)
        for (int v = 0; v < OV; v++) V_STORE_N(&out[p][v * VL], acc[p][v], VL);
    const ptrdiff_t lanes = mia_cmin(OV * VL, cout - oc);
    for (ptrdiff_t l = 0; l < lanes; l++) {
        float *yr = y + (oc + l) * plane + oy * ow + ox0;
        for (int p = 0; p < P; p++) yr[p] = out[p][l];
    }
}

/// y [cout, oh, ow] as mia_conv_fwd, with the vectors across output channels (layers whose
/// channels fill more lanes than their rows: LeNet-5's conv2, 16 channels of 10 columns).
ATTR void SUFFIX(mia_conv_fwdoc)(const float *xp, const mia_window *g, ptrdiff_t cout, const float *wt,
                                 ptrdiff_t coutp, float *y) {
    const ptrdiff_t k = g->kernel, hp = g->height + 2 * g->padding, wp = g->width + 2 * g->padding;
    const ptrdiff_t oh = hp - k + 1, ow = wp - k + 1, plane = oh * ow;
#define MIA_FWDOC(P, OV) SUFFIX(fwdoc_block)(xp, hp, wp, g->channels, k, wt, coutp, cout, y, plane, ow, oy, ox, oc, P, OV)
#define MIA_FWDOC_ROW(OV)                                                                                             \
    for (ptrdiff_t ox = 0; ox < ow; ox += FWDOC_P) {                                                                  \
        switch (mia_cmin(FWDOC_P, ow - ox)) {                                                                         \
        case 1: MIA_FWDOC(1, OV); break;                                                                              \
        case 2: MIA_FWDOC(mia_imin(2, FWDOC_P), OV); break;                                                           \
        case 3: MIA_FWDOC(mia_imin(3, FWDOC_P), OV); break;                                                           \
        case 4: MIA_FWDOC(mia_imin(4, FWDOC_P), OV); break;                                                           \
        case 5: MIA_FWDOC(mia_imin(5, FWDOC_P), OV); break;                                                           \
        case 6: MIA_FWDOC(mia_imin(6, FWDOC_P), OV); break;                                                           \
        case 7: MIA_FWDOC(mia_imin(7, FWDOC_P), OV); break;                                                           \
        case 8: MIA_FWDOC(mia_imin(8, FWDOC_P), OV); break;                                                           \
        case 9: MIA_FWDOC(mia_imin(9, FWDOC_P), OV); break;                                                           \
        case 10: MIA_FWDOC(mia_imin(10, FWDOC_P), OV); break;                                                         \
        case 11: MIA_FWDOC(mia_imin(11, FWDOC_P), OV); break;                                                         \
        default: MIA_FWDOC(mia_imin(12, FWDOC_P), OV); break;                                                         \
        }                                                                                                             \
    }
    for (ptrdiff_t oc = 0; oc < cout; oc += FWDOC_OV * VL) {
        const int wide = cout - oc > (FWDOC_OV - 1) * VL;
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            if (wide) { MIA_FWDOC_ROW(FWDOC_OV) } else { MIA_FWDOC_ROW(1) }
        }
    }
#undef MIA_FWDOC_ROW
#undef MIA_FWDOC
}

/// Input-gradient block: dx rows iy .. iy+RB-1, columns j .. j+n-1, channels c .. c+CB-1, from
/// dzp (dz zero-padded by q = k-1-p on each side: [cout, h+k-1, w+k-1]; its rows q .. q+oh-1
/// hold dz). Terms on dzp's padding rows are skipped (mia_conv.h): a block of several rows is
/// only ever given rows that take every ky; a single row skips the ky that fall outside dz.
ATTR static inline __attribute__((always_inline)) void SUFFIX(dx_block)(
    const float *dzp, ptrdiff_t hq, ptrdiff_t wq, ptrdiff_t q, ptrdiff_t oh, ptrdiff_t cout, ptrdiff_t k,
    const float *w, ptrdiff_t channels, float *dx, ptrdiff_t h, ptrdiff_t wd, ptrdiff_t iy, ptrdiff_t j, ptrdiff_t n,
    ptrdiff_t c, const int CB, const int RB) {
    VEC acc[8][4];
    for (int i = 0; i < CB; i++)
        for (int r = 0; r < RB; r++) acc[i][r] = V_ZERO;
    const ptrdiff_t kk = k * k;
    for (ptrdiff_t oc = 0; oc < cout; oc++) {
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            // dx[c, iy, ix] takes w[oc, c, ky, kx] · dz[oc, iy + p - ky, ix + p - kx], which is
            // dzp[oc, iy + k-1 - ky, ix + k-1 - kx].
            const ptrdiff_t top = iy + k - 1 - ky;
            if (RB == 1 && (top < q || top >= q + oh)) continue;
            const float *row = dzp + oc * hq * wq + top * wq + j + k - 1;
            const float *wt = w + (oc * channels + c) * kk + ky * k;
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                VEC dv[4];
                for (int r = 0; r < RB; r++) dv[r] = V_LOAD(row + r * wq - kx);
                for (int i = 0; i < CB; i++) {
                    const VEC wv = V_BCAST(wt[i * kk + kx]);
                    for (int r = 0; r < RB; r++) acc[i][r] = V_FMA(wv, dv[r], acc[i][r]);
                }
            }
        }
    }
    SUFFIX(store_tile)(dx + c * h * wd + iy * wd + j, h * wd, wd, acc, CB, RB, n);
}

/// dx [channels, h, w] = the adjoint of the forward, from the zero-padded output gradient dzp.
ATTR void SUFFIX(mia_conv_dx)(const float *dzp, const mia_window *g, ptrdiff_t cout, const float *w, float *dx) {
    const ptrdiff_t k = g->kernel, h = g->height, wd = g->width, ch = g->channels;
    const ptrdiff_t hq = h + k - 1, wq = wd + k - 1, q = k - 1 - g->padding, oh = h + 2 * g->padding - k + 1;
#define MIA_DX(CB, RB) SUFFIX(dx_block)(dzp, hq, wq, q, oh, cout, k, w, ch, dx, h, wd, iy, j, n, c, CB, RB)
#define MIA_DX_ROWS(RB)                                                                                               \
    for (ptrdiff_t c = 0; c < ch; c += DX_CB) {                                                                       \
        switch (mia_cmin(DX_CB, ch - c)) {                                                                            \
        case 8: MIA_DX(8, RB); break;                                                                                 \
        case 7: MIA_DX(7, RB); break;                                                                                 \
        case 6: MIA_DX(6, RB); break;                                                                                 \
        case 5: MIA_DX(5, RB); break;                                                                                 \
        case 4: MIA_DX(4, RB); break;                                                                                 \
        case 3: MIA_DX(3, RB); break;                                                                                 \
        case 2: MIA_DX(2, RB); break;                                                                                 \
        default: MIA_DX(1, RB); break;                                                                                \
        }                                                                                                             \
    }
    for (ptrdiff_t j = 0; j < wd; j += VL) {
        const ptrdiff_t n = mia_cmin(VL, wd - j);
        // Rows iy0 .. iy1-1 take every ky (dzp rows iy .. iy+k-1 all inside dz): blocks of
        // DX_RB there; the rows above and below one at a time, skipping what falls outside.
        const ptrdiff_t iy0 = mia_cmin(q, h), iy1 = mia_cmax(iy0, mia_cmin(h, q + oh - k + 1));
        ptrdiff_t iy = 0;
        for (; iy < iy0; iy++) { MIA_DX_ROWS(1) }
        for (; iy + DX_RB <= iy1; iy += DX_RB) { MIA_DX_ROWS(DX_RB) }
        for (; iy < h; iy++) { MIA_DX_ROWS(1) }
    }
#undef MIA_DX_ROWS
#undef MIA_DX
}

/// Input-gradient block across output channels (cout >= MIA_CONV_OC_MIN): rows iy .. iy+RB-1
/// of column ix, channels c .. c+CB-1. dzt is dz transposed, [oh·ow, coutp], and wt is w
/// transposed tap by tap, [k·k, channels, coutp] (coutp a multiple of 16, zeros past cout), so
/// a tap's CB channel vectors sit one after the other. Each element has a 16-lane group
/// (MIA_GROUP vectors); lane l runs over the taps (ky, kx) whose dz position lies inside dz, in
/// order, and for each tap over the channels oc ≡ l (mod 16) ascending. The rows of a block
/// share their column's taps kx; a ky that some row lacks runs for the rows that have it. The
/// groups go to `lanes` (element (i, r) at i·cstride + r·rstride) for their sums. (Two columns
/// per block at AVX-512, 24 accumulators, measured no faster than one.)
ATTR static inline __attribute__((always_inline)) void SUFFIX(dxoc_block)(
    const float *dzt, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t coutp, const float *wt, ptrdiff_t channels, ptrdiff_t k,
    ptrdiff_t p, ptrdiff_t iy, ptrdiff_t ix, ptrdiff_t c, float *lanes, ptrdiff_t cstride, ptrdiff_t rstride, const int CB,
    const int RB) {
    VEC acc[DXOC_CB][DXOC_RB][MIA_GROUP];
    for (int i = 0; i < CB; i++)
        for (int r = 0; r < RB; r++)
            for (int v = 0; v < MIA_GROUP; v++) acc[i][r][v] = V_ZERO;
    const ptrdiff_t drs = ow * coutp;
    // dx[c, iy, ix] takes dz[oc, iy + p - ky, ix + p - kx] for the ky, kx that keep it inside dz.
    const ptrdiff_t kx0 = mia_cmax(0, ix + p - ow + 1), kx1 = mia_cmin(k, ix + p + 1);
    const ptrdiff_t ky0 = mia_cmax(0, iy + p - oh + 1), ky1 = mia_cmin(k, iy + RB - 1 + p + 1);
    for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
        const ptrdiff_t top = iy + p - ky;  // dz row of the block's first row
        const float *wrow = wt + (ky * k * channels + c) * coutp;
        if (top >= 0 && top + RB - 1 < oh) {
            for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                const float *d = dzt + top * drs + (ix + p - kx) * coutp;
                const float *wv = wrow + kx * channels * coutp;
                for (ptrdiff_t o = 0; o < coutp; o += 16) {
                    VEC dv[DXOC_RB][MIA_GROUP];
                    for (int r = 0; r < RB; r++)
                        for (int v = 0; v < MIA_GROUP; v++) dv[r][v] = V_LOAD(d + r * drs + o + v * VL);
                    for (int i = 0; i < CB; i++)
                        for (int v = 0; v < MIA_GROUP; v++) {
                            const VEC w1 = V_LOAD(wv + i * coutp + o + v * VL);
                            for (int r = 0; r < RB; r++) acc[i][r][v] = V_FMA(w1, dv[r][v], acc[i][r][v]);
                        }
                }
            }
            continue;
        }
        for (int r = 0; r < RB; r++) {  // an edge ky: the rows that have it, one at a time
            if (top + r < 0 || top + r >= oh) continue;
            for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                const float *d = dzt + (top + r) * drs + (ix + p - kx) * coutp;
                const float *wv = wrow + kx * channels * coutp;
                for (ptrdiff_t o = 0; o < coutp; o += 16)
                    for (int v = 0; v < MIA_GROUP; v++) {
                        const VEC d1 = V_LOAD(d + o + v * VL);
                        for (int i = 0; i < CB; i++)
                            acc[i][r][v] = V_FMA(V_LOAD(wv + i * coutp + o + v * VL), d1, acc[i][r][v]);
                    }
            }
        }
    }
    for (int i = 0; i < CB; i++)
        for (int r = 0; r < RB; r++)
            for (int v = 0; v < MIA_GROUP; v++) V_STORE_N(lanes + i * cstride + r * rstride + v * VL, acc[i][r][v], VL);
}

/// dx [channels, height, width] across output channels: the blocks' lane groups, then each
/// element's canonical sum (V_SUM16; at AVX-512 sixteen at once, V_SUM16X16). `lanes` holds
/// DXOC_CB · DXOC_RB rows of the width rounded up to 16, 16 floats each.
ATTR void SUFFIX(mia_conv_dxoc)(const float *dzt, const mia_window *g, const float *wt, ptrdiff_t coutp, float *lanes,
                                float *dx) {
    const ptrdiff_t k = g->kernel, h = g->height, wd = g->width, ch = g->channels, p = g->padding;
    const ptrdiff_t oh = h + 2 * p - k + 1, ow = wd + 2 * p - k + 1;
    const ptrdiff_t rstride = (wd + 15) / 16 * 16 * 16;
    const ptrdiff_t cstride = DXOC_RB * rstride;
#define MIA_DXOC(CB, RB) SUFFIX(dxoc_block)(dzt, oh, ow, coutp, wt, ch, k, p, iy, ix, c, lanes + ix * 16, cstride, rstride, CB, RB)
#define MIA_DXOC_ROWS(RB)                                                                                             \
    for (ptrdiff_t ix = 0; ix < wd; ix++) {                                                                           \
        switch (cb) {                                                                                                 \
        case 8: MIA_DXOC(mia_imin(8, DXOC_CB), RB); break;                                                            \
        case 7: MIA_DXOC(mia_imin(7, DXOC_CB), RB); break;                                                            \
        case 6: MIA_DXOC(mia_imin(6, DXOC_CB), RB); break;                                                            \
        case 5: MIA_DXOC(mia_imin(5, DXOC_CB), RB); break;                                                            \
        case 4: MIA_DXOC(mia_imin(4, DXOC_CB), RB); break;                                                            \
        case 3: MIA_DXOC(mia_imin(3, DXOC_CB), RB); break;                                                            \
        case 2: MIA_DXOC(mia_imin(2, DXOC_CB), RB); break;                                                            \
        default: MIA_DXOC(1, RB); break;                                                                              \
        }                                                                                                             \
    }
    for (ptrdiff_t c = 0; c < ch; c += DXOC_CB) {
        const ptrdiff_t cb = mia_cmin(DXOC_CB, ch - c);
        for (ptrdiff_t iy = 0; iy < h;) {
            const ptrdiff_t rb = h - iy >= DXOC_RB ? DXOC_RB : 1;
            if (rb == DXOC_RB) { MIA_DXOC_ROWS(DXOC_RB) } else { MIA_DXOC_ROWS(1) }
            for (ptrdiff_t i = 0; i < cb; i++)
                for (ptrdiff_t r = 0; r < rb; r++) {
                    const float *row = lanes + i * cstride + r * rstride;
                    float *out = dx + ((c + i) * h + iy + r) * wd;
                    ptrdiff_t ix = 0;
#if defined(V_SUM16X16)
                    for (; ix < wd; ix += 16) {
                        VEC t[16];
                        float s[16];
                        const ptrdiff_t n = mia_cmin(16, wd - ix);  // elements past the row: zeros, unread
                        for (int u = 0; u < 16; u++) t[u] = u < n ? V_LOAD(row + (ix + u) * 16) : V_ZERO;
                        V_SUM16X16(t, s);
                        V_STORE_N(out + ix, V_LOAD(s), n);
                    }
#endif
                    for (; ix < wd; ix++) {
                        VEC t[MIA_GROUP];
                        for (int v = 0; v < MIA_GROUP; v++) t[v] = V_LOAD(row + ix * 16 + v * VL);
                        out[ix] = V_SUM16(t);
                    }
                }
            iy += rb;
        }
    }
#undef MIA_DXOC_ROWS
#undef MIA_DXOC
}

/// Filter-gradient block: taps (c, ky, kx .. kx+KB-1) of channels oc .. oc+OB-1. Each pair's
/// 16 lanes (lane l takes the columns ox ≡ l mod 16) run over the rows, then the chunks of 16
/// columns, in order; the lanes are then summed canonically (V_SUM16, or V_SUM16X16 for 16 pairs
/// at once: the same adds on transposed data) and added to dw.
ATTR static inline __attribute__((always_inline)) void SUFFIX(dw_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, const float *dz, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t k,
    ptrdiff_t patch, float *dw, ptrdiff_t oc, ptrdiff_t c, ptrdiff_t ky, ptrdiff_t kx, const int OB, const int KB) {
    // The 16 / VL vectors of a lane group hold independent chains (lanes l and l + VL never
    // meet before the final sum), so each runs over all rows and chunks on its own: OB·KB
    // accumulators live at a time instead of OB·KB·16/VL (AVX2 has 16 registers).
    VEC acc[DW_OB * DW_KB][MIA_GROUP];
    const float *base = xp + c * hp * wp + ky * wp + kx;
    for (int q = 0; q < MIA_GROUP; q++) {
        VEC a[DW_OB * DW_KB];
        for (int m = 0; m < OB * KB; m++) a[m] = V_ZERO;
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            for (ptrdiff_t j = 0; j < ow; j += 16) {
                const ptrdiff_t col = j + q * VL;
                const ptrdiff_t n = mia_cmin(VL, ow - col);
                if (n <= 0) break;
                VEC xv[DW_KB], dv[DW_OB];
                for (int t = 0; t < KB; t++) xv[t] = V_LOAD(base + oy * wp + col + t);
                if (n == VL) {  // a full vector: no masks (the common case)
                    for (int i = 0; i < OB; i++) dv[i] = V_LOAD(dz + (oc + i) * oh * ow + oy * ow + col);
                    for (int i = 0; i < OB; i++)
                        for (int t = 0; t < KB; t++) a[i * KB + t] = V_FMA(dv[i], xv[t], a[i * KB + t]);
                    continue;
                }
#if VL == 16
                for (int i = 0; i < OB; i++) dv[i] = V_LOAD_N(dz + (oc + i) * oh * ow + oy * ow + col, n);
                for (int i = 0; i < OB; i++)
                    for (int t = 0; t < KB; t++) a[i * KB + t] = V_FMA_N(dv[i], xv[t], a[i * KB + t], n);
#else
                // AVX2 has no masked FMA (it would be an FMA and a blend). Both factors read as
                // +0 past n instead, so those lanes add 0·0 = +0, which changes no accumulator:
                // a chain starts at +0 and a round-to-nearest sum is -0 only when both terms are,
                // so it is never -0, and x + (+0) = x for every other value (±inf, NaN included).
                for (int t = 0; t < KB; t++) xv[t] = V_LOAD_N(base + oy * wp + col + t, n);
                for (int i = 0; i < OB; i++) dv[i] = V_LOAD_N(dz + (oc + i) * oh * ow + oy * ow + col, n);
                for (int i = 0; i < OB; i++)
                    for (int t = 0; t < KB; t++) a[i * KB + t] = V_FMA(dv[i], xv[t], a[i * KB + t]);
#endif
            }
        }
        for (int m = 0; m < OB * KB; m++) acc[m][q] = a[m];
    }
    float *d0 = dw + oc * patch + (c * k + ky) * k + kx;
    int m = 0;
#if defined(V_SUM16X16)
    for (; m + 16 <= OB * KB; m += 16) {
        float sums[16];
        V_SUM16X16(&acc[m][0], sums);
        for (int u = 0; u < 16; u++) {
            float *d = d0 + ((m + u) / KB) * patch + (m + u) % KB;
            *d = *d + sums[u];
        }
    }
#endif
    for (; m < OB * KB; m++) {
        float *d = d0 + (m / KB) * patch + m % KB;
        *d = *d + V_SUM16(acc[m]);
    }
}

/// dw [cout, channels·k·k] += dz [cout, oh, ow] ⋆ xp, one image.
ATTR void SUFFIX(mia_conv_dw)(const float *xp, const mia_window *g, ptrdiff_t cout, const float *dz, float *dw) {
    const ptrdiff_t k = g->kernel, hp = g->height + 2 * g->padding, wp = g->width + 2 * g->padding;
    const ptrdiff_t oh = hp - k + 1, ow = wp - k + 1, patch = g->channels * k * k;
#define MIA_DW(OB, KB) SUFFIX(dw_block)(xp, hp, wp, dz, oh, ow, k, patch, dw, oc, c, ky, kx, OB, KB)
#define MIA_DW_OB(KB)                                                                                                 \
    switch (ob) {                                                                                                     \
    case 4: MIA_DW(mia_imin(4, DW_OB), KB); break;                                                                    \
    case 3: MIA_DW(mia_imin(3, DW_OB), KB); break;                                                                    \
    case 2: MIA_DW(mia_imin(2, DW_OB), KB); break;                                                                    \
    default: MIA_DW(1, KB); break;                                                                                    \
    }
    for (ptrdiff_t c = 0; c < g->channels; c++) {
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            for (ptrdiff_t oc = 0; oc < cout; oc += DW_OB) {
                const ptrdiff_t ob = mia_cmin(DW_OB, cout - oc);
                for (ptrdiff_t kx = 0; kx < k; kx += DW_KB) {
                    switch (mia_cmin(DW_KB, k - kx)) {
                    case 5: MIA_DW_OB(mia_imin(5, DW_KB)) break;
                    case 4: MIA_DW_OB(mia_imin(4, DW_KB)) break;
                    case 3: MIA_DW_OB(mia_imin(3, DW_KB)) break;
                    case 2: MIA_DW_OB(mia_imin(2, DW_KB)) break;
                    default: MIA_DW_OB(1) break;
                    }
                }
            }
        }
    }
#undef MIA_DW_OB
#undef MIA_DW
}

/// Filter gradient across output channels (cout >= MIA_CONV_OC_MIN): dzt is dz transposed,
/// [oh·ow, coutp] with coutp a multiple of 16 (lanes past cout hold zeros and are never
/// stored). For taps t0 .. t0+TB-1 of channel c (tap index within the channel: ky·k + kx), the
/// OV·VL channels from oc each run one chain over the positions in order, from 0; the chain is
/// then added to dw. Each broadcast input value serves OV vectors of channels.
ATTR static inline __attribute__((always_inline)) void SUFFIX(dwoc_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, const float *dzt, ptrdiff_t coutp, ptrdiff_t oh, ptrdiff_t ow,
    ptrdiff_t k, ptrdiff_t patch, float *dw, ptrdiff_t cout, ptrdiff_t oc, ptrdiff_t c, ptrdiff_t t0, const int TB,
    const int OV) {
    VEC acc[DWOC_TB][DWOC_OV];
    ptrdiff_t off[DWOC_TB];
    for (int t = 0; t < TB; t++) {
        for (int v = 0; v < OV; v++) acc[t][v] = V_ZERO;
        off[t] = c * hp * wp + ((t0 + t) / k) * wp + (t0 + t) % k;
    }
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
        const float *d = dzt + oy * ow * coutp + oc;
        const float *xr = xp + oy * wp;
        for (ptrdiff_t ox = 0; ox < ow; ox++) {
            VEC dv[DWOC_OV];
            for (int v = 0; v < OV; v++) dv[v] = V_LOAD(d + ox * coutp + v * VL);
            for (int t = 0; t < TB; t++) {
                const VEC xv = V_BCAST(xr[off[t] + ox]);
                for (int v = 0; v < OV; v++) acc[t][v] = V_FMA(dv[v], xv, acc[t][v]);
            }
        }
    }
    // All vectors out first (an unrolled loop: acc stays in registers), then added to dw.
    float out[DWOC_TB][DWOC_OV * VL];
    for (int t = 0; t < TB; t++)
        for (int v = 0; v < OV; v++) V_STORE_N(&out[t][v * VL], acc[t][v], VL);
    const ptrdiff_t lanes = mia_cmin(OV * VL, cout - oc);
    for (int t = 0; t < TB; t++)
        for (ptrdiff_t l = 0; l < lanes; l++) {
            float *q = dw + (oc + l) * patch + c * k * k + t0 + t;
            *q = *q + out[t][l];
        }
}

ATTR void SUFFIX(mia_conv_dwoc)(const float *xp, const mia_window *g, ptrdiff_t cout, const float *dzt,
                                ptrdiff_t coutp, float *dw) {
    const ptrdiff_t k = g->kernel, hp = g->height + 2 * g->padding, wp = g->width + 2 * g->padding;
    const ptrdiff_t oh = hp - k + 1, ow = wp - k + 1, patch = g->channels * k * k, kk = k * k;
#define MIA_DWOC(TB, OV) SUFFIX(dwoc_block)(xp, hp, wp, dzt, coutp, oh, ow, k, patch, dw, cout, oc, c, t0, TB, OV)
#define MIA_DWOC_TAPS(OV)                                                                                             \
    for (ptrdiff_t t0 = 0; t0 < kk; t0 += DWOC_TB) {                                                                  \
        switch (mia_cmin(DWOC_TB, kk - t0)) {                                                                         \
        case 13: MIA_DWOC(mia_imin(13, DWOC_TB), OV); break;                                                          \
        case 12: MIA_DWOC(mia_imin(12, DWOC_TB), OV); break;                                                          \
        case 11: MIA_DWOC(mia_imin(11, DWOC_TB), OV); break;                                                          \
        case 10: MIA_DWOC(mia_imin(10, DWOC_TB), OV); break;                                                          \
        case 9: MIA_DWOC(mia_imin(9, DWOC_TB), OV); break;                                                            \
        case 8: MIA_DWOC(mia_imin(8, DWOC_TB), OV); break;                                                            \
        case 7: MIA_DWOC(mia_imin(7, DWOC_TB), OV); break;                                                            \
        case 6: MIA_DWOC(mia_imin(6, DWOC_TB), OV); break;                                                            \
        case 5: MIA_DWOC(mia_imin(5, DWOC_TB), OV); break;                                                            \
        case 4: MIA_DWOC(mia_imin(4, DWOC_TB), OV); break;                                                            \
        case 3: MIA_DWOC(mia_imin(3, DWOC_TB), OV); break;                                                            \
        case 2: MIA_DWOC(mia_imin(2, DWOC_TB), OV); break;                                                            \
        default: MIA_DWOC(1, OV); break;                                                                              \
        }                                                                                                             \
    }
    for (ptrdiff_t oc = 0; oc < cout; oc += DWOC_OV * VL) {
        const int wide = cout - oc > (DWOC_OV - 1) * VL;
        for (ptrdiff_t c = 0; c < g->channels; c++) {
            if (wide) { MIA_DWOC_TAPS(DWOC_OV) } else { MIA_DWOC_TAPS(1) }
        }
    }
#undef MIA_DWOC_TAPS
#undef MIA_DWOC
}

#undef MIA_GROUP
