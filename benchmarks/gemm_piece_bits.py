#!/usr/bin/env python3
"""Is OpenBLAS's one-thread sgemm position-independent? (issue 14, "Thread count and bits" in
benchmarks/README.md). For each shape, transpose pair and beta, computes C once as one call and
again as blocks of rows (or columns) of C, each its own one-thread call, and counts the cases
whose bits differ. k is never cut. Calls the system's libopenblas.so.0 through ctypes (numpy
for the arrays); run with OPENBLAS_CORETYPE=Cooperlake (or SkylakeX, Haswell, Prescott):

    OPENBLAS_CORETYPE=Haswell python3 benchmarks/gemm_piece_bits.py
"""
import ctypes, numpy as np
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
kernel = lib.openblas_get_corename().decode()
lib.openblas_set_num_threads(1)
F = ctypes.POINTER(ctypes.c_float)

def sgemm(ta, tb, m, n, k, a, a_at, lda, b, b_at, ldb, beta, c, c_at, ldc):
    at = lambda arr, i: ctypes.cast(arr.ctypes.data + 4 * i, F)
    lib.cblas_sgemm(101, 112 if ta else 111, 112 if tb else 111, m, n, k, ctypes.c_float(1),
                    at(a, a_at), lda, at(b, b_at), ldb, ctypes.c_float(beta), at(c, c_at), ldc)

rng = np.random.default_rng(1)
shapes = [(64, 120, 400), (64, 400, 120), (120, 400, 64), (128, 512, 784), (512, 784, 128), (128, 784, 512),
          (128, 84, 120), (37, 300, 1000), (200, 300, 700), (256, 128, 784), (1024, 512, 784), (10, 1000, 33),
          (333, 17, 129), (64, 10, 84), (128, 256, 512), (96, 96, 96), (20, 4000, 50)]
cases = differ = 0
for m, n, k in shapes:
    for ta in (0, 1):
        for tb in (0, 1):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
            lda, ldb = a.shape[1], b.shape[1]
            for beta in (0.0, 1.0):
                c0 = rng.standard_normal((m, n)).astype(np.float32)
                whole = c0.copy()
                sgemm(ta, tb, m, n, k, a, 0, lda, b, 0, ldb, beta, whole, 0, n)
                for rows in (True, False):
                    for block in (8, 13, 16, 32, 64, 96, 100, 128):
                        c = c0.copy()
                        for s in range(0, m if rows else n, block):
                            if rows:
                                h = min(block, m - s)
                                sgemm(ta, tb, h, n, k, a, s if ta else s * lda, lda, b, 0, ldb, beta, c, s * n, n)
                            else:
                                w = min(block, n - s)
                                sgemm(ta, tb, m, w, k, a, 0, lda, b, s * ldb if tb else s, ldb, beta, c, s, n)
                        cases += 1
                        if not np.array_equal(c.view(np.int32), whole.view(np.int32)):
                            differ += 1
print(f"{kernel}: blocks of C differ from the whole one-thread call in {differ} of {cases} cases")
