"""Role dtr_cache_client, run by ansible-playbook on localhost under a scratch root: the files each runtime reads."""

import json
import os
import pathlib
import stat
import subprocess
import tomllib

import pytest

from conftest import ANSIBLE_PLAYBOOK, ROOT

CACHE = "https://10.244.0.1:30443"
CREDENTIAL = "puller:site-a-pull-password"
BASIC = "Basic cHVsbGVyOnNpdGUtYS1wdWxsLXBhc3N3b3Jk"  # base64 of CREDENTIAL


def configure(tmp_path, *args, **variables):
    """Run playbooks/configure-clients.yml for one local client; return (returncode, output)."""
    variables.setdefault("dtr_cache_client_root", str(tmp_path / "root"))
    inventory = {"dtr_cache_clients": {"hosts": {"node": dict(
        ansible_connection="local", ansible_python_interpreter=str(pathlib.Path(ANSIBLE_PLAYBOOK).parent / "python"),
        **variables)}}}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(path), str(ROOT / "playbooks" / "configure-clients.yml")] + list(args),
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)
    return done.returncode, done.stdout + done.stderr


def written(tmp_path):
    """{path under the root: (mode, text)} of every file under the scratch root."""
    root = tmp_path / "root"
    return {"/" + str(path.relative_to(root)): (oct(stat.S_IMODE(path.stat().st_mode)), path.read_text())
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture
def ca_file(pki, tmp_path):
    path = tmp_path / "site-a-ca.pem"
    path.write_text(pki.root.pem)
    return str(path)


def site_a(ca_file, **extra):
    return dict(url=CACHE, ca_file=ca_file, mirror_of=["dtr.test"], username="puller", password="site-a-pull-password", **extra)


def test_each_runtime_gets_the_ca_and_the_mirror(tmp_path, pki, ca_file):
    code, output = configure(tmp_path, "--diff", dtr_cache_client_runtimes=["docker", "containerd", "podman"],
                             dtr_cache_client_caches=[site_a(ca_file)])
    assert code == 0, output
    files = written(tmp_path)
    assert sorted(files) == [
        "/etc/containerd/certs.d/10.244.0.1:30443/ca.crt",
        "/etc/containerd/certs.d/10.244.0.1:30443/hosts.toml",
        "/etc/containerd/certs.d/dtr.test/hosts.toml",
        "/etc/containers/certs.d/10.244.0.1:30443/ca.crt",
        "/etc/containers/registries.conf.d/50-dtr-cache-dtr.test.conf",
        "/etc/docker/certs.d/10.244.0.1:30443/ca.crt",
    ]
    for name in ("/etc/docker/certs.d/10.244.0.1:30443/ca.crt", "/etc/containerd/certs.d/10.244.0.1:30443/ca.crt",
                 "/etc/containers/certs.d/10.244.0.1:30443/ca.crt"):
        assert files[name] == ("0o644", pki.root.pem), name
    ca = "/etc/containerd/certs.d/10.244.0.1:30443/ca.crt"
    header = {"Authorization": [BASIC]}
    mode, text = files["/etc/containerd/certs.d/dtr.test/hosts.toml"]
    assert mode == "0o600"  # it holds the cache user's credential
    assert tomllib.loads(text) == {"server": "https://dtr.test", "host": {CACHE: {
        "capabilities": ["pull", "resolve"], "ca": ca, "header": header}}}
    mode, text = files["/etc/containerd/certs.d/10.244.0.1:30443/hosts.toml"]
    assert mode == "0o600"
    keys = {"capabilities": ["pull", "resolve"], "ca": ca, "header": header}
    # The server's settings at the top, and the same as a [host]: containerd 1.6 needs one.
    assert tomllib.loads(text) == dict(keys, server=CACHE, host={CACHE: keys})
    mode, text = files["/etc/containers/registries.conf.d/50-dtr-cache-dtr.test.conf"]
    assert mode == "0o644"
    assert tomllib.loads(text) == {"registry": [{"prefix": "dtr.test", "location": "dtr.test",
                                                 "mirror": [{"location": "10.244.0.1:30443"}]}]}
    assert "site-a-pull-password" not in output and BASIC.split()[1] not in output
    assert all(path.stat().st_uid == 0 for path in (tmp_path / "root").rglob("*") if path.is_file())

    code, output = configure(tmp_path, dtr_cache_client_runtimes=["docker", "containerd", "podman"],
                             dtr_cache_client_caches=[site_a(ca_file)])
    assert code == 0 and "changed=0" in output, output


def test_without_the_fallback_the_cache_is_the_only_source(tmp_path, ca_file):
    code, output = configure(tmp_path, dtr_cache_client_runtimes=["containerd", "crio"], dtr_cache_client_upstream_fallback=False,
                             dtr_cache_client_caches=[dict(url=CACHE + "/", ca_file=ca_file, mirror_of=["dtr.test"])])
    assert code == 0, output
    files = written(tmp_path)
    keys = {"capabilities": ["pull", "resolve"], "ca": "/etc/containerd/certs.d/10.244.0.1:30443/ca.crt"}
    assert tomllib.loads(files["/etc/containerd/certs.d/dtr.test/hosts.toml"][1]) == dict(keys, server=CACHE, host={CACHE: keys})
    assert files["/etc/containerd/certs.d/dtr.test/hosts.toml"][0] == "0o644"
    assert tomllib.loads(files["/etc/containers/registries.conf.d/50-dtr-cache-dtr.test.conf"][1]) == {
        "registry": [{"prefix": "dtr.test", "location": "10.244.0.1:30443"}]}


def test_check_mode_writes_nothing_and_absent_removes_only_what_the_role_wrote(tmp_path, ca_file):
    caches = [site_a(ca_file)]
    code, output = configure(tmp_path, "--check", dtr_cache_client_caches=caches)
    assert code == 0 and "changed=" in output and "changed=0" not in output, output
    assert not (tmp_path / "root").exists()
    assert configure(tmp_path, dtr_cache_client_caches=caches)[0] == 0
    foreign = tmp_path / "root" / "etc" / "docker" / "certs.d" / "10.244.0.1:30443" / "client.cert"
    foreign.write_text("a user's own file")
    code, output = configure(tmp_path, dtr_cache_client_caches=caches, dtr_cache_client_state="absent")
    assert code == 0, output
    assert list(written(tmp_path)) == ["/etc/docker/certs.d/10.244.0.1:30443/client.cert"]


def test_containerd_config_path_is_set_only_when_allowed(tmp_path, ca_file):
    config = tmp_path / "root" / "etc" / "containerd" / "config.toml"
    config.parent.mkdir(parents=True)
    original = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.9"\n'
    config.write_text(original)
    caches = [dict(url=CACHE, ca_file=ca_file)]
    code, output = configure(tmp_path, dtr_cache_client_runtimes=["containerd"], dtr_cache_client_caches=caches)
    assert code == 0, output
    assert "sets no registry config_path" in output and "dtr_cache_client_containerd_set_config_path" in output
    assert config.read_text() == original
    code, output = configure(tmp_path, dtr_cache_client_runtimes=["containerd"], dtr_cache_client_caches=caches,
                             dtr_cache_client_containerd_set_config_path=True)
    assert code == 0, output
    parsed = tomllib.loads(config.read_text())
    assert parsed["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert parsed["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"] == "pause:3.9"
    code, output = configure(tmp_path, dtr_cache_client_runtimes=["containerd"], dtr_cache_client_caches=caches,
                             dtr_cache_client_containerd_set_config_path=True)
    assert code == 0 and "changed=0" in output, output


BAD_INPUTS = [
    ("a certificate that is not a CA", lambda pki, ca: dict(url=CACHE, ca_content=pki.server.pem),
     "dtr_cache_client_caches[0]: \"organizationName=dtr.cache tests,commonName=localhost\" is not a CA certificate"),
    ("a URL with a path", lambda pki, ca: dict(url=CACHE + "/v2", ca_file=ca), "dtr_cache_client_caches[0].url is"),
    ("a URL without https", lambda pki, ca: dict(url="http://10.244.0.1:30443", ca_file=ca), "dtr_cache_client_caches[0].url is"),
    ("no CA", lambda pki, ca: dict(url=CACHE), "dtr_cache_client_caches[0]: give one of ca_file and ca_content"),
    ("a CA file that does not exist", lambda pki, ca: dict(url=CACHE, ca_file=ca + ".missing"), "dtr_cache_client_caches[0].ca_file"),
    ("a mirror with a scheme", lambda pki, ca: dict(url=CACHE, ca_file=ca, mirror_of=["https://dtr.test"]),
     "dtr_cache_client_caches[0].mirror_of has \"https://dtr.test\""),
    ("a user without a password", lambda pki, ca: dict(url=CACHE, ca_file=ca, username="puller"),
     "dtr_cache_client_caches[0]: give username and password together"),
]


@pytest.mark.parametrize("make, expected", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_fails_before_writing_and_names_the_variable(tmp_path, pki, ca_file, make, expected):
    code, output = configure(tmp_path, dtr_cache_client_caches=[make(pki, ca_file)])
    assert code != 0
    assert expected in output, output
    assert not (tmp_path / "root").exists()


def test_an_unknown_runtime_fails_before_writing(tmp_path, ca_file):
    code, output = configure(tmp_path, dtr_cache_client_runtimes=["docker", "rkt"], dtr_cache_client_caches=[dict(url=CACHE, ca_file=ca_file)])
    assert code != 0 and "dtr_cache_client_runtimes" in output and "rkt" in output, output
    assert not (tmp_path / "root").exists()


def test_a_misspelt_variable_is_named_with_the_one_meant(tmp_path, ca_file):
    code, output = configure(tmp_path, dtr_cache_client_caches=[dict(url=CACHE, ca_file=ca_file)], dtr_cache_client_runtime=["podman"])
    assert code == 0, output
    assert "dtr_cache_client_runtime (did you mean dtr_cache_client_runtimes?)" in " ".join(output.split())
