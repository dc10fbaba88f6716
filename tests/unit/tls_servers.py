# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test PKI and real local HTTPS servers for the unit tests.

Certificates are made with ``cryptography`` at test time. Servers are ``http.server`` on
127.0.0.1 with ephemeral ports, each in a thread, wrapped in TLS with ``ssl``. Nothing here
mocks HTTP: the modules talk to these servers through ``ansible.module_utils.urls``.

Import it as ``ansible_collections.dtr.cache.tests.unit.tls_servers``; the pytest fixtures
that use it are in ``tests/unit/plugins/conftest.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress
import json
import os
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ONE_DAY = datetime.timedelta(days=1)
HANDLER_TIMEOUT = 5


# --- PKI --------------------------------------------------------------------------------------------------------


class Issued(object):
    """A certificate with its key and issuer, and the encodings the tests need."""

    def __init__(self, certificate, key, issuer=None):
        self.certificate = certificate
        self.key = key
        self.issuer = issuer

    @property
    def pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')

    @property
    def der(self):
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
        ).decode('ascii')

    @property
    def subject(self):
        return self.certificate.subject.rfc4514_string()

    @property
    def fingerprint(self):
        """SHA-256 fingerprint computed by cryptography itself, in the openssl form."""
        digest = self.certificate.fingerprint(hashes.SHA256()).hex().upper()
        return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))

    @property
    def chain_pem(self):
        """This certificate followed by its issuers except the self-signed root: what a server sends."""
        pems = [self.pem]
        issuer = self.issuer
        while issuer is not None and issuer.issuer is not None:
            pems.append(issuer.pem)
            issuer = issuer.issuer
        return ''.join(pems)


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, u'dtr.cache tests'),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _san(value):
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def make_certificate(common_name, issuer=None, ca=False, sans=None, not_before=None, not_after=None, basic_constraints=True):
    """Issue a certificate (self-signed when ``issuer`` is None). ``sans`` holds DNS names and IP strings."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - ONE_DAY)
        .not_valid_after(not_after or now + 30 * ONE_DAY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(value) for value in sans]), critical=False)
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key, issuer)


class Pki(object):
    """The certificates the tests share (built once per session)."""

    def __init__(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        local = [u'localhost', u'127.0.0.1']
        self.root = make_certificate(u'Test Root CA', ca=True)
        self.intermediate = make_certificate(u'Test Intermediate CA', issuer=self.root, ca=True)
        self.server = make_certificate(u'localhost', issuer=self.root, sans=local)
        self.server_by_intermediate = make_certificate(u'registry.test', issuer=self.intermediate, sans=local)
        self.ip_only_server = make_certificate(u'cache by IP', issuer=self.root, sans=[u'127.0.0.1'])
        # A name no resolver knows, as a site's public name the controller cannot resolve.
        self.name_only_server = make_certificate(u'cache.site-c.test', issuer=self.root, sans=[u'cache.site-c.test'])
        self.other_root = make_certificate(u'Other Root CA', ca=True)
        self.other_server = make_certificate(u'localhost', issuer=self.other_root, sans=local)
        self.expired_root = make_certificate(u'Expired Root CA', ca=True, not_before=now - 60 * ONE_DAY, not_after=now - ONE_DAY)
        self.expired_server = make_certificate(
            u'localhost', issuer=self.root, sans=local, not_before=now - 60 * ONE_DAY, not_after=now - ONE_DAY)
        self.leaf_without_constraints = make_certificate(u'not a CA', basic_constraints=False)


# --- servers ----------------------------------------------------------------------------------------------------


class Reply(object):
    """What an app returns: status, body (bytes, or anything JSON-serializable) and headers."""

    def __init__(self, status=200, body=b'', headers=None, content_type='application/json'):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode('utf-8')
        self.headers = dict(headers or {})
        self.headers.setdefault('Content-Type', content_type)


def text_app(text, status=200, content_type='text/plain'):
    """An app that answers every GET with the same text."""
    def app(dummy_request):
        return Reply(status, text.encode('utf-8'), content_type=content_type)
    return app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    timeout = HANDLER_TIMEOUT

    def do_GET(self):  # pylint: disable=invalid-name
        self._answer(with_body=True)

    def do_HEAD(self):  # pylint: disable=invalid-name
        self._answer(with_body=False)

    def _answer(self, with_body):
        self.server.record(self)
        reply = self.server.app(self)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(reply.body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if with_body:
            self.wfile.write(reply.body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


class TLSServer(ThreadingHTTPServer):
    """An HTTP(S) server in a thread; ``app(handler) -> Reply`` answers every GET.

    With ``issued`` it serves TLS with that certificate (and its intermediates); without, plain HTTP.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, issued=None, host='127.0.0.1', port=0, workdir=None):
        ThreadingHTTPServer.__init__(self, (host, port), _Handler)
        self.app = app
        self.lock = threading.Lock()
        self.requests = []
        self.context = None
        if issued is not None:
            self.context = self._context(issued, workdir)
        self.thread = threading.Thread(target=self.serve_forever, kwargs=dict(poll_interval=0.05))
        self.thread.daemon = True
        self.thread.start()

    def _context(self, issued, workdir):
        return server_context(issued, workdir, self.port)

    @property
    def port(self):
        return self.server_address[1]

    def url(self, host='127.0.0.1'):
        return '%s://%s:%d' % ('https' if self.context else 'http', host, self.port)

    def record(self, handler):
        with self.lock:
            self.requests.append(dict(method=handler.command, path=handler.path, headers=dict(handler.headers.items())))

    def paths(self):
        with self.lock:
            return [entry['path'] for entry in self.requests]

    def calls(self):
        """``[(method, path)]`` of every request so far."""
        with self.lock:
            return [(entry['method'], entry['path']) for entry in self.requests]

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the request thread, so that a stuck client cannot block accept().
        request.settimeout(HANDLER_TIMEOUT)
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client rejected our certificate: expected in several tests
        try:
            ThreadingHTTPServer.finish_request(self, request, client_address)
        except (ssl.SSLError, OSError):
            pass

    def handle_error(self, request, client_address):
        pass

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


