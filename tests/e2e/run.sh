#!/usr/bin/env bash
# Starts the local Kubernetes and the DTR stand-in, runs the end-to-end tests, and stops both
# whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/../.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg PATH=$PWD/.venv/bin:$PATH
stop() {
    tests/standin/down.sh || true
    tests/cluster/down.sh || true
}
trap stop EXIT
tests/cluster/up.sh
tests/standin/up.sh
pytest tests/e2e -q -s -p no:cacheprovider
