#!/usr/bin/env bash
# Starts a single-node Kubernetes cluster on this host for the collection's integration tests:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a dedicated containerd,
# kubelet and kube-proxy, all as plain processes (no Docker engine is needed, so `kind` is not
# used). Binaries are compiled from the Go modules and images are assembled locally, because
# no release download or image registry is reachable.
#
# Idempotent: a second run finds every part running and only re-checks readiness.
# Ends when the node is Ready and untainted and the default ServiceAccount exists.
# Everything it starts or adds is undone by down.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) == 0 ]] || die "up.sh needs root (containers, mounts, iptables, bridge)"

on_exit() {
  local rc=$?
  (( rc == 0 )) || echo "up.sh failed; logs are in $STATE/logs; \`make cluster-down\` cleans up" >&2
}
trap on_exit EXIT

# step NAME FUNCTION: runs FUNCTION and prints how long it took.
step() {
  local name=$1 t0=$EPOCHREALTIME
  printf '==> %s\n' "$name"
  "$2"
  printf '    %s: %.1fs\n' "$name" "$(bc_sub "$EPOCHREALTIME" "$t0")"
}
bc_sub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
T_START=$EPOCHREALTIME

# --- host prerequisites -------------------------------------------------------------------

# Debian packages the cluster uses at run time and to build its images. CI starts from a
# fresh machine, so nothing can be assumed present.
PACKAGES=(containerd runc containernetworking-plugins iptables iproute2 conntrack socat
  openssl curl ca-certificates gcc libc6-dev docker-registry python3 kmod)
packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    log "    installing: ${missing[*]}"
    local out
    # apt's progress output is long; show it only when something fails.
    if ! out=$(apt-get update 2>&1 && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${missing[@]}" 2>&1); then
      printf '%s\n' "$out" >&2
      die "package installation failed"
    fi
  fi
}

# overlayfs for container root filesystems; br_netfilter so bridged pod traffic passes
# iptables (kube-proxy's service rules and our forwarding guard).
kernel() {
  grep -qw overlay /proc/filesystems || modprobe overlay || die "no overlay filesystem"
  [[ -d /proc/sys/net/bridge ]] || modprobe br_netfilter || die "no br_netfilter"
  mkdir -p "$STATE"
  # Remember the host's values once, so down.sh can put them back.
  if [[ ! -f $STATE/sysctl.orig ]]; then
    sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet |
      paste -d= <(printf '%s\n' net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet) - \
      > "$STATE/sysctl.orig"
  fi
  # Forwarding is needed for pod -> Service -> pod on the bridge; the DTRC-FORWARD guard below
  # keeps it from ever carrying traffic to or from another interface.
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
}

# The Go build prints hundreds of module lines: they go to a log, shown only on failure.
binaries() {
  local buildlog=$DTRC_CACHE/build.log
  mkdir -p "$DTRC_CACHE"
  if [[ ! -f $DTRC_BINARIES_OK ]]; then
    log "    compiling Kubernetes $K8S_VERSION and etcd $ETCD_VERSION: about 6 minutes on 2 cores (log: $buildlog)"
  fi
  if ! "$HERE/build-binaries.sh" > "$buildlog" 2>&1; then
    tail -n 40 "$buildlog" >&2
    die "building the binaries failed; log: $buildlog"
  fi
  log "    $(tail -n 1 "$buildlog")"
}
images() { "$HERE/build-images.sh"; }

# --- leftovers ------------------------------------------------------------------------------

DAEMONS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
daemon_bin() { if [[ $1 == containerd ]]; then command -v containerd; else echo "$DTRC_BIN/$1"; fi; }
any_alive() {
  local d
  for d in "${DAEMONS[@]}"; do pid_alive "$d" "$(daemon_bin "$d")" && return 0; done
  return 1
}

