#!/usr/bin/env bash
# Stops the local cluster started by up.sh and removes everything it added to the host:
# processes (by pid file), containers and containerd shims of our containerd instance, mounts
# under our state directories, pod network namespaces, the bridge and its veths, iptables
# chains (ours and those kube-proxy and the kubelet made), cgroups, changed sysctls, and the
# .cluster/ directory. The compiled binaries and image tarballs in the cache stay.
# Safe to run when nothing runs, and to run twice.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) == 0 ]] || die "down.sh needs root"
if other=$(other_owner); then
  die "the cluster running here belongs to another checkout ($other): use its down.sh"
fi

# stop NAME: SIGTERM, up to 20s for a clean exit, then SIGKILL. Every daemon's command line
# names this state directory, which tells it from an unrelated process that reused the pid
# (whatever binary cache it was started from).
stop() {
  local name=$1 pid i
  if pid_alive "$name" "$STATE/"; then
    pid=$(<"$STATE/run/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.2; done
    if running "$pid"; then
      log "$name did not stop in 20s: killing"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do running "$pid" || break; sleep 0.25; done
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$STATE/run/$name.pid"
}

# Every container the kubelet started sits below our cgroup root; kill them all there, which
# also catches processes whose shim is already gone.
kill_containers() {
  local i pids m
  for ((i = 0; i < 20; i++)); do
    pids=$(while read -r m; do
      if [[ -d $m/$CGROUP_ROOT ]]; then find "$m/$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null; fi
    done < <(cgroup_mounts) | sort -u)
    [[ -z $pids ]] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  done
  log "warning: container processes still present: $pids"
}

# Deleting the tasks through containerd lets each shim exit cleanly and remove its socket.
delete_tasks() {
  local ctr=(ctr --address "$CONTAINERD_SOCK" --timeout 10s) ns id
  pid_alive containerd "$(command -v containerd || echo containerd)" || return 0
  for ns in $("${ctr[@]}" namespaces ls -q 2>/dev/null); do
    for id in $("${ctr[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" tasks delete --force "$id" >/dev/null 2>&1 || true
    done
  done
}

# Shims of our containerd instance only: they carry our socket path on their command line.
kill_shims() {
  local p pids=() i alive
  for p in /proc/[0-9]*; do
    if [[ "$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" == *containerd-shim*" -address $CONTAINERD_SOCK "* ]]; then
      pids+=("${p#/proc/}")
    fi
  done
  (( ${#pids[@]} )) || return 0
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    alive=0
    for p in "${pids[@]}"; do if running "$p"; then alive=1; fi; done
    (( alive )) || break
    sleep 0.25
  done
  log "killed ${#pids[@]} containerd shim(s)"
}

# Several passes: the same path can be mounted more than once (the kubelet bind-mounts its
# root dir onto itself to make it shared), and each umount removes only the top one.
# "NAMESPACE ID" of every task and pod sandbox our containerd knows, read before anything
# stops: a shim killed without containerd leaves its socket, and a sandbox never torn down
# leaves its CNI cache entries, both under fixed host paths and named after these ids.
known_ids() {
  local d
  for d in "$RUN"/containerd/io.containerd.runtime.v2.task/*/*; do
    if [[ -d $d ]]; then echo "$(basename "$(dirname "$d")") $(basename "$d")"; fi
  done
  for d in "$STATE"/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*; do
    if [[ -d $d ]]; then echo "k8s.io $(basename "$d")"; fi
  done
}
# Our files in the fixed host paths (see host_dirs in up.sh), then those paths themselves if
# up.sh created them and they are empty now: anything else keeps them in place.
host_paths() {
  local d ns id sock
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/cni/results/dtrc-*
  while read -r ns id; do
    [[ -n $id ]] || continue
    # containerd 1.6 names a shim socket sha256("<containerd address>/<namespace>/<id>").
    sock=/run/containerd/s/$(printf '%s' "$CONTAINERD_SOCK/$ns/$id" | sha256sum | cut -d' ' -f1)
    if [[ -S $sock ]]; then rm -f "$sock"; fi
    rm -f /var/lib/cni/results/*-"$id"-*
  done <<<"$IDS"
  [[ -f $RUN/made-host-dirs ]] || return 0
  while read -r d; do
    if [[ -d $d ]]; then find "$d" -depth -type d -empty -delete 2>/dev/null || true; fi
  done < "$RUN/made-host-dirs"
}

unmount_all() {
  local m i left dirs=("$RUN" "$STATE" "$(kubelet_root)")
  for ((i = 0; i < 5; i++)); do
    left=$(mounts_under "${dirs[@]}")
    [[ -n $left ]] || return 0
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done <<<"$left"
  done
  log "warning: cannot unmount: $(mounts_under "${dirs[@]}" | paste -sd' ')"
}

network() {
  local veth
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    # Host-side veths vanish with their pod's namespace; delete any whose namespace survived.
    for veth in $(ip -o link show master "$BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$veth" 2>/dev/null || true
    done
    ip link del "$BRIDGE"
    log "deleted bridge $BRIDGE"
  fi
}

# Removes, in every table, the jumps from built-in chains into the chains named by the regex,
# then the chains themselves. KUBE-* belong to kube-proxy and the kubelet (one node per
# host), DTRC-* to up.sh. No CNI chains are involved: the bridge plugin runs with ipMasq off.
iptables_cleanup() {
  local ipt=$1 t rules line c chains
  command -v "$ipt" >/dev/null || return 0
  for t in filter nat mangle raw; do
    rules=$("$ipt" -w -t "$t" -S 2>/dev/null) || continue
    while read -r line; do
      [[ -n $line ]] || continue
      # -S prints rules in the same quoting iptables accepts, hence eval.
      eval "$ipt -w -t $t -D ${line#-A }" 2>/dev/null || true
    done < <(grep -E '^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j (KUBE-|DTRC-)' <<<"$rules")
    chains=$(awk '$1 == "-N" && $2 ~ /^(KUBE-|DTRC-)/ {print $2}' <<<"$rules")
    for c in $chains; do "$ipt" -w -t "$t" -F "$c" 2>/dev/null || true; done
    for c in $chains; do "$ipt" -w -t "$t" -X "$c" 2>/dev/null || true; done
  done
}

sysctls() {
  [[ -f $STATE/sysctl.orig ]] || return 0
  local kv
  while read -r kv; do if [[ -n $kv ]]; then sysctl -qw "$kv" || true; fi; done < "$STATE/sysctl.orig"
  log "restored sysctls: $(paste -sd' ' "$STATE/sysctl.orig")"
}

cgroups() {
  local m i left
  for ((i = 0; i < 20; i++)); do
    left=0
    while read -r m; do
      [[ -d $m/$CGROUP_ROOT ]] || continue
      find "$m/$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
      if [[ -d $m/$CGROUP_ROOT ]]; then left=1; fi
    done < <(cgroup_mounts)
    (( left )) || return 0
    sleep 0.5
  done
  log "warning: some cgroups under $CGROUP_ROOT could not be removed"
}

# The kubelet links container logs from the fixed /var/log/containers into its pod log dir.
log_links() {
  local l
  [[ -d /var/log/containers ]] || return 0
  for l in /var/log/containers/*.log; do
    if [[ -L $l && "$(readlink "$l")" == "$STATE"/* ]]; then rm -f "$l"; fi
  done
  return 0
}

remove_state() {
  local d left
  left=$(mounts_under "$RUN" "$STATE" "$(kubelet_root)")
  # Never delete through a mount: a hostPath bind mount would take host files with it.
  [[ -z $left ]] || die "mounts remain, not deleting state: $left"
  # Nor under a daemon that still uses the state: it would be left running with no pid file.
  left=$(pgrep -d " " -f -- "$STATE/" || true)
  [[ -z $left ]] || die "processes still use $STATE (pids: $left), not deleting state"
  for d in "$RUN" "$STATE" /var/lib/dtr-cache-cluster; do
    if [[ -e $d ]]; then rm -rf --one-file-system "$d"; fi
  done
  return 0
}

IDS=$(known_ids | sort -u)
stop kubelet
stop kube-proxy
kill_containers
delete_tasks
stop containerd
kill_shims
stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop etcd
unmount_all
network
iptables_cleanup iptables
iptables_cleanup ip6tables
sysctls
cgroups
log_links
host_paths
remove_state
log "cluster down"
