# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import socket
import ssl
import time
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.tests.unit.tls_servers import text_app

FINGERPRINT_RE = re.compile(r'^([0-9A-F]{2}:){31}[0-9A-F]{2}$')
ISO_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')


ok_app = text_app('ok')


# --- PEM and certificate fields ---------------------------------------------------------------------------------


def test_split_pem_keeps_order_and_drops_other_text(pki):
    bundle = 'subject=CN=root\r\n' + pki.root.pem.replace('\n', '\r\n') + '\n# comment\n\n' + pki.intermediate.pem + 'trailer'
    blocks = tls.split_pem_certificates(bundle)
    assert blocks == [pki.root.pem, pki.intermediate.pem]


def test_split_pem_accepts_bytes_and_returns_nothing_for_html(pki):
    assert tls.split_pem_certificates(pki.root.pem.encode('ascii')) == [pki.root.pem]
    assert tls.split_pem_certificates('<html><body>Login</body></html>') == []
    assert tls.split_pem_certificates(None) == []


@pytest.mark.parametrize('text', [
    '-----BEGIN CERTIFICATE-----' + ' \n' * 5000,
    '-----BEGIN CERTIFICATE-----' + ' \n' * 50000 + '-----END CERTIFICATE----',
    ('-----BEGIN CERTIFICATE-----' + ' \n' * 50) * 5000,
    '-----BEGIN CERTIFICATE-----\n' + 'QUJD \n\t' * 100000 + '!',
], ids=['blanks-without-end', 'blanks-with-a-broken-end', 'many-begins', 'long-body-then-garbage'])
def test_split_pem_is_fast_on_pathological_input(text):
    # The earlier pattern took 47 s for 3 KB of blanks after a BEGIN line without an END line.
    started = time.monotonic()
    assert tls.split_pem_certificates(text) == []
    assert time.monotonic() - started < 1


def test_split_pem_still_finds_blocks_after_broken_ones(pki):
    text = '-----BEGIN CERTIFICATE-----\n  \n' + '-----BEGIN CERTIFICATE-----\n!!\n' + pki.root.pem
    assert tls.split_pem_certificates(text) == [pki.root.pem]


def test_bundle_blocks_caps_the_certificate_count(pki):
    assert len(tls.bundle_blocks(pki.root.pem * 64)) == 64
    with pytest.raises(tls.TooManyCertificates, match='the bundle holds 65 certificates; at most 64 are accepted'):
        tls.bundle_blocks(pki.root.pem * 65)
    with pytest.raises(tls.TooManyCertificates):
        tls.load_certificates(pki.root.pem * 65)
    assert len(tls.bundle_blocks(pki.root.pem * 65, limit=None)) == 65


def test_check_ca_file_has_no_count_cap(pki, write_file):
    # ca_path may be a system trust bundle with well over 64 CAs.
    assert len(tls.check_ca_file(write_file('system.pem', pki.root.pem * 150))) == 150


def test_load_certificates_names_the_broken_block(pki):
    broken = pki.root.pem + '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n'
    with pytest.raises(ValueError, match='certificate number 2 of the bundle cannot be parsed'):
        tls.load_certificates(broken)


def test_load_certificate_reads_pem_and_der(pki):
    assert tls.load_certificate(pki.root.pem) == pki.root.certificate
    assert tls.load_certificate(pki.root.der) == pki.root.certificate


def test_sha256_fingerprint_is_openssl_form(pki):
    fingerprint = tls.sha256_fingerprint(pki.root.certificate)
    assert FINGERPRINT_RE.match(fingerprint)
    assert fingerprint == pki.root.fingerprint
    assert tls.sha256_fingerprint(pki.root.der) == fingerprint


@pytest.mark.parametrize('transform', [
    lambda fp: fp,
    lambda fp: fp.lower(),
    lambda fp: fp.replace(':', ''),
    lambda fp: fp.replace(':', '').lower(),
    lambda fp: ' ' + fp.replace(':', ' ') + ' ',
    lambda fp: 'sha256 Fingerprint=' + fp,
    lambda fp: 'SHA256 Fingerprint=' + fp,
    lambda fp: 'SHA256 Fingerprint=' + fp.lower().replace(':', ''),
    lambda fp: '  sha256 fingerprint = ' + fp + '\n',
], ids=['as-is', 'lower', 'bare', 'bare-lower', 'spaces', 'openssl-3', 'openssl-1.1', 'openssl-bare', 'openssl-spaced'])
def test_normalize_fingerprint_accepts_common_spellings(pki, transform):
    assert tls.normalize_fingerprint(transform(pki.root.fingerprint)) == pki.root.fingerprint


