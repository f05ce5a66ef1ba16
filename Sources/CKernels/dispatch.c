// The one entry per kernel: the level's variant (x86.c), or abort on a call no variant takes.
#include <stdlib.h>
#include "mia_kernels.h"

#if defined(__x86_64__)
void mia_im2col_s1_avx2(const float *x, const mia_window *g, float *col);
void mia_col2im_s1_avx2(const float *dcol, const mia_window *g, float *dx);
void mia_im2col_s1_avx512(const float *x, const mia_window *g, float *col);
void mia_col2im_s1_avx512(const float *dcol, const mia_window *g, float *dx);
#endif

void mia_im2col_s1(int level, const float *x, const mia_window *g, float *col) {
#if defined(__x86_64__)
    if (g->stride == 1 && level == MIA_KERNELS_AVX512) { mia_im2col_s1_avx512(x, g, col); return; }
    if (g->stride == 1 && level == MIA_KERNELS_AVX2) { mia_im2col_s1_avx2(x, g, col); return; }
#endif
    (void)level; (void)x; (void)g; (void)col;
    abort();
}

void mia_col2im_s1(int level, const float *dcol, const mia_window *g, float *dx) {
#if defined(__x86_64__)
    if (g->stride == 1 && level == MIA_KERNELS_AVX512) { mia_col2im_s1_avx512(dcol, g, dx); return; }
    if (g->stride == 1 && level == MIA_KERNELS_AVX2) { mia_col2im_s1_avx2(dcol, g, dx); return; }
#endif
    (void)level; (void)dcol; (void)g; (void)dx;
    abort();
}

int mia_kernels_have_x86(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}
