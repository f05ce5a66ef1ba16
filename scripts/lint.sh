#!/usr/bin/env bash
# Lint: `swift format lint --strict` (ships with the toolchain) over the project's Swift code with
# the rules and layout of .swift-format (4-space indent, 120 columns). Fails on any finding.
#
# To fix layout findings in place: scripts/lint.sh --fix  (runs `swift format format -i`).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Plugins Tests benchmarks
    examples/swift-attack/Package.swift examples/swift-attack/Sources)
if [ "${1:-}" = "--fix" ]; then
    swift format format -i --configuration .swift-format --recursive --parallel "${paths[@]}"
fi
if ! out=$(swift format lint --strict --configuration .swift-format --recursive --parallel "${paths[@]}" 2>&1); then
    findings=$(printf '%s\n' "$out" | grep -v '^$' | sort -u)
    printf '%s\n' "$findings" >&2
    echo "lint: $(printf '%s\n' "$findings" | wc -l) finding(s); scripts/lint.sh --fix rewrites the layout ones;" \
        "see .swift-format and README \"Development\"" >&2
    exit 1
fi
echo "lint: clean"
