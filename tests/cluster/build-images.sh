#!/usr/bin/env bash
# Builds the two images the local cluster needs, as docker-archive tarballs in the versioned
# cache: the pod sandbox image and distribution (the registry the collection deploys), made
# from Debian's docker-registry binary. No registry is reachable, so nothing can be pulled.
# A tarball is rebuilt only when its inputs (sources, spec, registry binary) change.
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
# The image's own config.yml is the upstream image's default: filesystem storage, port 5000.
# uid 1000 ("registry") owns the storage so pods can run as non-root.
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
  {"path": "etc/ssl/certs/ca-certificates.crt", "src": "/etc/ssl/certs/ca-certificates.crt", "mode": "0644"},
  {"path": "etc/passwd", "text": "root:x:0:0:root:/root:/sbin/nologin\nregistry:x:1000:1000:registry:/var/lib/registry:/sbin/nologin\n"},
  {"path": "etc/group", "text": "root:x:0:\nregistry:x:1000:\n"},
  {"path": "etc/nsswitch.conf", "text": "hosts: files dns\n"},
  {"path": "etc/docker/registry/config.yml", "text": "version: 0.1\nlog:\n  fields:\n    service: registry\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n"},
  {"path": "tmp", "type": "dir", "mode": "1777"},
  {"path": "var/lib/registry", "type": "dir", "mode": "0755", "uid": 1000, "gid": 1000}
 ]}
JSON
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || { echo "images: ca-certificates is missing" >&2; exit 1; }
# shellcheck disable=SC2086
build "$work/distribution.json" "$DTRC_IMAGES/distribution.tar" "$registry_bin" $libs /etc/ssl/certs/ca-certificates.crt
