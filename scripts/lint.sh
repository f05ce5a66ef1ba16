#!/usr/bin/env bash
# Lint: `swift format lint` (ships with the toolchain) over the project's Swift code with the
# rules of .swift-format. Fails on any finding of an enabled rule.
#
# The layout findings of swift-format's pretty printer (indentation, line breaks, line length,
# trailing commas, spacing) are not enforced yet: they cannot be switched off in .swift-format,
# and meeting them would rewrite about 1,100 lines in 100 files at once. They are filtered out
# here, and listed with `scripts/lint.sh --layout`.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Plugins Tests benchmarks)
layout='\[(Indentation|AddLines|RemoveLine|LineLength|TrailingComma|Spacing|EndOfLineComment)\]'
# Without --strict, lint exits non-zero only when it cannot read or parse a file.
out=$(swift format lint --configuration .swift-format --recursive --parallel "${paths[@]}" 2>&1)
if [ "${1:-}" = "--layout" ]; then
    printf '%s\n' "$out" | grep -E "$layout" | sort -u || true
    exit 0
fi
findings=$(printf '%s\n' "$out" | grep -Ev "$layout" | grep -v '^$' | sort -u || true)
if [ -n "$findings" ]; then
    printf '%s\n' "$findings" >&2
    echo "lint: $(printf '%s\n' "$findings" | wc -l) finding(s); see .swift-format and README \"Development\"" >&2
    exit 1
fi
echo "lint: clean"
