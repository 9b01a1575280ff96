#!/usr/bin/env bash
# A local two-node Slurm cluster (n1, n2 on this one host) for development and CI.
#
#   scripts/slurm-local.sh up       install (if missing), configure, start, wait until ready
#   scripts/slurm-local.sh down     cancel jobs, stop slurmd x2, slurmctld and our munged
#   scripts/slurm-local.sh status   print node states; exit 0 iff the controller answers
#
# Why this shape (see docs/architecture.md for the Slurm backend that uses it):
# - Debian's slurm-wlm 22.05 + munge, no slurmdbd: `sacct` says accounting is disabled,
#   so job state comes from `squeue` / `scontrol show job`.
# - Two slurmd on one host (`slurmd -N n1`, `slurmd -N n2`, ports 17001/17002) give a real
#   two-node allocation, so `srun -N2 -n2 --ntasks-per-node=1` puts rank 0 on n1 and
#   rank 1 on n2, as multi-node DDP would on a real cluster.
# - CPUs=1 per node (a deliberate choice): this machine has 2 cores, so 2 schedulable CPUs
#   is what it really has. One single-task job fills a node, which makes "a job that waits
#   for resources" (PENDING, Reason=Resources) easy to produce in tests, and DDP ranks never
#   share a core. The price: at most two jobs run at once; more queue, as on a real cluster.
#   (CPUs=2 with OverSubscribe would run 4 jobs on 2 cores and hide queueing.)
# - Memory is not a consumable resource (SelectTypeParameters=CR_Core), so `--mem` up to a
#   node's RealMemory is accepted and never makes a job wait; RealMemory is this host's
#   memory less 1 GiB, split between the two nodes.
# - `127.0.0.1 n1 n2` goes into /etc/hosts once: Lightning's SLURMEnvironment takes
#   MASTER_ADDR from SLURM_NODELIST ("n1"), and the DDP rendezvous hangs if n1 does not
#   resolve.
# - The config is /etc/slurm/slurm.conf, where every Slurm command looks by default, so
#   tests and the control plane need no SLURM_CONF. A slurm.conf that this script did not
#   write is never overwritten. State, spool, pid and log files live under $STATE_DIR.
# Must run as root (CI does): it installs packages, writes /etc and starts daemons as root.
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too
# The daemons live in sbin, which a non-login root shell may not have on PATH.
PATH=$PATH:/usr/sbin:/sbin

readonly STATE_DIR=${OCEANSR_SLURM_DIR:-/var/lib/oceansr-slurm}
readonly CONF=/etc/slurm/slurm.conf
readonly MARKER="# Written by oceansr scripts/slurm-local.sh; rewritten by each 'up'."
readonly HOSTS_LINE="127.0.0.1 n1 n2 # oceansr scripts/slurm-local.sh"
readonly NODES=(n1 n2)
readonly WAIT_S=${OCEANSR_SLURM_WAIT_S:-30}
readonly MUNGE_PID=/run/munge/munged.pid
readonly MUNGE_OURS="$STATE_DIR/munged.started-here"

log() { printf 'slurm-local: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "'$1' must run as root (it installs packages, writes /etc and starts daemons); try: sudo $0 $1"
}

# True when the pid in file $1 is alive and its command name is $2 (a stale pid file left
# by a killed session may name a pid that was reused by another program).
pid_alive() {
    local file=$1 name=$2 pid
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == "$name" ]] || return 1
    # A killed daemon whose parent has not reaped it yet is a zombie: not running.
    [[ $(awk '{ print $3 }' /proc/"$pid"/stat 2>/dev/null) != Z ]]
}

install_packages() {
    local bin missing=0
    for bin in slurmctld slurmd sinfo squeue sbatch srun scancel scontrol munged munge; do
        command -v "$bin" >/dev/null 2>&1 || missing=1
    done
    [[ $missing -eq 0 ]] && return 0
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    local -a install=(apt-get install -y -qq --no-install-recommends slurm-wlm munge)
    # No package lists yet (fresh machine): update first. Stale lists: retry after an update.
    if ! apt-cache policy slurm-wlm 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get update -qq || die "apt-get update failed (is the Debian mirror reachable?)"
    fi
    if ! "${install[@]}" >/dev/null; then
        log "install failed with the current package lists; running apt-get update and retrying"
        apt-get update -qq || die "apt-get update failed (is the Debian mirror reachable?)"
        "${install[@]}" >/dev/null || die "apt-get install slurm-wlm munge failed"
    fi
}

