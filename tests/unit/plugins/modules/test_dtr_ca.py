# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

import pytest

from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.plugins.modules import dtr_ca
from ansible_collections.dtr.cache.tests.unit.tls_servers import Reply, make_certificate, text_app

MIB = 1024 * 1024
LOCAL = [u'localhost', u'127.0.0.1']


def dtr_app(bundle, path='/ca'):
    """A DTR stand-in: the bundle at ``path``, 404 elsewhere."""
    def app(request):
        if request.path == path:
            return Reply(200, bundle.encode('ascii'), content_type='application/x-pem-file')
        return Reply(404, b'404 page not found', content_type='text/plain')
    return app


def warnings_of(result):
    """Warning texts; ansible-core 2.19 modules emit them as WarningSummary dicts, older ones as strings."""
    return [entry['event']['msg'] if isinstance(entry, dict) else entry for entry in result.get('warnings', [])]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# --- success ----------------------------------------------------------------------------------------------------


def test_single_ca_from_base_url(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost')))
    assert result.get('failed') is None, result.get('msg')
    assert result['changed'] is False
    assert result['url'] == 'https://localhost:%d/ca' % server.port
    assert result['pem'] == pki.root.pem
    assert result['sha256_fingerprints'] == [pki.root.fingerprint]
    assert result['subjects'] == ['CN=Test Root CA,O=dtr.cache tests']
    assert result['certificates'] == [dict(
        subject='CN=Test Root CA,O=dtr.cache tests',
        issuer='CN=Test Root CA,O=dtr.cache tests',
        sha256_fingerprint=pki.root.fingerprint,
        not_before=tls.not_before(pki.root.certificate),
        not_after=tls.not_after(pki.root.certificate),
    )]
    assert result['not_after'] == tls.not_after(pki.root.certificate)
    assert result['dest'] is None
    # a GET to fetch, a HEAD to verify the chain (it needs the handshake only)
    assert server.calls() == [('GET', '/ca'), ('HEAD', '/ca')]


def test_bundle_of_intermediate_and_root_is_normalized(pki, servers, run_module):
    served = 'intermediate\r\n' + pki.intermediate.pem.replace('\n', '\r\n') + '\nroot\n' + pki.root.pem + '\n\n'
    server = servers.https(dtr_app(served), pki.server_by_intermediate)
    result = run_module(dtr_ca, dict(url=server.url('localhost') + '/'))
    assert result.get('failed') is None, result.get('msg')
    assert result['pem'] == pki.intermediate.pem + pki.root.pem
    assert result['subjects'] == ['CN=Test Intermediate CA,O=dtr.cache tests', 'CN=Test Root CA,O=dtr.cache tests']
    assert result['certificates'][0]['issuer'] == 'CN=Test Root CA,O=dtr.cache tests'
    earliest = min(tls.not_after(pki.intermediate.certificate), tls.not_after(pki.root.certificate))
    assert result['not_after'] == earliest


def test_url_with_a_path_is_used_as_is(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem, path='/pki/bundle.pem?raw=1'), pki.server)
    result = run_module(dtr_ca, dict(url=server.url() + '/pki/bundle.pem?raw=1'))
    assert result.get('failed') is None, result.get('msg')
    assert result['url'] == server.url() + '/pki/bundle.pem?raw=1'
    assert server.paths()[0] == '/pki/bundle.pem?raw=1'


def test_pins_with_and_without_colons(pki, servers, run_module):
    server = servers.https(dtr_app(pki.intermediate.pem + pki.root.pem), pki.server_by_intermediate)
    bare = pki.root.fingerprint.replace(':', '').lower()
    result = run_module(dtr_ca, dict(url=server.url(), sha256_fingerprint=['AA' * 32, bare, pki.intermediate.fingerprint]))
    assert result.get('failed') is None, result.get('msg')
    assert result['sha256_fingerprints'] == [pki.intermediate.fingerprint, pki.root.fingerprint]


@pytest.mark.parametrize('prefix', ['sha256 Fingerprint=', 'SHA256 Fingerprint=', 'sha256 fingerprint = '])
def test_pins_as_openssl_prints_them(pki, servers, run_module, prefix):
    # OpenSSL 3 prints "sha256 Fingerprint=AB:...", OpenSSL 1.1 "SHA256 Fingerprint=AB:..."
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    for fingerprint in (pki.root.fingerprint, pki.root.fingerprint.lower().replace(':', '')):
        result = run_module(dtr_ca, dict(url=server.url(), sha256_fingerprint=[prefix + fingerprint]))
        assert result.get('failed') is None, result.get('msg')
        assert result['sha256_fingerprints'] == [pki.root.fingerprint]


