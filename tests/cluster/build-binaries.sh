#!/usr/bin/env bash
# Builds the Kubernetes components and etcd from their Go modules at the pinned versions.
# No release binaries can be downloaded on the machines this runs on, but the Go module proxy
# is reachable, so everything is compiled from source. The result lives in a versioned cache
# directory and is reused as long as the marker file is there.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"

MARKER=$DTRC_BINARIES_OK
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

if [[ -f $MARKER ]]; then
  echo "binaries: cached in $DTRC_BIN"
  exit 0
fi

# etcd 3.5.35 declares go 1.26; an older local Go switches toolchains through the module proxy.
command -v go >/dev/null || { echo "build-binaries: Go is required (1.24 or newer)" >&2; exit 1; }
mkdir -p "$DTRC_BIN" "$DTRC_CACHE/src/kubernetes" "$DTRC_CACHE/src/etcd"
# Static binaries link faster and do not depend on the host's libc; all of these commands
# build without cgo (upstream ships them static too).
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# A go.work around the caller must not pull these wrapper modules into a workspace.
export GOWORK=off

start_all=$(date +%s)

# --- etcd ---------------------------------------------------------------------------------
# go.etcd.io/etcd/server/v3 is itself the etcd main package; a wrapper module pins it.
t0=$(date +%s)
cd "$DTRC_CACHE/src/etcd"
cat > go.mod <<MOD
module dtrcache.local/etcdbuild

go 1.23
MOD
rm -f go.sum
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
go build -trimpath -ldflags '-s -w' -o "$DTRC_BIN/etcd" go.etcd.io/etcd/server/v3
t_etcd=$(( $(date +%s) - t0 ))
echo "binaries: etcd $ETCD_VERSION built in ${t_etcd}s"

# --- Kubernetes -----------------------------------------------------------------------------
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with
# ./staging paths that do not exist in the published module, so `go install` of its commands
# fails. The wrapper module requires k8s.io/kubernetes and points each staging module at its
# published tag instead; the list is read from the go.mod that the proxy serves so it follows
# the version.
t0=$(date +%s)
cd "$DTRC_CACHE/src/kubernetes"
k8s_mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[[ -f $k8s_mod ]] || { echo "build-binaries: cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
staging=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$k8s_mod")
[[ -n $staging ]] || { echo "build-binaries: no staging replaces found in $k8s_mod" >&2; exit 1; }
{
  echo "module dtrcache.local/k8sbuild"
  echo
  echo "go 1.24.0"
  echo
  # Same GODEBUG defaults as upstream's release binaries.
  echo "godebug default=go1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $K8S_STAGING_VERSION"; done
  echo ")"
} > go.mod
rm -f go.sum
pkgs=()
for c in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
# go get records every transitive requirement and checksum the build needs.
go get "${pkgs[@]/%/@$K8S_VERSION}"
t_deps=$(( $(date +%s) - t0 ))

# The version variables are what `kubectl version` and /version report; without them the
# components call themselves v0.0.0 and version-skew checks complain.
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
t0=$(date +%s)
# One invocation for all commands: shared packages compile once and the links run in parallel.
go build -trimpath -ldflags "$ldflags" -o "$DTRC_BIN/" "${pkgs[@]}"
t_k8s=$(( $(date +%s) - t0 ))
echo "binaries: kubernetes $K8S_VERSION built in ${t_k8s}s (module resolution ${t_deps}s)"

total=$(( $(date +%s) - start_all ))
{
  echo "k8s=$K8S_VERSION etcd=$ETCD_VERSION go=$(go env GOVERSION)"
  echo "etcd_build_s=$t_etcd k8s_modules_s=$t_deps k8s_build_s=$t_k8s total_s=$total"
} > "$DTRC_CACHE/build-times.txt"
"$DTRC_BIN/kubectl" version --client >/dev/null
touch "$MARKER"
echo "binaries: done in ${total}s -> $DTRC_BIN"
