#!/usr/bin/env bash
# `make demo`: from a fresh machine to three verified caches on a local Kubernetes, two pulling
# from a DTR stand-in and one (site-c) from site-a. Every step says what it does and how long it took.
set -euo pipefail
cd "$(dirname "$0")/../.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg PATH=$PWD/.venv/bin:$PATH
state=$PWD/.cluster
started=$SECONDS

step() {
    local title=$1 begin=$SECONDS
    shift
    echo "==> $title"
    "$@"
    echo "    done in $((SECONDS - begin))s"
}

push_demo_image() {
    local layout=$state/demo-image
    rm -rf "$layout"
    python3 tests/standin/make_test_image.py "$layout" --layers 3 --layer-size-kb 1024 --seed 1 --executable /bin/busybox >/dev/null
    skopeo copy --quiet --dest-cert-dir "$state/standin/certdir" "oci:$layout:1" docker://localhost:8443/demo/app:1
}

step "Python environment (.venv)" make --no-print-directory setup
step "Local Kubernetes (tests/cluster)" tests/cluster/up.sh
step "DTR stand-in (tests/standin)" tests/standin/up.sh
step "Demo image demo/app:1 pushed to the stand-in" push_demo_image
step "Deploy the three sites: ansible-playbook playbooks/deploy-cache.yml -i inventories/local" \
    ansible-playbook playbooks/deploy-cache.yml -i inventories/local
step "Pull through each site's cache (skopeo, containerd)" ansible-playbook tests/demo/summary.yml -i inventories/local
step "This machine pulls DTR's images through site-a: ansible-playbook playbooks/configure-clients.yml -i inventories/local" \
    ansible-playbook playbooks/configure-clients.yml -i inventories/local
step "The kubelet's containerd pulls dtr.test/demo/app:1 (mirrored by site-a)" \
    ctr --address /run/dtr-cache-cluster/containerd.sock -n k8s.io images pull \
    --hosts-dir "$state/containerd/certs.d" dtr.test/demo/app:1
echo "Demo ready in $((SECONDS - started))s. Tear it down with: make demo-down"
