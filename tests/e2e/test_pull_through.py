"""End to end, as a user lives it: three sites deployed by one playbook run on the local
Kubernetes (site-c a second tier on site-a), a multi-layer image pushed to the DTR stand-in,
pulled through a cache with skopeo and through the tiers with curl; then this machine configured
as a client of site-a, and pods whose image names the DTR (dtr.test) pulled by the kubelet
through site-a's cache.

Needs the cluster and the stand-in running (`make e2e` starts and stops them). The numbers
(pull times, bytes fetched from upstream) go to .cluster/e2e-report.json and the test log.
"""

import base64
import functools
import hashlib
import json
import os
import pathlib
import re
import secrets
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request

import kubernetes
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE = ROOT / ".cluster"
STANDIN = STATE / "standin"
BIN = pathlib.Path(sys.executable).parent
ANSIBLE_ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
ACCESS_LOG = STANDIN / "nginx-access.log"
# The stand-in's access-log line: CLIENT [TIME] ADDR:PORT "METHOD URI PROTO" STATUS BODY_BYTES ...
LOG_LINE = re.compile(r'^(?P<client>\S+) \[[^]]+\] \S+ "(?P<method>\S+) (?P<uri>\S+) [^"]*" (?P<status>\d+) (?P<bytes>\d+) ')
SITES = ("site-a", "site-b", "site-c")
# The sites whose upstream is the DTR stand-in, and so registered with it; site-c caches site-a.
DTR_SITES = ("site-a", "site-b")
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
REPORT = {}


def run(argv, env=None, timeout=600):
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=timeout, check=False)
    return result.returncode, result.stdout + result.stderr


def playbook(name):
    return run([str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/%s" % name], env=ANSIBLE_ENV, timeout=1200)


def recap(output):
    """{host: {ok: n, changed: n, failed: n, ...}} from an ansible-playbook recap."""
    hosts = {}
    for line in output.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match and "ok=" in match.group(2):
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return hosts


def inventory_vars(site):
    """(namespace, external host, the address to connect to when the host has no DNS entry, or None)."""
    host_vars = yaml.safe_load((ROOT / "inventories" / "local" / "host_vars" / ("%s.yml" % site)).read_text())
    host_ip = (STATE / "host-ip").read_text().strip()
    host = host_vars["dtr_cache_external_host"].replace("{{ _local_host_ip }}", host_ip)
    resolve = host_ip if host_vars.get("dtr_cache_verify_address") else None
    return host_vars["dtr_cache_namespace"], host, resolve


def client_login(site):
    """(username, password) that clients of ``site`` log in with, or None for an open cache."""
    host_vars = yaml.safe_load((ROOT / "inventories" / "local" / "host_vars" / ("%s.yml" % site)).read_text())
    users = host_vars.get("dtr_cache_client_users") or []
    return (users[0]["username"], users[0]["password"]) if users else None


@functools.lru_cache(maxsize=None)
def core_api():
    """One client of the local cluster's API for the whole run."""
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(STATE / "kubeconfig")))


def node_port(namespace):
    api = core_api()
    return api.read_namespaced_service("dtr-cache", namespace).spec.ports[0].node_port


def blob_gets(since, repository):
    """The access-log matches of the blob GETs for ``repository`` after offset ``since``."""
    with open(ACCESS_LOG, encoding="utf-8") as log:
        log.seek(since)
        matches = [LOG_LINE.match(line) for line in log]
    return [match for match in matches
            if match and match.group("method") == "GET" and match.group("uri").startswith("/v2/%s/blobs/" % repository)]


def blob_fetches(since, repository):
    """(count, bytes) of blob GETs for ``repository`` in the stand-in's access log after offset ``since``."""
    gets = blob_gets(since, repository)
    return len(gets), sum(int(match.group("bytes")) for match in gets)


def blob_clients(since, repository):
    """[(client address, digest)] of the blob GETs for ``repository`` after offset ``since``."""
    return [(match.group("client"), match.group("uri").rsplit("/", 1)[1]) for match in blob_gets(since, repository)]


def log_offset():
    return ACCESS_LOG.stat().st_size


def skopeo(*args):
    return run(["skopeo"] + list(args), timeout=300)


