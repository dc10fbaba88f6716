"""Each role's defaults, argument specs and generated README agree, and the roles share no variable."""

import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = {"dtr_cache": "dtr_cache_", "dtr_cache_client": "dtr_cache_client_"}


def _specs(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def _defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def test_every_role_is_listed():
    assert sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir()) == sorted(ROLES)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_default_is_declared_with_a_description(role):
    specs = _specs(role)
    for name in _defaults(role):
        assert name in specs, "%s is in defaults/main.yml but not in meta/argument_specs.yml" % name
        assert specs[name].get("description"), "%s has no description" % name


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_declared_variable_has_the_same_default(role):
    defaults = _defaults(role)
    for name, spec in _specs(role).items():
        assert name.startswith(ROLES[role]), name
        assert name in defaults, "%s is declared but has no default in defaults/main.yml" % name
        assert spec.get("default") == defaults[name], "%s: argument_specs default %r != defaults/main.yml %r" % (name, spec.get("default"), defaults[name])


def test_the_roles_share_no_variable():
    """A host in both groups (a cache site that is also a client) must not set one role's variable for the other."""
    assert not set(_specs("dtr_cache")) & set(_specs("dtr_cache_client"))


def test_generated_readme_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "tools" / "role_readme.py"), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_warm_cache_playbook_variables_are_known_to_the_roles():
    """The check for misspelt variables knows exactly the variables warm-cache.yml documents."""
    header = (ROOT / "playbooks" / "warm-cache.yml").read_text()
    documented = sorted(set(re.findall(r"^#   (dtr_cache_warm_[a-z_]+) ", header, re.MULTILINE)))
    known = yaml.safe_load((ROOT / "roles" / "dtr_cache" / "vars" / "main.yml").read_text())["_dtr_cache_playbook_variables"]
    assert documented and sorted(known) == documented
