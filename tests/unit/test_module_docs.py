"""ansible-doc renders every module and plugin of the collection, and the examples are usable YAML."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
COLLECTION = "dtr.cache"
# ansible-doc plugin type -> directory under plugins/
KINDS = {"module": "modules", "filter": "filter", "test": "test"}
EXPECTED = {
    "module": ["certificate_pipe", "dtr_ca", "dtr_content_cache", "k8s_apply", "registry_catalog_info", "registry_prefetch"],
    "filter": ["cache_sans", "htpasswd", "pending_objects", "unknown_names"],
    "test": ["covered_by"],
}


def _files(kind):
    return sorted(path.stem for path in (ROOT / "plugins" / KINDS[kind]).glob("*.py") if path.stem != "__init__")


def _ansible_doc(*args):
    tool = BIN / "ansible-doc"
    if not tool.exists():
        pytest.skip("ansible-doc is not installed next to %s" % sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1")
    result = subprocess.run([str(tool)] + list(args), cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def docs():
    """{kind: {fqcn: ansible-doc JSON}} for every plugin file of the collection."""
    return {kind: _ansible_doc("-t", kind, "--json", *["%s.%s" % (COLLECTION, name) for name in _files(kind)]) for kind in KINDS}


def _plugins():
    return [(kind, name) for kind in KINDS for name in EXPECTED[kind]]


def _text(value):
    return " ".join(value) if isinstance(value, list) else value or ""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_plugin_file_is_known(kind):
    # A new plugin needs its line in EXPECTED, and so these checks.
    assert _files(kind) == EXPECTED[kind]


def test_ansible_doc_lists_every_module():
    listed = _ansible_doc("-t", "module", "--list", "--json", COLLECTION)
    assert sorted(listed) == ["%s.%s" % (COLLECTION, name) for name in EXPECTED["module"]]
    assert all(description.strip() for description in listed.values())


@pytest.mark.parametrize("kind, name", _plugins(), ids=["%s-%s" % plugin for plugin in _plugins()])
def test_plugin_renders_with_a_description_and_documented_options(docs, kind, name):
    rendered = docs[kind]["%s.%s" % (COLLECTION, name)]
    doc = rendered["doc"]
    assert doc["short_description"].strip()
    assert _text(doc["description"]).strip(), "%s has no description" % name
    assert doc["author"]
    assert doc["version_added"]
    for option, spec in doc.get("options", {}).items():
        assert _text(spec.get("description")).strip(), "%s: option %s has no description" % (name, option)
        assert spec.get("type"), "%s: option %s has no type" % (name, option)
    assert rendered["return"], "%s documents no return values" % name


@pytest.mark.parametrize("kind, name", _plugins(), ids=["%s-%s" % plugin for plugin in _plugins()])
def test_examples_are_yaml_tasks(docs, kind, name):
    examples = yaml.safe_load(docs[kind]["%s.%s" % (COLLECTION, name)]["examples"])
    assert isinstance(examples, list) and examples, "%s: EXAMPLES is no list of tasks" % name
    for task in examples:
        assert isinstance(task, dict) and task.get("name"), "%s: an example task without a name: %r" % (name, task)


@pytest.mark.parametrize("name", EXPECTED["module"])
def test_module_examples_use_the_module_with_documented_options(docs, name):
    fqcn = "%s.%s" % (COLLECTION, name)
    options = docs["module"][fqcn]["doc"]["options"]
    accepted = set(options) | {alias for spec in options.values() for alias in spec.get("aliases", [])}
    uses = [task for task in yaml.safe_load(docs["module"][fqcn]["examples"]) if fqcn in task]
    assert uses, "no example of %s runs it" % fqcn
    for task in uses:
        assert isinstance(task[fqcn], dict), "%s: use the YAML form for arguments" % task["name"]
        unknown = set(task[fqcn]) - accepted
        assert not unknown, "%s: %s are not options of %s" % (task["name"], sorted(unknown), fqcn)
        required = {option for option, spec in options.items() if spec.get("required")}
        assert required <= set(task[fqcn]), "%s: misses required %s" % (task["name"], sorted(required - set(task[fqcn])))
