"""The role's defaults, argument specs and generated README agree."""

import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "dtr_cache"


def _specs():
    return yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def _defaults():
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def test_every_default_is_declared_with_a_description():
    specs = _specs()
    for name in _defaults():
        assert name in specs, "%s is in defaults/main.yml but not in meta/argument_specs.yml" % name
        assert specs[name].get("description"), "%s has no description" % name


def test_every_declared_variable_has_the_same_default():
    defaults = _defaults()
    for name, spec in _specs().items():
        assert name.startswith("dtr_cache_"), name
        assert name in defaults, "%s is declared but has no default in defaults/main.yml" % name
        assert spec.get("default") == defaults[name], "%s: argument_specs default %r != defaults/main.yml %r" % (name, spec.get("default"), defaults[name])


def test_generated_readme_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "tools" / "role_readme.py"), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
