#!/usr/bin/env bash
# Proves the local cluster runs real workloads: a Deployment of the locally built
# distribution image with its config from a ConfigMap, exposed by a NodePort Service, answers
# /v2/ on the host's loopback and on the node IP; from inside the pod's network namespace the
# Service's ClusterIP and the host IP answer too, and there is no route off the machine.
# Everything it creates is deleted at the end. Needs a cluster from up.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

NS=dtrc-smoke
[[ -f $KUBECONFIG_ADMIN ]] || die "no cluster: run make cluster-up first"
cleanup() { kc delete namespace "$NS" --ignore-not-found --wait=true --timeout=60s >/dev/null || true; }
trap cleanup EXIT

t0=$SECONDS
kc --request-timeout 30s create namespace "$NS" --dry-run=client -o yaml | kc --request-timeout 30s apply -f - >/dev/null
kc --request-timeout 30s -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: registry-config
data:
  config.yml: |
    version: 0.1
    log:
      level: info
    storage:
      filesystem:
        rootdirectory: /var/lib/registry
    http:
      addr: :5000
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: registry
spec:
  replicas: 1
  selector:
    matchLabels: {app: registry}
  template:
    metadata:
      labels: {app: registry}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: registry
          image: $REGISTRY_IMAGE
          imagePullPolicy: IfNotPresent
          ports: [{containerPort: 5000}]
          readinessProbe:
            httpGet: {path: /v2/, port: 5000}
            periodSeconds: 1
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: config, mountPath: /etc/docker/registry}
            - {name: data, mountPath: /var/lib/registry}
      volumes:
        - name: config
          configMap: {name: registry-config}
        - name: data
          emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: registry
spec:
  type: NodePort
  selector: {app: registry}
  ports: [{port: 5000, targetPort: 5000}]
EOF

if ! kc -n "$NS" wait --for condition=Available --timeout 120s deployment/registry >/dev/null; then
  kc --request-timeout 30s -n "$NS" get pods -o wide >&2
  kc --request-timeout 30s -n "$NS" describe pods >&2
  die "deployment did not become Available"
fi
log "deployment Available after $((SECONDS - t0))s"
kc --request-timeout 30s get nodes,pods -A -o wide

node_port=$(kc --request-timeout 30s -n "$NS" get service registry -o jsonpath='{.spec.ports[0].nodePort}')
cluster_ip=$(kc --request-timeout 30s -n "$NS" get service registry -o jsonpath='{.spec.clusterIP}')

# check URL [NETNS_PID]: GET /v2/ must answer 200 with {}; kube-proxy may need a moment for
# a new Service, hence a few bounded tries.
check() {
  local url=$1 pid=${2:-} body i where=""
  local run=()
  if [[ -n $pid ]]; then run=(nsenter -t "$pid" -n); where=" (from the pod network namespace)"; fi
  for ((i = 0; i < 20; i++)); do
    if body=$("${run[@]}" curl -fsS --max-time 3 "$url" 2>/dev/null) && [[ $body == "{}" ]]; then
      log "ok: $url$where -> $body"
      return 0
    fi
    sleep 0.5
  done
  die "no 200 {} from $url$where"
}

check "http://127.0.0.1:$node_port/v2/"
check "http://$HOST_IP:$node_port/v2/"

# Enter the pod's network namespace through its container's process, found in the pod's
# cgroup below the kubelet's cgroup root.
uid=$(kc --request-timeout 30s -n "$NS" get pods -l app=registry -o jsonpath='{.items[0].metadata.uid}')
pid=$(find /sys/fs/cgroup/pids/"$CGROUP_ROOT" -path "*/pod$uid/*/cgroup.procs" -exec cat {} + 2>/dev/null |
  head -1 || true)
[[ -n $pid ]] || die "cannot find a process of pod $uid"
check "http://$cluster_ip:5000/v2/" "$pid"
# Pods may reach the host: answer with the NodePort on the bridge address.
check "http://$HOST_IP:$node_port/v2/" "$pid"
# No route leaves the pod network (asked of the routing table; no packet is sent).
routes=$(nsenter -t "$pid" -n ip route | paste -sd ';')
if nsenter -t "$pid" -n ip route get 203.0.113.1 >/dev/null 2>&1; then
  die "pods have a route off the machine: $routes"
fi
log "ok: pods have no route off the machine (routes: $routes)"

# Logs travel API server -> kubelet over TLS verified against the cluster CA.
logs=$(kc --request-timeout 30s -n "$NS" logs deployment/registry --tail 50)
grep -q 'listening on' <<<"$logs" || die "kubectl logs did not return the registry's log: $logs"
log "ok: kubectl logs reaches the kubelet"

log "smoke test passed in $((SECONDS - t0))s"