# Writes slurm.conf to stdout from this host's name and memory.
render_config() {
    local host mem_mb node_mb port=17001 node
    host=$(hostname -s)
    mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    node_mb=$(((mem_mb - 1024) / 2))
    [[ $node_mb -ge 512 ]] || die "this host has ${mem_mb} MB of memory; need at least 2 GB"
    cat <<EOF
$MARKER
# Two nodes on one host; why each choice: the header of scripts/slurm-local.sh.
ClusterName=oceansr-local
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$STATE_DIR/ctld-state
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdSpoolDir=$STATE_DIR/spool-%n
SlurmdPidFile=$STATE_DIR/slurmd-%n.pid
SlurmdLogFile=$STATE_DIR/log/slurmd-%n.log
EOF
    for node in "${NODES[@]}"; do
        echo "NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 Port=$port CPUs=1 RealMemory=$node_mb State=UNKNOWN"
        port=$((port + 1))
    done
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
}

# Installs the config; prints "changed" when it differs from what was there.
write_config() {
    local new
    mkdir -p /etc/slurm "$STATE_DIR/ctld-state" "$STATE_DIR/log"
    if [[ -e $CONF ]] && ! grep -qxF "$MARKER" "$CONF"; then
        die "$CONF exists and was not written by this script; refusing to overwrite it"
    fi
    new=$(render_config)
    if [[ -e $CONF ]] && [[ $(<"$CONF") == "$new" ]]; then
        return 0
    fi
    printf '%s\n' "$new" >"$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
    echo changed
}

add_hosts_entries() {
    local node addr
    for node in "${NODES[@]}"; do
        addr=$(getent hosts "$node" | awk '{ print $1; exit }' || true)
        if [[ -n $addr && $addr != 127.0.0.1 ]]; then
            die "$node resolves to $addr, not 127.0.0.1; remove that entry from /etc/hosts"
        fi
    done
    if [[ $(getent hosts n1 | awk '{ print $1; exit }' || true) == 127.0.0.1 &&
        $(getent hosts n2 | awk '{ print $1; exit }' || true) == 127.0.0.1 ]]; then
        return 0
    fi
    log "adding '127.0.0.1 n1 n2' to /etc/hosts (DDP rendezvous resolves the node names)"
    # Append in place: /etc/hosts is often a bind mount that cannot be replaced by a rename.
    if [[ -n $(tail -c 1 /etc/hosts) ]]; then
        echo >>/etc/hosts # the last line had no newline: do not glue ours onto it
    fi
    printf '%s\n' "$HOSTS_LINE" >>/etc/hosts
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0
    fi
    log "starting munged"
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 0755 /run/munge
    [[ -s /etc/munge/munge.key ]] || die "/etc/munge/munge.key is missing (reinstall munge)"
    # As the munge user, as its package intends (as root munged refuses without --force).
    if ! runuser -u munge -- /usr/sbin/munged; then
        die "munged did not start; see /var/log/munge/munged.log"
    fi
    touch "$MUNGE_OURS"
    local i
    for ((i = 0; i < 50; i++)); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "munged started but does not answer; see /var/log/munge/munged.log"
}