class Site:
    def __init__(self, name):
        self.name = name
        self.namespace, self.host, self.resolve = inventory_vars(name)
        self.port = node_port(self.namespace)
        self.address = "%s:%d" % (self.host, self.port)
        self.ca = STATE / ("%s-ca.pem" % name)
        self.cert_dir = STATE / ("%s-e2e-certs.d" % name)
        self.cert_dir.mkdir(exist_ok=True)
        (self.cert_dir / "ca.crt").write_text(self.ca.read_text())
        self.login = client_login(name)

    def creds(self):
        return ["--creds", "%s:%s" % self.login] if self.login else []

    def pull(self, reference, dest, creds=True):
        begin = time.monotonic()
        login = ["--src-creds", "%s:%s" % self.login] if self.login and creds else []
        code, output = skopeo("copy", "--src-cert-dir", str(self.cert_dir), *login,
                              "docker://%s/%s" % (self.address, reference), "oci:%s:1" % dest)
        return code, output, time.monotonic() - begin

    def curl(self, path, dest):
        """GET ``path`` into the file ``dest`` with curl, by the site's name (through its address if it has no DNS entry)."""
        argv = ["curl", "-fsS", "--max-time", "60", "--cacert", str(self.ca), "-H", "Accept: " + MANIFEST_TYPES, "-o", str(dest)]
        if self.resolve:
            argv += ["--resolve", "%s:%d:%s" % (self.host, self.port, self.resolve)]
        if self.login:
            argv += ["--user", "%s:%s" % self.login]
        code, output = run(argv + ["https://%s%s" % (self.address, path)], timeout=90)
        assert code == 0, output
        return dest.read_bytes()

    def pull_verified(self, repository, tag, into):
        """Pull manifest, config and layers with curl, checking every blob against its digest; the manifest bytes."""
        into.mkdir(parents=True, exist_ok=True)
        manifest = self.curl("/v2/%s/manifests/%s" % (repository, tag), into / "manifest.json")
        parsed = json.loads(manifest)
        for blob in [parsed["config"]] + parsed["layers"]:
            body = self.curl("/v2/%s/blobs/%s" % (repository, blob["digest"]), into / blob["digest"].replace(":", "-"))
            assert "sha256:" + hashlib.sha256(body).hexdigest() == blob["digest"] and len(body) == blob["size"]
        return manifest

    def blob_gets_served(self, repository):
        """How many blob GETs of ``repository`` the site's pods answered (the registry's access log)."""
        api = core_api()
        served = re.compile(r'"GET /v2/%s/blobs/sha256:[0-9a-f]{64} HTTP' % re.escape(repository))
        return sum(len(served.findall(api.read_namespaced_pod_log(pod.metadata.name, self.namespace)))
                   for pod in api.list_namespaced_pod(self.namespace).items)

    def get(self, path):
        request = urllib.request.Request("https://%s%s" % (self.address, path))
        if self.login:
            request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % self.login).encode()).decode())
        context = ssl.create_default_context(cafile=str(self.ca))
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return json.loads(answer.read())


@pytest.fixture(scope="module", autouse=True)
def report():
    """Writes what the run measured, whatever the outcome."""
    yield REPORT
    (STATE / "e2e-report.json").write_text(json.dumps(REPORT, indent=2) + "\n")
    print("\ne2e measurements: " + json.dumps(REPORT))


@pytest.fixture(scope="module")
def deployed():
    begin = time.monotonic()
    code, output = playbook("deploy-cache.yml")
    REPORT["deploy_seconds"] = round(time.monotonic() - begin, 1)
    assert code == 0, output[-6000:]
    return output


@pytest.fixture(scope="module")
def sites(deployed):
    return {name: Site(name) for name in SITES}