# Refuse to run beside another checkout's live cluster; clear what a dead one (or a crashed
# run of ours) left behind.
leftovers() {
  local other
  if other=$(other_owner); then
    die "a cluster of another checkout is running ($other); stop it with its down.sh"
  fi
  if any_alive; then
    log "    cluster processes found: keeping them"
  elif [[ -e $RUN || -d $STATE/run ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "    nothing runs but state is left: cleaning up first"
    "$HERE/down.sh" | sed 's/^/    /'
  fi
}

# --- certificates and configuration ----------------------------------------------------------

# write_file PATH [MODE] < content: replaces PATH only when the content differs. Running
# components watch some of these files (kube-proxy exits when its config file is written),
# so an idempotent run must leave identical files untouched.
write_file() {
  local path=$1 mode=${2:-644} tmp
  tmp=$(mktemp "$path.XXXXXX")
  cat > "$tmp"
  chmod "$mode" "$tmp"
  if cmp -s "$tmp" "$path"; then rm -f "$tmp"; else mv -f "$tmp" "$path"; fi
}

PKI=$STATE/pki
# cert NAME SUBJECT EXTENDED_USAGE [SANS]: a key pair signed by the cluster CA, made once.
cert() {
  local name=$1 subj=$2 usage=$3 sans=${4:-}
  [[ -f $PKI/$name.crt ]] && return 0
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    if [[ -n $sans ]]; then echo "subjectAltName=$sans"; fi
  } > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig FILE USER: credentials embedded, so the file works wherever it is copied.
kubeconfig() {
  local file=$1 user=$2
  write_file "$file" 600 <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $CLUSTER_NAME
    cluster:
      server: https://127.0.0.1:$API_PORT
      certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 "$PKI/$user.crt")
      client-key-data: $(base64 -w0 "$PKI/$user.key")
contexts:
  - name: $CLUSTER_NAME
    context:
      cluster: $CLUSTER_NAME
      user: $user
current-context: $CLUSTER_NAME
EOF
}

pki() {
  mkdir -p "$PKI" "$STATE/config" "$STATE/logs" "$STATE/run"
  chmod 700 "$PKI"
  if [[ ! -f $PKI/ca.crt ]]; then
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=dtr-cache-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  fi
  local svc=kubernetes.default.svc
  cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:$svc,DNS:$svc.cluster.local,DNS:$NODE_NAME,IP:127.0.0.1,IP:$HOST_IP,IP:$API_SERVICE_IP"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  cert scheduler "/CN=system:kube-scheduler" clientAuth
  cert kube-proxy "/CN=system:kube-proxy" clientAuth
  cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  cert kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,DNS:localhost,IP:$HOST_IP,IP:127.0.0.1"
  # The API server's identity towards aggregated APIs; configuring it also gives the
  # controller manager and scheduler the request-header CA their delegated auth expects.
  cert front-proxy-client "/CN=front-proxy-client" clientAuth
  # Signs and verifies ServiceAccount tokens.
  if [[ ! -f $PKI/sa.key ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  fi
  kubeconfig "$KUBECONFIG_ADMIN" admin
  local u
  for u in controller-manager scheduler kube-proxy kubelet; do kubeconfig "$STATE/config/$u.kubeconfig" "$u"; done
  echo "$HOST_IP" | write_file "$STATE/host-ip"
  write_file "$STATE/env" <<EOF
KUBECONFIG=$KUBECONFIG_ADMIN
DTRC_HOST_IP=$HOST_IP
DTRC_NODE_NAME=$NODE_NAME
DTRC_POD_CIDR=$POD_CIDR
DTRC_SERVICE_CIDR=$SERVICE_CIDR
DTRC_REGISTRY_IMAGE=$REGISTRY_IMAGE
DTRC_PAUSE_IMAGE=$PAUSE_IMAGE
DTRC_KUBECTL=$KUBECTL
EOF
}

configs() {
  local kroot
  kroot=$(kubelet_root)
  mkdir -p "$STATE/cni/net.d" "$STATE/containerd/certs.d" "$RUN" "$kroot"
  echo "$STATE" | write_file "$RUN/owner"

  # Own root, state and socket: the host's containerd (if any) is not touched.
  write_file "$STATE/config/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd"
# Snapshotters that cannot work here only add errors to the log.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Pod network namespaces are bind-mounted under our state dir instead of /run/netns, so
  # down.sh can find exactly ours.
  netns_mounts_under_state_dir = true
  # This host withholds CAP_SYS_RESOURCE even from root, so no process may lower its
  # oom_score_adj: the pause container's -998 would make every sandbox fail to start. Clamp
  # such values to containerd's own instead.
  restrict_oom_score_adj = true
  # The host has no hugetlb cgroup controller.
  disable_hugetlb_controller = true
  tolerate_missing_hugetlb_controller = true
  stream_server_address = "127.0.0.1"
  # The kubelet's pulls read a hosts.toml per registry host here (the dtr_cache_client role
  # writes them); changes take effect without a restart.
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/containerd/certs.d"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroup v1 with the cgroupfs driver, like the kubelet below.
        SystemdCgroup = false
        # runc's state next to ours, not in the host containerd's /run/containerd/runc.
        Root = "$RUN/runc"
EOF

  # ipMasq false and a route only to the Service range: pods reach each other, the host (the
  # gateway) and Services, and have no route anywhere else.
  write_file "$STATE/cni/net.d/10-dtrc.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "dtrc",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$HOST_IP"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}]
      }
    }
  ]
}
EOF

  write_file "$STATE/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $HOST_IP
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
# No cluster DNS (there is no image for one): pods use hostAliases. An empty resolvConf
# gives pods no upstream nameserver, so a lookup fails at once instead of timing out.
clusterDomain: cluster.local
resolvConf: ""
failSwapOn: false
# Without CAP_SYS_RESOURCE (see containerd.toml) the default -999 cannot be applied.
oomScoreAdj: 0
# Keep the node schedulable on a busy disk; the tests use little space.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
podLogsDir: $STATE/pod-logs
volumePluginDir: $STATE/volume-plugins
staticPodPath: ""
rotateCertificates: false
EOF

  write_file "$STATE/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $STATE/config/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
