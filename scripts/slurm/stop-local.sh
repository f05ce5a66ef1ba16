#!/usr/bin/env bash
# Stops the Slurm that scripts/slurm/start-local.sh started, by the process ids it recorded
# (never by name), and forgets its jobs. Safe to run when nothing is running.
set -euo pipefail

state=${MIA_SLURM_STATE:-/tmp/mia-slurm}
say() { echo "slurm-local: $*"; }

stop() {  # stop NAME: TERM, then KILL after 10 s, only if the pid still runs NAME
    local file="$state/$1.pid"
    [[ -s $file ]] || return 0
    local pid; pid=$(<"$file")
    if [[ -d /proc/$pid && $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
        if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
        say "stopped $1 ($pid)"
    else
        say "$1 ($pid) was not running"
    fi
    rm -f "$file"
}

# slurmd first (it ends the jobs on the node), munged last (the others need it to say goodbye).
stop slurmd
stop slurmctld
stop munged
# The controller's saved state would bring back old jobs at the next start.
rm -rf "$state/ctld" "$state/spool"
