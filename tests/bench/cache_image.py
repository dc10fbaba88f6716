"""`make bench-cache-image`: distribution 2.8.2 next to v3 as a pull-through cache, no Kubernetes.

Everything runs as plain processes on free loopback ports, in a temp dir removed at the end:
  - an upstream registry: Debian's /usr/bin/docker-registry (2.8.2), plain HTTP, filesystem
    storage; its access log (one line per request, on stdout) is where upstream traffic is read;
  - per cache binary, a cache in proxy mode (proxy.remoteurl = the upstream) on its own storage,
    no TLS and no auth: what is measured is the proxy, not the handshake.
Test images are OCI layouts from tests/standin/make_test_image.py (3 random 1 MiB gzip layers
and a config: 4 blobs, about 3 MB), pushed to the upstream with skopeo. Every measurement uses
an image of its own, made for it, so a cold pull is really cold.

  (a) restart with the upstream down and the cache's storage kept (a pod restart on a PVC):
      warm the cache with an image, stop the cache, stop the upstream, start the cache again;
      does it start, how fast is /v2/ answering, and can the cached image be pulled by tag and
      by digest?
  (b) one cold pull of a new image: upstream blob GETs and bytes against the image's blob bytes.
  (c) 16 clients pulling one new image at once: upstream blob GETs (4 would be ideal).
  (d) warm pull: median of 5 pulls of an image already in the cache, in seconds.

The client is this script (urllib): GET of the manifest (by tag unless told otherwise), then a
GET of every blob it names, each checked against its digest. The same client every time, so
the numbers compare the registries, not clients.

The v3 binary is the one tests/cluster/build-images.sh caches: its path is
DTRC_REGISTRY_V3_BIN from tests/cluster/versions.sh (read by sourcing that file in bash). When
it is missing, build-images.sh is run to build it (a cold build takes a few minutes). Use
--v3-binary to measure another build.

Prints a Markdown table; writes the numbers as JSON to --json (default
.cluster/cache-image-bench.json). A script, not a test: it asserts nothing.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import importlib.util
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
V2_BINARY = "/usr/bin/docker-registry"
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
LAYERS, LAYER_KIB = 3, 1024
CONCURRENT_PULLS = 16
WARM_PULLS = 5
REQUEST_TIMEOUT = 30     # seconds, any one HTTP request
READY_DEADLINE = 30      # seconds for a registry to answer /v2/ (or to have exited)
QUIET_SECONDS = 1.5      # an upstream log that has not grown this long is done with a pull
QUIET_DEADLINE = 60
STOP_GRACE = 10          # seconds between SIGTERM and SIGKILL
BUILD_DEADLINE = 1800    # a cold v3 build on 2 cores takes a few minutes; this is the bound
SKOPEO_DEADLINE = 120
# The combined-log-format line distribution writes for every request it served.
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>/v2/\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<size>\d+|-)')
BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")


def load_make_image():
    """make_image() of the stand-in's tool, imported by path: tests/ is not a package."""
    path = ROOT / "tests" / "standin" / "make_test_image.py"
    spec = importlib.util.spec_from_file_location("make_test_image", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_image


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary_version(binary):
    """'2.8.2' for '... 2.8.2+ds1', '3.1.2' for '... 3.1.2': the column names of the table."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return out.split()[2].lstrip("v").split("+")[0]


def v3_binary_from_cache():
    """DTRC_REGISTRY_V3_BIN of versions.sh, built by build-images.sh when it is not there yet."""
    versions = ROOT / "tests" / "cluster" / "versions.sh"
    path = subprocess.run(["bash", "-c", 'source "$1" && printf %s "$DTRC_REGISTRY_V3_BIN"', "_", str(versions)],
                          capture_output=True, text=True, timeout=30, check=True).stdout
    if not os.access(path, os.X_OK):
        print("v3 binary not in the cache; running tests/cluster/build-images.sh (a cold build takes minutes)", flush=True)
        subprocess.run([str(ROOT / "tests" / "cluster" / "build-images.sh")], timeout=BUILD_DEADLINE, check=True)
    return path


class Registry:
    """A registry binary on a loopback port, with its storage and log kept across restarts."""

    def __init__(self, name, binary, workdir, proxy_url=None):
        self.name, self.binary = name, binary
        self.dir = pathlib.Path(workdir) / name
        self.storage = self.dir / "storage"
        self.storage.mkdir(parents=True)
        self.log = self.dir / "registry.log"
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.config = self.dir / "config.yml"
        self.config.write_text(json.dumps(self._config(proxy_url), indent=2))
        self.proc = None

    def _config(self, proxy_url):
        # JSON is YAML too: no YAML library needed. The keys are the role's for the
        # distribution flavor (storage.delete, a fixed http.secret, proxy), minus TLS and auth.
        config = {
            "version": "0.1",
            "log": {"level": "info", "fields": {"service": self.name}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True}},
            "http": {"addr": "127.0.0.1:%d" % self.port, "secret": "cache-image-bench"},
        }
        if proxy_url:
            config["proxy"] = {"remoteurl": proxy_url}
        return config

    def start(self):
        """Start and wait for /v2/: (True, seconds to ready) or (False, None) if it exited."""
        begin = time.monotonic()
        # v3 exports traces to localhost:4318 unless told not to; its image sets the same.
        env = dict(os.environ, OTEL_TRACES_EXPORTER="none")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.binary, "serve", str(self.config)], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        deadline = begin + READY_DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, None
            if self._answers():
                return True, time.monotonic() - begin
            time.sleep(0.02)
        raise RuntimeError("%s neither answered /v2/ nor exited in %ds; log: %s" % (self.name, READY_DEADLINE, self.log))

    def _answers(self):
        try:
            with urllib.request.urlopen(self.url + "/v2/", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self):
        """SIGTERM as the kubelet sends it, SIGKILL after the grace period; by pid, only ours."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_GRACE)

    def exit_reason(self):
        """The first panic/fatal line of the log, else its last line: why a start failed."""
        lines = self.log.read_text(errors="replace").splitlines()
        for line in lines:
            if line.startswith("panic:") or "level=fatal" in line:
                return line[:300]
        return lines[-1][:300] if lines else ""

    def mark(self):
        return self.log.stat().st_size

    def wait_quiet(self):
        """Wait until the log stops growing: the access line of a request is written when the
        request ends, and 2.8.2 stores a blob in a second, background fetch."""
        deadline = time.monotonic() + QUIET_DEADLINE
        size, since = self.mark(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.mark()
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET_SECONDS:
                return
        raise RuntimeError("%s kept logging for %ds" % (self.name, QUIET_DEADLINE))

    def blob_gets_since(self, mark):
        """(count, bytes) of GETs of /v2/<repo>/blobs/sha256:... answered since ``mark``."""
        with open(self.log, "rb") as f:
            f.seek(mark)
            text = f.read().decode(errors="replace")
        count = size = 0
        for match in ACCESS_LINE.finditer(text):
            if match["method"] == "GET" and BLOB_PATH.match(match["path"]):
                count += 1
                size += int(match["size"]) if match["size"] != "-" else 0
        return count, size


def get(url, accept=None):
    """Body of a GET, read in full; raises on anything but 200."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        return response.read()


def check_digest(what, data, digest):
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ValueError("%s does not match %s" % (what, digest))


def pull(base, repo, ref, image):
    """Pull manifest ``ref`` (a tag or the digest) and every blob; check all digests.
    Returns {"ok", "seconds", "error"}."""
    begin = time.monotonic()
    try:
        manifest = get("%s/v2/%s/manifests/%s" % (base, repo, ref), MANIFEST_ACCEPT)
        check_digest("manifest", manifest, image["manifest"]["digest"])
        parsed = json.loads(manifest)
        for blob in [parsed["config"]] + parsed["layers"]:
            check_digest("blob", get("%s/v2/%s/blobs/%s" % (base, repo, blob["digest"])), blob["digest"])
        return {"ok": True, "seconds": time.monotonic() - begin, "error": None}
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, KeyError) as exc:
        return {"ok": False, "seconds": time.monotonic() - begin, "error": str(exc)[:200]}


class Images:
    """Fresh test images, pushed to the upstream under bench/<name>:1."""

    def __init__(self, workdir, upstream):
        self.workdir, self.upstream = pathlib.Path(workdir), upstream
        self.make_image = load_make_image()

    def new(self, name):
        layout = self.workdir / "oci" / name
        image = self.make_image(str(layout), layers=LAYERS, layer_size_kb=LAYER_KIB, tag="1")
        repo = "bench/" + name
        # --preserve-digests: the pushed manifest must be the one whose digest we check.
        subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--preserve-digests",
                        "--dest-tls-verify=false", "oci:%s:1" % layout,
                        "docker://127.0.0.1:%d/%s:1" % (self.upstream.port, repo)],
                       check=True, timeout=SKOPEO_DEADLINE, capture_output=True)
        shutil.rmtree(layout)
        return dict(image, repo=repo)


def measure_restart(cache, upstream, image):
    """(a): warm, stop both, start the cache alone, pull the cached image by tag and digest."""
    warmed = pull(cache.url, image["repo"], "1", image)["ok"]
    upstream.wait_quiet()
    cache.stop()
    upstream.stop()
    started, ready = cache.start()
    result = {"warmed": warmed, "started": started, "ready_s": ready, "pull_by_tag": False, "pull_by_digest": False}
    if started:
        by_tag = pull(cache.url, image["repo"], "1", image)
        by_digest = pull(cache.url, image["repo"], image["manifest"]["digest"], image)
        result.update(pull_by_tag=by_tag["ok"], tag_error=by_tag["error"],
                      pull_by_digest=by_digest["ok"], digest_error=by_digest["error"])
    else:
        result["exit_code"], result["exit_reason"] = cache.proc.returncode, cache.exit_reason()
    cache.stop()
    if not upstream.start()[0]:
        raise RuntimeError("upstream did not start again: %s" % upstream.exit_reason())
    return result


def measure_cold(cache, upstream, image):
    """(b): one cold pull; upstream blob GETs and bytes next to what the image holds."""
    mark = upstream.mark()
    result = pull(cache.url, image["repo"], "1", image)
    upstream.wait_quiet()
    gets, size = upstream.blob_gets_since(mark)
    return dict(result, upstream_blob_gets=gets, upstream_blob_bytes=size,
                image_blobs=1 + len(image["layers"]), image_blob_bytes=image["blob_bytes"])


def measure_concurrent(cache, upstream, image):
    """(c): CONCURRENT_PULLS clients released at once on one cold image."""
    mark = upstream.mark()
    barrier = threading.Barrier(CONCURRENT_PULLS, timeout=REQUEST_TIMEOUT)

    def one():
        barrier.wait()
        return pull(cache.url, image["repo"], "1", image)

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_PULLS) as pool:
        futures = [pool.submit(one) for client in range(CONCURRENT_PULLS)]
        results = [f.result(timeout=REQUEST_TIMEOUT * 10) for f in futures]
    upstream.wait_quiet()
    gets, size = upstream.blob_gets_since(mark)
    errors = sorted({r["error"] for r in results if r["error"]})
    return {"pulls": CONCURRENT_PULLS, "pulls_ok": sum(r["ok"] for r in results), "errors": errors,
            "upstream_blob_gets": gets, "upstream_blob_bytes": size, "image_blobs": 1 + len(image["layers"])}


def measure_warm(cache, upstream, image):
    """(d): the image is pulled once to warm it, then WARM_PULLS timed pulls; the median."""
    pull(cache.url, image["repo"], "1", image)
    upstream.wait_quiet()
    mark = upstream.mark()
    runs = [pull(cache.url, image["repo"], "1", image) for attempt in range(WARM_PULLS)]
    upstream.wait_quiet()
    return {"pulls_ok": sum(r["ok"] for r in runs), "seconds": [r["seconds"] for r in runs],
            "median_s": statistics.median(r["seconds"] for r in runs),
            "upstream_blob_gets": upstream.blob_gets_since(mark)[0]}


def measure(label, binary, workdir, upstream, images):
    """All four measurements of one cache binary; (a) last since it stops the upstream."""
    cache = Registry("cache-" + label, binary, workdir, proxy_url=upstream.url)
    try:
        if not cache.start()[0]:
            return {"error": "did not start with the upstream up: " + cache.exit_reason()}
        return {
            "b_cold": measure_cold(cache, upstream, images.new(label + "-b")),
            "c_concurrent": measure_concurrent(cache, upstream, images.new(label + "-c")),
            "d_warm": measure_warm(cache, upstream, images.new(label + "-d")),
            "a_restart_upstream_down": measure_restart(cache, upstream, images.new(label + "-a")),
        }
    finally:
        cache.stop()


def yes(flag):
    return "yes" if flag else "no"


def cells(r):
    """The table's cells for one binary's results."""
    if "error" in r:
        return [r["error"]] + [""] * 6
    a, b, c, d = r["a_restart_upstream_down"], r["b_cold"], r["c_concurrent"], r["d_warm"]
    started = "yes" if a["started"] else "no: %s, exit %s" % (
        "panic" if a["exit_reason"].startswith("panic") else "exited", a["exit_code"])
    return [
        started,
        "%.2f" % a["ready_s"] if a["ready_s"] is not None else "-",
        yes(a["pull_by_tag"]) if a["started"] else "-",
        yes(a["pull_by_digest"]) if a["started"] else "-",
        "%d GETs, %d B = %.2f x image (%d blobs, %d B)%s" % (
            b["upstream_blob_gets"], b["upstream_blob_bytes"], b["upstream_blob_bytes"] / b["image_blob_bytes"],
            b["image_blobs"], b["image_blob_bytes"], "" if b["ok"] else ", pull FAILED"),
        "%d GETs (%d pulls ok of %d)" % (c["upstream_blob_gets"], c["pulls_ok"], c["pulls"]),
        "%.4f" % d["median_s"],
    ]


ROWS = [
    "(a) restart, upstream down: started",
    "(a) seconds to ready",
    "(a) cached pull by tag ok",
    "(a) cached pull by digest ok",
    "(b) cold pull: upstream blob GETs, bytes",
    "(c) 16 concurrent cold pulls: upstream blob GETs",
    "(d) warm pull, median of 5 (s)",
]


def table(results):
    labels = list(results)
    lines = ["| | %s |" % " | ".join(labels), "|---|" + "---|" * len(labels)]
    columns = [cells(results[label]) for label in labels]
    for i, row in enumerate(ROWS):
        lines.append("| %s | %s |" % (row, " | ".join(col[i] for col in columns)))
    # Why a start failed does not fit a cell.
    for label in labels:
        reason = results[label].get("a_restart_upstream_down", {}).get("exit_reason")
        if reason:
            lines.append("\n%s at restart: %s" % (label, reason))
    return "\n".join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--json", default=str(ROOT / ".cluster" / "cache-image-bench.json"), help="where to write the JSON")
    parser.add_argument("--v2-binary", default=V2_BINARY, help="distribution 2.8.2 (also the upstream)")
    parser.add_argument("--v3-binary", help="distribution v3 (default: the one build-images.sh caches)")
    return parser.parse_args()


def main():
    args = parse_args()
    if not shutil.which("skopeo"):
        sys.exit("skopeo is needed to push the test images: apt-get install -y skopeo")
    # SIGTERM runs the finally blocks too, so no registry outlives the script.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binaries = [args.v2_binary, args.v3_binary or v3_binary_from_cache()]
    results = {}
    with tempfile.TemporaryDirectory(prefix="cache-image-bench-") as workdir:
        upstream = Registry("upstream", args.v2_binary, workdir)
        try:
            if not upstream.start()[0]:
                sys.exit("upstream did not start: " + upstream.exit_reason())
            images = Images(workdir, upstream)
            for binary in binaries:
                label = binary_version(binary)
                print("measuring %s (%s)" % (label, binary), flush=True)
                results[label] = dict(measure(label, binary, workdir, upstream, images), binary=binary)
        finally:
            upstream.stop()
    print()
    print(table(results))
    out = pathlib.Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"layers": LAYERS, "layer_kib": LAYER_KIB, "results": results}, indent=2) + "\n")
    print("\nJSON: %s" % out)


if __name__ == "__main__":
    main()
