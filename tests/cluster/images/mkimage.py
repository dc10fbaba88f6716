"""Build a single-layer container image as a docker-archive tarball, without a container engine.

No registry is reachable from the machines the local cluster runs on, so its images are
assembled from files already on the host. The spec is JSON:

    {"name": "localhost/x:1", "config": {...image config: Entrypoint, Cmd, User...},
     "entries": [{"path": "usr/bin/x", "src": "/usr/bin/x", "mode": "0755"},
                 {"path": "etc/passwd", "text": "root:x:0:0::/:/sbin/nologin\\n"},
                 {"path": "var/lib/x", "type": "dir", "uid": 1000, "gid": 1000}]}

Parent directories are added as root-owned 0755. Timestamps are fixed so the same inputs give
the same image id. `ctr images import` reads the result.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile

EPOCH = 0


def _info(path, kind, mode, uid=0, gid=0, size=0):
    ti = tarfile.TarInfo(path)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = EPOCH
    ti.size = size
    return ti


def build_layer(entries, out):
    """Write the layer tar to `out`; return nothing (caller hashes the file)."""
    seen = set()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add_parents(path):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d and d not in seen:
                    seen.add(d)
                    tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))

        for e in sorted(entries, key=lambda e: e["path"]):
            path = e["path"].strip("/")
            add_parents(path)
            uid, gid = int(e.get("uid", 0)), int(e.get("gid", 0))
            kind = e.get("type", "file")
            if kind == "dir":
                seen.add(path)
                tar.addfile(_info(path, tarfile.DIRTYPE, int(e.get("mode", "0755"), 8), uid, gid))
            elif kind == "symlink":
                ti = _info(path, tarfile.SYMTYPE, 0o777, uid, gid)
                ti.linkname = e["target"]
                tar.addfile(ti)
            elif "text" in e:
                data = e["text"].encode()
                tar.addfile(_info(path, tarfile.REGTYPE, int(e.get("mode", "0644"), 8), uid, gid, len(data)),
                            io.BytesIO(data))
            else:
                # Follow symlinks on the host: the image gets the real file content.
                src = os.path.realpath(e["src"])
                mode = int(e["mode"], 8) if "mode" in e else os.stat(src).st_mode & 0o7777
                with open(src, "rb") as f:
                    tar.addfile(_info(path, tarfile.REGTYPE, mode, uid, gid, os.path.getsize(src)), f)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", help="JSON spec file")
    ap.add_argument("out", help="docker-archive tarball to write")
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)

    with tempfile.TemporaryDirectory() as tmp:
        layer_path = os.path.join(tmp, "layer.tar")
        with open(layer_path, "wb") as out:
            build_layer(spec["entries"], out)
        diff_id = sha256_file(layer_path)

        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": spec.get("config", {}),
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/cluster/images/mkimage.py"}],
        }
        config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        config_id = hashlib.sha256(config_bytes).hexdigest()
        manifest = [{"Config": config_id + ".json", "RepoTags": [spec["name"]], "Layers": [diff_id + "/layer.tar"]}]
        manifest_bytes = json.dumps(manifest).encode()

        tmp_out = args.out + ".tmp"
        with tarfile.open(tmp_out, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(_info(diff_id, tarfile.DIRTYPE, 0o755))
            with open(layer_path, "rb") as f:
                tar.addfile(_info(diff_id + "/layer.tar", tarfile.REGTYPE, 0o644, size=os.path.getsize(layer_path)), f)
            for name, data in ((config_id + ".json", config_bytes), ("manifest.json", manifest_bytes)):
                tar.addfile(_info(name, tarfile.REGTYPE, 0o644, size=len(data)), io.BytesIO(data))
        shutil.move(tmp_out, args.out)
    print(f"{spec['name']}: {args.out} (image id sha256:{config_id[:12]})")


if __name__ == "__main__":
    main()
