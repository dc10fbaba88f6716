# Shared settings and helpers of up.sh, down.sh and smoke.sh. Sourced, not run.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this
# shellcheck source=versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

DTRC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Everything the running cluster writes (PKI, etcd data, logs, pid files, kubeconfigs,
# containerd images and snapshots, kubelet pod directories) lives here and goes away on down.
STATE=$DTRC_REPO/.cluster
# Unix sockets are limited to 108 bytes and the repository path can be long, so sockets and
# containerd's runtime state (shim sockets, netns mounts) go to a short fixed path instead.
RUN=/run/dtr-cache-cluster
CONTAINERD_SOCK=$RUN/containerd.sock

# Networking. The pod bridge doubles as the node's address: it exists only on this machine,
# so the node IP, NodePorts and the API endpoint that pods see are all internal.
BRIDGE=dtrc0
POD_CIDR=10.244.0.0/24
HOST_IP=10.244.0.1   # bridge gateway = node IP; pods reach services on the host here
SERVICE_CIDR=10.96.0.0/24
API_SERVICE_IP=10.96.0.1
NODE_NAME=dtrc-node
CLUSTER_NAME=dtr-cache
# cgroup parent of everything the kubelet runs, so that down.sh finds (and only finds) ours.
CGROUP_ROOT=dtrc-cache
ETCD_CLIENT_PORT=12379   # not 2379: stays clear of a distribution etcd on the same host
ETCD_PEER_PORT=12380
API_PORT=6443

KUBECONFIG_ADMIN=$STATE/kubeconfig
KUBECTL=$DTRC_BIN/kubectl
# iptables chains of our own (kube-proxy and the kubelet add KUBE-*).
FWD_CHAIN=DTRC-FORWARD
IN_CHAIN=DTRC-INPUT
POST_CHAIN=DTRC-POSTROUTING
MASQ_MARK=0x4000/0x4000   # kube-proxy's masquerade mark (masqueradeBit 14)

# The kubelet puts sockets under its root dir (device-plugins/kubelet.sock, ...); if the
# repository path makes those too long, its root moves to a short path outside the repo.
kubelet_root() {
  local r=$STATE/kubelet
  if (( ${#r} + 40 > 107 )); then r=/var/lib/dtr-cache-cluster/kubelet; fi
  echo "$r"
}

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive NAME BINARY: true if the pid file of NAME names a live process running BINARY.
# Checking the command line guards against a pid reused by an unrelated process.
pid_alive() {
  local pidfile=$STATE/run/$1.pid pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  [[ "$(tr '\0' ' ' < "/proc/$pid/cmdline")" == *"$2"* ]]
}

# running PID: true while PID exists and is not a zombie (an exited daemon stays a zombie
# until init gets round to reaping it, which can take a while).
running() {
  local st
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# wait_until SECONDS DESCRIPTION COMMAND...: retries COMMAND every half second until it
# succeeds or the deadline passes (then returns 1).
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$(( SECONDS + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      printf 'timed out after %ss waiting for %s\n' "$timeout" "$what" >&2
      return 1
    fi
    sleep 0.5
  done
}

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# other_owner: prints the state dir of another checkout whose cluster runs on this host and
# succeeds, if there is one. Names (bridge, /run path, ports, cgroup) are per host, so one
# checkout must neither start beside nor clean up under another's live cluster.
other_owner() {
  local other pidf pid
  [[ -f $RUN/owner ]] || return 1
  other=$(<"$RUN/owner")
  [[ $other != "$STATE" ]] || return 1
  for pidf in "$other"/run/*.pid; do
    [[ -f $pidf ]] || continue
    pid=$(<"$pidf")
    if [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] &&
      [[ "$(tr '\0' ' ' < "/proc/$pid/cmdline")" =~ containerd|kube|etcd ]]; then
      echo "$other"
      return 0
    fi
  done
  return 1
}

# Mount points at or below any of the given directories, deepest first.
mounts_under() {
  local p
  for p in "$@"; do
    awk '{print $5}' /proc/self/mountinfo | while read -r m; do
      m=$(printf '%b' "$m")   # mountinfo escapes spaces as \040
      if [[ $m == "$p" || $m == "$p"/* ]]; then echo "$m"; fi
    done
  done | sort -ru
}

# Mount points of every cgroup hierarchy (v1 controllers, named ones, and a v2 tree).
cgroup_mounts() {
  awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts
}
