#!/usr/bin/env bash
# The Python API's tests (python/tests), through the release binary: a virtual environment of the
# tests' own (.venv-test, or MIA_TEST_PYTHON_VENV) with numpy, pandas and scikit-learn, the
# package installed from python/. Called by scripts/test.sh after `swift build -c release`.
# Also recomputes the PLD accountant's reference values with Google's dp-accounting (PyPI) and
# checks they are still the committed Tests/Fixtures/pld_reference.json that the Swift tests
# compare our accountant with (scripts/pld-reference.py; a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MIA_TEST_PYTHON_VENV:-.venv-test}"
if [ ! -x "$venv/bin/python3" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check numpy pandas scikit-learn
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check ./python
MIA_AUDIT_BIN="$PWD/.build/release/mia-audit" "$venv/bin/python3" -m unittest discover -s python/tests -v
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check dp-accounting
"$venv/bin/python3" scripts/pld-reference.py --check Tests/Fixtures/pld_reference.json
