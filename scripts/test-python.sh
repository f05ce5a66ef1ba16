#!/usr/bin/env bash
# The Python API's tests (python/tests), through the release binary: a virtual environment of the
# tests' own (.venv-test, or MIA_TEST_PYTHON_VENV) with numpy, pandas and scikit-learn, the
# package installed from python/. Called by scripts/test.sh after `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MIA_TEST_PYTHON_VENV:-.venv-test}"
if [ ! -x "$venv/bin/python3" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check numpy pandas scikit-learn
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check ./python
MIA_AUDIT_BIN="$PWD/.build/release/mia-audit" "$venv/bin/python3" -m unittest discover -s python/tests -v