def push_new_image(tmp_path_factory, name, *make_args):
    """Build an image (make_test_image.py ``make_args``) and push it as a new repository e2e/<name>-<random>:1.

    Returns its repository, manifest (bytes, as the stand-in serves it), blob digests, blob bytes and layer count.
    """
    layout = tmp_path_factory.mktemp(name) / "layout"
    repository = "e2e/%s-%s" % (name, secrets.token_hex(4))
    code, output = run([sys.executable, "tests/standin/make_test_image.py", str(layout)] + list(make_args))
    assert code == 0, output
    built = json.loads(output)
    code, output = skopeo("copy", "--dest-cert-dir", str(STANDIN / "certdir"), "oci:%s:1" % layout, "docker://localhost:8443/%s:1" % repository)
    assert code == 0, output
    code, manifest = skopeo("inspect", "--raw", "--cert-dir", str(STANDIN / "certdir"), "docker://localhost:8443/%s:1" % repository)
    assert code == 0, manifest
    return {"repository": repository, "manifest": manifest.encode(), "blob_bytes": built["blob_bytes"], "layers": len(built["layers"]),
            "blobs": [built["config"]["digest"]] + [layer["digest"] for layer in built["layers"]]}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A fresh 3-layer image in the stand-in (a new repository each run, so no cache holds it yet)."""
    return push_new_image(tmp_path_factory, "app", "--layers", "3", "--layer-size-kb", "1024")


def test_one_run_deploys_and_verifies_both_sites(deployed):
    hosts = recap(deployed)
    assert set(hosts) == set(SITES)
    assert all(stats["failed"] == 0 and stats["unreachable"] == 0 for stats in hosts.values())
    assert " ".join(deployed.split()).count("answers over TLS") == len(SITES)
    # site-c is verified by its name, which only its certificate and clients know, through the node's address.
    assert re.search(r"https://site-c\.test:30445 \(through [0-9.]+\) answers over TLS", " ".join(deployed.split()))


def test_a_second_run_changes_nothing(deployed):
    code, output = playbook("deploy-cache.yml")
    assert code == 0, output[-4000:]
    assert {host: stats["changed"] for host, stats in recap(output).items()} == dict.fromkeys(SITES, 0)


def test_first_pull_through_the_cache_matches_upstream(sites, image, tmp_path):
    site = sites["site-a"]
    mark = log_offset()
    code, output, seconds = site.pull("%s:1" % image["repository"], tmp_path / "first")
    assert code == 0, output
    pulled = json.loads((tmp_path / "first" / "index.json").read_text())["manifests"][0]
    code, through_cache = skopeo("inspect", "--raw", "--cert-dir", str(site.cert_dir), *site.creds(),
                                 "docker://%s/%s:1" % (site.address, image["repository"]))
    assert code == 0, through_cache
    assert through_cache.encode() == image["manifest"], "the cache serves the upstream's manifest byte for byte"
    upstream_layers = [layer["digest"] for layer in json.loads(image["manifest"])["layers"]]
    local_manifest = json.loads((tmp_path / "first" / "blobs" / "sha256" / pulled["digest"].split(":")[1]).read_text())
    assert [layer["digest"] for layer in local_manifest["layers"]] == upstream_layers
    count, fetched = blob_fetches(mark, image["repository"])
    assert count >= image["layers"]
    REPORT["first_pull"] = {"seconds": round(seconds, 3), "upstream_blob_requests": count, "upstream_blob_bytes": fetched,
                            "image_blob_bytes": image["blob_bytes"]}


def test_second_pull_fetches_no_blob_from_upstream(sites, image, tmp_path):
    site = sites["site-a"]
    mark = log_offset()
    code, output, seconds = site.pull("%s:1" % image["repository"], tmp_path / "second")
    assert code == 0, output
    count, fetched = blob_fetches(mark, image["repository"])
    assert (count, fetched) == (0, 0)
    REPORT["cached_pull"] = {"seconds": round(seconds, 3), "upstream_blob_requests": count, "upstream_blob_bytes": fetched}


def test_a_cache_with_client_users_refuses_anonymous_pulls(sites, image, tmp_path):
    site = sites["site-a"]
    assert site.login, "site-a has client users in inventories/local"
    mark = log_offset()
    code, output, dummy = site.pull("%s:1" % image["repository"], tmp_path / "anonymous", creds=False)
    assert code != 0
    assert "unauthorized" in output.lower() or "401" in output
    assert blob_fetches(mark, image["repository"]) == (0, 0)
    context = ssl.create_default_context(cafile=str(site.ca))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen("https://%s/v2/_catalog" % site.address, context=context, timeout=10)
    assert refused.value.code == 401


def test_catalog_lists_the_repository(sites, image):
    assert image["repository"] in sites["site-a"].get("/v2/_catalog")["repositories"]


@pytest.fixture(scope="module")
def tier_image(tmp_path_factory):
    """A fresh 2-layer image in the stand-in for the tier test: neither tier holds it yet."""
    return push_new_image(tmp_path_factory, "tier", "--layers", "2", "--layer-size-kb", "512")


def pod_addresses(namespace):
    api = core_api()
    return {pod.status.pod_ip for pod in api.list_namespaced_pod(namespace).items}


def test_a_second_tier_pulls_through_the_first_only(sites, tier_image, tmp_path):
    tier1, tier2 = sites["site-a"], sites["site-c"]
    repository = tier_image["repository"]
    mark, served_before = log_offset(), tier1.blob_gets_served(repository)
    begin = time.monotonic()
    manifest = tier2.pull_verified(repository, "1", tmp_path / "cold")
    cold_seconds = time.monotonic() - begin
    assert manifest == tier_image["manifest"], "the second tier serves the upstream's manifest byte for byte"
    blobs = [blob["digest"] for blob in [json.loads(manifest)["config"]] + json.loads(manifest)["layers"]]
    fetched = blob_clients(mark, repository)
    # The stand-in served every blob, and only to the first tier's pod.
    assert sorted({digest for dummy, digest in fetched}) == sorted(blobs), fetched
    assert {client for client, dummy in fetched} <= pod_addresses(tier1.namespace), fetched
    assert tier1.blob_gets_served(repository) > served_before

    mark, served_before = log_offset(), tier1.blob_gets_served(repository)
    begin = time.monotonic()
    assert tier2.pull_verified(repository, "1", tmp_path / "warm") == manifest
    REPORT["tier2_pull"] = {"cold_seconds": round(cold_seconds, 3), "warm_seconds": round(time.monotonic() - begin, 3),
                            "cold_upstream_blob_gets": len(fetched), "blobs": len(blobs)}
    assert blob_clients(mark, repository) == []
    assert tier1.blob_gets_served(repository) == served_before


@pytest.fixture(scope="module")
def warm_image(tmp_path_factory):
    """A fresh 2-layer image in the stand-in for warming: no cache holds it yet."""
    return push_new_image(tmp_path_factory, "warm", "--layers", "2", "--layer-size-kb", "512")


def test_warm_cache_fills_two_sites_and_their_pulls_fetch_nothing_upstream(sites, warm_image, tmp_path):
    repository = warm_image["repository"]
    warmed = {"dtr_cache_warm_hosts": "site-a,site-c", "dtr_cache_warm_images": ["dtr.test/%s:1" % repository]}
    begin = time.monotonic()
    code, output = run([str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/warm-cache.yml",
                        "-e", json.dumps(warmed)], env=ANSIBLE_ENV)
    REPORT["warm_two_sites_seconds"] = round(time.monotonic() - begin, 1)
    assert code == 0, output[-4000:]
    flat = " ".join(output.split())
    for site in ("site-a", "site-c"):
        # A line per image as it completes, and one a site at the end.
        assert re.search(r"%s: pulled dtr\.test/%s:1 \(sha256:[0-9a-f]{12}\): 3 blobs, " % (site, re.escape(repository)), flat), flat[-3000:]
        assert re.search(r"%s: 1 images, 3 blobs, [0-9.]+ MB, [0-9.]+ s through https://" % site, flat), flat[-3000:]

    # Through the second tier first: its upstream, site-a, serves nothing more for it.
    mark, served = log_offset(), sites["site-a"].blob_gets_served(repository)
    sites["site-c"].pull_verified(repository, "1", tmp_path / "tier2")
    assert sites["site-a"].blob_gets_served(repository) == served
    code, output, dummy = sites["site-a"].pull("%s:1" % repository, tmp_path / "tier1")
    assert code == 0, output
    assert blob_clients(mark, repository) == []


def test_a_rollout_during_an_upstream_outage_leaves_the_last_pod_serving(sites, image, tmp_path):
    site = sites["site-a"]
    api = core_api()
    before = {pod.metadata.name for pod in api.list_namespaced_pod(site.namespace).items}
    code, output = run(["tests/standin/down.sh"])
    assert code == 0, output
    try:
        # A config change (the log level) makes a new pod, which cannot start without its upstream.
        code, output = run([str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/deploy-cache.yml",
                            "--limit", "site-a", "-e", "dtr_cache_log_level=debug"], env=ANSIBLE_ENV, timeout=600)
        flat = " ".join(output.split())
        assert code != 0, flat[-3000:]
        assert "was not applied and rolled out: a new pod cannot start (CrashLoopBackOff)" in flat, flat[-3000:]
        assert "keep serving" in flat
        # maxUnavailable 0: the old pod stays ready and serves what it holds.
        ready = [pod.metadata.name for pod in api.list_namespaced_pod(site.namespace).items
                 if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])]
        assert ready and set(ready) <= before, ready
        code, output, dummy = site.pull("%s:1" % image["repository"], tmp_path / "during-rollout")
        assert code == 0, output
    finally:
        code, output = run(["tests/standin/up.sh"])
        assert code == 0, output
    # Back to the inventory's settings, the stuck rollout is replaced and the run converges.
    code, output = playbook("deploy-cache.yml")
    assert code == 0, output[-4000:]


def test_cached_image_pulls_while_upstream_is_down(sites, image, tmp_path):
    code, output = run(["tests/standin/down.sh"])
    assert code == 0, output
    try:
        code, output, seconds = sites["site-a"].pull("%s:1" % image["repository"], tmp_path / "offline")
        assert code == 0, output
        REPORT["pull_with_upstream_down_seconds"] = round(seconds, 3)
    finally:
        code, output = run(["tests/standin/up.sh"])
        assert code == 0, output


# --- this machine as a client of site-a: containerd and the kubelet --------------------------------------

CONTAINERD = ["ctr", "--address", "/run/dtr-cache-cluster/containerd.sock"]
HOSTS_DIR = STATE / "containerd" / "certs.d"
POD_NAMESPACE = "e2e-node-pull"


@pytest.fixture(scope="module")
def clients(sites):
    """playbooks/configure-clients.yml for this machine (inventories/local: this-node mirrors dtr.test by site-a)."""
    code, output = run([str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/configure-clients.yml"],
                       env=ANSIBLE_ENV)
    assert code == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def runnable_image(tmp_path_factory):
    """An image that runs (Debian's static busybox), new in the stand-in: no cache or node holds it yet."""
    return push_new_image(tmp_path_factory, "node", "--layers", "1", "--layer-size-kb", "256", "--executable", "/bin/busybox")


@pytest.fixture(scope="module")
def pods():
    api = core_api()
    api.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=POD_NAMESPACE)))
    yield api
    api.delete_namespace(POD_NAMESPACE)


