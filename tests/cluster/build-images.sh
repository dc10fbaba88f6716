#!/usr/bin/env bash
# Builds the images the local cluster needs, as docker-archive tarballs in the versioned
# cache: the pod sandbox image and distribution (the registry the collection deploys) twice:
# 2.8.2 from Debian's docker-registry binary, and v3 compiled from its Go module. No registry
# is reachable, so nothing can be pulled. A tarball is rebuilt only when its inputs (sources,
# spec, registry binary) change; the v3 binary only when it is missing from the cache.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"
IMG_SRC=$HERE/images
mkdir -p "$DTRC_IMAGES"
# A fixed work path keeps the specs (which name their source files) identical between runs.
work=$DTRC_IMAGES/.build
mkdir -p "$work"

# Rebuilds $2 from spec $1 unless the recorded hash of the spec and of every listed input matches.
build() {
  local spec=$1 out=$2; shift 2
  local sum
  sum=$(cat "$spec" "$IMG_SRC/mkimage.py" "$@" | sha256sum | cut -d' ' -f1)
  if [[ -f $out && "$(cat "$out.inputs" 2>/dev/null)" == "$sum" ]]; then
    echo "images: $(basename "$out") cached"
    return
  fi
  python3 "$IMG_SRC/mkimage.py" "$spec" "$out"
  echo "$sum" > "$out.inputs"
}

# --- pause --------------------------------------------------------------------------------
# Static, so the image needs nothing but the binary.
gcc -static -Os -s -o "$work/pause" "$IMG_SRC/pause.c"
cat > "$work/pause.json" <<JSON
{"name": "$PAUSE_IMAGE",
 "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
 "entries": [{"path": "pause", "src": "$work/pause", "mode": "0755"}]}
JSON
build "$work/pause.json" "$DTRC_IMAGES/pause.tar" "$IMG_SRC/pause.c"

# --- distribution ---------------------------------------------------------------------------
# registry_entries CONFIG_PATH: the image entries both distribution images have: the CA bundle,
# the registry user (uid 1000, owner of the storage so pods can run as non-root), name
# resolution, the upstream image's default config (filesystem storage, port 5000) at
# CONFIG_PATH, /tmp and the storage directory.
registry_entries() {
  cat <<JSON
  {"path": "etc/ssl/certs/ca-certificates.crt", "src": "/etc/ssl/certs/ca-certificates.crt", "mode": "0644"},
  {"path": "etc/passwd", "text": "root:x:0:0:root:/root:/sbin/nologin\nregistry:x:1000:1000:registry:/var/lib/registry:/sbin/nologin\n"},
  {"path": "etc/group", "text": "root:x:0:\nregistry:x:1000:\n"},
  {"path": "etc/nsswitch.conf", "text": "hosts: files dns\n"},
  {"path": "$1", "text": "version: 0.1\nlog:\n  fields:\n    service: registry\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n"},
  {"path": "tmp", "type": "dir", "mode": "1777"},
  {"path": "var/lib/registry", "type": "dir", "mode": "0755", "uid": 1000, "gid": 1000}
JSON
}