bindAddress: $HOST_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $POD_CIDR
detectLocalMode: ClusterCIDR
# NodePorts answer on loopback (needs route_localnet, which kube-proxy sets) and on the
# bridge address only, never on the host's outside interfaces.
nodePortAddresses: ["127.0.0.0/8", "$HOST_IP/32"]
iptables:
  localhostNodePorts: true
  masqueradeAll: false
  # 0x4000, the mark the DTRC-POSTROUTING guard checks.
  masqueradeBit: 14
# Without CAP_SYS_RESOURCE (see containerd.toml) the default -999 cannot be applied.
oomScoreAdj: 0
# Zero leaves the host's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# Some paths are fixed in containerd 1.6 and the kubelet whatever their configuration:
# /run/containerd/s (shim sockets), /var/lib/cni (CNI result cache),
# /var/lib/kubelet/device-plugins (kubelet socket) and /var/log/containers (log links).
# Record which of them did not exist, so down.sh removes them again once empty.
HOST_DIRS=(/run/containerd /var/lib/cni /var/lib/kubelet /var/log/containers)
host_dirs() {
  local d
  any_alive && return 0
  for d in "${HOST_DIRS[@]}"; do
    if [[ ! -e $d ]] && ! grep -qxF "$d" "$RUN/made-host-dirs" 2>/dev/null; then
      echo "$d" >> "$RUN/made-host-dirs"
    fi
  done
}

# --- network ----------------------------------------------------------------------------------

# ensure_rule TABLE CHAIN RULE...: append RULE unless present.
ensure_rule() {
  local t=$1 c=$2; shift 2
  iptables -w -t "$t" -C "$c" "$@" 2>/dev/null || iptables -w -t "$t" -A "$c" "$@"
}

