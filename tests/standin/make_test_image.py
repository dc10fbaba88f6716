"""Write a small multi-layer OCI image layout to push with skopeo, without any image registry.

    python3 make_test_image.py DIR [--layers 3] [--layer-size-kb 512] [--tag 1] [--seed N]
                                   [--compression gzip|none] [--executable /bin/busybox]

DIR becomes an OCI image layout (oci-layout, index.json, blobs/sha256/...) holding one image
tagged TAG, so `skopeo copy oci:DIR:TAG docker://HOST/REPO:TAG` pushes it. Each layer is a tar
with one file of random bytes (random so that no layer is shared with another image and no
compression shrinks it: bytes on the wire are predictable). With --seed the output is
byte-for-byte reproducible; without it every run makes new, distinct blobs.

Prints a JSON summary on stdout: tag, manifest/config digests and sizes, each layer's digest
and size, and the total of blob bytes a client fetches when it pulls the image.
Without --executable the image cannot run: it is for moving bytes through registries and
caches. With --executable PATH (a static binary such as Debian's busybox-static), a last layer
holds it as /bin/<name> and the image runs it: `<name> echo <tag line>` unless told otherwise.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import sys
import tarfile

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip", "none": "application/vnd.oci.image.layer.v1.tar"}
# A fixed timestamp keeps --seed output identical from run to run.
EPOCH = "2020-01-01T00:00:00Z"
MTIME = 1577836800


def write_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return f"sha256:{digest}", len(data)


def layer_tar(index, payload):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo(f"layer{index}")
        directory.type, directory.mode, directory.mtime = tarfile.DIRTYPE, 0o755, MTIME
        tar.addfile(directory)
        info = tarfile.TarInfo(f"layer{index}/data.bin")
        info.size, info.mode, info.mtime = len(payload), 0o644, MTIME
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def executable_tar(path):
    """A layer with ``path`` as /bin/<its name>, executable."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo("bin")
        directory.type, directory.mode, directory.mtime = tarfile.DIRTYPE, 0o755, MTIME
        tar.addfile(directory)
        with open(path, "rb") as binary:
            data = binary.read()
        info = tarfile.TarInfo("bin/" + os.path.basename(path))
        info.size, info.mode, info.mtime = len(data), 0o755, MTIME
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def compress(data, how):
    if how == "none":
        return data
    out = io.BytesIO()
    # mtime=0 and no file name: the gzip header carries nothing that changes between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=1) as gz:
        gz.write(data)
    return out.getvalue()


def prepare_dir(path):
    """An empty or missing DIR is used; an earlier OCI layout is replaced; anything else is refused."""
    if os.path.isdir(path) and os.listdir(path):
        if not os.path.exists(os.path.join(path, "oci-layout")):
            sys.exit(f"error: {path} is not empty and is not an OCI layout; refusing to replace it")
        shutil.rmtree(path)
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)


def make_image(path, layers=3, layer_size_kb=512, tag="1", seed=None, compression="gzip", executable=None):
    if layers < 1 or layer_size_kb < 1:
        raise ValueError("--layers and --layer-size-kb must be at least 1")
    rng = random.Random(seed) if seed is not None else None
    prepare_dir(path)
    blobs = os.path.join(path, "blobs", "sha256")

    tars = []
    for i in range(layers):
        size = layer_size_kb * 1024
        tars.append((layer_tar(i, rng.randbytes(size) if rng else os.urandom(size)), f"layer {i} ({layer_size_kb} KiB)"))
    command = {"Cmd": ["/bin/false"]}
    if executable:
        name = os.path.basename(executable)
        tars.append((executable_tar(executable), f"/bin/{name}"))
        command = {"Entrypoint": [f"/bin/{name}"], "Cmd": ["echo", f"dtr.cache test image {tag}"]}

    layer_descs, diff_ids, history = [], [], []
    for tar, what in tars:
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        digest, blob_size = write_blob(blobs, compress(tar, compression))
        layer_descs.append({"mediaType": LAYER_TYPES[compression], "digest": digest, "size": blob_size})
        history.append({"created": EPOCH, "created_by": f"make_test_image.py {what}"})

    config = {
        "created": EPOCH,
        "architecture": "amd64",
        "os": "linux",
        "config": dict(command, Labels={"org.opencontainers.image.description": "dtr.cache test image"}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_digest, config_size = write_blob(blobs, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_size},
        "layers": layer_descs,
    }
    manifest_digest, manifest_size = write_blob(blobs, json.dumps(manifest, sort_keys=True).encode())

    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    }
    with open(os.path.join(path, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, sort_keys=True)
    with open(os.path.join(path, "oci-layout"), "w", encoding="utf-8") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    return {
        "layout": os.path.abspath(path),
        "tag": tag,
        "manifest": {"digest": manifest_digest, "size": manifest_size, "mediaType": MANIFEST_TYPE},
        "config": {"digest": config_digest, "size": config_size},
        "layers": [{"digest": d["digest"], "size": d["size"]} for d in layer_descs],
        # What a pull fetches from /v2/<repo>/blobs/: the config and every layer.
        "blob_bytes": config_size + sum(d["size"] for d in layer_descs),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("dir", help="output directory (OCI image layout)")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--layer-size-kb", type=int, default=512, help="random bytes per layer, KiB")
    parser.add_argument("--tag", default="1")
    parser.add_argument("--seed", type=int, help="make the same bytes every time")
    parser.add_argument("--compression", choices=sorted(LAYER_TYPES), default="gzip")
    parser.add_argument("--executable", help="a static binary the image runs, as /bin/<its name>")
    args = parser.parse_args(argv)
    try:
        summary = make_image(args.dir, args.layers, args.layer_size_kb, args.tag, args.seed, args.compression, args.executable)
    except ValueError as exc:
        parser.error(str(exc))
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
