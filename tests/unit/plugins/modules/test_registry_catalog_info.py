# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

import pytest

from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.plugins.modules import registry_catalog_info
from ansible_collections.dtr.cache.tests.unit.tls_servers import RegistryApp, Reply, free_port, text_app

REPOSITORIES = ['engineering/api', 'engineering/web', 'library/alpine', 'library/busybox', 'library/nginx']
MIB = 1024 * 1024


@pytest.fixture
def ca_path(pki, write_file):
    return write_file('cache-ca.pem', pki.root.pem)


def warnings_of(result):
    """Warning texts; ansible-core 2.19 modules emit them as WarningSummary dicts, older ones as strings."""
    return [entry['event']['msg'] if isinstance(entry, dict) else entry for entry in result.get('warnings', [])]


def probe(run_module, url, **args):
    args['url'] = url
    return run_module(registry_catalog_info, args)


# --- success ----------------------------------------------------------------------------------------------------


def test_single_page_catalog_and_served_certificate(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['library/alpine', 'team/api']), pki.server)
    result = probe(run_module, server.url('localhost') + '/', ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert result['changed'] is False
    assert result['url'] == server.url('localhost')
    assert result['repositories'] == ['library/alpine', 'team/api']
    assert result['status'] == 200
    assert result['api_version'] == 'registry/2.0'
    assert result['attempts'] == 1
    assert result['pages'] == 1
    assert result['complete'] is True
    assert sorted(result['elapsed_ms']) == ['catalog', 'ping']
    assert all(isinstance(value, float) and 0 <= value < 5000 for value in result['elapsed_ms'].values())
    assert result['certificate'] == dict(
        subject='CN=localhost,O=dtr.cache tests',
        issuer='CN=Test Root CA,O=dtr.cache tests',
        sans=['localhost', '127.0.0.1'],
        not_before=tls.not_before(pki.server.certificate),
        not_after=tls.not_after(pki.server.certificate),
        sha256_fingerprint=pki.server.fingerprint,
    )
    assert server.paths() == ['/v2/', '/v2/_catalog?n=100']


def test_runs_in_check_mode(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['library/alpine']), pki.server)
    result = run_module(registry_catalog_info, dict(url=server.url(), ca_path=ca_path), check_mode=True)
    assert result.get('failed') is None, result.get('msg')
    assert result['changed'] is False
    assert result['repositories'] == ['library/alpine']
    assert server.paths() == ['/v2/', '/v2/_catalog?n=100']


def test_intermediate_chain_is_trusted_by_the_root(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp([]), pki.server_by_intermediate)
    result = probe(run_module, server.url('localhost'), ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == []
    assert result['certificate']['issuer'] == 'CN=Test Intermediate CA,O=dtr.cache tests'


def test_pagination_across_three_pages(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(REPOSITORIES), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, page_size=2)
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == REPOSITORIES
    assert result['pages'] == 3
    assert result['complete'] is True
    assert server.paths() == [
        '/v2/',
        '/v2/_catalog?n=2',
        '/v2/_catalog?last=engineering/web&n=2',
        '/v2/_catalog?last=library/busybox&n=2',
    ]


def test_max_pages_bounds_the_walk(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(REPOSITORIES), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, page_size=2, max_pages=2)
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == REPOSITORIES[:4]
    assert result['pages'] == 2
    assert result['complete'] is False
    assert any('more than max_pages=2 pages of 2; the list is incomplete' in warning for warning in warnings_of(result))
    assert len(server.paths()) == 3


def test_next_link_to_another_server_is_not_followed(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(REPOSITORIES, link_prefix='https://elsewhere.example'), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, page_size=2)
    assert result['failed'] is True
    assert result['failure_kind'] == 'http_error'
    assert 'links its next page to another server (https://elsewhere.example/v2/_catalog' in result['msg']


def test_unverified_probe_still_reports_the_certificate(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.other_server)
    result = probe(run_module, server.url(), ca_path=ca_path, validate_certs=False)
    assert result.get('failed') is None, result.get('msg')
    assert result['certificate']['issuer'] == 'CN=Other Root CA,O=dtr.cache tests'
    assert result['certificate']['sha256_fingerprint'] == pki.other_server.fingerprint


def test_plain_http_registry_has_no_certificate(servers, run_module):
    server = servers.http(RegistryApp(['a']))
    result = probe(run_module, server.url())
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == ['a']
    assert result['certificate'] == {}


# --- authentication ---------------------------------------------------------------------------------------------


def test_basic_auth(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['private/app'], auth='basic'), pki.server)
    anonymous = probe(run_module, server.url(), ca_path=ca_path)
    assert anonymous['failed'] is True
    assert anonymous['failure_kind'] == 'http_error'
    assert anonymous['status'] == 401
    assert "requires authentication (challenge: 'Basic realm=\"registry\"')" in anonymous['msg']

    wrong = probe(run_module, server.url(), ca_path=ca_path, username='user', password='wrong')
    assert wrong['failed'] is True
    assert wrong['failure_kind'] == 'http_error'
    assert "answered HTTP 401 even with the credentials of 'user'" in wrong['msg']

    result = probe(run_module, server.url(), ca_path=ca_path, username='user', password='secret')
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == ['private/app']
    assert 'secret' not in json.dumps(result)