network() {
  # The bridge is made here (not left to the CNI plugin on the first pod) because its address
  # is the node IP: the kubelet, the API endpoint and host-side registries need it from the start.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip -4 addr show dev "$BRIDGE" | grep -q "inet $HOST_IP/" || ip addr add "$HOST_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up

  # Forwarding guard, in mangle so that it runs before any filter-table ACCEPT that kube-proxy
  # inserts: traffic may be forwarded only from the bridge back to the bridge. Nothing from
  # pods leaves the machine and nothing from outside reaches pods.
  iptables -w -t mangle -N "$FWD_CHAIN" 2>/dev/null || true
  ensure_rule mangle "$FWD_CHAIN" -i "$BRIDGE" -o "$BRIDGE" -j RETURN
  ensure_rule mangle "$FWD_CHAIN" -i "$BRIDGE" -j DROP
  ensure_rule mangle "$FWD_CHAIN" -o "$BRIDGE" -j DROP
  iptables -w -t mangle -C FORWARD -j "$FWD_CHAIN" 2>/dev/null || iptables -w -t mangle -I FORWARD 1 -j "$FWD_CHAIN"

  # Service traffic that kube-proxy marks for masquerading may only go to pods (the bridge) or
  # to the host itself (lo): even a Service whose endpoints someone points at an outside
  # address is never SNATed out of the machine.
  iptables -w -t mangle -N "$POST_CHAIN" 2>/dev/null || true
  ensure_rule mangle "$POST_CHAIN" -m mark ! --mark "$MASQ_MARK" -j RETURN
  ensure_rule mangle "$POST_CHAIN" -o "$BRIDGE" -j RETURN
  ensure_rule mangle "$POST_CHAIN" -o lo -j RETURN
  ensure_rule mangle "$POST_CHAIN" -j DROP
  iptables -w -t mangle -C POSTROUTING -j "$POST_CHAIN" 2>/dev/null || iptables -w -t mangle -I POSTROUTING 1 -j "$POST_CHAIN"

  # The API server listens on all addresses (loopback for tools, the bridge for pods); other
  # interfaces get neither it nor the pod network.
  iptables -w -t filter -N "$IN_CHAIN" 2>/dev/null || true
  ensure_rule filter "$IN_CHAIN" -i lo -j RETURN
  ensure_rule filter "$IN_CHAIN" -i "$BRIDGE" -j RETURN
  ensure_rule filter "$IN_CHAIN" -d "$POD_CIDR" -j DROP
  ensure_rule filter "$IN_CHAIN" -p tcp --dport "$API_PORT" -j DROP
  iptables -w -t filter -C INPUT -j "$IN_CHAIN" 2>/dev/null || iptables -w -t filter -I INPUT 1 -j "$IN_CHAIN"
}

# The kubelet's cgroup root must exist in every hierarchy before it starts.
cgroups() {
  local m
  while read -r m; do
    mkdir -p "$m/$CGROUP_ROOT"
    # A new v1 cpuset group starts with no CPUs or memory nodes; give it the parent's.
    if [[ -f $m/cpuset.cpus && ! -f $m/cgroup.controllers ]]; then
      [[ -n $(<"$m/$CGROUP_ROOT/cpuset.cpus") ]] || cat "$m/cpuset.cpus" > "$m/$CGROUP_ROOT/cpuset.cpus"
      [[ -n $(<"$m/$CGROUP_ROOT/cpuset.mems") ]] || cat "$m/cpuset.mems" > "$m/$CGROUP_ROOT/cpuset.mems"
    fi
  done < <(cgroup_mounts)
}

# --- processes --------------------------------------------------------------------------------

# start_daemon NAME BINARY ARGS...: starts BINARY in its own session (so it survives the
# caller's terminal and make), logging to logs/NAME.log, unless it already runs.
start_daemon() {
  local name=$1 bin=$2; shift 2
  if pid_alive "$name" "$bin"; then
    log "    $name already running (pid $(<"$STATE/run/$name.pid"))"
    return 0
  fi
  local pidfile=$STATE/run/$name.pid
  rm -f "$pidfile"
  # setsid forks when it starts as a process-group leader (under a shell with job control), and
  # then $! is not the daemon: the shell that becomes the daemon writes its own pid.
  # shellcheck disable=SC2016  # expanded by that shell
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$bin" "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  # Until that shell has exec'd the daemon, its command line is not the daemon's: on a loaded
  # machine a liveness check could read it and take the daemon for dead.
  local tries=100
  until pid_alive "$name" "$bin" || (( --tries == 0 )); do sleep 0.1; done
}

