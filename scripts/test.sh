#!/usr/bin/env bash
# The README's test command: lint (scripts/lint.sh, first since it is quick), install what is
# missing, build (release binary for the end-to-end tests, which run it as a user would), then run
# every test: the Swift suites (`swift test`), then the Python API's tests through the same
# release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lint.sh
MIA_WITH_CHROMIUM=1 scripts/setup.sh
swift build -c release
swift build --build-tests
swift test --skip-build "$@"
# The Python API tests run with the whole suite (not when arguments pick Swift tests).
if [ $# -eq 0 ]; then scripts/test-python.sh; fi
