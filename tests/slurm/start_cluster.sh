#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine, bound to loopback, for tests/test_slurm.py (or to
# try profiles/slurm by hand):
#
#     tests/slurm/start_cluster.sh RUN_DIR      # installs munge + SLURM (Debian packages) if missing, starts
#                                               # munged, slurmctld and slurmd, runs a smoke job
#     tests/slurm/stop_cluster.sh RUN_DIR       # stops exactly the daemons this script started (by PID)
#
# The node is called `localhost` (address 127.0.0.1), its partition `debug`. State, logs, PID files and the
# job completion records (jobcomp.log, one line per finished job) go to RUN_DIR; slurm.conf has to be at
# /etc/slurm/slurm.conf (SLURM strips SLURM_CONF from a job's environment before srun). No accounting
# database: job status is polled with squeue, so MinJobAge keeps finished jobs visible for 10 minutes.
#
# Exit status 3, with one line "SKIP: <reason>" on stderr, where this machine cannot run SLURM (not root,
# no apt-get, no package mirror, a SLURM of its own); any other failure exits 1 with the reason and the
# daemon logs' tails, after stopping the daemons it started.
set -euo pipefail

RUN_DIR=${1:?usage: start_cluster.sh RUN_DIR}
CONF=/etc/slurm/slurm.conf
MARK="# written by tests/slurm/start_cluster.sh of the hyperfitting workflow"
PACKAGES=(munge slurmctld slurmd slurm-client)
APT_TIMEOUT=${APT_TIMEOUT:-600}
GPUS=${GPUS:-8}                # GPU slots the node advertises (see gres.conf below)

skip() { echo "SKIP: $*" >&2; exit 3; }
fail() {
    echo "FAILED: $*" >&2
    for f in /var/log/munge/munged.log "$RUN_DIR"/slurmctld.log "$RUN_DIR"/slurmd.log; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll once a second until COMMAND succeeds
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    fail "$what did not happen within ${seconds}s"
}

[ "$(id -u)" = 0 ] || skip "needs root (it installs Debian packages and starts the SLURM daemons)"
command -v apt-get >/dev/null || skip "needs apt-get (a Debian-like system) to install munge and SLURM"
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    skip "$CONF exists and was not written by this harness: not touching a real SLURM set-up"
fi
for daemon in slurmctld slurmd; do
    if pgrep -x "$daemon" >/dev/null; then
        skip "a $daemon is already running here; stop it first (tests/slurm/stop_cluster.sh RUN_DIR)"
    fi
done

# --- packages (about 15 s on a fresh Debian 12 machine)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
        || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    timeout "$APT_TIMEOUT" apt-get update -qq || skip "apt-get update failed (no package mirror reachable?)"
    timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null \
        || fail "apt-get install ${PACKAGES[*]} failed"
fi
[ -s /etc/munge/munge.key ] || { mungekey --create --force && chown munge:munge /etc/munge/munge.key; }

# a fresh cluster every time: no jobs recovered from an earlier run, job ids start at 1
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
rm -rf "$RUN_DIR/state" "$RUN_DIR/spool" "$RUN_DIR"/*.pid "$RUN_DIR/owned_pids" "$RUN_DIR/jobcomp.log"
mkdir -p "$RUN_DIR/state" "$RUN_DIR/spool"
# whatever fails from here on stops the daemons started so far
trap 'status=$?; [ $status = 0 ] || [ $status = 3 ] || bash "$(dirname "$0")/stop_cluster.sh" "$RUN_DIR" >&2' EXIT

# --- slurm.conf: the node line comes from what slurmd sees (CPUs, sockets, cores, threads, memory)
read -r -a HW < <(slurmd -C | head -n 1)
NODE_HW=()
for kv in "${HW[@]}"; do
    case $kv in
        CPUs=*|Boards=*|SocketsPerBoard=*|CoresPerSocket=*|ThreadsPerCore=*) NODE_HW+=("$kv") ;;
        RealMemory=*) NODE_HW+=("RealMemory=$(( ${kv#RealMemory=} * 9 / 10 ))") ;;
    esac
done
mkdir -p /etc/slurm
cat > "$CONF" <<EOF
$MARK
# A single-node test cluster on loopback; remove this file (or run the stop script) when done.
ClusterName=hyperfit-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$RUN_DIR/state
SlurmdSpoolDir=$RUN_DIR/spool
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$RUN_DIR/slurmctld.log
SlurmdLogFile=$RUN_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$RUN_DIR/jobcomp.log
MpiDefault=none
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 ${NODE_HW[*]} Gres=gpu:$GPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
# Stand-in GPUs: SLURM counts a GPU per device file, so each is a copy of /dev/null (a plain file where mknod
# is not allowed; slurmd then logs an error but still counts it). Jobs that ask for GPUs (sbatch --gpus=N)
# are scheduled as on a GPU node, and run on the CPU.
for i in $(seq 0 $((GPUS - 1))); do
    rm -f "$RUN_DIR/gpu$i"
    mknod -m 0666 "$RUN_DIR/gpu$i" c 1 3 2>/dev/null || touch "$RUN_DIR/gpu$i"
done
cat > /etc/slurm/gres.conf <<EOF
$MARK
NodeName=localhost Name=gpu File=$RUN_DIR/gpu[0-$((GPUS - 1))]
EOF

# --- munged (reused when one already answers on the default socket)
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "munged already running: reusing it"
else
    install -d -o munge -g munge -m 0755 /run/munge /var/log/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
    wait_for 10 "munged's pid file" test -s /run/munge/munged.pid
    cat /run/munge/munged.pid >> "$RUN_DIR/owned_pids"
    wait_for 10 "a munge round trip" sh -c 'munge -n | unmunge'
fi

# --- slurmctld and slurmd, in a UTS namespace whose host name is localhost (so they bind 127.0.0.1); where
# namespaces are not allowed, as they are (then the machine's host name must resolve to a loopback address)
as_localhost() {
    if unshare --uts true 2>/dev/null; then
        unshare --uts sh -c 'hostname localhost && exec "$@"' sh "$@"
    else
        "$@"
    fi
}
as_localhost /usr/sbin/slurmctld || fail "slurmctld did not start"
wait_for 20 "slurmctld's pid file" test -s "$RUN_DIR/slurmctld.pid"
cat "$RUN_DIR/slurmctld.pid" >> "$RUN_DIR/owned_pids"
as_localhost /usr/sbin/slurmd -N localhost || fail "slurmd did not start"
wait_for 20 "slurmd's pid file" test -s "$RUN_DIR/slurmd.pid"
cat "$RUN_DIR/slurmd.pid" >> "$RUN_DIR/owned_pids"
wait_for 30 "node localhost becoming idle" sh -c 'sinfo -h -n localhost -o %t | grep -qx idle'

# --- smoke job: a job that must really run (a broken set-up can mark a job COMPLETED that never ran)
SMOKE="$RUN_DIR/smoke.out"
rm -f "$SMOKE"
JOB=$(sbatch --parsable --job-name=smoke --output=/dev/null --mem=100 -t 1 --wrap "echo ran on \$(hostname) > $SMOKE")
wait_for 30 "smoke job $JOB writing $SMOKE" test -s "$SMOKE"
echo "SLURM is up (node localhost, partition debug); smoke job $JOB ran; logs and records in $RUN_DIR"