def test_bearer_token_flow(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['private/app'], auth='bearer'), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, username='user', password='secret')
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == ['private/app']
    assert '/auth/token?scope=registry%3Acatalog%3A%2A&service=registry.test' in server.paths()

    wrong = probe(run_module, server.url(), ca_path=ca_path, username='user', password='nope')
    assert wrong['failed'] is True
    assert wrong['failure_kind'] == 'http_error'
    assert "rejected the credentials of 'user'" in wrong['msg']


# --- failure kinds ----------------------------------------------------------------------------------------------


def test_untrusted_certificate_fails_at_once(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.other_server)
    started = time.monotonic()
    result = probe(run_module, server.url(), ca_path=ca_path, wait_timeout=20)
    assert time.monotonic() - started < 5
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert result['attempts'] == 1
    assert 'is not signed by the CA in %s' % ca_path in result['msg']
    assert "issued by 'CN=Other Root CA,O=dtr.cache tests'" in result['msg']
    assert result['certificate']['issuer'] == 'CN=Other Root CA,O=dtr.cache tests'
    assert server.paths() == []


def test_untrusted_without_ca_path_points_at_ca_path(pki, servers, run_module):
    server = servers.https(RegistryApp(['a']), pki.server)
    result = probe(run_module, server.url())
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'not signed by a CA of the system trust store' in result['msg']
    assert 'Set ca_path' in result['msg']


def test_expired_certificate(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.expired_server)
    result = probe(run_module, server.url(), ca_path=ca_path)
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'is outside its validity period (certificate has expired' in result['msg']
    assert tls.not_after(pki.expired_server.certificate) in result['msg']


def test_hostname_mismatch_lists_the_sans(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.ip_only_server)
    result = probe(run_module, server.url('localhost'), ca_path=ca_path, wait_timeout=20)
    assert result['failed'] is True
    assert result['failure_kind'] == 'hostname_mismatch'
    assert result['attempts'] == 1
    assert "does not cover the host name 'localhost'" in result['msg']
    assert 'it covers: 127.0.0.1.' in result['msg']
    assert result['certificate']['sans'] == ['127.0.0.1']
    by_ip = probe(run_module, server.url('127.0.0.1'), ca_path=ca_path)
    assert by_ip.get('failed') is None, by_ip.get('msg')


