# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""dtr_content_cache against the DTR stand-in's API (tests/standin/dtr_api.py), run as a process over real HTTPS.

The stand-in serves TLS itself (--tls-cert/--tls-key) with certificates from the test CA. The tests read its state
back through its API with their own client, and its request log tells which writes the module made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import ssl
import subprocess
import sys
import time

import pytest

from urllib.error import HTTPError
from urllib.request import Request, urlopen

from ansible_collections.dtr.cache.plugins.modules import dtr_content_cache
from ansible_collections.dtr.cache.tests.unit.tls_servers import Reply, text_app

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'standin', 'dtr_api.py')
ADMIN = 'dtr-admin'
PASSWORD = 'pass:word with spaces'
CACHES = '/api/v0/content_caches'
HOST = 'https://cache-eu.example.test:30443'
OTHER_HOST = 'https://cache-eu2.example.test:443'
WRITE_LINE = re.compile(r'"(POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]" (\d{3})(.*)$')


class StandinDTR(object):
    """A dtr_api.py process serving HTTPS on a free loopback port, with its own state dir."""

    def __init__(self, workdir, issued, trusted_pem, state=None):
        self.workdir = workdir
        os.makedirs(workdir)
        chain, key = os.path.join(workdir, 'chain.pem'), os.path.join(workdir, 'key.pem')
        with open(chain, 'w') as handle:
            handle.write(issued.chain_pem)
        with open(key, 'w') as handle:
            handle.write(issued.key_pem)
        if state is not None:
            with open(os.path.join(workdir, 'dtr-api.json'), 'w') as handle:
                json.dump(state, handle)
        self.log_path = os.path.join(workdir, 'api.log')
        port_file = os.path.join(workdir, 'port')
        env = dict(os.environ, STANDIN_ADMIN_USER=ADMIN, STANDIN_ADMIN_PASSWORD=PASSWORD, STANDIN_USERS='alice,bob')
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [sys.executable, STANDIN, '--state-dir', workdir, '--listen', '127.0.0.1:0', '--port-file', port_file,
                 '--tls-cert', chain, '--tls-key', key],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
            )
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('dtr_api.py did not start: ' + self.log())
            time.sleep(0.02)
        with open(port_file) as handle:
            self.port = int(handle.read())
        self.url = 'https://localhost:%d' % self.port
        self.context = ssl.create_default_context(cadata=trusted_pem)
        self.mark = 0

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    # --- the tests' own client ---------------------------------------------------------------------------------

    def api(self, method, path, body=None):
        """``(status, decoded JSON or None)``, as the admin."""
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = Request(self.url + path, data=data, method=method)
        request.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % (ADMIN, PASSWORD)).encode('utf-8')).decode('ascii'))
        if data is not None:
            request.add_header('Content-Type', 'application/json')
        try:
            with urlopen(request, timeout=10, context=self.context) as response:
                status, payload = response.status, response.read()
        except HTTPError as exc:
            status, payload = exc.code, exc.read()
        return status, (json.loads(payload) if payload else None)

    def caches(self):
        status, caches = self.api('GET', CACHES)
        assert status == 200
        return caches

    def create(self, name='eu-west', host=HOST):
        status, cache = self.api('POST', CACHES, dict(name=name, host=host))
        assert status == 201, cache
        return cache

    def settings(self, user):
        status, settings = self.api('GET', '/api/v0/accounts/%s/settings' % user)
        assert status == 200, settings
        return settings

    def set_settings(self, user, values):
        status, settings = self.api('POST', '/api/v0/accounts/%s/settings' % user, values)
        assert status == 200, settings
        return settings

    # --- the request log ---------------------------------------------------------------------------------------

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()

    def wait_for_log(self, text, seconds=5):
        """Whether ``text`` shows up in the log within ``seconds`` (the server may log after the client gave up)."""
        deadline = time.monotonic() + seconds
        while text not in self.log():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def start_watching(self):
        """Only requests after this call count in ``writes()`` and ``requests()``."""
        self.mark = len(self.log())

    def requests(self):
        return [line for line in self.log()[self.mark:].splitlines() if '"' in line and ' HTTP/1.' in line]

    def writes(self):
        """``(method, path, status, rest of the line)`` of every write since ``start_watching()``."""
        found = []
        for line in self.requests():
            match = WRITE_LINE.search(line)
            if match:
                found.append((match.group(1), match.group(2), int(match.group(3)), match.group(4)))
        return found


