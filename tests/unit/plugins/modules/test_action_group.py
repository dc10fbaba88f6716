# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""meta/runtime.yml: the action group dtr.cache.dtr holds every module that talks HTTP to a registry or DTR, and module_defaults for it reach them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.dtr.cache.plugins.modules import dtr_ca, dtr_content_cache, registry_catalog_info, registry_prefetch

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULES = {'dtr_ca': dtr_ca, 'dtr_content_cache': dtr_content_cache, 'registry_catalog_info': registry_catalog_info,
           'registry_prefetch': registry_prefetch}


def runtime():
    return yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())


def test_requires_ansible_core_2_18():
    assert runtime()['requires_ansible'] == '>=2.18.0'


def test_the_group_holds_every_module_with_the_http_connection_options():
    files = sorted(path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py') if path.stem != '__init__')
    # certificate_pipe issues certificates in memory; k8s_apply takes kubernetes.core's cluster options.
    outside = ['certificate_pipe', 'k8s_apply']
    assert sorted(runtime()['action_groups']['dtr']) == sorted(set(files) - set(outside)) == sorted(MODULES)


@pytest.mark.parametrize('name', sorted(MODULES))
def test_modules_document_the_group_and_share_the_connection_options(name):
    doc = yaml.safe_load(MODULES[name].DOCUMENTATION)
    fragments = doc['extends_documentation_fragment']
    assert 'dtr.cache.attributes.action_group' in fragments
    assert 'dtr.cache.connection' in fragments


def test_module_defaults_for_the_group_reach_the_module(tmp_path):
    playbook_tool = pathlib.Path(sys.executable).parent / 'ansible-playbook'
    if not playbook_tool.exists():
        pytest.skip('ansible-playbook is not installed next to %s' % sys.executable)
    playbook = tmp_path / 'group.yml'
    playbook.write_text(yaml.safe_dump([dict(
        name='Group defaults', hosts='localhost', gather_facts=False,
        module_defaults={'group/dtr.cache.dtr': dict(timeout=0)},
        tasks=[dict(name='dtr_ca', ignore_errors=True, register='result', **{'dtr.cache.dtr_ca': dict(content='not pem')}),
               dict(name='show', **{'ansible.builtin.debug': dict(var='result.failure_kind')})],
    )]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.collections'), ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='json')
    done = subprocess.run(
        [str(playbook_tool), '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)],
        cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    output = json.loads(done.stdout[done.stdout.index('{'):])
    shown = output['plays'][0]['tasks'][1]['hosts']['localhost']['result.failure_kind']
    # timeout=0 from the group, not content='not pem' (not_pem), is what failed
    assert shown == 'invalid_argument', done.stdout + done.stderr
