"""What the render tests share: a real local HTTPS server as DTR's /ca, and the role run by ansible-playbook."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.dtr.cache.tests.unit.tls_servers import Pki, Servers, text_app

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "render" / "export.yml"
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / "ansible-playbook"


@pytest.fixture(scope="session")
def pki():
    return Pki()


@pytest.fixture(scope="session")
def dtr(pki, tmp_path_factory):
    """A DTR stand-in for /ca: HTTPS on localhost with a certificate issued by the CA it serves."""
    servers = Servers(str(tmp_path_factory.mktemp("dtr")))
    server = servers.https(text_app(pki.root.pem), pki.server)
    yield server
    servers.stop()


def playbook(args, env=None, timeout=300):
    """Run export.yml with ``args``; return the CompletedProcess."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", NO_PROXY="*", **(env or {}))
    return subprocess.run([str(ANSIBLE_PLAYBOOK), str(PLAYBOOK)] + args,
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=timeout, check=False)


def run_role(tmp_path, create_dir=True, **variables):
    """Run the role against localhost; return (returncode, combined output)."""
    variables.setdefault("dtr_cache_export_dir", str(tmp_path / "out"))
    if create_dir:
        os.makedirs(variables["dtr_cache_export_dir"], exist_ok=True)
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    result = playbook(["-i", "localhost,", "-e", "@%s" % extra])
    return result.returncode, result.stdout + result.stderr