def server_context(issued, workdir, name):
    """A server-side SSLContext presenting ``issued`` and its intermediates."""
    chain = os.path.join(workdir, 'chain-%s.pem' % name)
    key = os.path.join(workdir, 'key-%s.pem' % name)
    with open(chain, 'w') as handle:
        handle.write(issued.chain_pem)
    with open(key, 'w') as handle:
        handle.write(issued.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    return context


class TricklingServer(object):
    """Alive but never done: reads a request, sends ``immediate`` at once, then ``trickled`` one byte per ``interval``.

    Each byte arrives well within any per-read socket timeout, so only an overall deadline stops a client.
    It gives up after ``give_up`` seconds (so that a client without a deadline still ends, and fails the test).
    """

    def __init__(self, trickled, issued=None, immediate=b'', interval=1.0, give_up=20.0, workdir=None):
        self.trickled = trickled
        self.immediate = immediate
        self.interval = interval
        self.give_up = give_up
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(('127.0.0.1', 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.context = server_context(issued, workdir, 'trickle-%d' % self.port) if issued is not None else None
        self.stopping = threading.Event()
        self.connections = 0
        self.threads = [threading.Thread(target=self._accept)]
        self.threads[0].daemon = True
        self.threads[0].start()

    def url(self, host='127.0.0.1'):
        return '%s://%s:%d' % ('https' if self.context else 'http', host, self.port)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                connection, dummy = self.socket.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,))
            thread.daemon = True
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection):
        started = time.monotonic()
        try:
            connection.settimeout(HANDLER_TIMEOUT)
            if self.context is not None:
                connection = self.context.wrap_socket(connection, server_side=True)
            request = b''
            while b'\r\n\r\n' not in request:
                data = connection.recv(4096)
                if not data:
                    return
                request += data
            connection.sendall(self.immediate)
            for index in range(len(self.trickled)):
                if self.stopping.wait(self.interval) or time.monotonic() - started > self.give_up:
                    return
                connection.sendall(self.trickled[index:index + 1])
        except (ssl.SSLError, OSError):
            pass
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(5)
        self.socket.close()


class SilentServer(object):
    """Accepts TCP connections (in the kernel backlog) and never answers: every client times out."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(('127.0.0.1', 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]

    def url(self, host='127.0.0.1'):
        return 'https://%s:%d' % (host, self.port)

    def stop(self):
        self.socket.close()


class ResettingServer(object):
    """Accepts TCP connections and resets them at once (SO_LINGER 0): a crashing or restarting backend."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(('127.0.0.1', 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve)
        self.thread.daemon = True
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, dummy = self.socket.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            connection.close()

    def url(self, host='127.0.0.1'):
        return 'https://%s:%d' % (host, self.port)

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.socket.close()