def run_pod(api, name, image):
    """Run a pod of ``image`` to its end; return (phase, log, seconds)."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                    "containers": [{"name": "main", "image": image, "imagePullPolicy": "IfNotPresent"}]}}
    begin = time.monotonic()
    # A new namespace's default ServiceAccount appears a moment after the namespace.
    for attempt in range(30):
        try:
            api.create_namespaced_pod(POD_NAMESPACE, pod)
            break
        except kubernetes.client.ApiException as exc:
            if exc.status != 403 or attempt == 29:
                raise
            time.sleep(1)
    phase = "Pending"
    for dummy in range(180):
        phase = api.read_namespaced_pod(name, POD_NAMESPACE).status.phase
        if phase in ("Succeeded", "Failed"):
            break
        time.sleep(1)
    seconds = time.monotonic() - begin
    log = api.read_namespaced_pod_log(name, POD_NAMESPACE) if phase in ("Succeeded", "Failed") else ""
    return phase, log, seconds


def test_this_machine_trusts_site_a_and_mirrors_dtr_test_through_it(clients, sites):
    site = sites["site-a"]
    ca = site.ca.read_bytes()
    assert (STATE / "docker" / "certs.d" / site.address / "ca.crt").read_bytes() == ca
    assert (HOSTS_DIR / site.address / "ca.crt").read_bytes() == ca
    mirror = tomllib.loads((HOSTS_DIR / "dtr.test" / "hosts.toml").read_text())
    login = base64.b64encode(("%s:%s" % site.login).encode()).decode()
    assert mirror == {"server": "https://dtr.test", "host": {"https://" + site.address: {
        "capabilities": ["pull", "resolve"], "ca": str(HOSTS_DIR / site.address / "ca.crt"),
        "header": {"Authorization": ["Basic " + login]}}}}
    assert oct((HOSTS_DIR / "dtr.test" / "hosts.toml").stat().st_mode & 0o777) == "0o600"
    code, output = run([str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/configure-clients.yml"],
                       env=ANSIBLE_ENV)
    assert code == 0 and recap(output)["this-node"]["changed"] == 0, output[-4000:]


def test_the_kubelet_pulls_through_the_cache_and_the_pod_runs(clients, sites, runnable_image, pods):
    repository = runnable_image["repository"]
    image = "dtr.test/%s:1" % repository
    since = log_offset()
    phase, log, seconds = run_pod(pods, "cold", image)
    assert phase == "Succeeded" and "dtr.cache test image 1" in log, (phase, log)
    REPORT["node_pull_cold_seconds"] = round(seconds, 1)
    fetched = blob_clients(since, repository)
    REPORT["node_pull_cold_upstream_blob_gets"] = len(fetched)
    # Every blob came from the stand-in through the cache (a pod address), none to this host directly.
    assert sorted({digest for dummy, digest in fetched}) == sorted(runnable_image["blobs"]), fetched
    assert all(client.startswith("10.244.0.") and client != "10.244.0.1" for client, dummy in fetched), fetched
    assert all([digest for dummy, digest in fetched].count(blob) <= 2 for blob in runnable_image["blobs"]), fetched
    assert repository in sites["site-a"].get("/v2/_catalog")["repositories"]

    code, output = run(CONTAINERD + ["-n", "k8s.io", "images", "rm", image])
    assert code == 0, output
    since = log_offset()
    phase, log, seconds = run_pod(pods, "warm", image)
    assert phase == "Succeeded" and "dtr.cache test image 1" in log, (phase, log)
    REPORT["node_pull_warm_seconds"] = round(seconds, 1)
    REPORT["node_pull_warm_upstream_blob_gets"] = len(blob_clients(since, repository))
    assert blob_clients(since, repository) == []


def test_ctr_pulls_with_the_hosts_toml_directly_and_as_a_mirror(clients, sites, runnable_image):
    repository = runnable_image["repository"]
    direct = "%s/%s:1" % (sites["site-a"].address, repository)
    for reference in (direct, "dtr.test/%s:1" % repository):
        code, output = run(CONTAINERD + ["-n", "dtr-cache-e2e", "images", "pull", "--hosts-dir", str(HOSTS_DIR), reference])
        assert code == 0, output
        run(CONTAINERD + ["-n", "dtr-cache-e2e", "images", "rm", reference])


def standin_api(path):
    """GET a path of the DTR stand-in's API as its admin."""
    request = urllib.request.Request("https://127.0.0.1:8443/api/v0/" + path)
    request.add_header("Authorization", "Basic " + base64.b64encode(b"admin:standin-password").decode())
    context = ssl.create_default_context(cafile=str(STANDIN / "ca.pem"))
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:
        return json.loads(answer.read())