registry_bin=/usr/bin/docker-registry
want=${REGISTRY_IMAGE##*:}
have=$("$registry_bin" --version | awk '{print $3}')
if [[ $have != "$want"* ]]; then
  echo "images: $registry_bin is $have but $REGISTRY_IMAGE expects $want" >&2
  exit 1
fi
# Debian links the binary against glibc: ship exactly the libraries ldd names, at the paths
# the dynamic loader looks them up.
libs=$(ldd "$registry_bin" | awk '/=>/ {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}' | sort -u)
lib_entries=$(for l in $libs; do printf '  {"path": "%s", "src": "%s", "mode": "0755"},\n' "${l#/}" "$l"; done)
cat > "$work/distribution.json" <<JSON
{"name": "$REGISTRY_IMAGE",
 "config": {"Entrypoint": ["/usr/bin/docker-registry"],
            "Cmd": ["serve", "/etc/docker/registry/config.yml"],
            "User": "1000:1000",
            "ExposedPorts": {"5000/tcp": {}},
            "Volumes": {"/var/lib/registry": {}},
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
 "entries": [
  {"path": "usr/bin/docker-registry", "src": "$registry_bin", "mode": "0755"},
$lib_entries
$(registry_entries etc/docker/registry/config.yml)
 ]}
JSON
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || { echo "images: ca-certificates is missing" >&2; exit 1; }
# shellcheck disable=SC2086
build "$work/distribution.json" "$DTRC_IMAGES/distribution.tar" "$registry_bin" $libs /etc/ssl/certs/ca-certificates.crt

# --- distribution v3 ------------------------------------------------------------------------
# No release binary can be downloaded, but the module proxy is reachable. The module has no
# replace directives, so `go install module@version` builds exactly what upstream's go.mod
# pins. Static (CGO_ENABLED=0, as upstream's Dockerfile) so the image needs no libc.
V3_MODULE=github.com/distribution/distribution/v3

# Prints why the cached v3 binary cannot be used, or nothing when it can.
registry_v3_problem() {
  local have
  [[ -x $DTRC_REGISTRY_V3_BIN ]] || { echo "missing"; return; }
  have=$("$DTRC_REGISTRY_V3_BIN" --version 2>/dev/null | awk '{print $3}')
  [[ $have == "${REGISTRY_V3_VERSION#v}" ]] || echo "reports version '$have'"
}

build_registry_v3() {
  local tmp log t0 ldflags secs
  log=$DTRC_REGISTRY_V3_DIR/build.log
  mkdir -p "$DTRC_REGISTRY_V3_DIR"
  # Built beside the final path and moved: an interrupted build never leaves a binary that
  # the next run would take for a finished one.
  tmp=$(mktemp -d "$DTRC_REGISTRY_V3_DIR/.gobin.XXXXXX")
  # Upstream's Dockerfile stamps the version without its "v"; `registry --version` shows it.
  ldflags="-s -w -X $V3_MODULE/version.version=${REGISTRY_V3_VERSION#v} -X $V3_MODULE/version.mainpkg=$V3_MODULE"
  t0=$(date +%s)
  # GOWORK/GOFLAGS: a workspace or -mod setting of the caller must not change what is built.
  if ! GOBIN=$tmp CGO_ENABLED=0 GOWORK=off GOFLAGS= \
      go install -trimpath -ldflags "$ldflags" "$V3_MODULE/cmd/registry@$REGISTRY_V3_VERSION" > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -rf "$tmp"
    echo "images: building distribution $REGISTRY_V3_VERSION failed; log: $log" >&2
    exit 1
  fi
  # ldd fails on a static binary: success here means something linked libc after all.
  if ldd "$tmp/registry" >/dev/null 2>&1; then
    rm -rf "$tmp"
    echo "images: distribution $REGISTRY_V3_VERSION came out dynamically linked" >&2
    exit 1
  fi
  mv -f "$tmp/registry" "$DTRC_REGISTRY_V3_BIN"
  rmdir "$tmp"
  secs=$(( $(date +%s) - t0 ))
  echo "registry_v3=$REGISTRY_V3_VERSION go=$(go env GOVERSION) build_s=$secs" > "$DTRC_REGISTRY_V3_DIR/build-times.txt"
  echo "images: distribution $REGISTRY_V3_VERSION built in ${secs}s -> $DTRC_REGISTRY_V3_BIN"
}

# The image tag and the module version are set separately in versions.sh; one without the
# other would give an image whose name lies about its binary.
if [[ ${REGISTRY_V3_IMAGE##*:} != "${REGISTRY_V3_VERSION#v}" ]]; then
  echo "images: $REGISTRY_V3_IMAGE does not match REGISTRY_V3_VERSION=$REGISTRY_V3_VERSION" >&2
  exit 1
fi
problem=$(registry_v3_problem)
if [[ -n $problem ]]; then
  command -v go >/dev/null || { echo "images: Go is required to build distribution $REGISTRY_V3_VERSION" >&2; exit 1; }
  echo "images: distribution $REGISTRY_V3_VERSION binary $problem; building it from $V3_MODULE (log: $DTRC_REGISTRY_V3_DIR/build.log)"
  build_registry_v3
  problem=$(registry_v3_problem)
  [[ -z $problem ]] || { echo "images: the new $DTRC_REGISTRY_V3_BIN $problem" >&2; exit 1; }
else
  echo "images: distribution $REGISTRY_V3_VERSION binary cached"
fi
# Upstream's image layout: /bin/registry, config at /etc/distribution/config.yml, storage at
# /var/lib/registry, traces not exported (the default exporter dials localhost:4318 and logs
# every failure). Its other entries are the 2.8.2 image's, so the two start alike.
cat > "$work/distribution-v3.json" <<JSON
{"name": "$REGISTRY_V3_IMAGE",
 "config": {"Entrypoint": ["/bin/registry"],
            "Cmd": ["serve", "/etc/distribution/config.yml"],
            "User": "1000:1000",
            "ExposedPorts": {"5000/tcp": {}},
            "Volumes": {"/var/lib/registry": {}},
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "OTEL_TRACES_EXPORTER=none"]},
 "entries": [
  {"path": "bin/registry", "src": "$DTRC_REGISTRY_V3_BIN", "mode": "0755"},
$(registry_entries etc/distribution/config.yml)
 ]}
JSON
build "$work/distribution-v3.json" "$DTRC_IMAGES/distribution-v3.tar" "$DTRC_REGISTRY_V3_BIN" /etc/ssl/certs/ca-certificates.crt