# Sends SIGTERM to the daemon in pid file $1 (name $2), SIGKILL after 10 s.
stop_daemon() {
    local file=$1 name=$2 pid i
    pid_alive "$file" "$name" || {
        rm -f "$file"
        return 0
    }
    pid=$(<"$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_alive "$file" "$name" || break
        sleep 0.1
    done
    if pid_alive "$file" "$name"; then
        log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop_slurm_daemons() {
    local node
    for node in "${NODES[@]}"; do
        stop_daemon "$STATE_DIR/slurmd-$node.pid" slurmd
    done
    stop_daemon "$STATE_DIR/slurmctld.pid" slurmctld
}

# Starts whatever is not running; after a config change ($1 = "changed") restarts all.
# The controller always starts with -c (no saved jobs): it only needs starting after a
# 'down' (which cancelled every job) or after its daemons were killed, and jobs recovered
# from a killed cluster would hold nodes that the tests expect idle.
start_slurm_daemons() {
    local changed=${1:-} node
    if [[ $changed == changed ]]; then
        log "wrote $CONF; (re)starting the Slurm daemons"
        stop_slurm_daemons
    fi
    if ! pid_alive "$STATE_DIR/slurmctld.pid" slurmctld; then
        log "starting slurmctld"
        slurmctld -c || die "slurmctld did not start; see $STATE_DIR/log/slurmctld.log"
    fi
    for node in "${NODES[@]}"; do
        if ! pid_alive "$STATE_DIR/slurmd-$node.pid" slurmd; then
            log "starting slurmd -N $node"
            mkdir -p "$STATE_DIR/spool-$node"
            slurmd -N "$node" || die "slurmd -N $node did not start; see $STATE_DIR/log/slurmd-$node.log"
        fi
    done
}

# Node states, one "name state" a line; empty when the controller does not answer.
node_states() {
    timeout 5 sinfo -N -h -o '%N %t' 2>/dev/null | sort -u || true
}

wait_until_ready() {
    local deadline=$((SECONDS + WAIT_S)) states ready
    while :; do
        states=$(node_states)
        # Ready: every node answers (idle, or busy with jobs after a repeated 'up').
        ready=$(awk '$2 ~ /^(idle|mix|alloc|comp)$/' <<<"$states" | wc -l)
        if [[ $ready -ge ${#NODES[@]} ]]; then
            log "ready: $(tr '\n' ' ' <<<"$states")"
            return 0
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            log "nodes not ready after ${WAIT_S} s; node states: ${states:-<controller does not answer>}"
            timeout 5 sinfo -R 2>/dev/null >&2 || true
            log "last lines of $STATE_DIR/log/slurmctld.log:"
            tail -n 15 "$STATE_DIR/log/slurmctld.log" >&2 2>/dev/null || true
            die "the local Slurm cluster did not come up"
        fi
        sleep 0.5
    done
}

cmd_up() {
    require_root up
    local started=$SECONDS changed
    install_packages
    changed=$(write_config)
    add_hosts_entries
    start_munge
    start_slurm_daemons "$changed"
    wait_until_ready
    log "up in $((SECONDS - started)) s (config $CONF, state $STATE_DIR)"
}

cancel_all_jobs() {
    local jobs i
    jobs=$(timeout 5 squeue -h -o '%A' 2>/dev/null || true)
    [[ -z $jobs ]] && return 0
    log "cancelling jobs: $(tr '\n' ' ' <<<"$jobs")"
    # shellcheck disable=SC2086  # one job id a word
    timeout 5 scancel $jobs 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        [[ -z $(timeout 5 squeue -h -o '%A' 2>/dev/null || true) ]] && return 0
        sleep 0.2
    done
    log "some jobs are still listed after 10 s; stopping the daemons anyway"
}

cmd_down() {
    require_root down
    if pid_alive "$STATE_DIR/slurmctld.pid" slurmctld; then
        cancel_all_jobs
    fi
    stop_slurm_daemons
    if [[ -e $MUNGE_OURS ]]; then
        stop_daemon "$MUNGE_PID" munged
        rm -f "$MUNGE_OURS"
    fi
    log "down"
}

cmd_status() {
    local states
    command -v sinfo >/dev/null 2>&1 || {
        log "Slurm is not installed (no sinfo on PATH); start it with: $0 up"
        return 1
    }
    states=$(timeout 5 sinfo -N -o '%N %t %c %m' 2>&1) || {
        printf '%s\n' "$states" >&2
        log "the Slurm controller does not answer; start it with: $0 up"
        return 1
    }
    printf '%s\n' "$states"
}

main() {
    case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
    esac
}

main "$@"