def standin_caches():
    """{name: host} of the caches registered with the DTR stand-in."""
    return {cache["name"]: cache["host"] for cache in standin_api("content_caches")}


def test_standin_lists_both_caches_and_users_point_at_them(sites):
    assert standin_caches() == {name: "https://%s" % sites[name].address for name in DTR_SITES}
    ids = {cache["name"]: cache["id"] for cache in standin_api("content_caches")}
    assert standin_api("accounts/alice/settings")["contentCacheUUID"] == ids["site-a"]
    assert standin_api("accounts/bob/settings")["contentCacheUUID"] == ids["site-b"]


def test_verify_playbook_checks_both_sites_and_changes_nothing(sites):
    code, output = playbook("verify-cache.yml")
    assert code == 0, output[-4000:]
    assert " ".join(output.split()).count("answers over TLS") == len(SITES)
    assert {host: stats["changed"] for host, stats in recap(output).items()} == dict.fromkeys(SITES, 0)


def test_remove_playbook_unregisters_and_deletes_what_it_created(sites):
    code, output = playbook("remove-cache.yml")
    assert code == 0, output[-4000:]
    assert standin_caches() == {}
    api = core_api()
    remaining = {ns.metadata.name for ns in api.list_namespace().items if ns.status.phase != "Terminating"}
    assert not {site.namespace for site in sites.values()} & remaining
    code, output = playbook("remove-cache.yml")
    assert code == 0, output[-4000:]
    assert {host: stats["changed"] for host, stats in recap(output).items()} == dict.fromkeys(SITES, 0)