@pytest.fixture
def start_dtr(tmp_path, pki):
    """Start stand-ins with ``start_dtr(issued=None, state=None)``; all are stopped after the test."""
    started = []

    def start(issued=None, state=None):
        standin = StandinDTR(str(tmp_path / ('dtr-%d' % len(started))), issued or pki.server, pki.root.pem, state)
        started.append(standin)
        return standin
    yield start
    for standin in started:
        standin.stop()


@pytest.fixture
def dtr(start_dtr):
    return start_dtr()


@pytest.fixture
def ca_file(pki, write_file):
    return write_file('dtr-ca.pem', pki.root.pem)


def module_args(dtr, ca_file, **extra):
    args = dict(url=dtr.url, username=ADMIN, password=PASSWORD, ca_path=ca_file, name='eu-west', host=HOST)
    args.update(extra)
    return dict((key, value) for key, value in args.items() if value is not None)


def warnings_of(result):
    """Warning texts; ansible-core 2.19 modules emit them as WarningSummary dicts, older ones as strings."""
    return [entry['event']['msg'] if isinstance(entry, dict) else entry for entry in result.get('warnings', [])]


def succeeded(result):
    assert result.get('failed') is None, result.get('msg')
    return result


# --- present ----------------------------------------------------------------------------------------------------


def test_create_registers_the_cache(dtr, ca_file, run_module):
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file)))
    assert result['changed'] is True
    assert result['url'] == dtr.url
    assert set(result['cache']) == {'id', 'name', 'host'}
    assert (result['cache']['name'], result['cache']['host']) == ('eu-west', HOST)
    assert result['users'] == []
    assert dtr.caches() == [result['cache']]
    assert [write[:3] for write in dtr.writes()] == [('POST', CACHES, 201)]
    assert 'diff' not in result


def test_second_run_changes_nothing(dtr, ca_file, run_module):
    first = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice'])))
    dtr.start_watching()
    second = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice'])))
    assert first['changed'] is True
    assert second['changed'] is False
    assert second['cache'] == first['cache']
    assert second['users'] == [dict(name='alice', before=first['cache']['id'], after=first['cache']['id'], changed=False)]
    assert dtr.writes() == []
    assert dtr.caches() == [first['cache']]


@pytest.mark.parametrize('same', [
    'https://CACHE-EU.example.test:30443',
    'https://cache-eu.example.test:30443/',
])
def test_host_spelled_differently_is_the_same_origin(dtr, ca_file, run_module, same):
    cache = dtr.create()
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host=same)))
    assert result['changed'] is False
    assert result['cache'] == cache
    assert dtr.writes() == []


def test_default_port_is_the_same_origin(dtr, ca_file, run_module):
    cache = dtr.create(host='https://cache-eu.example.test')
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host='https://cache-eu.example.test:443')))
    assert (result['changed'], result['cache']) == (False, cache)
    assert dtr.writes() == []


def test_other_host_recreates_the_cache_and_repoints_the_listed_users(dtr, ca_file, run_module):
    old = dtr.create()
    other = dtr.create(name='us-east', host='https://cache-us.example.test')
    for user in ('alice', 'bob'):
        dtr.set_settings(user, {'contentCacheUUID': old['id']})
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host=OTHER_HOST, users=['alice'])))
    assert result['changed'] is True
    new = result['cache']
    assert (new['name'], new['host']) == ('eu-west', OTHER_HOST)
    assert new['id'] != old['id']
    assert dtr.caches() == [other, new]
    assert [write[:3] for write in dtr.writes()] == [
        ('DELETE', CACHES + '/' + old['id'], 204),
        ('POST', CACHES, 201),
        ('POST', '/api/v0/accounts/alice/settings', 200),
    ]
    assert result['users'] == [dict(name='alice', before=old['id'], after=new['id'], changed=True)]
    assert dtr.settings('alice')['contentCacheUUID'] == new['id']
    # bob was not listed: the stand-in, like DTR is assumed to, sent him back to DTR itself.
    assert dtr.settings('bob')['contentCacheUUID'] == ''
    assert any("'eu-west' is re-created" in warning and 'new id' in warning for warning in warnings_of(result))


