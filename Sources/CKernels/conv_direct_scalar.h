// The one-lane variant of conv_direct_body.h (conv_direct.c includes it twice: plain C, and
// plain C with the FMA instruction). The includer defines SUFFIX and ATTR; conv_direct_undef.h
// ends it. Every operation is the scalar form of the vector levels' own, in the same order, so
// the bits are the same at every level.
#define VEC float
#define VL 1
#define V_ZERO 0.0f
#define V_LOAD(p) (*(p))
#define V_LOAD_N(p, n) ((void)(n), *(p))
#define V_BCAST(x) (x)
#define V_FMA(a, b, c) fmaf(a, b, c)
#define V_STORE_N(p, v, n) ((void)(n), *(p) = (v))
/// The canonical sum of 16 lanes: halves added lane-wise (8, 4, 2), then the last two.
static inline float SUFFIX(sum16)(const float *a) {
    float r8[8], r4[4];
    for (int l = 0; l < 8; l++) r8[l] = a[l] + a[l + 8];
    for (int l = 0; l < 4; l++) r4[l] = r8[l] + r8[l + 4];
    const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
    return r0 + r1;
}
#define V_SUM16(acc) SUFFIX(sum16)(acc)
#define FWDOC_OV 1
#define DWOC_OV 1
#define DWOC_TB 8
#define FWDOC_P 1
#define FWD_OB 8
#define FWD_RB 1
#define DX_CB 8
#define DX_RB 1
#define DXOC_CB 1
#define DXOC_RB 1
#define DW_OB 1
#define DW_KB 1
#include "conv_direct_body.h"
