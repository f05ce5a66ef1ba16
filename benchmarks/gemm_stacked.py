#!/usr/bin/env python3
"""Several models' dense products as one sgemm? (issue 14, "Small models trained together" in
benchmarks/README.md). For 4 models whose layers read the SAME input x (inference on shared
records; never true in training, where each model has its own batch), compares one sgemm per
model, x · W_iᵀ, with one sgemm over the models' stacked weights, x · [W_1; ...; W_4]ᵀ: rate on
one OpenBLAS thread, and whether each model's block has the same bits. Run per kernel:

    OPENBLAS_CORETYPE=Haswell python3 benchmarks/gemm_stacked.py
"""
import ctypes, numpy as np, time
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
kernel = lib.openblas_get_corename().decode()
lib.openblas_set_num_threads(1)
F = ctypes.POINTER(ctypes.c_float)

def forward(m, n, k, x, w, out, ldc):  # out [m, n] (row stride ldc) = x [m, k] · w [n, k]ᵀ
    lib.cblas_sgemm(101, 111, 112, m, n, k, ctypes.c_float(1), x.ctypes.data_as(F), k,
                    w.ctypes.data_as(F), k, ctypes.c_float(0), ctypes.cast(out, F), ldc)

def median_seconds(f, repeats=15):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return float(np.median(times))

rng = np.random.default_rng(3)
models = 4
for name, m, n, k in [("LeNet-5 fc1, batch 128", 128, 120, 400), ("LeNet-5 fc2, batch 128", 128, 84, 120),
                      ("MLP fc1, batch 128", 128, 512, 784), ("MLP fc1, 1,024 records", 1024, 512, 784),
                      ("LeNet-5 fc1, 1,024 records", 1024, 120, 400)]:
    x = rng.standard_normal((m, k)).astype(np.float32)
    ws = [rng.standard_normal((n, k)).astype(np.float32) for _ in range(models)]
    stacked_w = np.concatenate(ws, 0)
    alone = [np.zeros((m, n), np.float32) for _ in range(models)]
    stacked = np.zeros((m, models * n), np.float32)
    def one_per_model():
        for i in range(models): forward(m, n, k, x, ws[i], alone[i].ctypes.data, n)
    def one_for_all(): forward(m, models * n, k, x, stacked_w, stacked.ctypes.data, models * n)
    t1, t2 = median_seconds(one_per_model), median_seconds(one_for_all)
    same = all(np.array_equal(alone[i].view(np.int32), stacked[:, i * n:(i + 1) * n].view(np.int32)) for i in range(models))
    flop = 2 * m * n * k * models
    print(f"{kernel:10s} {name:27s} {models} models: one call each {flop / t1 / 1e9:6.1f} GFLOP/s, "
          f"stacked {flop / t2 / 1e9:6.1f} GFLOP/s (time ratio {t2 / t1:.2f}); same bits: {same}")
