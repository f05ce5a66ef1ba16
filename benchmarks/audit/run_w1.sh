#!/usr/bin/env bash
# Workload W1 (speed of a whole audit): see README.md.
exec "$(dirname "$0")/run_audit.sh" w1