@pytest.mark.parametrize('value', ['', 'AB:CD', 'Z' * 64, 'AB' * 31, 'AB' * 33, 'sha256 Fingerprint=', 'SHA1 Fingerprint=' + 'AB' * 20,
                                   'Fingerprint=' + 'AB' * 32, 'sha256 Fingerprint=sha256 Fingerprint=' + 'AB' * 32])
def test_normalize_fingerprint_refuses_garbage(value):
    with pytest.raises(ValueError, match='is not a SHA-256 fingerprint'):
        tls.normalize_fingerprint(value)


def test_subject_issuer_and_sans(pki):
    server = pki.server_by_intermediate.certificate
    assert tls.subject_string(server) == 'CN=registry.test,O=dtr.cache tests'
    assert tls.issuer_string(server) == 'CN=Test Intermediate CA,O=dtr.cache tests'
    assert tls.subject_alt_names(server) == ['localhost', '127.0.0.1']
    assert tls.subject_alt_names(pki.root.certificate) == []


def test_is_ca(pki):
    assert tls.is_ca(pki.root.certificate) is True
    assert tls.is_ca(pki.intermediate.certificate) is True
    assert tls.is_ca(pki.server.certificate) is False
    assert tls.is_ca(pki.leaf_without_constraints.certificate) is False


def test_validity_dates_and_now(pki):
    certificate = pki.expired_root.certificate
    assert ISO_RE.match(tls.not_before(certificate))
    assert ISO_RE.match(tls.not_after(certificate))
    assert tls.not_after(certificate) == tls.not_after_datetime(certificate).strftime('%Y-%m-%dT%H:%M:%SZ')
    assert tls.is_valid_now(certificate) is False
    assert tls.is_valid_now(pki.root.certificate) is True
    inside = tls.not_after_datetime(certificate) - datetime.timedelta(days=1)
    assert tls.is_valid_now(certificate, now=inside) is True
    assert tls.is_valid_now(certificate, now=inside.replace(tzinfo=None)) is True


def test_certificate_info(pki):
    info = tls.certificate_info(pki.server.certificate)
    assert info['subject'] == 'CN=localhost,O=dtr.cache tests'
    assert info['issuer'] == 'CN=Test Root CA,O=dtr.cache tests'
    assert info['sha256_fingerprint'] == pki.server.fingerprint
    assert info['sans'] == ['localhost', '127.0.0.1']
    assert info['is_ca'] is False
    assert ISO_RE.match(info['not_before']) and ISO_RE.match(info['not_after'])


def test_check_ca_file(pki, write_file, tmp_path):
    good = write_file('bundle.pem', pki.root.pem + pki.intermediate.pem)
    assert [tls.subject_string(c) for c in tls.check_ca_file(good)] == [
        'CN=Test Root CA,O=dtr.cache tests', 'CN=Test Intermediate CA,O=dtr.cache tests']
    with pytest.raises(ValueError, match='cannot read .*missing.pem: No such file or directory'):
        tls.check_ca_file(str(tmp_path / 'missing.pem'))
    with pytest.raises(ValueError, match='holds no PEM certificate'):
        tls.check_ca_file(write_file('key.pem', pki.root.key_pem))


# --- error classification ---------------------------------------------------------------------------------------


def test_classify_wrapped_and_raw_errors():
    assert tls.classify_connection_error(URLError(ConnectionRefusedError(111, 'refused'))).kind == 'connection_refused'
    assert tls.classify_connection_error(socket.timeout('timed out')).kind == 'timeout'
    assert tls.classify_connection_error(URLError(ConnectionResetError(104, 'reset'))).retryable is True
    assert tls.classify_connection_error(URLError(socket.gaierror(-2, 'Name or service not known'))).kind == 'connection_error'
    assert tls.classify_connection_error(HTTPError('https://x/', 404, 'Not Found', {}, None)) is None
    assert tls.classify_connection_error(KeyError('x')) is None