def test_users_are_pointed_and_their_other_settings_kept(dtr, ca_file, run_module):
    cache = dtr.create()
    dtr.set_settings('alice', {'showTutorials': False, 'theme': 'dark'})
    alice_before = dtr.settings('alice')
    dtr.set_settings('bob', {'contentCacheUUID': cache['id']})
    bob_before = dtr.settings('bob')
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice', 'bob', 'alice'])))
    assert result['changed'] is True
    assert result['users'] == [
        dict(name='alice', before='', after=cache['id'], changed=True),
        dict(name='bob', before=cache['id'], after=cache['id'], changed=False),
    ]
    assert dtr.settings('alice') == dict(alice_before, contentCacheUUID=cache['id'])
    assert dtr.settings('alice')['theme'] == 'dark'
    assert dtr.settings('bob') == bob_before
    # One write, of the one key: nothing else of the settings is sent back.
    writes = dtr.writes()
    assert [write[:3] for write in writes] == [('POST', '/api/v0/accounts/alice/settings', 200)]
    assert writes[0][3].endswith('body=%s' % json.dumps({'contentCacheUUID': cache['id']}))


def test_other_settings_key(dtr, ca_file, run_module):
    cache = dtr.create()
    dtr.set_settings('alice', {'cacheId': 'none'})
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice'], settings_key='cacheId')))
    assert result['users'] == [dict(name='alice', before='none', after=cache['id'], changed=True)]
    settings = dtr.settings('alice')
    assert (settings['cacheId'], settings['contentCacheUUID']) == (cache['id'], '')


# --- absent -----------------------------------------------------------------------------------------------------


def test_absent_deletes_after_pointing_the_users_away(dtr, ca_file, run_module):
    cache = dtr.create()
    other = dtr.create(name='us-east', host='https://cache-us.example.test')
    dtr.set_settings('alice', {'contentCacheUUID': cache['id'], 'theme': 'dark'})
    dtr.set_settings('bob', {'contentCacheUUID': other['id']})
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, state='absent', host=None, users=['alice', 'bob'])))
    assert result['changed'] is True
    assert result['cache'] == {}
    assert result['users'] == [
        dict(name='alice', before=cache['id'], after='', changed=True),
        dict(name='bob', before=other['id'], after=other['id'], changed=False),
    ]
    assert dtr.caches() == [other]
    assert [write[:3] for write in dtr.writes()] == [
        ('POST', '/api/v0/accounts/alice/settings', 200),
        ('DELETE', CACHES + '/' + cache['id'], 204),
    ]
    assert dtr.settings('alice')['theme'] == 'dark'
    assert dtr.settings('bob')['contentCacheUUID'] == other['id']

    dtr.start_watching()
    again = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, state='absent', host=None, users=['alice', 'bob'])))
    assert again['changed'] is False
    assert again['cache'] == {}
    assert [entry['changed'] for entry in again['users']] == [False, False]
    assert dtr.writes() == []


def test_absent_ignores_host(dtr, ca_file, run_module):
    dtr.create()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, state='absent', host='https://anything.test')))
    assert result['changed'] is True
    assert dtr.caches() == []


# --- check mode and diff ----------------------------------------------------------------------------------------


def test_check_mode_create_writes_nothing(dtr, ca_file, run_module):
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice']), check_mode=True))
    assert result['changed'] is True
    assert result['cache'] == dict(id=None, name='eu-west', host=HOST)
    assert result['users'] == [dict(name='alice', before='', after=None, changed=True)]
    assert dtr.caches() == []
    assert dtr.settings('alice')['contentCacheUUID'] == ''
    assert dtr.writes() == []
    assert dtr.requests()  # it did read


