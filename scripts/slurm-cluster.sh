#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (SPEC 7), for the slurm executor's
# tests and for trying `vlmbench run --executor slurm` without a real cluster:
# installs slurm-wlm and munge with apt when missing, writes a minimal
# slurm.conf for this host, starts munged, slurmctld and slurmd, and waits
# until `sinfo` shows the node idle.
# Idempotent: a cluster that already answers is left alone.
#   scripts/slurm-cluster.sh     (logs in /var/log/slurm/, SLURM_WAIT_S=60)
set -euo pipefail

wait_s=${SLURM_WAIT_S:-60}
conf=/etc/slurm/slurm.conf
logs=/var/log/slurm
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

node_idle() {
    # "idle" or "mixed"/"allocated" all mean the node takes jobs; only its absence or drain/down does not.
    timeout 10 sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated|completing)'
}

if command -v sinfo >/dev/null && timeout 10 scontrol ping 2>/dev/null | grep -q UP && node_idle; then
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if ! command -v apt-get >/dev/null; then
        echo "no Slurm here: install slurm-wlm and munge with your package manager" >&2
        exit 1
    fi
    echo "installing slurm-wlm and munge"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- munge: a key readable by munge only, and its socket directory ---
if [ ! -s /etc/munge/munge.key ]; then
    $sudo mkdir -p /etc/munge
    $sudo dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
$sudo mkdir -p /run/munge /var/lib/munge /var/log/munge
$sudo chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
$sudo chmod 0700 /etc/munge && $sudo chmod 0400 /etc/munge/munge.key && $sudo chmod 0755 /run/munge
if ! timeout 5 munge -n </dev/null 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; then
    echo "starting munged"
    $sudo runuser -u munge -- munged
fi

# --- slurm.conf for this host: written once, kept when the operator has their own ---
host=$(hostname -s)
if [ ! -f "$conf" ] || grep -q '^# written by vlmbench scripts/slurm-cluster.sh' "$conf"; then
    cpus=$(nproc)
    total_mb=$(free -m | awk '/^Mem:/ {print $2}')
    # Leave the OS and the host-side vlmbench some memory the scheduler cannot hand out.
    memory_mb=$(( total_mb > 2048 ? total_mb - 1024 : total_mb / 2 ))
    $sudo mkdir -p /etc/slurm
    $sudo tee "$conf" >/dev/null <<EOF
# written by vlmbench scripts/slurm-cluster.sh: a one-node test cluster
ClusterName=vlmbench
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
# A node whose hardware differs a little from this file still takes jobs.
SlurmdParameters=config_overrides
ReturnToService=2
# Short timers: tests wait on scheduling, cancellation and job records.
MessageTimeout=5
KillWait=5
MinJobAge=300
SchedulerType=sched/backfill
SchedulerParameters=sched_min_interval=100000,bf_interval=1
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
fi
$sudo mkdir -p /var/spool/slurmctld /var/spool/slurmd "$logs"

if ! timeout 10 scontrol ping 2>/dev/null | grep -q UP; then
    echo "starting slurmctld (log: $logs/slurmctld.log)"
    $sudo slurmctld
fi
if ! pgrep -x slurmd >/dev/null; then
    echo "starting slurmd (log: $logs/slurmd.log)"
    $sudo slurmd
fi

for _ in $(seq "$wait_s"); do
    if node_idle; then
        exit 0
    fi
    # A node left down or drained by an earlier start comes back once slurmd answers.
    if timeout 10 sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(down|drained|draining)'; then
        $sudo scontrol update NodeName="$host" State=RESUME 2>/dev/null || true
    fi
    sleep 1
done
echo "the Slurm node did not become idle within ${wait_s}s; sinfo says:" >&2
sinfo -N -l >&2 || true
$sudo tail -n 20 "$logs/slurmctld.log" "$logs/slurmd.log" >&2 || true
exit 1
