# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugins: on a local connection the module runs in the task's process, and gives what it gives as a module.

Each case runs the same task twice in one ansible-playbook run against real local TLS servers: as is (in the
task's process) and with become (``su`` to the same user, which executes the module as its own process), and
compares. At -vvv, Ansible logs each command it starts (``EXEC``): none for a task run in its own process.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.dtr.cache.tests.unit.tls_servers import RegistryApp

ROOT = pathlib.Path(__file__).resolve().parents[4]
# Differs from run to run.
NOT_COMPARED = ('elapsed_ms',)


def run_tasks(tmp_path, tasks, play_extra=None):
    """Run ``tasks`` on localhost; each registers into ``result_<n>``; returns the registered results.

    Also asserts that a task whose name starts with ``here`` started no command, and one with ``apart`` did.
    """
    playbook_tool = pathlib.Path(sys.executable).parent / 'ansible-playbook'
    if not playbook_tool.exists():
        pytest.skip('ansible-playbook is not installed next to %s' % sys.executable)
    registered = []
    for number, task in enumerate(tasks):
        task.update(register='result_%d' % number, ignore_errors=True)
        registered.append('result_%d' % number)
    out = tmp_path / 'results.json'
    tasks.append({'name': 'save', 'ansible.builtin.copy': {
        'content': '{{ {%s} | to_json }}' % ', '.join("'%s': %s" % (name, name) for name in registered), 'dest': str(out)}})
    play = dict(name='in process', hosts='localhost', gather_facts=False, tasks=tasks, **(play_extra or {}))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump([play]))
    # Task banners printed as each task starts (not held back until a result, as display_skipped_hosts=False
    # does), so that each command logged at -vvv falls under its own task.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.collections'), ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_DISPLAY_SKIPPED_HOSTS='true')
    done = subprocess.run(
        [str(playbook_tool), '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
         '-vvv', str(playbook)], cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout
    for section in done.stdout.split('TASK [')[1:]:
        name = section.split(']', 1)[0]
        if name.startswith(('here', 'apart')):
            assert ('EXEC ' in section) == name.startswith('apart'), section
    results = json.loads(out.read_text())
    return [results[name] for name in registered]


def twice(module, args, **task):
    """The task as is, then the same task as its own process (become)."""
    here = dict(task, name='here', **{module: args})
    apart = dict(task, name='apart', become=True, become_method='ansible.builtin.su', become_user=getpass.getuser(),
                 **{module: dict(args)})
    return [here, apart]


def comparable(result):
    return dict((key, value) for key, value in result.items() if key not in NOT_COMPARED)


def test_a_catalog_read_gives_the_same_result_in_the_task_process_as_a_module(tmp_path, pki, servers, write_file):
    server = servers.https(RegistryApp(['library/alpine', 'team/api']), pki.server)
    ca_path = write_file('ca.pem', pki.root.pem)
    here, apart = run_tasks(tmp_path, twice('dtr.cache.registry_catalog_info', dict(url=server.url('localhost'), ca_path=ca_path)))
    assert here['repositories'] == ['library/alpine', 'team/api']
    assert comparable(here) == comparable(apart)


def test_failures_and_argument_errors_read_the_same(tmp_path, pki, servers, write_file):
    server = servers.https(RegistryApp([]), pki.server)
    other_ca = write_file('other.pem', pki.other_root.pem)
    tasks = (twice('dtr.cache.registry_catalog_info', dict(url=server.url('localhost'), ca_path=other_ca))
             + twice('dtr.cache.dtr_ca', dict(content='not pem'))
             + twice('dtr.cache.dtr_ca', dict(content='x', no_such_option=1)))
    results = run_tasks(tmp_path, tasks)
    for here, apart in zip(results[::2], results[1::2]):
        assert here['failed'] is True and apart['failed'] is True
        assert comparable(here) == comparable(apart)
    assert results[0]['failure_kind'] == 'untrusted_certificate', results[0]
    assert results[2]['failure_kind'] == 'not_pem'
    assert results[4]['msg'].startswith('Unsupported parameters for (dtr.cache.dtr_ca) module: no_such_option')


def test_secrets_are_masked_in_the_result_as_a_module_masks_them(tmp_path, pki, servers, write_file):
    """A value of a no_log option is hidden wherever it shows up in the result, as AnsibleModule hides it."""
    server = servers.https(RegistryApp(['secretteam/api']), pki.server)
    ca_path = write_file('ca.pem', pki.root.pem)
    args = dict(url=server.url('localhost'), ca_path=ca_path, username='reader', password='secretteam')
    here, apart = run_tasks(tmp_path, twice('dtr.cache.registry_catalog_info', args))
    assert here['repositories'] == ['********/api']
    assert comparable(here) == comparable(apart)


def test_the_task_environment_reaches_the_module_in_the_task_process(tmp_path, pki, servers, write_file):
    """SSL_CERT_FILE names the system trust store: without it the server's CA is unknown."""
    server = servers.https(RegistryApp([]), pki.server)
    ca_path = write_file('ca.pem', pki.root.pem)
    args = dict(url=server.url('localhost'))
    without, with_env = run_tasks(tmp_path, [{'name': 'here, without', 'dtr.cache.registry_catalog_info': dict(args)},
                                             {'name': 'here, with', 'dtr.cache.registry_catalog_info': dict(args),
                                              'environment': {'SSL_CERT_FILE': ca_path}}])
    assert without['failed'] and without['failure_kind'] == 'untrusted_certificate', without
    assert not with_env.get('failed'), with_env.get('msg')


def test_check_mode_and_diff_in_the_task_process(tmp_path, pki):
    dest = tmp_path / 'ca.pem'
    args = dict(content=pki.root.pem, dest=str(dest))
    checked, written, again = run_tasks(tmp_path, [
        {'name': 'here, check', 'dtr.cache.dtr_ca': dict(args), 'check_mode': True, 'diff': True},
        {'name': 'here, write', 'dtr.cache.dtr_ca': dict(args), 'diff': True},
        {'name': 'here, again', 'dtr.cache.dtr_ca': dict(args)}])
    assert checked['changed'] and checked['diff']['after'] == pki.root.pem and 'invocation' not in checked
    assert written['changed'] and dest.read_text() == pki.root.pem
    assert not again['changed']
    assert oct(dest.stat().st_mode & 0o777) == '0o644'


NOISY_ACTION = '''
from ansible_collections.dtr.cache.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    MODULE = 'noisy'
'''

NOISY_MODULE = '''
import warnings


def module_kwargs():
    return dict(argument_spec={})


def main(module):
    warnings.warn('a notice from a library', UserWarning)
    module.exit_json(changed=False)
'''


def test_a_python_warning_in_the_task_process_is_kept_for_verbose_output(tmp_path):
    """As a module process's stderr is: a library's warning would otherwise reach the terminal as "errantly sent data"."""
    plugins = tmp_path / 'ansible_collections' / 'test' / 'noisy' / 'plugins'
    for kind, text in (('action', NOISY_ACTION), ('modules', NOISY_MODULE)):
        (plugins / kind).mkdir(parents=True)
        (plugins / kind / 'noisy.py').write_text(text)
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump([dict(hosts='localhost', gather_facts=False, tasks=[{'test.noisy.noisy': {}}])]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH='%s:%s' % (tmp_path, ROOT / '.collections'),
               ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    command = [str(pathlib.Path(sys.executable).parent / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)]
    for verbosity, shown in (([], False), (['-vvv'], True)):
        done = subprocess.run(command + verbosity, cwd=str(ROOT), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=180, check=False)
        assert done.returncode == 0, done.stdout
        assert 'errantly sent data' not in done.stdout, done.stdout
        assert ('test.noisy.noisy: ' in done.stdout and 'UserWarning: a notice from a library' in done.stdout) == shown, done.stdout
