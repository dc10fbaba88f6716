# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter and test plugins as Ansible finds them: by their public names, with their documentation."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.dtr.cache.plugins.filter import cache_sans, htpasswd, pending_objects
from ansible_collections.dtr.cache.plugins.test import covered_by

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir, os.pardir))
COLLECTIONS = os.path.join(REPO, ".collections")
BIN = os.path.dirname(sys.executable)

FILTERS = {"cache_sans": cache_sans, "htpasswd": htpasswd, "pending_objects": pending_objects}
TESTS = {"covered_by": covered_by}

PLAYBOOK = """\
- name: Use the dtr.cache filters and tests as a role would
  hosts: localhost
  gather_facts: false
  vars:
    exposure:
      name: dtr-cache
      namespace: dtr
      expose: nodeport
      external_host: Node1.Example.com
      extra_sans: [10.0.0.5]
  tasks:
    - name: A bad input fails with the filter's message
      ansible.builtin.debug:
        msg: "{{ [{'username': 'a:b', 'password': 'x'}] | dtr.cache.htpasswd }}"
      register: bad
      ignore_errors: true

    - name: Write the other results
      ansible.builtin.copy:
        content: "{{ results | to_json }}"
        dest: "%(out)s/results.json"
        mode: "0600"
      vars:
        sans: "{{ exposure | dtr.cache.cache_sans }}"
        results:
          sans: "{{ sans }}"
          covered: "{{ 'node1.example.com' is dtr.cache.covered_by(sans) }}"
          covered_url: "{{ 'https://node1.example.com:30443' is dtr.cache.covered_by(sans) }}"
          not_covered: "{{ 'node2.example.com' is dtr.cache.covered_by(sans) }}"
          htpasswd: "{{ [{'username': 'dev', 'password': 'pw'}] | dtr.cache.htpasswd }}"
          pending: "{{ [{'kind': 'Service', 'metadata': {'name': 's'}}] | dtr.cache.pending_objects([]) | length }}"
          bad_failed: "{{ bad is failed }}"
          bad_msg: "{{ bad.msg }}"
"""


def _run(args, **kwargs):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    return subprocess.run(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, **kwargs)


def _tool(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.skip("%s is not installed next to %s" % (name, sys.executable))
    return path


@pytest.mark.parametrize("name, module", sorted(FILTERS.items()))
def test_filter_module_public_names(name, module):
    assert list(module.FilterModule().filters()) == [name]


@pytest.mark.parametrize("name, module", sorted(TESTS.items()))
def test_test_module_public_names(name, module):
    assert list(module.TestModule().tests()) == [name]


@pytest.mark.parametrize("kind, names", [("filter", sorted(FILTERS)), ("test", sorted(TESTS))])
def test_ansible_doc_reads_the_documentation(kind, names):
    fqcns = ["dtr.cache." + name for name in names]
    result = _run([_tool("ansible-doc"), "-t", kind, "--json"] + fqcns)
    assert result.returncode == 0, result.stdout
    docs = json.loads(result.stdout)
    assert sorted(docs) == fqcns
    for fqcn in fqcns:
        doc = docs[fqcn]["doc"]
        assert doc["name"] == fqcn.split(".")[-1]
        assert doc["version_added"] in ("0.1.0", "0.2.0")
        assert "_input" in doc["options"]
        assert "_value" in docs[fqcn]["return"]
        assert docs[fqcn]["examples"]


def test_plugins_in_a_playbook(tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK % {"out": str(tmp_path)})
    result = _run([_tool("ansible-playbook"), "-i", "localhost,", "-c", "local",
                   "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)])
    assert result.returncode == 0, result.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results.pop("bad_msg").endswith("dtr.cache.htpasswd: user name 'a:b' cannot hold ':' or spaces")
    assert results.pop("htpasswd").startswith("dev:$2b$")
    assert results == {
        "sans": ["DNS:node1.example.com", "IP:10.0.0.5", "DNS:dtr-cache", "DNS:dtr-cache.dtr", "DNS:dtr-cache.dtr.svc",
                 "DNS:dtr-cache.dtr.svc.cluster.local"],
        "covered": True,
        "covered_url": True,
        "not_covered": False,
        "pending": 1,
        "bad_failed": True,
    }
