"""The changelog: every fragment is valid and a release builds CHANGELOG.rst from them (antsibull-changelog)."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CHANGELOGS = ROOT / "changelogs"
FRAGMENTS = sorted(path for path in (CHANGELOGS / "fragments").iterdir() if path.suffix in (".yml", ".yaml"))


def _tool(name):
    path = BIN / name
    if not path.exists():
        pytest.skip("%s is not installed next to %s" % (name, sys.executable))
    return str(path)


def _run(args, cwd):
    # antsibull-changelog runs ansible-doc to list the collection's plugins for the release notes.
    env = dict(os.environ, PATH="%s%s%s" % (BIN, os.pathsep, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    result = subprocess.run(args, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    return result.returncode, result.stdout


def _sections():
    config = yaml.safe_load((CHANGELOGS / "config.yaml").read_text())
    return dict(config["sections"]), config["prelude_section_name"], config["trivial_section_name"]


def _copy_of_the_collection(tmp_path):
    """The tracked and new files under .../ansible_collections/dtr/cache, as antsibull-changelog expects."""
    copy = tmp_path / "ansible_collections" / "dtr" / "cache"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=str(ROOT),
                           stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(ROOT / name), str(copy / name))
    return copy


def test_there_are_fragments():
    assert FRAGMENTS, "every change comes with a fragment in changelogs/fragments"
    # Any other file there (but .keep) would be ignored silently.
    assert not [path.name for path in (CHANGELOGS / "fragments").iterdir()
                if path not in FRAGMENTS and not path.name.startswith(".")]


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=[path.name for path in FRAGMENTS])
def test_fragment_uses_known_sections_with_text(fragment):
    sections, prelude, trivial = _sections()
    content = yaml.safe_load(fragment.read_text())
    assert isinstance(content, dict) and content, fragment.name
    for section, entries in content.items():
        assert section in sections or section in (prelude, trivial), "%s: unknown section %s" % (fragment.name, section)
        if section == prelude:
            assert isinstance(entries, str) and entries.strip()
        else:
            assert isinstance(entries, list) and entries and all(isinstance(entry, str) and entry.strip() for entry in entries)


def test_lint_passes():
    code, output = _run([_tool("antsibull-changelog"), "lint"], cwd=ROOT)
    assert code == 0 and output.strip() == "", output


def test_lint_catches_a_bad_fragment(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("new_stuff:\n  - An entry in a section that does not exist.\nbugfixes: not a list\n")
    code, output = _run([_tool("antsibull-changelog"), "lint", str(bad)], cwd=ROOT)
    assert code != 0
    assert "new_stuff" in output and "bugfixes" in output


def test_a_release_builds_the_changelog_from_every_fragment(tmp_path):
    copy = _copy_of_the_collection(tmp_path)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    code, output = _run([_tool("antsibull-changelog"), "release", "--version", version], cwd=copy)
    assert code == 0, output
    rst = (copy / "CHANGELOG.rst").read_text()
    assert "v%s" % version in rst
    flat = " ".join(rst.split())
    sections, prelude, dummy = _sections()
    for fragment in FRAGMENTS:
        for section, entries in yaml.safe_load(fragment.read_text()).items():
            if section in sections:
                assert sections[section] in rst, (fragment.name, section)
            for entry in [entries] if section == prelude else entries:
                words = " ".join(entry.split())
                assert words[:60] in flat, (fragment.name, words[:60])
    # The release consumed the fragments into changelogs/changelog.yaml.
    released = yaml.safe_load((copy / "changelogs" / "changelog.yaml").read_text())["releases"][version]
    assert sorted(released["fragments"]) == [path.name for path in FRAGMENTS]
    assert not [path for path in (copy / "changelogs" / "fragments").iterdir() if path.suffix in (".yml", ".yaml")]
    # New modules and plugins are announced with their short descriptions.
    assert "dtr.cache.dtr_ca - " in rst and "dtr.cache.cache_sans - " in rst
