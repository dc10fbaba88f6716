"""`make bench`: what a converge costs, next to kubectl applying the same objects.

On the local Kubernetes and the DTR stand-in (started when needed), in one run:
  - kubectl: the objects the role exports for a site, `kubectl apply --server-side` then
    `kubectl rollout status`, and the same apply again (no-op);
  - the role: a new site to verified, the same site again (no-op), `--check --diff` of it,
    ten new sites in one run, the ten again, and `verify-cache.yml` of the ten.
Single-site figures are medians: of three sites for a new site, since one rollout can take a
second more than the next on a busy machine, and of five runs for a no-op and --check, which
last about a second and move by a tenth from one run to the next.
Prints a table with the commands, and writes .cluster/bench.json. Namespaces it made are
deleted at the end. A script, not a test: it asserts nothing.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE = ROOT / ".cluster"
WORK = STATE / "bench"
BIN = ROOT / ".venv" / "bin"
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", PATH="%s:%s" % (BIN, os.environ["PATH"]))
TEN = ["bench-%02d" % n for n in range(2, 12)]
ONE = ["bench-01", "bench-12", "bench-13"]
KUBECTL = ["bench-kubectl-%d" % n for n in range(1, 4)]
REPEAT = 5


def run(argv, check=True):
    """Run ``argv``; return its duration in seconds."""
    begin = time.monotonic()
    result = subprocess.run(argv, cwd=str(ROOT), env=ENV, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - begin
    if check and result.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(argv), (result.stdout + result.stderr)[-4000:]))
    return seconds, result.stdout


def kubectl_path():
    found = sorted(pathlib.Path.home().glob(".cache/dtr-cache/*/bin/kubectl"))
    if not found:
        sys.exit("kubectl not found under ~/.cache/dtr-cache: run tests/cluster/up.sh first")
    return str(found[-1])


def site_vars(namespace, **extra):
    """site-b's settings of inventories/local, in a namespace of the bench's own."""
    host_ip = (STATE / "host-ip").read_text().strip()
    variables = {
        "dtr_cache_namespace": namespace,
        "dtr_cache_kubeconfig": str(STATE / "kubeconfig"),
        "dtr_cache_flavor": "distribution",
        "dtr_cache_image": "localhost/distribution:3.1.2",
        "dtr_cache_image_pull_policy": "Never",
        "dtr_cache_upstreams": ["https://dtr.test"],
        "dtr_cache_host_aliases": [{"ip": host_ip, "hostnames": ["dtr.test"]}],
        "dtr_cache_dtr_url": "https://127.0.0.1:8443",
        "dtr_cache_ca_fingerprint": [(STATE / "standin" / "ca.sha256").read_text().strip()],
        "dtr_cache_expose": "nodeport",
        "dtr_cache_external_host": host_ip,
        "dtr_cache_client_ca_dest": str(WORK / ("%s-ca.pem" % namespace)),
        "dtr_cache_resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    }
    variables.update(extra)
    return variables


def write_inventory(hosts, name="hosts.yml"):
    inventory = {"dtr_caches": {"hosts": {host: site_vars(host, **extra) for host, extra in hosts.items()}}}
    path = WORK / name
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def playbook(inventory, name, *args):
    argv = [str(BIN / "ansible-playbook"), "-i", inventory, "playbooks/%s" % name] + list(args)
    seconds, output = run(argv)
    return seconds, " ".join(argv).replace(str(ROOT) + "/", ""), output


def median(values):
    return sorted(values)[len(values) // 2]


def kubectl_baseline(kubectl):
    """Export sites with the role, then apply their objects with kubectl; returns (new, noop, commands)."""
    base = [kubectl, "--kubeconfig", str(STATE / "kubeconfig")]
    new, applies = [], []
    for number, namespace in enumerate(KUBECTL):
        export = WORK / ("export-%s" % namespace)
        inventory = write_inventory({namespace: {"dtr_cache_export_dir": str(export), "dtr_cache_node_port": 32100 + number}})
        playbook(inventory, "deploy-cache.yml")
        manifests = [export / ("namespace-%s.yml" % namespace)] + sorted(
            p for p in export.glob("*.yml") if not p.name.startswith("namespace-"))
        stream = WORK / ("kubectl-%s.yml" % namespace)
        stream.write_text("---\n".join(p.read_text() for p in manifests))
        apply = base + ["apply", "--server-side", "--field-manager", "bench", "-f", str(stream)]
        rollout = base + ["-n", namespace, "rollout", "status", "deployment/dtr-cache", "--timeout", "300s"]
        new.append(run(apply)[0] + run(rollout)[0])
        applies.append(apply)
    noop = [run(applies[0])[0] for dummy in range(REPEAT)]
    return median(new), median(noop), ["kubectl apply --server-side -f <the role's export> && kubectl rollout status deployment/dtr-cache"]


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    for step in (["make", "--no-print-directory", "setup"], ["tests/cluster/up.sh"], ["tests/standin/up.sh"]):
        run(step)
    kubectl = kubectl_path()
    namespaces = KUBECTL + ONE + TEN
    run([kubectl, "--kubeconfig", str(STATE / "kubeconfig"), "delete", "namespace", "--ignore-not-found", "--wait"] + namespaces)
    results, commands = {}, {}
    try:
        results["kubectl_new"], results["kubectl_noop"], commands["kubectl"] = kubectl_baseline(kubectl)
        sites = [write_inventory({name: {}}, "%s.yml" % name) for name in ONE]
        new = [playbook(inventory, "deploy-cache.yml") for inventory in sites]
        noop = [playbook(sites[0], "deploy-cache.yml") for dummy in range(REPEAT)]
        check = [playbook(sites[0], "deploy-cache.yml", "--check", "--diff") for dummy in range(REPEAT)]
        for key, runs in (("role_new", new), ("role_noop", noop), ("role_check", check)):
            results[key], commands[key] = median([seconds for seconds, dummy, dummy in runs]), runs[0][1]
        results["role_noop_changed"] = all("changed=0" in output for dummy, dummy, output in noop)
        ten = write_inventory(dict((name, {}) for name in TEN))
        results["ten_new"], commands["ten_new"], dummy = playbook(ten, "deploy-cache.yml")
        results["ten_noop"], commands["ten_noop"], dummy = playbook(ten, "deploy-cache.yml")
        results["ten_verify"], commands["ten_verify"], dummy = playbook(ten, "verify-cache.yml")
    finally:
        run([kubectl, "--kubeconfig", str(STATE / "kubeconfig"), "delete", "namespace", "--ignore-not-found", "--wait=false"] + namespaces,
            check=False)
    report(results, commands)


def report(results, commands):
    r = results
    rows = [
        ("new site, to ready", r["kubectl_new"], r["role_new"], r["role_new"] / r["kubectl_new"], "P1 <= 2x kubectl"),
        ("no-op rerun", r["kubectl_noop"], r["role_noop"], r["role_noop"] / r["kubectl_noop"],
         "P2 <= 5x kubectl; %.0f %% of a converge (<= 40 %%)" % (100 * r["role_noop"] / r["role_new"])),
        ("--check --diff on a deployed site", None, r["role_check"], r["role_check"] / r["role_noop"], "<= 1x the no-op"),
        ("ten new sites in one run", None, r["ten_new"], r["ten_new"] / r["role_new"], "P3 <= 3x one site"),
        ("ten sites, no-op", None, r["ten_noop"], r["ten_noop"] / r["role_noop"], "x one site's no-op"),
        ("verify-cache.yml, ten sites", None, r["ten_verify"], None, ""),
    ]
    print("| | kubectl | role | ratio | goal |")
    print("|---|---|---|---|---|")
    for name, kubectl, role, ratio, goal in rows:
        print("| %s | %s | %.2f s | %s | %s |" % (name, "%.2f s" % kubectl if kubectl else "", role,
                                                  "%.2f×" % ratio if ratio else "", goal))
    print("\nno-op reported changed=0: %s" % r["role_noop_changed"])
    print("commands:\n" + "\n".join("  %s: %s" % (k, v if isinstance(v, str) else v[0]) for k, v in commands.items()))
    (STATE / "bench.json").write_text(json.dumps({"seconds": results, "commands": commands}, indent=2) + "\n")
    print("JSON: %s" % (STATE / "bench.json"))


if __name__ == "__main__":
    main()
