#!/usr/bin/env python3
"""Does OpenBLAS's sgemm give the same bits on 1 and on 2 threads? (issue 14, "Thread count and bits"
in benchmarks/README.md). Calls the system's libopenblas.so.0 through ctypes (numpy only for the
arrays), for the dense products of LeNet-5 and the T1 MLP, first as one call, then with k cut into
chunks of 128 / 256 (beta = 1 after the first). Run with OPENBLAS_CORETYPE=Cooperlake (or Haswell,
SkylakeX, Prescott) to see each kernel:

    OPENBLAS_CORETYPE=Cooperlake benchmarks/audit/.venv/bin/python benchmarks/gemm_thread_bits.py
"""
import ctypes, numpy as np, os
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename())
P = ctypes.POINTER(ctypes.c_float)
def gemm(ta, tb, m, n, k, A, lda, B, ldb, threads):
    lib.openblas_set_num_threads(threads)
    C = np.zeros((m, n), np.float32)
    lib.cblas_sgemm(101, 112 if ta else 111, 112 if tb else 111, m, n, k, ctypes.c_float(1.0),
        A.ctypes.data_as(P), lda, B.ctypes.data_as(P), ldb, ctypes.c_float(0.0), C.ctypes.data_as(P), n)
    return C
rng = np.random.default_rng(0)
# (name, transA, transB, m, n, k): LeNet dense layers at batch 64 / 128, MLP
for name, ta, tb, m, n, k in [("lenet fc1 fwd b64", 0, 1, 64, 120, 400), ("fc1 dX b64", 0, 0, 64, 400, 120), ("fc1 dW b64", 1, 0, 120, 400, 64),
                              ("fc1 fwd b128", 0, 1, 128, 120, 400), ("fc1 dW b128", 1, 0, 120, 400, 128), ("fc1 dX b128", 0, 0, 128, 400, 120),
                              ("fc2 fwd b128", 0, 1, 128, 84, 120), ("mlp 64x256x64", 0, 1, 64, 256, 64), ("mlp 64x128x256", 0, 1, 64, 128, 256),
                              ("mlp784 fwd b128", 0, 1, 128, 512, 784), ("mlp dW", 1, 0, 512, 784, 128)]:
    A = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    B = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    lda = A.shape[1]; ldb = B.shape[1]
    c1 = gemm(ta, tb, m, n, k, A, lda, B, ldb, 1); c2 = gemm(ta, tb, m, n, k, A, lda, B, ldb, 2)
    print(f"{name:20s} m{m} n{n} k{k} mnk={m*n*k:>9d} same={np.array_equal(c1.view(np.int32), c2.view(np.int32))} diffs={(c1!=c2).sum()}")
print("chunked k")
def gemm_chunked(ta, tb, m, n, k, A, B, threads, kb):
    lib.openblas_set_num_threads(threads)
    C = np.zeros((m, n), np.float32)
    lda = A.shape[1]; ldb = B.shape[1]
    p = 0; beta = 0.0
    fs = 4
    while p < k:
        kc = min(kb, k - p)
        aoff = (p * lda if ta else p) * fs
        boff = (p if tb else p * ldb) * fs
        lib.cblas_sgemm(101, 112 if ta else 111, 112 if tb else 111, m, n, kc, ctypes.c_float(1.0),
            ctypes.cast(A.ctypes.data + aoff, P), lda, ctypes.cast(B.ctypes.data + boff, P), ldb, ctypes.c_float(beta), C.ctypes.data_as(P), n)
        beta = 1.0; p += kc
    return C
for kb in (128, 256):
  for name, ta, tb, m, n, k in [("fc1 fwd b64", 0, 1, 64, 120, 400), ("fc1 fwd b128", 0, 1, 128, 120, 400), ("mlp784 fwd b128", 0, 1, 128, 512, 784),
                              ("mlp784 infer 1024", 0, 1, 1024, 512, 784), ("mlp dW", 1, 0, 512, 784, 128), ("big dW", 1, 0, 512, 784, 1024), ("odd", 0, 0, 37, 300, 1000), ("tt", 1, 1, 200, 300, 700)]:
    A = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    B = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c1 = gemm_chunked(ta, tb, m, n, k, A, B, 1, kb); c2 = gemm_chunked(ta, tb, m, n, k, A, B, 2, kb)
    ref = (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)
    print(f"kb{kb} {name:20s} m{m} n{n} k{k} same={np.array_equal(c1.view(np.int32), c2.view(np.int32))} maxerr={np.abs(c1-ref).max():.2e}")