@pytest.mark.parametrize('pin', ['sha1 Fingerprint=' + 'AB:' * 19 + 'AB', 'SHA256 Fingerprint=', 'Fingerprint=' + 'AB' * 32])
def test_other_openssl_lines_are_not_pins(run_module, pin):
    result = run_module(dtr_ca, dict(url='https://127.0.0.1:1', sha256_fingerprint=[pin]))
    assert result['failure_kind'] == 'invalid_argument'
    assert 'is not a SHA-256 fingerprint' in result['msg']


def test_rotation_with_both_cas_pinned(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem + pki.other_root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), sha256_fingerprint=[pki.root.fingerprint, pki.other_root.fingerprint]))
    assert result.get('failed') is None, result.get('msg')
    assert result['pem'] == pki.root.pem + pki.other_root.pem


def test_trusted_download_with_ca_path(pki, servers, run_module, write_file):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    ca_path = write_file('root.pem', pki.root.pem)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), validate_certs=True, ca_path=ca_path))
    assert result.get('failed') is None, result.get('msg')
    assert result['sha256_fingerprints'] == [pki.root.fingerprint]


def test_trusted_download_with_ca_content(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), validate_certs=True, ca_content=pki.root.pem))
    assert result.get('failed') is None, result.get('msg')
    wrong = run_module(dtr_ca, dict(url=server.url('localhost'), validate_certs=True, ca_content=pki.other_root.pem))
    assert wrong['failure_kind'] == 'untrusted_certificate'
    assert 'the server certificate is not signed by the CA certificates in ca_content' in wrong['msg']


# --- dest -------------------------------------------------------------------------------------------------------


def test_dest_check_mode_write_and_idempotence(pki, servers, run_module, tmp_path):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    dest = str(tmp_path / 'dtr.cert.pem')
    args = dict(url=server.url(), dest=dest)

    checked = run_module(dtr_ca, args, check_mode=True, diff=True)
    assert checked['changed'] is True
    assert checked['diff'] == dict(before='', after=pki.root.pem, before_header=dest, after_header=dest)
    assert not os.path.exists(dest)

    written = run_module(dtr_ca, args)
    assert written['changed'] is True
    assert written['dest'] == dest
    assert 'diff' not in written
    with open(dest) as handle:
        assert handle.read() == pki.root.pem
    assert mode_of(dest) == 0o644
    assert sorted(os.listdir(str(tmp_path))) == ['dtr.cert.pem', 'servers'], 'no temporary file may be left behind'

    again = run_module(dtr_ca, args, check_mode=True)
    assert again['changed'] is False
    again = run_module(dtr_ca, args, diff=True)
    assert again['changed'] is False
    assert again['diff']['before'] == again['diff']['after'] == pki.root.pem


def test_dest_with_other_content_is_replaced(pki, servers, run_module, tmp_path):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    dest = tmp_path / 'dtr.cert.pem'
    dest.write_text(pki.other_root.pem)
    os.chmod(str(dest), 0o600)
    before = os.stat(str(dest)).st_mtime

    checked = run_module(dtr_ca, dict(url=server.url(), dest=str(dest)), check_mode=True, diff=True)
    assert checked['changed'] is True
    assert checked['diff']['before'] == pki.other_root.pem
    assert checked['diff']['after'] == pki.root.pem
    assert dest.read_text() == pki.other_root.pem
    assert os.stat(str(dest)).st_mtime == before

    time.sleep(0.01)
    result = run_module(dtr_ca, dict(url=server.url(), dest=str(dest)))
    assert result['changed'] is True
    assert dest.read_text() == pki.root.pem
    assert mode_of(str(dest)) == 0o644


def test_dest_in_missing_directory_fails(pki, servers, run_module, tmp_path):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    dest = str(tmp_path / 'missing' / 'dtr.cert.pem')
    result = run_module(dtr_ca, dict(url=server.url(), dest=dest))
    assert result['failed'] is True
    assert result['failure_kind'] == 'write_error'
    assert 'does not exist' in result['msg']


# --- failures ---------------------------------------------------------------------------------------------------