def test_check_mode_update_writes_nothing(dtr, ca_file, run_module):
    old = dtr.create()
    dtr.set_settings('alice', {'contentCacheUUID': old['id']})
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host=OTHER_HOST, users=['alice']), check_mode=True))
    assert result['changed'] is True
    assert result['cache'] == dict(id=None, name='eu-west', host=OTHER_HOST)
    assert result['users'] == [dict(name='alice', before=old['id'], after=None, changed=True)]
    assert any('would be re-created' in warning for warning in warnings_of(result))
    assert dtr.caches() == [old]
    assert dtr.settings('alice')['contentCacheUUID'] == old['id']
    assert dtr.writes() == []


def test_check_mode_absent_writes_nothing(dtr, ca_file, run_module):
    cache = dtr.create()
    dtr.set_settings('alice', {'contentCacheUUID': cache['id']})
    dtr.start_watching()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, state='absent', users=['alice']), check_mode=True))
    assert result['changed'] is True
    assert result['cache'] == {}
    assert result['users'] == [dict(name='alice', before=cache['id'], after='', changed=True)]
    assert dtr.caches() == [cache]
    assert dtr.settings('alice')['contentCacheUUID'] == cache['id']
    assert dtr.writes() == []


def test_check_mode_reports_no_change_when_in_place(dtr, ca_file, run_module):
    cache = dtr.create()
    dtr.set_settings('alice', {'contentCacheUUID': cache['id']})
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice']), check_mode=True))
    assert result['changed'] is False
    assert result['cache'] == cache


def test_diff_shows_the_cache_and_the_users_keys(dtr, ca_file, run_module):
    old = dtr.create()
    dtr.set_settings('alice', {'contentCacheUUID': old['id']})
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host=OTHER_HOST, users=['alice', 'bob']), diff=True))
    new = result['cache']
    assert result['diff'] == dict(
        before=dict(cache=old, users=dict(alice=dict(contentCacheUUID=old['id']), bob=dict(contentCacheUUID=''))),
        after=dict(cache=new, users=dict(alice=dict(contentCacheUUID=new['id']), bob=dict(contentCacheUUID=new['id']))),
    )
    assert PASSWORD not in json.dumps(result)

    again = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, host=OTHER_HOST, users=['alice', 'bob']), diff=True))
    assert again['changed'] is False
    assert again['diff']['before'] == again['diff']['after']


def test_diff_in_check_mode_of_absent(dtr, ca_file, run_module):
    cache = dtr.create()
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, state='absent', users=['bob']), check_mode=True, diff=True))
    assert result['diff'] == dict(
        before=dict(cache=cache, users=dict(bob=dict(contentCacheUUID=''))),
        after=dict(cache={}, users=dict(bob=dict(contentCacheUUID=''))),
    )
    assert dtr.caches() == [cache]


# --- failures ---------------------------------------------------------------------------------------------------


def test_missing_settings_key_fails_before_any_write(dtr, ca_file, run_module):
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice'], settings_key='cacheId'))
    assert result['failed'] is True
    assert result['failure_kind'] == 'missing_settings_key'
    assert result['changed'] is False
    assert "user alice have no key 'cacheId'" in result['msg']
    assert 'contentCacheUUID, defaultRepositoryVisibility, dismissedHints, showTutorials' in result['msg']
    assert dtr.writes() == []
    assert dtr.caches() == []
    assert 'cacheId' not in dtr.settings('alice')


def test_unknown_user_fails_before_any_write(dtr, ca_file, run_module):
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, users=['alice', 'mallory']))
    assert result['failed'] is True
    assert result['failure_kind'] == 'unknown_user'
    assert result['msg'].startswith('user mallory does not exist in DTR')
    assert 'NO_SUCH_ACCOUNT' in result['msg']
    assert result['status'] == 404
    assert dtr.writes() == []
    assert dtr.caches() == []


def test_wrong_password_is_named_clearly(dtr, ca_file, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, password='wrong'))
    assert result['failed'] is True
    assert result['failure_kind'] == 'authentication_failed'
    assert result['status'] == 401
    assert result['msg'].startswith('DTR rejected the admin credentials for %s at %s' % (ADMIN, dtr.url))
    assert 'wrong' not in result['msg']
    assert dtr.caches() == []


