// Stride-1 im2col and col2im in AVX2 and AVX-512, in C so that one binary holds both next to the
// plain Swift loops (Swift's SIMD types compile to the baseline x86-64 ISA). `Im2col` in
// Kernels/Convolution.swift calls these at the level Kernels/VectorKernels.swift chose once from
// cpuid; nothing else does.
//
// Every level gives the bits of the plain loops: im2col is a pure copy, and col2im sums each
// input's terms in the plain loop's order (kernel row, then kernel column), vectorised only
// across independent inputs.
#ifndef MIA_KERNELS_H
#define MIA_KERNELS_H
#include <stddef.h>

/// Instruction-set levels (`VectorLevel` in Swift). Only AVX2 and AVX-512 are done here, and
/// only on a CPU that has them (VectorKernels checks cpuid); the plain level is Swift's.
enum { MIA_KERNELS_GENERIC = 0, MIA_KERNELS_AVX2 = 1, MIA_KERNELS_AVX512 = 2 };

/// A convolution window over one channels-first image [channels, height, width] (as
/// `WindowGeometry`): output size per axis `(in + 2 padding - kernel) / stride + 1`.
typedef struct {
    ptrdiff_t height, width, channels, kernel, stride, padding;
} mia_window;

/// Writes the patch matrix [channels*kernel*kernel, out_h*out_w] of `x`, rows ordered
/// (c, ky, kx), zeros where a window reaches into the padding. `g->stride` must be 1 and
/// `level` AVX2 or AVX-512; aborts otherwise (a caller's bug, not an input error).
void mia_im2col_s1(int level, const float *x, const mia_window *g, float *col);

/// The adjoint: overwrites `dx` [channels, height, width] with, for each input, the sum of the
/// `dcol` entries that read it, added from 0 in (ky, kx) order. Same conditions as above.
void mia_col2im_s1(int level, const float *dcol, const mia_window *g, float *dx);

/// 1 when this build holds the x86-64 vector versions (0 elsewhere: only Swift's plain level).
int mia_kernels_have_x86(void);

#endif
