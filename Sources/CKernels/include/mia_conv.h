// Direct stride-1 convolution of one image, for thin layers (few channels, small kernels), in
// plain C, AVX2 + FMA and AVX-512 F (conv_direct.c); `DirectConvolution` in
// Kernels/DirectConvolution.swift calls these at the process's `VectorLevel`.
//
// Shapes as `Conv2D`: x [channels, height, width], w [cout, channels·k·k] rows ordered
// (c, ky, kx), output [cout, oh, ow] with oh = height + 2 padding - k + 1 (likewise ow).
// Every output element is one chain of fused multiply-adds (rounded once each), or 16 chains and
// a fixed sum of them, in an order fixed by the shape alone, and every level computes the same
// chains and sums, so the bits do not depend on the level:
// - forward: y[oc, oy, ox] = 0, then for (c, ky, kx) in order: y = fma(w[oc, c, ky, kx],
//   xpad[c, oy + ky, ox + kx], y), where xpad is x with `padding` zeros around.
// - input gradient, fewer than 8 output channels: dx[c, iy, ix] = 0, then for (oc, ky, kx) in
//   order, skipping every ky whose row iy + padding - ky lies outside dz: dx = fma(w[oc, c, ky, kx],
//   dzpad[oc, iy + k-1 - ky, ix + k-1 - kx], dx), dzpad being dz with k-1-padding zeros around
//   (so terms in the padding columns count as w·0, as the GEMM's zero patches did: the vectors
//   run along rows). Skipping adds nothing but w·0 for finite w.
// - input gradient, 8 output channels or more: per (c, iy, ix), 16 partial sums s[l] = 0 then,
//   for (ky, kx) in order, skipping every tap whose dz position (iy + padding - ky,
//   ix + padding - kx) lies outside dz, and for oc ≡ l (mod 16) ascending: s[l] = fma(w[oc, c,
//   ky, kx], dz[oc, iy + padding - ky, ix + padding - kx], s[l]); then dx[c, iy, ix] is their
//   canonical sum, as the filter gradient's below (the vectors run across output channels and
//   do no multiply-add outside dz: LeNet-5's conv2, rows of 14 from 10, does 15,000 vector
//   multiply-adds per image instead of 24,000).
// - filter gradient, fewer than 8 output channels: per (oc, c, ky, kx), 16 partial sums s[l] = 0
//   then, for oy in order and ox ≡ l (mod 16) ascending: s[l] = fma(dz[oc, oy, ox],
//   xpad[c, oy + ky, ox + kx], s[l]); then r[l] = s[l] + s[l + 8] (l < 8), r'[l] = r[l] + r[l + 4]
//   (l < 4), t = (r'[0] + r'[2]) + (r'[1] + r'[3]); dw[oc, c, ky, kx] = dw[oc, c, ky, kx] + t.
// - filter gradient, 8 output channels or more: per (oc, c, ky, kx), t = 0 then, for (oy, ox) in
//   order: t = fma(dz[oc, oy, ox], xpad[c, oy + ky, ox + kx], t); dw[oc, c, ky, kx] += t (the
//   vectors run across output channels; no sum across lanes).
#ifndef MIA_CONV_H
#define MIA_CONV_H
#include <stddef.h>
#include "mia_kernels.h"

/// 1 when the direct kernels take this window: stride 1, 0 <= padding < kernel, non-empty.
int mia_conv_supported(const mia_window *g, ptrdiff_t cout);

/// Floats of scratch each call below needs (the zero-padded input or output gradient, plus
/// slack that full-vector loads may read past its end).
size_t mia_conv_scratch(const mia_window *g, ptrdiff_t cout);

/// Overwrites y [cout, oh, ow] with the convolution of x by w (no bias). `level` is a
/// MIA_KERNELS_* value the CPU has; aborts on an unsupported window or level (a caller's bug).
void mia_conv_forward(int level, const float *x, const mia_window *g, ptrdiff_t cout, const float *w, float *scratch,
                      float *y);

/// mia_conv_forward for `images` images one after the other in x and y (each as above), with
/// any per-call preparation of w (a transposed copy) done once; the same bits as one call each.
void mia_conv_forward_images(int level, const float *x, ptrdiff_t images, const mia_window *g, ptrdiff_t cout,
                             const float *w, float *scratch, float *y);

/// Adds to dw [cout, channels·k·k] the filter gradient of one image (dz [cout, oh, ow]).
void mia_conv_filter_grad(int level, const float *x, const mia_window *g, ptrdiff_t cout, const float *dz,
                          float *scratch, float *dw);

/// Overwrites dx [channels, height, width] with the input gradient of one image.
void mia_conv_input_grad(int level, const float *dz, const mia_window *g, ptrdiff_t cout, const float *w,
                         float *scratch, float *dx);

/// Both gradients of `images` images one after the other in x, dz and dx (each as above): adds
/// each image's filter gradient to dw in image order and overwrites its input gradient, with any
/// per-call preparation of w done once and dz's shared by the two; the same bits as
/// mia_conv_filter_grad then mia_conv_input_grad per image. dw or dx may be NULL (that gradient
/// is not computed; x is not read without dw, nor w without dx).
void mia_conv_backward_images(int level, const float *x, const float *dz, ptrdiff_t images, const mia_window *g,
                              ptrdiff_t cout, const float *w, float *scratch, float *dw, float *dx);

#endif
