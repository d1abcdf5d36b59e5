#!/usr/bin/env bash
# Stop the single-node SLURM that tests/slurm/start_cluster.sh RUN_DIR started: exactly the daemons whose
# PIDs it recorded (RUN_DIR/owned_pids), first politely (SIGTERM), then SIGKILL after 15 s. Removes the
# slurm.conf and gres.conf it wrote; keeps RUN_DIR (logs, job records) and the installed packages.
set -uo pipefail

RUN_DIR=${1:?usage: stop_cluster.sh RUN_DIR}
MARK="# written by tests/slurm/start_cluster.sh of the hyperfitting workflow"
PIDS=$(cat "$RUN_DIR/owned_pids" 2>/dev/null || true)

alive() { kill -0 "$1" 2>/dev/null; }

# slurmd first (it ends its job steps), then slurmctld, then munged (recorded in start order)
for pid in $(echo "$PIDS" | tac); do
    alive "$pid" && kill -TERM "$pid"
done
for _ in $(seq 15); do
    left=""
    for pid in $PIDS; do alive "$pid" && left="$left $pid"; done
    [ -z "$left" ] && break
    sleep 1
done
for pid in $left; do
    echo "pid $pid ignored SIGTERM: killing it" >&2
    kill -KILL "$pid" 2>/dev/null
done
rm -f "$RUN_DIR/owned_pids"
for conf in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
    if grep -qF "$MARK" "$conf" 2>/dev/null; then
        rm -f "$conf"
    fi
done
echo "stopped: ${PIDS//$'\n'/ }"
