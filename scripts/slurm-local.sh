#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for tests and trials.
#
#   scripts/slurm-local.sh start DIR   start munged, slurmctld and slurmd with state in DIR;
#                                      prints `export SLURM_CONF=DIR/slurm.conf` on success
#   scripts/slurm-local.sh stop DIR    stop the daemons started in DIR (by their pid files)
#
# Works as root on machines without systemd or cgroups for Slurm: munge with a key generated in
# DIR, proctrack/linuxproc, task/none, select/cons_tres, SlurmUser=root, state and spool in DIR,
# the node's real CPU count and memory (from `slurmd -C`), free ports. No accounting storage:
# follow jobs with squeue (jobcomp/filetxt also writes DIR/jobcomp.log).
# Exit status: 0 ok; 3 Slurm or munge not installed; 4 the daemons would not start (the reason
# on stderr); 2 usage.
set -uo pipefail

die() { echo "slurm-local: $2" >&2; exit "$1"; }

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die 2 "usage: $0 start|stop DIR"

pid_of() { [ -s "$1" ] && cat "$1" 2>/dev/null; }

stop() {
  local d=$1 f p
  for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
    p=$(pid_of "$f") || continue
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  done
  # Wait up to 10 s for them to go, then insist.
  for _ in $(seq 1 50); do
    local alive=0
    for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
      p=$(pid_of "$f") || continue
      [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
    p=$(pid_of "$f") || continue
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    rm -f "$f"
  done
  return 0
}

free_port() {
  # Ask the kernel for a free port (bound then released).
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
  stop) stop "$dir"; exit 0 ;;
  start) ;;
  *) die 2 "usage: $0 start|stop DIR" ;;
esac

for b in munged mungekey slurmctld slurmd sbatch squeue scancel; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || die 3 "$b not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin

mkdir -p "$dir" || die 4 "cannot create $dir"
dir=$(cd "$dir" && pwd)
stop "$dir" # leftovers of an earlier start in the same folder
rm -rf "$dir/state" "$dir/spool" "$dir/munge"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 0700 "$dir/munge"

# munge: a fresh key and a private socket.
mungekey --create --keyfile="$dir/munge/munge.key" --force >/dev/null 2>&1 \
  || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none \
  || die 4 "cannot create a munge key in $dir/munge"
chmod 0400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed" >"$dir/munge/start.log" 2>&1 \
  || die 4 "munged would not start: $(tail -n 1 "$dir/munge/start.log" "$dir/munge/munged.log" 2>/dev/null | grep -v '^==' | grep -v '^$' | tail -n 1)"

host=$(hostname -s 2>/dev/null || hostname)
# The node as slurmd sees it: CPUs, sockets, cores, threads, RealMemory.
node=$(slurmd -C 2>/dev/null | head -n 1)
case "$node" in NodeName=*) ;; *) stop "$dir"; die 4 "slurmd -C printed nothing usable: $node" ;; esac
node_fields=${node#NodeName=* }
ctl_port=$(free_port); d_port=$(free_port)
while [ "$d_port" = "$ctl_port" ]; do d_port=$(free_port); done

cat >"$dir/slurm.conf" <<CONF
# Single-node cluster for rnn-lab's tests (scripts/slurm-local.sh).
ClusterName=rnnlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=5
MinJobAge=30
SchedulerParameters=sched_interval=2
NodeName=$host NodeAddr=127.0.0.1 $node_fields State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" -i >"$dir/slurmctld.start.log" 2>&1 \
  || { stop "$dir"; die 4 "slurmctld would not start: $(tail -n 1 "$dir/slurmctld.log" 2>/dev/null)"; }
slurmd -f "$SLURM_CONF" >"$dir/slurmd.start.log" 2>&1 \
  || { stop "$dir"; die 4 "slurmd would not start: $(tail -n 1 "$dir/slurmd.log" 2>/dev/null)"; }

# Wait (up to 30 s) for the node to be idle.
state=
for _ in $(seq 1 150); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1)
  case "$state" in idle|idle\*) [ "$state" = idle ] && break ;; esac
  sleep 0.2
done
if [ "$state" != idle ]; then
  why=$(tail -n 3 "$dir/slurmd.log" 2>/dev/null | tr '\n' ' ')
  stop "$dir"
  die 4 "the node did not come up (state: ${state:-none}); slurmd.log: $why"
fi
echo "export SLURM_CONF=$SLURM_CONF"
