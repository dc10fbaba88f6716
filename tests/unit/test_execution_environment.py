"""execution-environment.yml: `ansible-builder create` makes a build context with this collection and its dependencies.

Building the image itself (`ansible-builder build`) needs podman or docker, which test machines do not
have; docs/awx.md has the commands for a machine that does. `ansible-builder create` needs neither a
container engine nor Galaxy: it writes the Containerfile and copies the dependency files and the
collection tarball into the context.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
EE_FILE = ROOT / "execution-environment.yml"
TARBALL_DIR = ".build/ee"
# What never belongs in the collection tarball: local tool state and build output.
LOCAL_STATE = (".ansible/", ".build/", ".cluster/", ".collections/", ".git/", ".pytest_cache/", ".venv/", "tests/output/")


def _run(args, cwd):
    env = dict(os.environ, PATH="%s%s%s" % (BIN, os.pathsep, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(args, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0, "%s failed:\n%s" % (" ".join(args), result.stdout)
    return result.stdout


def _tool(name):
    path = BIN / name
    if not path.exists():
        pytest.skip("%s is not installed next to %s (make setup installs tests/requirements.txt)" % (name, sys.executable))
    return str(path)


def _definition():
    return yaml.safe_load(EE_FILE.read_text())


def _galaxy():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())


def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _requirement_lines(path):
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _build_tarball(source, output):
    _run([_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output)], cwd=source)
    (tarball,) = output.glob("dtr-cache-*.tar.gz")
    return tarball


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """`ansible-builder create` run on a copy of the repository's files, as a release build would."""
    repo = tmp_path_factory.mktemp("repo")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=str(ROOT),
                           stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(ROOT / name), str(repo / name))
    _build_tarball(repo, repo / TARBALL_DIR)
    out = tmp_path_factory.mktemp("context")
    _run([_tool("ansible-builder"), "create", "-f", str(repo / "execution-environment.yml"), "-c", str(out),
          "--output-filename", "Containerfile"], cwd=repo)
    return out


def test_definition_pins_the_engine_the_tests_use():
    definition = _definition()
    assert definition["version"] == 3
    dependencies = definition["dependencies"]
    tested = _pins(ROOT / "tests" / "requirements.txt")
    assert dependencies["ansible_core"]["package_pip"] == "ansible-core==%s" % tested["ansible-core"]
    assert re.fullmatch(r"ansible-runner==\d+\.\d+\.\d+", dependencies["ansible_runner"]["package_pip"])
    # ansible-core 2.19 needs Python 3.11 or later on the controller, which the EE is.
    assert dependencies["python_interpreter"]["python_path"] == "/usr/bin/python3.11"
    base = definition["images"]["base_image"]["name"]
    assert re.fullmatch(r"[a-z0-9.-]+/[a-z0-9/_.-]+:[0-9][0-9.]*", base), "the base image is pinned to a release: %s" % base


def test_definition_takes_the_dependencies_from_the_collection_files():
    dependencies = _definition()["dependencies"]
    assert dependencies["galaxy"] == "collections/requirements.yml"
    assert dependencies["python"] == "requirements.txt"
    assert dependencies["system"] == "bindep.txt"
    for name in ("galaxy", "python", "system"):
        assert (ROOT / dependencies[name]).is_file()
    # The collection's own meta/execution-environment.yml names the same files, for other EEs that install it.
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}


def test_galaxy_requirements_are_the_collection_dependencies():
    requirements = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())["collections"]
    assert {item["name"]: item["version"] for item in requirements} == _galaxy()["dependencies"]


def test_context_has_a_containerfile_that_installs_everything(context):
    containerfile = (context / "Containerfile").read_text()
    definition = _definition()
    engine = [definition["dependencies"][name]["package_pip"] for name in ("ansible_core", "ansible_runner")]
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="%s"' % " ".join(engine) in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "ansible-galaxy collection install --no-deps --collections-path /usr/share/ansible/collections " \
           "/build/collections/dtr-cache-*.tar.gz" in containerfile
    # Python and system requirements of every installed collection (this one included) are introspected and installed.
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "RUN /output/scripts/install-from-bindep" in containerfile
    assert containerfile.index("FROM base AS galaxy") < containerfile.index("FROM base AS builder") < containerfile.index("FROM base AS final")


def test_context_has_the_dependency_files(context):
    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())
    assert _requirement_lines(build / "requirements.txt") == _requirement_lines(ROOT / "requirements.txt")
    assert any(line.startswith("kubernetes") for line in _requirement_lines(build / "requirements.txt"))
    assert _requirement_lines(build / "bindep.txt") == _requirement_lines(ROOT / "bindep.txt")
    for script in ("introspect.py", "assemble", "install-from-bindep", "check_ansible", "check_galaxy"):
        assert (build / "scripts" / script).is_file()


def test_context_has_this_collection(context):
    version = _galaxy()["version"]
    (tarball,) = (context / "_build" / "collections").iterdir()
    assert tarball.name == "dtr-cache-%s.tar.gz" % version
    with tarfile.open(str(tarball)) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("dtr", "cache", version)
    assert info["dependencies"] == _galaxy()["dependencies"]
    for name in ("meta/execution-environment.yml", "meta/runtime.yml", "requirements.txt", "bindep.txt",
                 "roles/dtr_cache/meta/argument_specs.yml", "plugins/modules/dtr_ca.py", "plugins/modules/registry_catalog_info.py",
                 "plugins/modules/dtr_content_cache.py", "playbooks/deploy-cache.yml", "playbooks/awx-configure.yml"):
        assert name in names, name
    assert not [name for name in names if name.startswith(LOCAL_STATE)]


def test_a_tarball_built_in_the_working_tree_has_no_local_state(tmp_path):
    # The commands in docs/awx.md build the tarball from the checkout, where `make setup` links .collections
    # (to the checkout itself) and ansible-lint and pytest leave .ansible and .pytest_cache.
    with tarfile.open(str(_build_tarball(ROOT, tmp_path))) as archive:
        leaked = sorted({name.split("/")[0] for name in archive.getnames() if name.startswith(LOCAL_STATE)})
    assert leaked == []
