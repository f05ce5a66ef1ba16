// The body of the direct stride-1 convolution kernels, included once per instruction set by
// conv_direct.c with these macros defined (a vector of VL floats; VL divides 16):
//   SUFFIX(name)        the function's name for this level     ATTR   its target attribute
//   VEC, VL             the vector type and its lane count
//   V_ZERO, V_LOAD(p), V_LOAD_N(p, n) (lanes >= n read nothing, zeros), V_BCAST(x), V_FMA(a, b, c)     c + a·b rounded once (fused)
//   V_STORE_N(p, v, n)  store the first n lanes (1 <= n <= VL)
//   V_FMA_N(a, b, c, n) lanes < n: fma; the others keep c
//   V_SUM16(acc)        the canonical sum of a 16-lane accumulator group held in 16 / VL vectors
// Each output element is one chain of fused multiply-adds in an order fixed by the shape alone
// (see mia_kernels.h), and vectors run across independent elements only, so every level gives
// the same bits; the blocking below (rows, channels, taps per pass) changes no element's chain.

#define MIA_GROUP (16 / VL)

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
    for (int i = 0; i < OB; i++)
        for (int r = 0; r < RB; r++) V_STORE_N(y + (oc + i) * plane + (oy + r) * ow + j, acc[i][r], n);
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

/// Input-gradient block: dx rows iy .. iy+RB-1, columns j .. j+n-1, channels c .. c+CB-1, from
/// dzp (dz zero-padded by k-1-p on each side: [cout, h+k-1, w+k-1]).
ATTR static inline __attribute__((always_inline)) void SUFFIX(dx_block)(
    const float *dzp, ptrdiff_t hq, ptrdiff_t wq, ptrdiff_t cout, ptrdiff_t k, const float *w, ptrdiff_t channels,
    float *dx, ptrdiff_t h, ptrdiff_t wd, ptrdiff_t iy, ptrdiff_t j, ptrdiff_t n, ptrdiff_t c, const int CB,
    const int RB) {
    VEC acc[8][4];
    for (int i = 0; i < CB; i++)
        for (int r = 0; r < RB; r++) acc[i][r] = V_ZERO;
    const ptrdiff_t kk = k * k;
    for (ptrdiff_t oc = 0; oc < cout; oc++) {
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            // dx[c, iy, ix] takes w[oc, c, ky, kx] · dz[oc, iy + p - ky, ix + p - kx], which is
            // dzp[oc, iy + k-1 - ky, ix + k-1 - kx].
            const float *row = dzp + oc * hq * wq + (iy + k - 1 - ky) * wq + j + k - 1;
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
    for (int i = 0; i < CB; i++)
        for (int r = 0; r < RB; r++) V_STORE_N(dx + (c + i) * h * wd + (iy + r) * wd + j, acc[i][r], n);
}

/// dx [channels, h, w] = the adjoint of the forward, from the zero-padded output gradient dzp.
ATTR void SUFFIX(mia_conv_dx)(const float *dzp, const mia_window *g, ptrdiff_t cout, const float *w, float *dx) {
    const ptrdiff_t k = g->kernel, h = g->height, wd = g->width, ch = g->channels;
    const ptrdiff_t hq = h + k - 1, wq = wd + k - 1;
#define MIA_DX(CB, RB) SUFFIX(dx_block)(dzp, hq, wq, cout, k, w, ch, dx, h, wd, iy, j, n, c, CB, RB)
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
        ptrdiff_t iy = 0;
        for (; iy + DX_RB <= h; iy += DX_RB) { MIA_DX_ROWS(DX_RB) }
        for (; iy < h; iy++) { MIA_DX_ROWS(1) }
    }
#undef MIA_DX_ROWS
#undef MIA_DX
}