# --- real connections -------------------------------------------------------------------------------------------


def test_fetch_peer_certificate_returns_what_the_server_presents(pki, servers):
    server = servers.https(ok_app, pki.other_server)
    der = tls.fetch_peer_certificate('127.0.0.1', server.port, timeout=5)
    assert der == pki.other_server.der


def test_fetch_peer_certificate_sends_sni_and_works_by_name(pki, servers):
    server = servers.https(ok_app, pki.server)
    der = tls.fetch_peer_certificate('localhost', server.port, timeout=5, server_name='registry.test')
    assert tls.sha256_fingerprint(der) == pki.server.fingerprint


def test_fetch_peer_certificate_refused(closed_port):
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.fetch_peer_certificate('127.0.0.1', closed_port, timeout=2)
    assert caught.value.kind == 'connection_refused'
    assert caught.value.retryable is True


def test_fetch_peer_certificate_timeout(servers):
    silent = servers.silent()
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.fetch_peer_certificate('127.0.0.1', silent.port, timeout=0.5)
    assert caught.value.kind == 'timeout'


def test_fetch_peer_certificate_ends_at_the_deadline(servers):
    # The silent server never answers the handshake; the deadline, not the longer timeout, ends the wait.
    silent = servers.silent()
    started = time.monotonic()
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.fetch_peer_certificate('127.0.0.1', silent.port, timeout=30, deadline=Deadline(0.5))
    assert caught.value.kind == 'timeout'
    assert time.monotonic() - started < 1.5


def test_verify_server_chain_accepts_the_right_ca(pki, servers):
    server = servers.https(ok_app, pki.server)
    assert tls.verify_server_chain('127.0.0.1', server.port, pki.root.pem, timeout=5) == pki.server.der
    assert tls.verify_server_chain('localhost', server.port, pki.root.pem, timeout=5) == pki.server.der


def test_verify_server_chain_with_root_and_intermediate_bundle(pki, servers):
    server = servers.https(ok_app, pki.server_by_intermediate)
    bundle = pki.root.pem + pki.intermediate.pem
    assert tls.verify_server_chain('localhost', server.port, bundle, timeout=5) == pki.server_by_intermediate.der


def test_verify_server_chain_other_ca_is_untrusted(pki, servers):
    server = servers.https(ok_app, pki.other_server)
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.verify_server_chain('127.0.0.1', server.port, pki.root.pem, timeout=5)
    assert caught.value.kind == 'untrusted_certificate'
    assert caught.value.retryable is False
    assert caught.value.verify_code in (19, 20, 21)
    assert 'unable to get local issuer certificate' in caught.value.detail


def test_verify_server_chain_hostname_mismatch(pki, servers):
    server = servers.https(ok_app, pki.ip_only_server)
    assert tls.verify_server_chain('127.0.0.1', server.port, pki.root.pem, timeout=5) == pki.ip_only_server.der
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.verify_server_chain('localhost', server.port, pki.root.pem, timeout=5)
    assert caught.value.kind == 'hostname_mismatch'
    assert "'localhost'" in caught.value.detail


def test_verify_server_chain_expired_server(pki, servers):
    server = servers.https(ok_app, pki.expired_server)
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.verify_server_chain('127.0.0.1', server.port, pki.root.pem, timeout=5)
    assert caught.value.kind == 'untrusted_certificate'
    assert caught.value.expired is True


def test_verify_server_chain_plain_http_port_is_a_tls_error(pki, servers):
    server = servers.http(ok_app)
    with pytest.raises(tls.TLSCheckError) as caught:
        tls.verify_server_chain('127.0.0.1', server.port, pki.root.pem, timeout=5)
    assert caught.value.kind == 'tls_error'


def test_ca_context_trusts_only_the_given_ca(pki):
    context = tls.ca_context(pki.root.pem + pki.intermediate.pem)
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    subjects = sorted(entry['subject'][-1][0][1] for entry in context.get_ca_certs())
    assert subjects == ['Test Intermediate CA', 'Test Root CA']
