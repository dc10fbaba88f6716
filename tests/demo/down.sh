#!/usr/bin/env bash
# `make demo-down`: stop the stand-in, then the cluster (which removes .cluster/).
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/standin/down.sh
tests/cluster/down.sh
