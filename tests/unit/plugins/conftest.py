# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the plugin tests: a session PKI, real local servers, and in-process module runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.dtr.cache.tests.unit.tls_servers import Pki, Servers, free_port

PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY')


@pytest.fixture(scope='session')
def pki():
    """CAs and server certificates, made once per test session."""
    return Pki()


@pytest.fixture
def servers(tmp_path):
    """Start servers with ``servers.https(app, issued)``; all are stopped after the test."""
    workdir = tmp_path / 'servers'
    workdir.mkdir()
    started = Servers(str(workdir))
    yield started
    started.stop()


@pytest.fixture
def closed_port():
    """A local port that refuses connections."""
    return free_port()


@pytest.fixture
def write_file(tmp_path):
    """Write text to a file in the test's directory and return its path."""
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch):
    """Local servers must be reached directly, whatever proxy the environment sets."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Run a module's ``main()`` in-process with ``args`` and return the JSON result it prints.

    ``check_mode`` and ``diff`` set the ``_ansible_check_mode`` and ``_ansible_diff`` internal arguments.
    """
    # Once another test has loaded controller code in this process, ansible-core 2.19 sends module
    # warnings to the controller display instead of the result; run modules as on a target host.
    from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    if hasattr(_internal, 'is_controller'):
        monkeypatch.setattr(_internal, 'is_controller', False)

    def run(module, args, check_mode=False, diff=False):
        arguments = dict(args)
        arguments['_ansible_check_mode'] = check_mode
        arguments['_ansible_diff'] = diff
        capsys.readouterr()
        with patch_module_args(arguments):
            with pytest.raises(SystemExit) as exited:
                module.main()
        result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert exited.value.code == (1 if result.get('failed') else 0)
        return result
    return run