def test_connect_to_checks_the_certificate_against_the_name_in_url(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.name_only_server)
    url = 'https://cache.site-c.test:{0}'.format(server.port)
    result = probe(run_module, url, connect_to='127.0.0.1', ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert result['url'] == url
    assert result['repositories'] == ['a']
    assert result['certificate']['sans'] == ['cache.site-c.test']
    assert [entry['headers']['Host'] for entry in server.requests] == ['cache.site-c.test:{0}'.format(server.port)] * 2
    # By address alone the same certificate does not fit: the name is what connect_to keeps.
    by_address = probe(run_module, server.url('127.0.0.1'), ca_path=ca_path)
    assert by_address['failure_kind'] == 'hostname_mismatch'


def test_connect_to_still_refuses_a_certificate_for_another_name(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a']), pki.name_only_server)
    result = probe(run_module, 'https://cache.site-d.test:{0}'.format(server.port), connect_to='127.0.0.1', ca_path=ca_path)
    assert result['failure_kind'] == 'hostname_mismatch'
    assert "does not cover the host name 'cache.site-d.test'" in result['msg']
    assert '(127.0.0.1:{0})'.format(server.port) in result['msg']
    assert result['certificate']['sans'] == ['cache.site-c.test']


@pytest.mark.parametrize('address', ['10.0.0.5:30443', 'https://10.0.0.5', 'bad name', '10.0.0.5\n'])
def test_connect_to_must_be_an_address(run_module, ca_path, address):
    result = probe(run_module, 'https://cache.site-c.test:30443', connect_to=address, ca_path=ca_path)
    assert result['failure_kind'] == 'invalid_argument'
    assert 'connect_to must be an IP address or a host name' in result['msg']


def test_connection_refused(run_module, closed_port, ca_path):
    result = probe(run_module, 'https://127.0.0.1:%d' % closed_port, ca_path=ca_path)
    assert result['failed'] is True
    assert result['failure_kind'] == 'connection_refused'
    assert result['attempts'] == 1
    assert 'Cannot reach https://127.0.0.1:%d: the connection to 127.0.0.1:%d was refused.' % (closed_port, closed_port) in result['msg']
    assert 'certificate' not in result


def test_timeout(servers, run_module, ca_path):
    silent = servers.silent()
    started = time.monotonic()
    result = probe(run_module, silent.url(), ca_path=ca_path, timeout=1)
    assert time.monotonic() - started < 5
    assert result['failed'] is True
    assert result['failure_kind'] == 'timeout'
    assert 'Cannot reach %s: no complete answer from 127.0.0.1:%d within 1 seconds' % (silent.url(), silent.port) in result['msg']


def test_html_answer_is_not_json(pki, servers, run_module, ca_path):
    page = '<html><head><title>Welcome to nginx!</title></head><body>' + 'y' * 300 + '</body></html>'
    server = servers.https(text_app(page, content_type='text/html'), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path)
    assert result['failed'] is True
    assert result['failure_kind'] == 'not_json'
    assert result['status'] == 200
    assert 'GET %s/v2/ answered HTTP 200 with a body that is not JSON' % server.url() in result['msg']
    excerpt = page[:200]
    assert repr(excerpt) in result['msg']
    assert page[:201] not in result['msg']


def test_http_error_status(pki, servers, run_module, ca_path):
    server = servers.https(text_app('404 page not found', status=404), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, wait_timeout=20)
    assert result['failed'] is True
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 404
    assert result['attempts'] == 1
    assert "answered HTTP 404: '404 page not found'. There is no registry API here" in result['msg']


def test_plain_http_port_is_a_tls_error(servers, run_module, ca_path):
    server = servers.http(RegistryApp(['a']))
    result = probe(run_module, 'https://127.0.0.1:%d' % server.port, ca_path=ca_path)
    assert result['failed'] is True
    assert result['failure_kind'] == 'tls_error'
    assert 'Check that this port serves HTTPS' in result['msg']


def test_ca_path_that_is_not_a_ca_file(pki, servers, run_module, write_file):
    server = servers.https(RegistryApp(['a']), pki.server)
    key_file = write_file('cache.key.pem', pki.server.key_pem)
    result = probe(run_module, server.url(), ca_path=key_file)
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert 'ca_path: %s holds no PEM certificate' % key_file in result['msg']
    assert server.paths() == []


@pytest.mark.parametrize('url', ['ftp://cache.example.com', 'https://cache.example.com/registry', 'cache.example.com:30443'])
def test_bad_url_is_refused(run_module, url):
    result = probe(run_module, url)
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert repr(url) in result['msg']


# --- waiting ----------------------------------------------------------------------------------------------------


def test_server_errors_are_retried_until_they_stop(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a'], failures=2), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, wait_timeout=10)
    assert result.get('failed') is None, result.get('msg')
    assert result['attempts'] == 3
    assert result['repositories'] == ['a']


def test_server_error_without_wait_fails_once(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['a'], failures=5), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path)
    assert result['failed'] is True
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 503
    assert result['attempts'] == 1
    assert 'still starting; raise wait_timeout' in result['msg']


def test_waits_for_a_server_that_starts_late(pki, servers, run_module, ca_path):
    port = free_port()
    servers.https_later(1.0, RegistryApp(['library/alpine']), pki.server, port)
    started = time.monotonic()
    result = probe(run_module, 'https://localhost:%d' % port, ca_path=ca_path, wait_timeout=10)
    elapsed = time.monotonic() - started
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == ['library/alpine']
    assert result['attempts'] >= 2
    assert 0.9 < elapsed < 6


def test_wait_gives_up_at_the_deadline(run_module, closed_port, ca_path):
    started = time.monotonic()
    result = probe(run_module, 'https://127.0.0.1:%d' % closed_port, ca_path=ca_path, wait_timeout=1)
    elapsed = time.monotonic() - started
    assert result['failed'] is True
    assert result['failure_kind'] == 'connection_refused'
    # exponential backoff from 0.25 s: attempts at 0, 0.25, 0.75 and at the 1 s deadline
    assert 3 <= result['attempts'] <= 5
    assert 0.9 < elapsed < 3


def test_reset_connections_are_retried(servers, run_module, ca_path):
    resetting = servers.resetting()
    once = probe(run_module, resetting.url(), ca_path=ca_path)
    assert once['failed'] is True
    assert once['failure_kind'] == 'connection_error'
    assert once['attempts'] == 1
    assert 'the connection was closed by the server' in once['msg']

    started = time.monotonic()
    waited = probe(run_module, resetting.url(), ca_path=ca_path, wait_timeout=1)
    assert time.monotonic() - started < 3
    assert waited['failure_kind'] == 'connection_error'
    assert waited['attempts'] >= 3


def test_expect_repositories_present(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(REPOSITORIES), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, page_size=2, expect_repositories=['library/nginx', 'engineering/api'])
    assert result.get('failed') is None, result.get('msg')
    assert result['attempts'] == 1


def test_expect_repositories_waits_for_a_pull(pki, servers, run_module, ca_path):
    listed = ['library/alpine']
    lock = threading.Lock()
    catalog_calls = []

    def repositories():
        with lock:
            catalog_calls.append(1)
            if len(catalog_calls) >= 3:
                return listed + ['engineering/api']
            return listed

    server = servers.https(RegistryApp(repositories), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, wait_timeout=10, expect_repositories=['engineering/api'])
    assert result.get('failed') is None, result.get('msg')
    assert result['attempts'] == 3
    assert result['repositories'] == ['engineering/api', 'library/alpine']


def test_expect_repositories_missing_after_the_deadline(pki, servers, run_module, ca_path):
    server = servers.https(RegistryApp(['library/alpine']), pki.server)
    started = time.monotonic()
    result = probe(run_module, server.url(), ca_path=ca_path, wait_timeout=1, expect_repositories=['library/alpine', 'engineering/api'])
    assert time.monotonic() - started < 3
    assert result['failed'] is True
    assert result['failure_kind'] == 'missing_repositories'
    assert result['attempts'] >= 2
    assert result['repositories'] == ['library/alpine']
    assert result['missing_repositories'] == ['engineering/api']
    assert 'does not list: engineering/api (it lists 1 repositories: library/alpine)' in result['msg']


# --- the token realm gets credentials only over https, on the registry's host ----------------------------------


def test_http_realm_never_gets_the_credentials(pki, servers, run_module, ca_path):
    realm = servers.http(RegistryApp([]))
    registry = servers.https(RegistryApp(['private/app'], auth='bearer', realm=realm.url() + '/auth/token'), pki.server)
    result = probe(run_module, registry.url(), ca_path=ca_path, username='user', password='secret', allow_foreign_token_realm=True)
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_realm'
    assert "asks for a token from '%s/auth/token', which is not an https:// URL" % realm.url() in result['msg']
    assert result['realm'] == realm.url() + '/auth/token'
    assert realm.requests == []
    assert registry.paths() == ['/v2/']


def test_realm_on_another_host_needs_allow_foreign_token_realm(pki, servers, run_module, ca_path):
    token_service = servers.https(RegistryApp([]), pki.server)
    foreign = token_service.url('127.0.0.1') + '/auth/token'
    registry = servers.https(RegistryApp(['private/app'], auth='bearer', realm=foreign), pki.server)
    args = dict(ca_path=ca_path, username='user', password='secret')

    refused = probe(run_module, registry.url('localhost'), **args)
    assert refused['failed'] is True
    assert refused['failure_kind'] == 'untrusted_realm'
    assert 'on another host (127.0.0.1)' in refused['msg']
    assert 'set allow_foreign_token_realm=true' in refused['msg']
    assert token_service.requests == []

    allowed = probe(run_module, registry.url('localhost'), allow_foreign_token_realm=True, **args)
    assert allowed.get('failed') is None, allowed.get('msg')
    assert allowed['repositories'] == ['private/app']
    assert [entry['headers'].get('Authorization', '').split(' ')[0] for entry in token_service.requests] == ['Basic']


def test_realm_on_the_registry_host_with_another_port_is_allowed(pki, servers, run_module, ca_path):
    token_service = servers.https(RegistryApp([]), pki.server)
    registry = servers.https(RegistryApp(['a'], auth='bearer', realm=token_service.url('localhost') + '/auth/token'), pki.server)
    result = probe(run_module, registry.url('localhost'), ca_path=ca_path, username='user', password='secret')
    assert result.get('failed') is None, result.get('msg')
    assert len(token_service.requests) == 1


# --- ca_content -------------------------------------------------------------------------------------------------


def test_ca_content_instead_of_a_file(pki, servers, run_module):
    server = servers.https(RegistryApp(['a']), pki.server_by_intermediate)
    result = probe(run_module, server.url('localhost'), ca_content=pki.root.pem)
    assert result.get('failed') is None, result.get('msg')
    assert result['repositories'] == ['a']


def test_ca_content_is_the_only_ca_trusted(pki, servers, run_module):
    server = servers.https(RegistryApp(['a']), pki.server)
    result = probe(run_module, server.url(), ca_content=pki.other_root.pem)
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'is not signed by the CA certificates in ca_content' in result['msg']
    assert 'Check that ca_content holds the CA' in result['msg']
    assert server.paths() == []


def test_ca_content_and_ca_path_are_exclusive(pki, run_module, ca_path):
    result = probe(run_module, 'https://127.0.0.1:1', ca_path=ca_path, ca_content=pki.root.pem)
    assert result['failed'] is True
    assert 'parameters are mutually exclusive: ca_path|ca_content' in result['msg']


@pytest.mark.parametrize('content, fragment', [
    ('/etc/dtr-cache/ca.pem', 'ca_content holds no PEM certificate (no BEGIN CERTIFICATE block). It looks like a path'),
    ('-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n', 'ca_content cannot be loaded as CA certificates'),
])
def test_unusable_ca_content(servers, run_module, content, fragment):
    result = probe(run_module, 'https://127.0.0.1:1', ca_content=content)
    assert result['failure_kind'] == 'invalid_argument'
    assert fragment in result['msg']


# --- bounded answers and the deadline ---------------------------------------------------------------------------


def test_catalog_over_one_mib_is_refused(pki, servers, run_module, ca_path):
    huge = ['library/image-%07d' % number for number in range(60000)]
    server = servers.https(RegistryApp(huge), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path, page_size=100000, wait_timeout=5)
    assert result['failed'] is True
    assert result['failure_kind'] == 'too_large'
    assert result['attempts'] == 1
    assert 'The answer to GET %s/v2/_catalog?n=100000 is larger than 1 MiB' % server.url() in result['msg']


def test_huge_error_answer_is_quoted_not_read_whole(pki, servers, run_module, ca_path):
    server = servers.https(text_app('<html>' + 'e' * (8 * MIB), status=500, content_type='text/html'), pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path)
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 500
    assert "answered HTTP 500: '<html>eeee" in result['msg']


def test_redirects_are_not_followed(pki, servers, run_module, ca_path):
    def redirecting(dummy_request):
        return Reply(301, b'', headers={'Location': 'https://registry.example.test/v2/'})
    server = servers.https(redirecting, pki.server)
    result = probe(run_module, server.url(), ca_path=ca_path)
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 301
    assert "It redirects to 'https://registry.example.test/v2/', which the module does not follow" in result['msg']


@pytest.mark.parametrize('phase', ['headers', 'body'])
def test_a_registry_that_trickles_cannot_outlast_timeout(pki, servers, run_module, ca_path, phase):
    trickling = servers.trickling_json(phase, pki.server)
    started = time.monotonic()
    result = probe(run_module, trickling.url(), ca_path=ca_path, timeout=2)
    elapsed = time.monotonic() - started
    assert result['failure_kind'] == 'timeout', result['msg']
    assert 'no complete answer from 127.0.0.1:%d within 2 seconds' % trickling.port in result['msg']
    assert 1.9 < elapsed < 3.5


def test_each_attempt_has_its_own_deadline(pki, servers, run_module, ca_path):
    head = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n'
    trickling = servers.trickling(b' ' * 1000, pki.server, immediate=head)
    started = time.monotonic()
    result = probe(run_module, trickling.url(), ca_path=ca_path, timeout=1, wait_timeout=2)
    elapsed = time.monotonic() - started
    assert result['failure_kind'] == 'timeout'
    assert result['attempts'] >= 2
    # attempts start until wait_timeout and each ends within timeout
    assert elapsed < 2 + 1 + 0.8