# await NAME BINARY TIMEOUT DESCRIPTION COMMAND...: waits for COMMAND, failing early with the
# log's tail if the process died.
await() {
  local name=$1 bin=$2 timeout=$3 what=$4; shift 4
  local deadline=$(( SECONDS + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$name" "$bin"; then
      tail -n 30 "$STATE/logs/$name.log" >&2
      die "$name exited; log: $STATE/logs/$name.log"
    fi
    if (( SECONDS >= deadline )); then
      tail -n 30 "$STATE/logs/$name.log" >&2
      die "$name: no $what after ${timeout}s; log: $STATE/logs/$name.log"
    fi
    sleep 0.5
  done
}

# port_free PORT NAME BINARY: a port taken by anything but our own process is a conflict.
port_free() {
  pid_alive "$2" "$3" && return 0
  if ss -Hltn "sport = :$1" | grep -q .; then
    die "port $1 is in use (needed by $2): $(ss -Hltnp "sport = :$1" | head -1)"
  fi
}

containerd_() {
  local bin
  bin=$(command -v containerd)
  start_daemon containerd "$bin" --config "$STATE/config/containerd.toml"
  await containerd "$bin" 60 socket ctr --address "$CONTAINERD_SOCK" --timeout 3s version
}

# Imports an image tarball unless this exact build is already in containerd.
import_images() {
  local name file want
  for name in pause distribution distribution-v3; do
    file=$DTRC_IMAGES/$name.tar
    want=$(<"$file.inputs")
    if [[ "$(cat "$STATE/run/image-$name" 2>/dev/null)" == "$want" ]]; then continue; fi
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$file" >/dev/null
    echo "$want" > "$STATE/run/image-$name"
  done
  # The sandbox image must never be garbage-collected: pods cannot start without it.
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images label "$PAUSE_IMAGE" io.cri-containerd.pinned=pinned >/dev/null
}

etcd_() {
  port_free "$ETCD_CLIENT_PORT" etcd "$DTRC_BIN/etcd"
  # Loopback only and without fsync: a throwaway test store where speed matters, not durability.
  start_daemon etcd "$DTRC_BIN/etcd" --name dtrc --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "dtrc=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "" --unsafe-no-fsync
  await etcd "$DTRC_BIN/etcd" 60 health \
    sh -c "curl -fsS --max-time 3 http://127.0.0.1:$ETCD_CLIENT_PORT/health | grep -q '\"health\":\"true\"'"
}

apiserver() {
  local bin=$DTRC_BIN/kube-apiserver
  port_free "$API_PORT" kube-apiserver "$bin"
  start_daemon kube-apiserver "$bin" \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address 0.0.0.0 --secure-port "$API_PORT" --advertise-address "$HOST_IP" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --requestheader-client-ca-file "$PKI/ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" \
    --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --profiling=false
  await kube-apiserver "$bin" 120 readiness kc --request-timeout 5s get --raw /readyz
  # The controller manager and scheduler exit at start when this ConfigMap (their delegated
  # authentication's CA) is missing, and the API server writes it shortly after /readyz passes.
  await kube-apiserver "$bin" 60 "authentication ConfigMap" \
    kc --request-timeout 5s -n kube-system get configmap extension-apiserver-authentication
}

controllers() {
  local cm=$DTRC_BIN/kube-controller-manager sch=$DTRC_BIN/kube-scheduler
  local cmk=$STATE/config/controller-manager.kubeconfig schk=$STATE/config/scheduler.kubeconfig
  port_free 10257 kube-controller-manager "$cm"
  port_free 10259 kube-scheduler "$sch"
  # The service-account key and root CA make the token controller and ServiceAccount
  # admission work, without which no pod is admitted.
  supervised kube-controller-manager "$cm" 10257 \
    --kubeconfig "$cmk" --authentication-kubeconfig "$cmk" --authorization-kubeconfig "$cmk" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
    --use-service-account-credentials \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false \
    --flex-volume-plugin-dir "$STATE/volume-plugins" \
    --profiling=false
  supervised kube-scheduler "$sch" 10259 \
    --kubeconfig "$schk" --authentication-kubeconfig "$schk" --authorization-kubeconfig "$schk" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
}

# supervised NAME BINARY PORT ARGS...: starts a control-plane daemon and waits for its healthz,
# starting it again (three tries in all) if it exits early: both exit on a transient API
# server error at start, which a loaded machine makes likely.
supervised() {
  local name=$1 bin=$2 port=$3 try; shift 3
  for try in 1 2 3; do
    start_daemon "$name" "$bin" "$@"
    if (await "$name" "$bin" 60 healthz curl -fsk --max-time 3 "https://127.0.0.1:$port/healthz"); then
      return 0
    fi
    # Never a second one beside a daemon that still runs or holds the port.
    if pid_alive "$name" "$bin" || ss -Hltn "sport = :$port" | grep -q .; then exit 1; fi
    log "    $name exited at start (try $try of 3); starting it again"
  done
  die "$name exited three times; log: $STATE/logs/$name.log"
}

kubelet_() {
  local bin=$DTRC_BIN/kubelet
  port_free 10250 kubelet "$bin"
  start_daemon kubelet "$bin" --config "$STATE/config/kubelet.yaml" \
    --kubeconfig "$STATE/config/kubelet.kubeconfig" --root-dir "$(kubelet_root)" \
    --hostname-override "$NODE_NAME" --node-ip "$HOST_IP" --v=1
  await kubelet "$bin" 60 healthz curl -fs --max-time 3 http://127.0.0.1:10248/healthz
}

kube_proxy() {
  local bin=$DTRC_BIN/kube-proxy
  port_free 10256 kube-proxy "$bin"
  start_daemon kube-proxy "$bin" --config "$STATE/config/kube-proxy.yaml"
  await kube-proxy "$bin" 60 healthz curl -fs --max-time 3 http://127.0.0.1:10256/healthz
}

route_crd() {
  kc --request-timeout 30s apply -f "$HERE/manifests/route-crd.yaml" >/dev/null
  kc wait --for condition=Established --timeout 60s crd/routes.route.openshift.io >/dev/null
}

node_ready() {
  [[ "$(kc --request-timeout 5s get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
# The node lifecycle controller lifts the not-ready taint shortly after Ready; until then
# nothing schedules.
node_untainted() {
  local taints
  taints=$(kc --request-timeout 5s get node "$NODE_NAME" -o jsonpath='{.spec.taints}') && [[ -z $taints ]]
}
ready() {
  await kubelet "$DTRC_BIN/kubelet" 120 "node Ready" node_ready
  await kubelet "$DTRC_BIN/kubelet" 60 "untainted node" node_untainted
  # Pods are admitted only once the namespace's default ServiceAccount exists.
  await kube-controller-manager "$DTRC_BIN/kube-controller-manager" 60 "default ServiceAccount" \
    kc --request-timeout 5s -n default get serviceaccount default
}

step "install packages" packages
# Before anything is written: cleaning a dead cluster's leftovers removes .cluster/.
step "clean leftovers" leftovers
step "kernel and sysctl" kernel
step "build binaries" binaries
step "build images" images
step "certificates and config" pki
step "write configs" configs
step "bridge and iptables guard" network
step "cgroups" cgroups
step "host paths" host_dirs
step "start containerd" containerd_
step "import images" import_images
step "start etcd" etcd_
step "start kube-apiserver" apiserver
step "start controller-manager and scheduler" controllers
step "install Route CRD" route_crd
step "start kubelet" kubelet_
step "start kube-proxy" kube_proxy
step "wait for node Ready" ready

printf '\ncluster up in %.1fs: %s (Kubernetes %s)\n' "$(bc_sub "$EPOCHREALTIME" "$T_START")" "$NODE_NAME" "$K8S_VERSION"
printf '  export KUBECONFIG=%s\n  host IP for pods: %s (also in %s)\n' "$KUBECONFIG_ADMIN" "$HOST_IP" "$STATE/host-ip"