def test_dtr_400_carries_its_code_and_message(dtr, ca_file, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, name=' padded'))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_request'
    assert result['status'] == 400
    assert 'INVALID_CONTENT_CACHE: name must not start or end with spaces' in result['msg']
    assert result['dtr_errors'][0]['code'] == 'INVALID_CONTENT_CACHE'
    assert result['changed'] is False


def test_failed_recreate_says_the_old_cache_is_gone(start_dtr, ca_file, run_module):
    # A name DTR no longer accepts, registered before (seeded into the stand-in's state): delete works, create fails.
    old = dict(id='11111111-2222-3333-4444-555555555555', name='old name ', host=HOST)
    dtr = start_dtr(state=dict(content_caches=[old], settings={}))
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, name='old name ', host=OTHER_HOST))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_request'
    assert result['changed'] is True
    assert result['cache'] == {}
    assert "(id %s, host %s) was deleted" % (old['id'], HOST) in result['msg']
    assert 'INVALID_CONTENT_CACHE' in result['msg']
    assert dtr.caches() == []


def test_duplicate_names_are_refused(start_dtr, ca_file, run_module):
    twins = [dict(id='id-%d' % number, name='eu-west', host=HOST) for number in (1, 2)]
    dtr = start_dtr(state=dict(content_caches=twins, settings={}))
    dtr.start_watching()
    for state in ('present', 'absent'):
        result = run_module(dtr_content_cache, module_args(dtr, ca_file, state=state))
        assert result['failure_kind'] == 'duplicate_name'
        assert 'id-1, id-2' in result['msg']
    assert dtr.writes() == []


@pytest.mark.parametrize('args, fragment', [
    (dict(host='http://cache.test:5000'), 'must be an https:// URL'),
    (dict(host='https://cache.test/v2/'), 'no path'),
    (dict(host='https://bad_name.test'), 'not a valid DNS name'),
    (dict(host='https://cache.test:99999'), 'is not usable'),
    (dict(url='http://dtr.test'), 'url must be an https:// URL such as https://dtr.example.com'),
    (dict(url='https://dtr.test/api/v0'), 'has a path'),
    (dict(users=['alice', '']), 'empty names'),
    (dict(timeout=0), 'timeout must be a positive'),
])
def test_invalid_arguments_fail_before_any_request(dtr, ca_file, run_module, args, fragment):
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, **args))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert fragment in result['msg']
    assert dtr.requests() == []


def test_present_needs_host(dtr, ca_file, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, host=None))
    assert result['failed'] is True
    assert 'host' in result['msg']


def test_redirects_are_not_followed(pki, servers, ca_file, run_module):
    """Something else answering at url (a login page, say) must not receive the admin credentials twice or elsewhere."""
    def redirecting(dummy_request):
        return Reply(302, b'', headers={'Location': 'https://login.example.test/sso'})
    server = servers.https(redirecting, pki.server)
    result = run_module(dtr_content_cache, dict(url=server.url('localhost'), username=ADMIN, password=PASSWORD, ca_path=ca_file,
                                                name='eu-west', host=HOST))
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 302
    assert "redirected to 'https://login.example.test/sso'" in result['msg']
    assert server.paths() == [CACHES]
    assert server.requests[0]['headers']['Authorization'].startswith('Basic ')


# --- TLS --------------------------------------------------------------------------------------------------------


def test_untrusted_ca_fails_without_reaching_the_api(pki, dtr, write_file, run_module):
    other_ca = write_file('other-ca.pem', pki.other_root.pem)
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, other_ca))
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'not signed by the CA in %s' % other_ca in result['msg']
    assert dtr.requests() == []
    assert dtr.wait_for_log('TLS handshake failed')
    assert dtr.caches() == []


def test_system_trust_store_does_not_know_the_test_ca(dtr, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, None))
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'system trust store' in result['msg']


def test_validate_certs_false_talks_to_any_certificate(dtr, run_module):
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, None, validate_certs=False)))
    assert result['changed'] is True
    assert dtr.caches() == [result['cache']]