def test_pin_mismatch_names_expected_and_actual(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    pin = pki.other_root.fingerprint.replace(':', '')
    result = run_module(dtr_ca, dict(url=server.url(), sha256_fingerprint=[pin]))
    assert result['failed'] is True
    assert result['failure_kind'] == 'fingerprint_mismatch'
    assert pki.other_root.fingerprint in result['msg']
    assert pki.root.fingerprint in result['msg']
    assert result['expected_fingerprints'] == [pki.other_root.fingerprint]
    assert result['actual_fingerprints'] == [pki.root.fingerprint]


def test_invalid_pin_is_refused(run_module):
    result = run_module(dtr_ca, dict(url='https://127.0.0.1:1', sha256_fingerprint=['12:34']))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert "'12:34' is not a SHA-256 fingerprint" in result['msg']


def test_http_url_is_refused(run_module):
    result = run_module(dtr_ca, dict(url='http://dtr.example.com'))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert 'must be an https:// URL' in result['msg']


def test_html_answer_is_not_pem(pki, servers, run_module):
    page = '<!DOCTYPE html>\n<html><head><title>DTR login</title></head>' + 'x' * 200
    server = servers.https(text_app(page, content_type='text/html'), pki.server)
    result = run_module(dtr_ca, dict(url=server.url()))
    assert result['failed'] is True
    assert result['failure_kind'] == 'not_pem'
    assert 'The answer from https://127.0.0.1:%d/ca is not a PEM certificate bundle' % server.port in result['msg']
    assert "'<!DOCTYPE html> <html><head><title>DTR login</title></head>xxxxxxxxxxxxxxxxxxxxx'" in result['msg']


def test_server_certificate_is_not_a_ca(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem + pki.server.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url()))
    assert result['failed'] is True
    assert result['failure_kind'] == 'not_ca'
    assert "'CN=localhost,O=dtr.cache tests' (number 2 of 2)" in result['msg']


def test_expired_ca_is_refused(pki, servers, run_module):
    server = servers.https(dtr_app(pki.expired_root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url(), verify_chain=False, sha256_fingerprint=[pki.expired_root.fingerprint]))
    assert result['failed'] is True
    assert result['failure_kind'] == 'not_valid_now'
    assert "'CN=Expired Root CA,O=dtr.cache tests'" in result['msg']
    assert tls.not_after(pki.expired_root.certificate) in result['msg']


