# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure
from ansible_collections.dtr.cache.tests.unit.tls_servers import Reply, text_app


def plain_request():
    return Request(use_proxy=False, follow_redirects='none')


# --- URLs -------------------------------------------------------------------------------------------------------


def test_split_url_defaults_the_port_and_lowers_the_scheme():
    parts, host, port = http_common.split_url('HTTPS://DTR.example.com/ca')
    assert (parts.scheme, host, port, parts.path) == ('https', 'dtr.example.com', 443, '/ca')
    assert http_common.origin(parts) == 'https://DTR.example.com'
    assert http_common.split_url(' http://cache:5000 ', ('https', 'http'))[1:] == ('cache', 5000)


@pytest.mark.parametrize('url, fragment', [
    ('http://dtr.example.com', 'url must be an https:// URL such as https://dtr.example.com'),
    ('dtr.example.com', 'url must be an https:// URL'),
    ('https://', 'url must be an https:// URL'),
    ('https://dtr.example.com:99999', 'is not a valid URL'),
    ('https://admin:secret@dtr.example.com', 'carries user information'),
    ('https://dtr.example.com:0', 'has port 0'),
])
def test_split_url_refuses(url, fragment):
    with pytest.raises(Failure) as caught:
        http_common.split_url(url)
    assert caught.value.kind == 'invalid_argument'
    assert fragment in caught.value.msg


def test_same_host_ignores_case_port_and_trailing_dot():
    assert http_common.same_host('https://DTR.example.com.:8443/auth', 'dtr.example.com')
    assert not http_common.same_host('https://auth.example.com/token', 'dtr.example.com')
    assert not http_common.same_host('not a url', 'dtr.example.com')


# --- trust ------------------------------------------------------------------------------------------------------


def test_ca_content_pem_normalizes(pki):
    assert http_common.ca_content_pem('# my CA\n' + pki.root.pem.replace('\n', '\r\n')) == pki.root.pem


def test_trust_context_with_ca_content_trusts_only_it(pki, servers):
    server = servers.https(text_app('ok'), pki.server)
    trusted = http_common.trust_context(True, ca_content=pki.root.pem)
    answer = http_common.exchange(plain_request(), 'GET', server.url('localhost'), Deadline(5), trusted)
    assert (answer.status, answer.body) == (200, b'ok')
    other = http_common.trust_context(True, ca_content=pki.other_root.pem)
    with pytest.raises(tls.TLSCheckError) as caught:
        http_common.exchange(plain_request(), 'GET', server.url('localhost'), Deadline(5), other)
    assert caught.value.kind == 'untrusted_certificate'


def test_trust_source_names_what_was_trusted():
    assert http_common.trust_source(ca_content='x') == 'the CA certificates in ca_content'
    assert http_common.trust_source(ca_path='/ca.pem') == 'the CA in /ca.pem'
    assert http_common.trust_source() == 'a CA of the system trust store'


# --- bounded exchanges ------------------------------------------------------------------------------------------


def test_body_of_exactly_the_limit_is_read_and_one_more_byte_is_refused(servers):
    server = servers.http(lambda request: Reply(200, b'a' * (1000 if request.path == '/small' else 1001)))
    context = http_common.trust_context(False)
    answer = http_common.exchange(plain_request(), 'GET', server.url() + '/small', Deadline(5), context, limit=1000)
    assert answer.body == b'a' * 1000
    with pytest.raises(Failure) as caught:
        http_common.exchange(plain_request(), 'GET', server.url() + '/big', Deadline(5), context, limit=1000)
    assert caught.value.kind == 'too_large'
    assert 'The answer to GET %s/big is larger than 1000 bytes' % server.url() in caught.value.msg


def test_error_answers_are_cut_not_refused(servers):
    server = servers.http(text_app('e' * (2 * http_common.MAX_BODY), status=503))
    answer = http_common.exchange(plain_request(), 'GET', server.url(), Deadline(5), http_common.trust_context(False))
    assert answer.status == 503
    assert answer.body == b'e' * http_common.MAX_ERROR_BODY


def test_head_reads_no_body_and_the_peer_certificate_is_kept(pki, servers):
    server = servers.https(text_app('body'), pki.server)
    answer = http_common.exchange(plain_request(), 'HEAD', server.url(), Deadline(5), http_common.trust_context(False), read_body=False, peer=True)
    assert answer.status == 200
    assert answer.body == b''
    assert answer.peer_der == pki.server.der
    assert server.calls() == [('HEAD', '/')]


@pytest.mark.parametrize('tls_server', [True, False], ids=['https', 'http'])
def test_a_trickling_body_ends_at_the_deadline(pki, servers, tls_server):
    head = b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'
    trickling = servers.trickling(b'z' * 1000, pki.server if tls_server else None, immediate=head, interval=0.2)
    started = time.monotonic()
    with pytest.raises(tls.TLSCheckError) as caught:
        http_common.exchange(plain_request(), 'GET', trickling.url(), Deadline(1), http_common.trust_context(False))
    assert caught.value.kind == 'timeout'
    assert time.monotonic() - started < 1.6


def test_trickling_headers_end_at_the_deadline_over_tls(pki, servers):
    trickling = servers.trickling(b'HTTP/1.1 200 OK\r\n' + b'X-Pad: y\r\n' * 100, pki.server, interval=0.2)
    started = time.monotonic()
    with pytest.raises(tls.TLSCheckError) as caught:
        http_common.exchange(plain_request(), 'GET', trickling.url(), Deadline(1), http_common.trust_context(False))
    assert caught.value.kind == 'timeout'
    assert time.monotonic() - started < 1.6


def test_an_expired_deadline_sends_nothing(servers):
    server = servers.http(text_app('ok'))
    deadline = Deadline(0.01)
    time.sleep(0.02)
    with pytest.raises(tls.TLSCheckError) as caught:
        http_common.exchange(plain_request(), 'GET', server.url(), deadline, http_common.trust_context(False))
    assert caught.value.kind == 'timeout'
    assert server.requests == []


# --- wording ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('kind, expected', [
    (tls.KIND_UNTRUSTED, 'Cannot fetch X: the server certificate is not signed by the CA in /ca.pem (detail). Hint.'),
    (tls.KIND_HOSTNAME, "Cannot fetch X: the server certificate does not cover the host name 'h' (detail). "
                        'Use a host name the certificate was issued for.'),
    (tls.KIND_REFUSED, 'Cannot fetch X: the connection to h:1 was refused. Check the host and port of url and that the server is running.'),
    (tls.KIND_TIMEOUT, 'Cannot fetch X: no complete answer from h:1 within 7 seconds. '
                       'Check the host, firewalls and proxy settings (use_proxy), or raise timeout.'),
    (tls.KIND_TLS, 'Cannot fetch X: the TLS handshake with h:1 failed (detail). Check that the port serves HTTPS, not plain HTTP.'),
    (tls.KIND_CONNECTION, 'Cannot fetch X: detail. Check the host name, the network and proxy settings.'),
])
def test_connection_failure_wording(kind, expected):
    error = tls.TLSCheckError(kind, 'detail', retryable=kind == tls.KIND_REFUSED)
    failure = http_common.connection_failure(error, 'Cannot fetch X', 'h', 1, 7, 'the CA in /ca.pem', {tls.KIND_UNTRUSTED: 'Hint.'})
    assert (failure.kind, failure.msg, failure.retryable) == (kind, expected, kind == tls.KIND_REFUSED)
