#!/usr/bin/env bash
# Starts a single-node Slurm on localhost (munged, slurmctld, slurmd), for the tests and for
# trying `mia-audit slurm --submit` on one machine. Needs root. Idempotent: when the daemons
# it started last time are still alive it only says so.
#
#   scripts/slurm/start-local.sh        start (installs slurm-wlm and munge when missing)
#   scripts/slurm/stop-local.sh         stop exactly the processes this script started
#
# State (config, pids, logs, spool): $MIA_SLURM_STATE, default /tmp/mia-slurm. The node has
# $MIA_SLURM_CPUS CPUs (default 2). Client commands find the config at /etc/slurm/slurm.conf
# (a link to the state folder's, made only when no other config is there) or via SLURM_CONF.
set -euo pipefail

state=${MIA_SLURM_STATE:-/tmp/mia-slurm}
cpus=${MIA_SLURM_CPUS:-2}
conf="$state/slurm.conf"
export SLURM_CONF="$conf"

say() { echo "slurm-local: $*"; }

# A pid is ours when it is alive and runs the program we recorded.
alive() {  # alive NAME
    local file="$state/$1.pid"
    [[ -s $file ]] || return 1
    local pid; pid=$(<"$file")
    [[ -r /proc/$pid/stat && $(sed 's/.*) //' "/proc/$pid/stat" | cut -c1) != Z ]] &&
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]]
}

if alive munged && alive slurmctld && alive slurmd; then
    say "already running (munged $(<"$state/munged.pid"), slurmctld $(<"$state/slurmctld.pid"), slurmd $(<"$state/slurmd.pid")); config $conf"
    exit 0
fi
if [[ -e $state/munged.pid || -e $state/slurmctld.pid || -e $state/slurmd.pid ]]; then
    say "a previous start is partly alive: stopping it first"
    "$(dirname "$0")/stop-local.sh"
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi

mkdir -p "$state/ctld" "$state/spool" "$state/logs"

# munge: a key (the package makes one; make one if it did not), a socket folder others can
# reach (mode 755, or every client fails), run as the munge user.
if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge

memory_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
cat >"$conf" <<CONF
# Written by scripts/slurm/start-local.sh: one node, no accounting, no cgroups.
ClusterName=mia-local
SlurmctldHost=$(hostname -s)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.daemon.pid
SlurmdPidFile=$state/slurmd.daemon.pid
SlurmctldLogFile=$state/logs/slurmctld.log
SlurmdLogFile=$state/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=30
NodeName=localhost NodeHostname=localhost CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if [[ ! -e /etc/slurm/slurm.conf || $(readlink /etc/slurm/slurm.conf || true) == "$conf" ]]; then
    mkdir -p /etc/slurm
    ln -sfn "$conf" /etc/slurm/slurm.conf
else
    say "/etc/slurm/slurm.conf is someone else's: export SLURM_CONF=$conf to use this cluster"
fi

# Each daemon runs in the foreground of its own session, so $! is its pid (setsid does not
# fork when its caller leads no process group, as in a script). It keeps no descriptor of
# ours beyond 0-2: a caller waiting for this script's pipes or exit (as Foundation's Process
# does) would otherwise wait for the daemons.
launch() {  # launch NAME COMMAND...
    local name=$1; shift
    (
        for fd in /proc/self/fd/*; do
            n=${fd##*/}
            if ((n > 2)); then eval "exec $n>&-" 2>/dev/null || true; fi
        done
        # Nor a blocked signal: a caller's threads may block SIGTERM (Dispatch's do), and a
        # daemon that inherits that mask ignores the TERM of stop-local.sh. (perl-base is
        # always there on Debian.)
        exec perl -MPOSIX -e 'sigprocmask(SIG_SETMASK, POSIX::SigSet->new); exec @ARGV or die "$ARGV[0]: $!\n"' \
            setsid "$@"
    ) </dev/null >>"$state/logs/$name.out" 2>&1 &
    echo $! >"$state/$name.pid"
}

launch munged setpriv --reuid munge --regid munge --init-groups \
    munged -F --socket=/run/munge/munge.socket.2 --log-file="$state/logs/munged.log"
munge_up() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
for _ in $(seq 50); do munge_up && break; sleep 0.1; done
munge_up || { say "munged did not start; see $state/logs/munged.log"; exit 1; }
launch slurmctld slurmctld -D -i -f "$conf"
launch slurmd slurmd -D -N localhost -f "$conf"

# Ready when the node takes jobs.
for _ in $(seq 100); do
    node=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    [[ $node == idle || $node == mix || $node == alloc ]] && break
    sleep 0.2
done
if [[ $node != idle && $node != mix && $node != alloc ]]; then
    say "the node is not up (state '${node}'); logs in $state/logs"
    exit 1
fi
say "started munged $(<"$state/munged.pid"), slurmctld $(<"$state/slurmctld.pid"), slurmd $(<"$state/slurmd.pid"); node localhost ($cpus CPUs, $memory_mb MB) is $node; config $conf"
