# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The callback dtr.cache.prefork: what the role's tasks import is loaded in ansible-playbook, then frozen.

Each case runs in a fresh interpreter, since the test process has imported much of it already.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[4]

# Prints what a play's start loaded: run with the names to block (as a missing library) as arguments.
PROBE = textwrap.dedent('''
    import gc, json, sys
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader([%r])
    for name in sys.argv[1:]:
        sys.modules[name] = None
    watched = ('kubernetes', 'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client',
               'ansible_collections.dtr.cache.plugins.modules.dtr_ca', 'ansible.module_utils.urls')
    before = [name for name in watched if sys.modules.get(name)]
    from ansible_collections.dtr.cache.plugins.callback.prefork import CallbackModule
    CallbackModule().v2_playbook_on_play_start(None)
    print(json.dumps({'before': before, 'after': [name for name in watched if sys.modules.get(name)],
                      'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects())}))
''' % str(ROOT / '.collections'))


def probe(*blocked):
    done = subprocess.run([sys.executable, '-c', PROBE] + list(blocked), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_play_start_loads_the_libraries_of_the_tasks_and_freezes_them():
    loaded = probe()
    assert loaded['before'] == []
    assert loaded['after'] == ['kubernetes', 'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client',
                               'ansible_collections.dtr.cache.plugins.modules.dtr_ca', 'ansible.module_utils.urls']
    # Everything loaded so far is frozen: the collector tracks only what was made since.
    assert loaded['frozen'] > 10000 and loaded['tracked'] < 1000, loaded


def test_a_missing_library_is_left_to_the_task_that_needs_it():
    loaded = probe('kubernetes')
    assert 'kubernetes' not in loaded['after']
    assert 'ansible.module_utils.urls' in loaded['after']
    assert loaded['frozen'] > 0


def test_a_playbook_runs_with_it_and_it_prints_nothing(tmp_path):
    playbook_tool = pathlib.Path(sys.executable).parent / 'ansible-playbook'
    if not playbook_tool.exists():
        pytest.skip('ansible-playbook is not installed next to %s' % sys.executable)
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'ansible.builtin.debug': {'msg': "{{ 'abc' is ansible.builtin.match('a') }}"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.collections'), ANSIBLE_CALLBACKS_ENABLED='dtr.cache.prefork')
    done = subprocess.run([str(playbook_tool), '-i', 'localhost,', '-c', 'local', str(playbook)], cwd=str(ROOT), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout
    assert 'msg: true' in done.stdout, done.stdout
    assert 'WARNING' not in done.stdout and 'ERROR' not in done.stdout, done.stdout
