#!/usr/bin/env bash
# Stops the Slurm that scripts/slurm/start-local.sh started, by the process ids it recorded
# (never by name), after cancelling the jobs still queued on it. Safe to run when nothing is
# running. The controller's state is kept, so job ids keep growing across restarts and a
# run's slurm/jobs.json never names a reused id; `--purge` removes it (and the logs) too.
set -euo pipefail

state=${MIA_SLURM_STATE:-/tmp/mia-slurm}
export SLURM_CONF="$state/slurm.conf"
say() { echo "slurm-local: $*"; }

# Alive and not a zombie (a daemon whose adopting parent has not reaped it yet is gone).
running() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) != Z ]]; }

ours() {  # ours NAME: the recorded pid of NAME when it still runs NAME
    local file="$state/$1.pid"
    [[ -s $file ]] || return 1
    local pid; pid=$(<"$file")
    running "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] && echo "$pid"
}

stop() {  # stop NAME...: TERM to each, then KILL what is left after 10 s
    local name pid pids=()
    for name in "$@"; do
        if pid=$(ours "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            say "stopping $name ($pid)"
        elif [[ -s $state/$name.pid ]]; then
            say "$name ($(<"$state/$name.pid")) was not running"
        fi
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 200); do running "$pid" || break; sleep 0.05; done
        if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    for name in "$@"; do rm -f "$state/$name.pid"; done
}

# Jobs left queued would come back at the next start and hold its CPUs.
if ours slurmctld >/dev/null; then
    scancel --partition=local 2>/dev/null || true
fi

# munged last: the others need it to say goodbye.
stop slurmd slurmctld
stop munged
if [[ ${1:-} == --purge ]]; then
    rm -rf "$state"
    say "removed $state"
fi