def test_verify_chain_catches_a_ca_that_did_not_issue_the_server_certificate(pki, servers, run_module):
    # the host answers /ca with one CA but presents a certificate from another: trust on first use would accept it
    server = servers.https(dtr_app(pki.other_root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost')))
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'localhost:%d does not present a certificate issued by the CA bundle from https://localhost:%d/ca' % (
        server.port, server.port) in result['msg']
    assert 'unable to get local issuer certificate' in result['msg']

    unchecked = run_module(dtr_ca, dict(url=server.url('localhost'), verify_chain=False, sha256_fingerprint=[pki.other_root.fingerprint]))
    assert unchecked.get('failed') is None
    assert unchecked['sha256_fingerprints'] == [pki.other_root.fingerprint]


def test_verify_chain_hostname_mismatch_lists_the_names(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.ip_only_server)
    result = run_module(dtr_ca, dict(url=server.url('localhost')))
    assert result['failed'] is True
    assert result['failure_kind'] == 'hostname_mismatch'
    assert "does not cover the host name 'localhost'" in result['msg']
    assert 'it covers: 127.0.0.1.' in result['msg']
    by_ip = run_module(dtr_ca, dict(url=server.url('127.0.0.1')))
    assert by_ip.get('failed') is None, by_ip.get('msg')


def test_validate_certs_with_the_wrong_ca_path(pki, servers, run_module, write_file):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    ca_path = write_file('other.pem', pki.other_root.pem)
    result = run_module(dtr_ca, dict(url=server.url(), validate_certs=True, ca_path=ca_path))
    assert result['failed'] is True
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'the server certificate is not signed by the CA in %s' % ca_path in result['msg']
    assert server.paths() == []


def test_ca_path_problems(pki, servers, run_module, write_file, tmp_path):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    missing = str(tmp_path / 'missing.pem')
    result = run_module(dtr_ca, dict(url=server.url(), validate_certs=True, ca_path=missing))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert result['msg'] == 'ca_path: cannot read %s: No such file or directory. Give a PEM file of CA certificates.' % missing

    ignored = run_module(dtr_ca, dict(url=server.url(), ca_path=missing))
    assert ignored.get('failed') is None, ignored.get('msg')
    assert 'ca_path is ignored because validate_certs is false.' in warnings_of(ignored)


def test_http_error_status(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem, path='/elsewhere'), pki.server)
    result = run_module(dtr_ca, dict(url=server.url()))
    assert result['failed'] is True
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 404
    assert 'answered HTTP 404' in result['msg']
    assert '404 page not found' in result['msg']


def test_connection_refused(run_module, closed_port):
    result = run_module(dtr_ca, dict(url='https://127.0.0.1:%d' % closed_port))
    assert result['failed'] is True
    assert result['failure_kind'] == 'connection_refused'
    assert 'Cannot fetch the CA bundle from https://127.0.0.1:%d/ca: the connection to 127.0.0.1:%d was refused.' % (
        closed_port, closed_port) in result['msg']
    assert result['url'] == 'https://127.0.0.1:%d/ca' % closed_port


def test_timeout(servers, run_module):
    silent = servers.silent()
    started = time.monotonic()
    result = run_module(dtr_ca, dict(url=silent.url(), timeout=1))
    assert time.monotonic() - started < 5
    assert result['failed'] is True
    assert result['failure_kind'] == 'timeout'
    assert 'no complete answer from 127.0.0.1:%d within 1 seconds' % silent.port in result['msg']


def test_redirects_are_not_followed(pki, servers, run_module):
    def redirecting(dummy_request):
        return Reply(302, b'moved', headers={'Location': 'https://elsewhere.example.test/ca'})
    server = servers.https(redirecting, pki.server)
    result = run_module(dtr_ca, dict(url=server.url()))
    assert result['failure_kind'] == 'http_error'
    assert result['status'] == 302
    assert "a redirect to 'https://elsewhere.example.test/ca', which is not followed" in result['msg']
    assert server.paths() == ['/ca']


# --- pins: every certificate of a pinned bundle --------------------------------------------------------------------


@pytest.fixture(scope='module')
def attacker():
    """A CA of the attacker's and a server certificate from it for the names DTR answers at."""
    ca = make_certificate(u'Attacker CA', ca=True)
    return ca, make_certificate(u'localhost', issuer=ca, sans=LOCAL)


def test_pinned_ca_next_to_an_attacker_ca_is_refused(pki, servers, run_module, attacker):
    # A man in the middle serves the real, pinned CA plus its own, and a server certificate from its own. One pinned
    # certificate must not make the bundle trusted: the chain check would pass on the attacker's CA.
    attacker_ca, attacker_server = attacker
    server = servers.https(dtr_app(pki.root.pem + attacker_ca.pem), attacker_server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), sha256_fingerprint=[pki.root.fingerprint]))
    assert result['failed'] is True
    assert result['failure_kind'] == 'unpinned_certificate'
    assert '%s (CN=Attacker CA,O=dtr.cache tests)' % attacker_ca.fingerprint in result['msg']
    assert 'holds 1 certificate(s) that sha256_fingerprint does not pin' in result['msg']
    assert result['unpinned_certificates'] == [dict(sha256_fingerprint=attacker_ca.fingerprint, subject='CN=Attacker CA,O=dtr.cache tests')]
    assert 'pem' not in result
    # Nothing from the bundle was used: no chain check ran.
    assert server.calls() == [('GET', '/ca')]


def test_attacker_ca_alone_is_a_fingerprint_mismatch(pki, servers, run_module, attacker):
    attacker_ca, attacker_server = attacker
    server = servers.https(dtr_app(attacker_ca.pem), attacker_server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), sha256_fingerprint=[pki.root.fingerprint]))
    assert result['failure_kind'] == 'fingerprint_mismatch'
    assert attacker_ca.fingerprint in result['msg']


def test_verify_chain_false_needs_a_pin(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url(), verify_chain=False))
    assert result['failed'] is True
    assert result['failure_kind'] == 'invalid_argument'
    assert 'verify_chain=false without sha256_fingerprint verifies nothing' in result['msg']
    assert server.paths() == []

    pinned = run_module(dtr_ca, dict(url=server.url(), verify_chain=False, sha256_fingerprint=[pki.root.fingerprint]))
    assert pinned.get('failed') is None, pinned.get('msg')
    assert server.calls() == [('GET', '/ca')]


# --- content ----------------------------------------------------------------------------------------------------


def test_content_alone_is_checked_without_network(pki, run_module, tmp_path):
    dest = str(tmp_path / 'ca.pem')
    result = run_module(dtr_ca, dict(content='# the user file\n' + pki.intermediate.pem + pki.root.pem, dest=dest))
    assert result.get('failed') is None, result.get('msg')
    assert result['url'] is None
    assert result['changed'] is True
    assert result['pem'] == pki.intermediate.pem + pki.root.pem
    assert result['subjects'] == ['CN=Test Intermediate CA,O=dtr.cache tests', 'CN=Test Root CA,O=dtr.cache tests']
    with open(dest) as handle:
        assert handle.read() == result['pem']


