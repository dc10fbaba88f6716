# Entry points for people and CI. `make help` lists them.
SHELL := /bin/bash
# The distribution's Python 3.11 where there is one: it ran the role's no-op about a sixth faster
# than pyenv's default build (docs/performance.md). Any Python 3.11 works: make setup PYTHON=python3.11.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3.11)
VENV := .venv
BIN := $(VENV)/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help demo demo-down bench bench-cache-image setup test unit render lint sanity molecule e2e cluster-up cluster-smoke cluster-down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

demo: ## Set up everything and deploy three sites against the DTR stand-in, then pull through them
	tests/demo/demo.sh

demo-down: ## Stop the demo's stand-in and Kubernetes
	tests/demo/down.sh

bench: setup ## Time a converge, a no-op, --check and ten sites next to kubectl (leaves the cluster running)
	$(BIN)/python tests/bench/bench.py

bench-cache-image: ## distribution 2.8.2 vs v3 as a cache, plain processes on loopback (no cluster)
	python3 tests/bench/cache_image.py

setup: $(VENV)/.installed .collections/ansible_collections/dtr/cache ## Python environment and collection link

$(VENV)/.installed: tests/requirements.txt requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

.collections/ansible_collections/dtr/cache:
	mkdir -p $(@D)
	ln -sfn ../../.. $@

test: setup unit render lint sanity molecule e2e ## Everything CI runs

unit: setup ## Unit tests of modules, filters and the DTR stand-in (real local TLS servers and registries)
	@command -v docker-registry >/dev/null && command -v skopeo >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry skopeo >/dev/null; }
	$(BIN)/pytest tests/unit tests/standin -q

render: setup ## The role in export mode: rendered manifests and input validation
	$(BIN)/pytest tests/render -q

molecule: setup ## The Molecule scenario on the local Kubernetes (create ... destroy)
	@# Started here first so that a first run's Kubernetes build shows its progress.
	tests/cluster/up.sh
	$(BIN)/molecule test -s default

lint: setup ## ansible-lint, production profile
	$(BIN)/ansible-lint --profile production

sanity: setup ## ansible-test sanity
	tests/sanity.sh

e2e: setup ## Three sites and a tier, pulls through the caches, warming, upstream outage, DTR registration (starts and stops the cluster)
	tests/e2e/run.sh

cluster-up: ## Start the local single-node Kubernetes (kubeconfig at .cluster/kubeconfig)
	tests/cluster/up.sh

cluster-smoke: ## Run a registry pod behind a NodePort on the local Kubernetes and reach it
	tests/cluster/smoke.sh

cluster-down: ## Stop the local Kubernetes and remove everything it added
	tests/cluster/down.sh

clean: ## Remove the Python environment and build outputs
	rm -rf $(VENV) .collections .build tests/output