def test_hostname_not_covered(pki, start_dtr, ca_file, run_module):
    dtr = start_dtr(issued=pki.ip_only_server)
    result = run_module(dtr_content_cache, module_args(dtr, ca_file))
    assert result['failure_kind'] == 'hostname_mismatch'
    # The certificate covers 127.0.0.1: the same service by IP works.
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, ca_file, url='https://127.0.0.1:%d/' % dtr.port)))
    assert result['url'] == 'https://127.0.0.1:%d' % dtr.port


def test_connection_refused(closed_port, ca_file, run_module):
    result = run_module(dtr_content_cache, dict(url='https://127.0.0.1:%d' % closed_port, username=ADMIN, password=PASSWORD,
                                                ca_path=ca_file, name='eu-west', host=HOST, timeout=5))
    assert result['failure_kind'] == 'connection_refused'
    assert 'refused' in result['msg']


def test_bad_ca_file_is_an_argument_error(dtr, write_file, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, write_file('not-a-ca.pem', 'hello\n')))
    assert result['failure_kind'] == 'invalid_argument'
    assert result['msg'].startswith('ca_path: ')


# --- ca_content, bounded answers, the deadline ------------------------------------------------------------------


def test_ca_content_instead_of_a_file(pki, dtr, run_module):
    result = succeeded(run_module(dtr_content_cache, module_args(dtr, None, ca_content=pki.root.pem)))
    assert result['changed'] is True
    assert dtr.caches() == [result['cache']]


def test_ca_content_of_another_ca(pki, dtr, run_module):
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, None, ca_content=pki.other_root.pem))
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'its certificate is not signed' not in result['msg']
    assert 'the server certificate is not signed by the CA certificates in ca_content' in result['msg']
    assert dtr.requests() == []


def test_ca_content_and_ca_path_are_exclusive(pki, dtr, ca_file, run_module):
    result = run_module(dtr_content_cache, module_args(dtr, ca_file, ca_content=pki.root.pem))
    assert result['failed'] is True
    assert 'mutually exclusive: ca_path|ca_content' in result['msg']


def test_ca_content_that_is_no_pem(dtr, run_module):
    dtr.start_watching()
    result = run_module(dtr_content_cache, module_args(dtr, None, ca_content='/etc/dtr-cache/dtr-ca.pem'))
    assert result['failure_kind'] == 'invalid_argument'
    assert 'ca_content holds no PEM certificate' in result['msg']
    assert dtr.requests() == []


def test_answer_over_one_mib_is_refused(pki, servers, ca_file, run_module):
    caches = [dict(id='id-%06d' % number, name='cache-%06d' % number, host=HOST) for number in range(20000)]
    server = servers.https(lambda request: Reply(200, caches), pki.server)
    result = run_module(dtr_content_cache, dict(url=server.url('localhost'), username=ADMIN, password=PASSWORD, ca_path=ca_file,
                                                name='eu-west', host=HOST))
    assert result['failure_kind'] == 'too_large'
    assert 'The answer to GET %s%s is larger than 1 MiB' % (server.url('localhost'), CACHES) in result['msg']
    assert result['changed'] is False


def test_huge_error_answer_is_quoted(pki, servers, ca_file, run_module):
    server = servers.https(text_app('x' * (4 * 1024 * 1024), status=500), pki.server)
    result = run_module(dtr_content_cache, dict(url=server.url('localhost'), username=ADMIN, password=PASSWORD, ca_path=ca_file,
                                                name='eu-west', host=HOST))
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 500
    assert "answered HTTP 500: 'xxxx" in result['msg']


@pytest.mark.parametrize('phase', ['headers', 'body'])
def test_a_dtr_that_trickles_cannot_outlast_timeout(pki, servers, ca_file, run_module, phase):
    trickling = servers.trickling_json(phase, pki.server)
    started = time.monotonic()
    result = run_module(dtr_content_cache, dict(url=trickling.url(), username=ADMIN, password=PASSWORD, ca_path=ca_file,
                                                name='eu-west', host=HOST, timeout=2))
    elapsed = time.monotonic() - started
    assert result['failure_kind'] == 'timeout', result['msg']
    assert 'Cannot reach DTR at %s: no complete answer from 127.0.0.1:%d within 2 seconds' % (trickling.url(), trickling.port) in result['msg']
    assert 1.9 < elapsed < 3.5