def test_content_with_url_checks_the_chain_and_downloads_nothing(pki, servers, run_module):
    # The host would serve another CA at /ca: content, not the download, is what gets checked.
    server = servers.https(dtr_app(pki.other_root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), content=pki.root.pem, sha256_fingerprint=[pki.root.fingerprint]))
    assert result.get('failed') is None, result.get('msg')
    assert result['url'] == 'https://localhost:%d/ca' % server.port
    assert result['sha256_fingerprints'] == [pki.root.fingerprint]
    assert server.calls() == [('HEAD', '/ca')]


def test_content_that_did_not_issue_the_host_certificate(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost'), content=pki.other_root.pem))
    assert result['failure_kind'] == 'untrusted_certificate'
    assert 'does not present a certificate issued by the CA bundle given in content' in result['msg']
    assert server.paths() == []


def test_content_with_an_unpinned_certificate(pki, run_module, attacker):
    result = run_module(dtr_ca, dict(content=pki.root.pem + attacker[0].pem, sha256_fingerprint=[pki.root.fingerprint]))
    assert result['failure_kind'] == 'unpinned_certificate'
    assert 'The CA bundle in content holds 1 certificate(s)' in result['msg']


@pytest.mark.parametrize('content, kind, fragment', [
    ('/etc/pki/dtr-ca.pem', 'not_pem', "Content is not a PEM certificate bundle (no BEGIN CERTIFICATE block); it starts with '/etc/pki"),
    ('-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n', 'not_pem', 'certificate number 1 of the bundle cannot be parsed'),
])
def test_content_that_is_not_a_bundle(run_module, content, kind, fragment):
    result = run_module(dtr_ca, dict(content=content))
    assert result['failure_kind'] == kind
    assert fragment in result['msg']


def test_content_with_a_server_certificate(pki, run_module):
    result = run_module(dtr_ca, dict(content=pki.root.pem + pki.server.pem))
    assert result['failure_kind'] == 'not_ca'
    assert "'CN=localhost,O=dtr.cache tests' (number 2 of 2) in content" in result['msg']


def test_url_or_content_is_required(run_module):
    result = run_module(dtr_ca, dict(sha256_fingerprint=[]))
    assert result['failed'] is True
    assert 'one of the following is required: url, content' in result['msg']


# --- bounded reads ----------------------------------------------------------------------------------------------


def test_answer_over_one_mib_is_refused(pki, servers, run_module):
    server = servers.https(dtr_app(pki.root.pem + '#' * MIB), pki.server)
    result = run_module(dtr_ca, dict(url=server.url()))
    assert result['failed'] is True
    assert result['failure_kind'] == 'too_large'
    assert 'The answer to GET %s/ca is larger than 1 MiB' % server.url() in result['msg']
    assert result['max_bytes'] == MIB


def test_answer_of_exactly_one_mib_is_read(pki, servers, run_module):
    served = pki.root.pem + '#' * (MIB - len(pki.root.pem))
    server = servers.https(dtr_app(served), pki.server)
    result = run_module(dtr_ca, dict(url=server.url('localhost')))
    assert result.get('failed') is None, result.get('msg')


@pytest.mark.parametrize('source', ['url', 'content'])
def test_more_than_64_certificates_are_refused(pki, servers, run_module, source):
    bundle = pki.root.pem * 65
    server = servers.https(dtr_app(bundle), pki.server)
    args = dict(url=server.url()) if source == 'url' else dict(content=bundle)
    result = run_module(dtr_ca, args)
    assert result['failure_kind'] == 'too_many_certificates'
    assert 'the bundle holds 65 certificates; at most 64 are accepted' in result['msg']
    assert len(tls.split_pem_certificates(pki.root.pem * 64)) == 64
    ok = run_module(dtr_ca, dict(content=pki.root.pem * 64))
    assert ok.get('failed') is None, ok.get('msg')


@pytest.mark.parametrize('phase', ['headers', 'body'])
def test_a_server_that_trickles_cannot_outlast_timeout(pki, servers, run_module, phase):
    # One byte a second: each read returns long before any per-read timeout, so only an overall deadline ends it.
    if phase == 'headers':
        trickling = servers.trickling(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' + b'X-Pad: y\r\n' * 100, pki.server)
    else:
        head = b'HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: 100000\r\n\r\n'
        trickling = servers.trickling(pki.root.pem.encode('ascii') * 100, pki.server, immediate=head)
    started = time.monotonic()
    result = run_module(dtr_ca, dict(url=trickling.url(), timeout=2))
    elapsed = time.monotonic() - started
    assert result['failed'] is True
    assert result['failure_kind'] == 'timeout', result['msg']
    assert 'no complete answer from 127.0.0.1:%d within 2 seconds' % trickling.port in result['msg']
    assert 1.9 < elapsed < 3.5
