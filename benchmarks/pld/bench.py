"""Times dp-accounting's PLDAccountant on the points given as "sigma q steps" lines on stdin;
prints "sigma q steps epsilon seconds" per point (median of ROUNDS runs, default 3)."""
import os
import sys
import time

import dp_accounting
from dp_accounting.pld import pld_privacy_accountant

rounds = int(os.environ.get("ROUNDS", "3"))
for line in sys.stdin:
    sigma, q, steps = line.split()
    sigma, q, steps = float(sigma), float(q), int(steps)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        acc = pld_privacy_accountant.PLDAccountant()
        acc.compose(dp_accounting.SelfComposedDpEvent(
            dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps))
        eps = acc.get_epsilon(1e-5)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(sigma, q, steps, eps, times[len(times) // 2], flush=True)
