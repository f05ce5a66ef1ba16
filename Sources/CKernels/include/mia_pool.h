// Max pooling (2×2 windows, stride 2) and ReLU passes in AVX2 and AVX-512 (pool.c, relu.c; the
// pool's gradient in AVX-512 only), next to the plain Swift loops of Kernels/Pooling.swift and
// Kernels/Activation.swift, which call these at the process's `VectorLevel` and stay the generic
// level themselves.
//
// Every level gives the plain loops' bits:
// - max pooling: per window, m = top-left, then top-right, bottom-left, bottom-right each
//   replaces m when (ordered) greater, so the first maximum wins and a NaN never replaces an
//   earlier value; argmax is the chosen input's offset inside the image.
// - its gradient: dx = 0 everywhere, then each window's chosen input gets 0 + dy (so a -0
//   gradient gives +0, as the plain `dx[i] += dy[i]` on a zeroed buffer).
// - ReLU after a convolution: v = y + bias[row], then v < 0 ? 0 : v (NaN and -0 kept).
// - ReLU's gradient: dy = y > 0 ? dy : +0 (a NaN output gives 0).
#ifndef MIA_POOL_H
#define MIA_POOL_H
#include <stddef.h>
#include <stdint.h>
#include "mia_kernels.h"

/// Max pools x [channels, height, width] into y [channels, height/2, width/2] and argmax (same
/// shape) and returns 1; returns 0, having written nothing, when the level does not take the
/// shape (generic; a side under 2), for the plain loop to do it.
int mia_maxpool2_forward(int level, const float *x, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width, float *y,
                         int32_t *argmax);

/// Overwrites dx [channels, height, width] with the gradient of the pool above, given dy and
/// the argmax that `mia_maxpool2_forward` (or the plain loop) wrote: each entry of argmax lies in
/// its own window, which is what lets dx be written in one pass, row by row. Returns 1, or 0
/// having written nothing: only AVX-512 takes it, for rows of 8 windows or more.
int mia_maxpool2_backward(int level, const float *dy, const int32_t *argmax, ptrdiff_t channels, ptrdiff_t height,
                          ptrdiff_t width, float *dx);

/// y [rows, cols] = relu(y + bias[row]) in place and returns 1; returns 0 having written nothing
/// when the level does not take it (generic, or rows under 8 columns, 16 at AVX-512 which then
/// runs the AVX2 code), for the plain loop to do it.
int mia_add_row_bias_relu(int level, float *y, ptrdiff_t rows, ptrdiff_t cols, const float *bias);

/// dy[i] = y[i] > 0 ? dy[i] : 0 for i < count.
void mia_relu_backward(int level, float *dy, const float *y, ptrdiff_t count);

#endif
