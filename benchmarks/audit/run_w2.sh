#!/usr/bin/env bash
# Workload W2 (attack strength and speed): see README.md.
exec "$(dirname "$0")/run_audit.sh" w2
