#!/usr/bin/env python3
"""Reference ε of the Poisson-subsampled Gaussian mechanism from Google's `dp-accounting` (PyPI),
for the tests of our PLD accountant (Sources/Kernels/PLDAccountant.swift).

  pld-reference.py --write Tests/Fixtures/pld_reference.json   regenerate the committed fixture
  pld-reference.py --check Tests/Fixtures/pld_reference.json   recompute live, compare (exit 1 on a mismatch)

The grid: noise multipliers {0.5, 1, 2, 4} x sampling rates {0.001, 0.01, 0.1} x steps
{1, 100, 1000, 10000}, delta 1e-5, add/remove neighbouring relation, dp-accounting's
PLDAccountant with its default discretisation 1e-4. The Swift test (PLDAccountantTests) reads
the fixture, so `swift test` needs no Python; scripts/test-python.sh runs --check so the fixture
stays what dp-accounting computes. The full grid takes a few minutes (the largest point, sigma 0.5,
q 0.1, 10,000 steps, about 30 s alone).
"""
import argparse
import json
import sys

import dp_accounting
from dp_accounting.pld import pld_privacy_accountant

SIGMAS = [0.5, 1.0, 2.0, 4.0]
RATES = [0.001, 0.01, 0.1]
STEPS = [1, 100, 1000, 10000]
DELTA = 1e-5
DISCRETISATION = 1e-4


def reference_epsilon(sigma, q, steps):
    accountant = pld_privacy_accountant.PLDAccountant(
        neighboring_relation=dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE,
        value_discretization_interval=DISCRETISATION)
    event = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    accountant.compose(dp_accounting.SelfComposedDpEvent(event, steps))
    return accountant.get_epsilon(DELTA)


def compute():
    points = []
    for sigma in SIGMAS:
        for q in RATES:
            for steps in STEPS:
                eps = reference_epsilon(sigma, q, steps)
                print(f"sigma={sigma} q={q} steps={steps} epsilon={eps!r}", file=sys.stderr, flush=True)
                points.append({"sigma": sigma, "q": q, "steps": steps, "epsilon": eps})
    return points


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="JSON")
    group.add_argument("--check", metavar="JSON")
    args = parser.parse_args()
    version = getattr(dp_accounting, "__version__", None)
    if version is None:
        from importlib.metadata import version as package_version
        version = package_version("dp-accounting")
    if args.write:
        document = {
            "generator": "scripts/pld-reference.py",
            "reference": f"dp-accounting {version} (PyPI), PLDAccountant",
            "neighbouring_relation": "add_or_remove_one",
            "value_discretization_interval": DISCRETISATION,
            "delta": DELTA,
            "points": compute(),
        }
        with open(args.write, "w") as f:
            json.dump(document, f, indent=1)
            f.write("\n")
        return 0
    with open(args.check) as f:
        document = json.load(f)
    committed = {(p["sigma"], p["q"], p["steps"]): p["epsilon"] for p in document["points"]}
    live = compute()
    if len(committed) != len(live):
        print(f"{args.check}: {len(committed)} points, the grid has {len(live)}", file=sys.stderr)
        return 1
    failures = 0
    for p in live:
        key = (p["sigma"], p["q"], p["steps"])
        want = committed.get(key)
        # Same algorithm, same inputs: agreement to rounding (relative 1e-9) is expected.
        if want is None or abs(p["epsilon"] - want) > 1e-9 * max(1.0, abs(want)):
            print(f"{args.check}: sigma={key[0]} q={key[1]} steps={key[2]}: committed {want}, "
                  f"dp-accounting {version} now gives {p['epsilon']}", file=sys.stderr)
            failures += 1
    print(f"pld reference: {len(live) - failures}/{len(live)} points agree with dp-accounting {version}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