def free_port():
    """A port nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Servers(object):
    """Starts servers for one test and stops all of them at teardown."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.started = []
        self.timers = []
        self.lock = threading.Lock()

    def _track(self, server):
        with self.lock:
            self.started.append(server)
        return server

    def https(self, app, issued, host='127.0.0.1', port=0):
        return self._track(TLSServer(app, issued, host=host, port=port, workdir=self.workdir))

    def http(self, app):
        return self._track(TLSServer(app, None))

    def silent(self):
        return self._track(SilentServer())

    def resetting(self):
        return self._track(ResettingServer())

    def trickling(self, trickled, issued=None, **kwargs):
        return self._track(TricklingServer(trickled, issued, workdir=self.workdir, **kwargs))

    def trickling_json(self, phase, issued):
        """A JSON answer that trickles in its headers or, after prompt headers, in its body."""
        if phase == 'headers':
            return self.trickling(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' + b'X-Pad: y\r\n' * 100, issued)
        head = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n'
        return self.trickling(b' ' * 1000, issued, immediate=head)

    def https_later(self, delay, app, issued, port):
        """Start an HTTPS server on ``port`` after ``delay`` seconds (a cache that is still starting)."""
        timer = threading.Timer(delay, self.https, args=(app, issued), kwargs=dict(port=port))
        timer.daemon = True
        self.timers.append(timer)
        timer.start()
        return timer

    def stop(self):
        for timer in self.timers:
            timer.cancel()
            timer.join(5)
        with self.lock:
            started = list(self.started)
        for server in started:
            server.stop()


# --- a small registry ------------------------------------------------------------------------------------------


class RegistryApp(object):
    """Answers ``/v2/`` and a paginated ``/v2/_catalog`` like distribution does.

    ``repositories`` may be a list or a callable returning the list (to change it over time).
    ``failures`` answers that many requests with HTTP 503 first. ``auth`` is None, ``'basic'`` or
    ``'bearer'`` (token service at ``/auth/token``); the credentials are ``user``/``secret``.
    ``realm`` replaces the token service URL the bearer challenge names (default: this server's).
    """

    USERNAME = 'user'
    PASSWORD = 'secret'
    TOKEN = 'token-for-tests'

    def __init__(self, repositories, failures=0, auth=None, api_version='registry/2.0', link_prefix='', realm=None):
        self.repositories = repositories
        self.realm = realm
        self.failures = failures
        self.auth = auth
        self.api_version = api_version
        self.link_prefix = link_prefix
        self.lock = threading.Lock()
        self.base = None

    def _current(self):
        return list(self.repositories() if callable(self.repositories) else self.repositories)

    def _fail_now(self):
        with self.lock:
            if self.failures > 0:
                self.failures -= 1
                return True
        return False

    def _basic(self):
        raw = ('%s:%s' % (self.USERNAME, self.PASSWORD)).encode('utf-8')
        return 'Basic ' + base64.b64encode(raw).decode('ascii')

    def _authorized(self, request):
        header = request.headers.get('Authorization', '')
        if self.auth == 'basic':
            return header == self._basic()
        if self.auth == 'bearer':
            return header == 'Bearer ' + self.TOKEN
        return True

    def _challenge(self, request):
        if self.auth == 'basic':
            return 'Basic realm="registry"'
        realm = self.realm or 'https://%s/auth/token' % request.headers.get('Host')
        return 'Bearer realm="%s",service="registry.test"' % realm

    def __call__(self, request):
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        if self._fail_now():
            return Reply(503, b'<html>503 Service Unavailable</html>', content_type='text/html')
        if parts.path == '/auth/token':
            if request.headers.get('Authorization') != self._basic():
                return Reply(401, {'details': 'incorrect username or password'})
            return Reply(200, {'token': self.TOKEN, 'service': query.get('service', [''])[0], 'scope': query.get('scope', [''])[0]})
        if not self._authorized(request):
            return Reply(401, {'errors': [{'code': 'UNAUTHORIZED'}]}, headers={'WWW-Authenticate': self._challenge(request)})
        headers = {'Docker-Distribution-API-Version': self.api_version} if self.api_version else {}
        if parts.path == '/v2/':
            return Reply(200, {}, headers=headers)
        if parts.path == '/v2/_catalog':
            return self._catalog(query, headers)
        return Reply(404, {'errors': [{'code': 'NOT_FOUND'}]})

    def _catalog(self, query, headers):
        repositories = sorted(self._current())
        size = int(query.get('n', ['100'])[0])
        last = query.get('last', [None])[0]
        start = repositories.index(last) + 1 if last in repositories else 0
        page = repositories[start:start + size]
        if start + size < len(repositories):
            headers['Link'] = '<%s/v2/_catalog?last=%s&n=%d>; rel="next"' % (self.link_prefix, page[-1], size)
        return Reply(200, {'repositories': page}, headers=headers)
