#!/usr/bin/env bash
# The README's test command: install what is missing, build (release binary for the end-to-end
# tests, which run it as a user would), then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
MIA_WITH_CHROMIUM=1 scripts/setup.sh
swift build -c release
swift build --build-tests
swift test --skip-build "$@"
