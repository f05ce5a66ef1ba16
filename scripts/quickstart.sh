#!/usr/bin/env bash
# The README's first command: install what is missing, build in release, run the default audit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release
exec .build/release/mia-audit run "${1:-configs/quickstart.yaml}"