/// Filter-gradient block: taps (c, ky, kx .. kx+KB-1) of channels oc .. oc+OB-1. Each pair's
/// 16 lanes (lane l takes the columns ox ≡ l mod 16) run over the rows, then the chunks of 16
/// columns, in order; the lanes are then summed canonically (V_SUM16, or V_SUM16X16 for 16 pairs
/// at once: the same adds on transposed data) and added to dw.
ATTR static inline __attribute__((always_inline)) void SUFFIX(dw_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, const float *dz, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t k,
    ptrdiff_t patch, float *dw, ptrdiff_t oc, ptrdiff_t c, ptrdiff_t ky, ptrdiff_t kx, const int OB, const int KB) {
    VEC acc[DW_OB * DW_KB][MIA_GROUP];
    for (int m = 0; m < OB * KB; m++)
        for (int q = 0; q < MIA_GROUP; q++) acc[m][q] = V_ZERO;
    const float *base = xp + c * hp * wp + ky * wp + kx;
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
        for (ptrdiff_t j = 0; j < ow; j += 16) {
            for (int q = 0; q < MIA_GROUP; q++) {
                const ptrdiff_t col = j + q * VL;
                const ptrdiff_t n = mia_cmin(VL, ow - col);
                if (n <= 0) break;
                VEC xv[DW_KB], dv[DW_OB];
                for (int t = 0; t < KB; t++) xv[t] = V_LOAD(base + oy * wp + col + t);
                if (n == VL) {  // a full vector: no masks (the common case)
                    for (int i = 0; i < OB; i++) dv[i] = V_LOAD(dz + (oc + i) * oh * ow + oy * ow + col);
                    for (int i = 0; i < OB; i++)
                        for (int t = 0; t < KB; t++) acc[i * KB + t][q] = V_FMA(dv[i], xv[t], acc[i * KB + t][q]);
                    continue;
                }
                for (int i = 0; i < OB; i++) dv[i] = V_LOAD_N(dz + (oc + i) * oh * ow + oy * ow + col, n);
                for (int i = 0; i < OB; i++)
                    for (int t = 0; t < KB; t++) acc[i * KB + t][q] = V_FMA_N(dv[i], xv[t], acc[i * KB + t][q], n);
            }
        }
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
/// VL channels from oc each run one chain over the positions in order, from 0; the chain is
/// then added to dw.
ATTR static inline __attribute__((always_inline)) void SUFFIX(dwoc_block)(
    const float *xp, ptrdiff_t hp, ptrdiff_t wp, const float *dzt, ptrdiff_t coutp, ptrdiff_t oh, ptrdiff_t ow,
    ptrdiff_t k, ptrdiff_t patch, float *dw, ptrdiff_t cout, ptrdiff_t oc, ptrdiff_t c, ptrdiff_t t0, const int TB) {
    VEC acc[8];
    ptrdiff_t off[8];
    for (int t = 0; t < TB; t++) {
        acc[t] = V_ZERO;
        off[t] = c * hp * wp + ((t0 + t) / k) * wp + (t0 + t) % k;
    }
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
        const float *d = dzt + oy * ow * coutp + oc;
        const float *xr = xp + oy * wp;
        for (ptrdiff_t ox = 0; ox < ow; ox++) {
            const VEC dv = V_LOAD(d + ox * coutp);
            for (int t = 0; t < TB; t++) acc[t] = V_FMA(dv, V_BCAST(xr[off[t] + ox]), acc[t]);
        }
    }
    for (int t = 0; t < TB; t++) {
        float lanes[VL];
        V_STORE_N(lanes, acc[t], VL);
        for (ptrdiff_t l = 0; l < VL && oc + l < cout; l++) {
            float *q = dw + (oc + l) * patch + c * k * k + t0 + t;
            *q = *q + lanes[l];
        }
    }
}

ATTR void SUFFIX(mia_conv_dwoc)(const float *xp, const mia_window *g, ptrdiff_t cout, const float *dzt,
                                ptrdiff_t coutp, float *dw) {
    const ptrdiff_t k = g->kernel, hp = g->height + 2 * g->padding, wp = g->width + 2 * g->padding;
    const ptrdiff_t oh = hp - k + 1, ow = wp - k + 1, patch = g->channels * k * k, kk = k * k;
#define MIA_DWOC(TB) SUFFIX(dwoc_block)(xp, hp, wp, dzt, coutp, oh, ow, k, patch, dw, cout, oc, c, t0, TB)
    for (ptrdiff_t oc = 0; oc < cout; oc += VL) {
        for (ptrdiff_t c = 0; c < g->channels; c++) {
            for (ptrdiff_t t0 = 0; t0 < kk; t0 += 8) {
                switch (mia_cmin(8, kk - t0)) {
                case 8: MIA_DWOC(8); break;
                case 7: MIA_DWOC(7); break;
                case 6: MIA_DWOC(6); break;
                case 5: MIA_DWOC(5); break;
                case 4: MIA_DWOC(4); break;
                case 3: MIA_DWOC(3); break;
                case 2: MIA_DWOC(2); break;
                default: MIA_DWOC(1); break;
                }
            }
        }
    }
#undef MIA_DWOC
}

#undef MIA_GROUP
