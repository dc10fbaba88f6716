# shellcheck shell=bash disable=SC2034  # used by the scripts that source this
# Pinned versions of everything the local cluster builds. Sourced by the other scripts.
# Changing a version changes the cache directory, so a new set of binaries and images is built
# beside the old one instead of mixing them.
K8S_VERSION=v1.33.13          # newest v1.33 patch served by the Go module proxy
K8S_STAGING_VERSION=v0.33.13  # published tag of the staging modules (k8s.io/api, ...) for K8S_VERSION
ETCD_VERSION=v3.5.35          # newest etcd 3.5 patch
PAUSE_IMAGE=localhost/pause:3.10
REGISTRY_IMAGE=localhost/distribution:2.8.2
REGISTRY_V3_VERSION=v3.1.2    # github.com/distribution/distribution/v3, built from its Go module
REGISTRY_V3_IMAGE=localhost/distribution:3.1.2

DTRC_CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/dtr-cache
DTRC_CACHE=$DTRC_CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION
DTRC_BIN=$DTRC_CACHE/bin
DTRC_BINARIES_OK=$DTRC_CACHE/binaries.ok   # written only after every binary built
DTRC_IMAGES=$DTRC_CACHE/images
# distribution v3's static registry binary; the directory name carries the version, so a new
# REGISTRY_V3_VERSION builds beside the old one. Deleting the directory forces a rebuild.
DTRC_REGISTRY_V3_DIR=$DTRC_CACHE/registry-$REGISTRY_V3_VERSION
DTRC_REGISTRY_V3_BIN=$DTRC_REGISTRY_V3_DIR/registry
