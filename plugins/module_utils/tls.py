# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""TLS and X.509 helpers shared by the dtr.cache modules and filter plugins.

Nothing here depends on AnsibleModule. Functions that parse certificates need the
``cryptography`` library; callers check ``HAS_CRYPTOGRAPHY`` first and report
``CRYPTOGRAPHY_IMPORT_ERROR`` (modules through ``missing_required_lib('cryptography')``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import errno
import hashlib
import re
import socket
import ssl
import traceback

from urllib.error import HTTPError, URLError

from ansible_collections.dtr.cache.plugins.module_utils import deadline as deadlines

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True


# One character class for the whole body, whitespace included: the body can then be split between
# the parts of the pattern in one way only, so matching is linear. (Separate ``\s*`` around a lazy
# body that also takes whitespace backtracked cubically: 47 s for 3 KB of blanks without an END.)
PEM_CERTIFICATE_RE = re.compile(
    r'-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----',
)

# The most certificates a CA bundle may hold. Real ones hold a few; the cap bounds the parsing work
# an answer can cause.
MAX_BUNDLE_CERTIFICATES = 64

# ``openssl x509 -noout -fingerprint -sha256`` prints ``sha256 Fingerprint=AB:...`` (OpenSSL 3) or
# ``SHA256 Fingerprint=AB:...`` (OpenSSL 1.1); users paste either.
_OPENSSL_FINGERPRINT_PREFIX = re.compile(r'^\s*sha-?256\s+fingerprint\s*=', re.IGNORECASE)

# Failure kinds shared by the modules. Callers branch on them through ``failure_kind``.
KIND_UNTRUSTED = 'untrusted_certificate'
KIND_HOSTNAME = 'hostname_mismatch'
KIND_REFUSED = 'connection_refused'
KIND_TIMEOUT = 'timeout'
KIND_TLS = 'tls_error'
KIND_CONNECTION = 'connection_error'

# OpenSSL X509_V_ERR_* codes seen in ssl.SSLCertVerificationError.verify_code.
_VERIFY_HOSTNAME_MISMATCH = (62, 64)  # hostname mismatch, IP address mismatch
_VERIFY_EXPIRED = (9, 10)  # not yet valid, has expired


class TooManyCertificates(ValueError):
    """A PEM bundle with more than MAX_BUNDLE_CERTIFICATES certificates."""


class TLSCheckError(Exception):
    """A classified failure to connect to, or to trust, a TLS server.

    ``kind`` is one of the ``KIND_*`` constants, ``detail`` the underlying error text,
    ``retryable`` whether trying again later can help (a server still starting).
    """

    def __init__(self, kind, detail, retryable=False, verify_code=None):
        super(TLSCheckError, self).__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retryable = retryable
        self.verify_code = verify_code

    @property
    def expired(self):
        """True when certificate verification failed on the validity dates."""
        return self.verify_code in _VERIFY_EXPIRED


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise RuntimeError('the cryptography Python library is required: {0}'.format(CRYPTOGRAPHY_IMPORT_ERROR))


def _to_text(data):
    if isinstance(data, bytes):
        return data.decode('utf-8', errors='replace')
    return data


def split_pem_certificates(data):
    """Return the ``CERTIFICATE`` PEM blocks found in ``data`` (text or bytes), in order.

    Text outside the blocks (comments, other PEM types) is dropped. Each block is
    returned with normalized line endings and a trailing newline.
    """
    text = _to_text(data or '')
    blocks = []
    for match in PEM_CERTIFICATE_RE.finditer(text):
        lines = [line.strip() for line in match.group(0).splitlines() if line.strip()]
        blocks.append('\n'.join(lines) + '\n')
    return blocks


def bundle_blocks(data, limit=MAX_BUNDLE_CERTIFICATES):
    """``split_pem_certificates``, refusing more than ``limit`` blocks (None: no limit) before anything is parsed."""
    blocks = split_pem_certificates(data)
    if limit is not None and len(blocks) > limit:
        raise TooManyCertificates('the bundle holds {0} certificates; at most {1} are accepted'.format(len(blocks), limit))
    return blocks


def load_certificate(data):
    """Parse one certificate given as PEM text/bytes or DER bytes."""
    _require_cryptography()
    if isinstance(data, bytes) and not data.lstrip().startswith(b'-----BEGIN'):
        return x509.load_der_x509_certificate(data)
    text = _to_text(data)
    return x509.load_pem_x509_certificate(text.encode('ascii'))


def load_certificates(data, limit=MAX_BUNDLE_CERTIFICATES):
    """Parse every certificate of a PEM bundle. Raises ValueError naming the bad block, TooManyCertificates."""
    certificates = []
    for index, block in enumerate(bundle_blocks(data, limit)):
        try:
            certificates.append(load_certificate(block))
        except ValueError as exc:
            raise ValueError('certificate number {0} of the bundle cannot be parsed: {1}'.format(index + 1, exc))
    return certificates


def check_ca_file(path):
    """Read a PEM CA file given by the user; raises ValueError with a readable reason.

    Returns the parsed certificates. Used to check ``ca_path`` options before connecting, so that
    a wrong path is not reported as a connection or TLS failure. No certificate count limit: the
    file may be a system trust bundle.
    """
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise ValueError('cannot read {0}: {1}'.format(path, exc.strerror or exc))
    try:
        certificates = load_certificates(data, limit=None)
    except ValueError as exc:
        raise ValueError('{0}: {1}'.format(path, exc))
    if not certificates:
        raise ValueError('{0} holds no PEM certificate (no BEGIN CERTIFICATE block)'.format(path))
    return certificates


def certificate_pem(certificate):
    """PEM text of a parsed certificate."""
    _require_cryptography()
    return certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')


def certificate_der(certificate):
    """DER bytes of a parsed certificate."""
    _require_cryptography()
    return certificate.public_bytes(serialization.Encoding.DER)


def format_fingerprint(digest):
    """Upper-case colon-separated hex, the ``openssl x509 -fingerprint`` form."""
    hex_digest = binascii.hexlify(digest).decode('ascii').upper()
    return ':'.join(hex_digest[i:i + 2] for i in range(0, len(hex_digest), 2))


def sha256_fingerprint(certificate):
    """SHA-256 fingerprint of a certificate (parsed, or DER bytes) as ``AB:CD:...``."""
    der = certificate if isinstance(certificate, bytes) else certificate_der(certificate)
    return format_fingerprint(hashlib.sha256(der).digest())


def normalize_fingerprint(value):
    """Normalize a user-supplied SHA-256 fingerprint to ``AB:CD:...``.

    Accepts upper or lower case, with or without colons (spaces are ignored too), and the whole
    line ``openssl x509 -noout -fingerprint -sha256`` prints (``sha256 Fingerprint=AB:CD:...``).
    Raises ValueError when the value is not 32 bytes of hex.
    """
    text = _OPENSSL_FINGERPRINT_PREFIX.sub('', _to_text(value or ''), count=1)
    cleaned = re.sub(r'[\s:]', '', text)
    if not re.match(r'^[0-9A-Fa-f]{64}$', cleaned):
        raise ValueError(
            '{0!r} is not a SHA-256 fingerprint: expected 64 hexadecimal digits, optionally separated by colons '
            'and optionally after "sha256 Fingerprint=" as openssl prints it'.format(value)
        )
    return format_fingerprint(binascii.unhexlify(cleaned))


def subject_string(certificate):
    """Subject as an RFC 4514 string, for example ``CN=DTR CA,O=Example``."""
    return certificate.subject.rfc4514_string()


def issuer_string(certificate):
    """Issuer as an RFC 4514 string."""
    return certificate.issuer.rfc4514_string()


def subject_alt_names(certificate):
    """DNS names and IP addresses of the subjectAltName extension, as strings."""
    _require_cryptography()
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names = list(extension.value.get_values_for_type(x509.DNSName))
    names.extend(str(address) for address in extension.value.get_values_for_type(x509.IPAddress))
    return names


def _utc(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def not_before_datetime(certificate):
    """Start of validity as an aware UTC datetime."""
    value = getattr(certificate, 'not_valid_before_utc', None)
    return _utc(value if value is not None else certificate.not_valid_before)


def not_after_datetime(certificate):
    """End of validity as an aware UTC datetime."""
    value = getattr(certificate, 'not_valid_after_utc', None)
    return _utc(value if value is not None else certificate.not_valid_after)


def iso8601(value):
    """ISO-8601 UTC string such as ``2030-01-31T12:00:00Z``."""
    return _utc(value).strftime('%Y-%m-%dT%H:%M:%SZ')


def not_before(certificate):
    """Start of validity as an ISO-8601 UTC string."""
    return iso8601(not_before_datetime(certificate))


def not_after(certificate):
    """End of validity as an ISO-8601 UTC string."""
    return iso8601(not_after_datetime(certificate))


def is_ca(certificate):
    """True when basicConstraints says CA:TRUE."""
    _require_cryptography()
    try:
        extension = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return bool(extension.value.ca)


def is_valid_now(certificate, now=None):
    """True when not_before <= now <= not_after (now defaults to the current UTC time)."""
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    now = _utc(now)
    return not_before_datetime(certificate) <= now <= not_after_datetime(certificate)


def certificate_info(certificate):
    """A JSON-friendly summary of one certificate."""
    return dict(
        subject=subject_string(certificate),
        issuer=issuer_string(certificate),
        sha256_fingerprint=sha256_fingerprint(certificate),
        not_before=not_before(certificate),
        not_after=not_after(certificate),
        sans=subject_alt_names(certificate),
        is_ca=is_ca(certificate),
    )


def ca_context(cadata):
    """A client SSLContext that trusts only the CA certificates in ``cadata`` and checks host names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=_to_text(cadata))
    return context


def _unwrap(exc):
    """The innermost useful exception: urllib's URLError wraps the socket/ssl error in ``reason``."""
    seen = 0
    while isinstance(exc, URLError) and isinstance(getattr(exc, 'reason', None), BaseException) and seen < 5:
        exc = exc.reason
        seen += 1
    return exc


def classify_connection_error(exc):
    """Classify an exception raised while connecting to a TLS server.

    Works for errors from ``ansible.module_utils.urls.open_url`` (``URLError`` wrapping
    the cause, or the raw ``OSError``) and from direct ``ssl``/``socket`` use.
    Returns a ``TLSCheckError``, or None when ``exc`` is not a connection/TLS error
    (an HTTP error status, for example).
    """
    if isinstance(exc, HTTPError):
        return None
    inner = _unwrap(exc)
    if isinstance(inner, ssl.SSLCertVerificationError):
        code = getattr(inner, 'verify_code', None)
        message = getattr(inner, 'verify_message', None) or str(inner)
        if code in _VERIFY_HOSTNAME_MISMATCH:
            return TLSCheckError(KIND_HOSTNAME, message, verify_code=code)
        return TLSCheckError(KIND_UNTRUSTED, message, verify_code=code)
    if isinstance(inner, (socket.timeout, TimeoutError)):
        return TLSCheckError(KIND_TIMEOUT, str(inner) or 'timed out', retryable=True)
    if isinstance(inner, ConnectionRefusedError):
        return TLSCheckError(KIND_REFUSED, str(inner), retryable=True)
    if isinstance(inner, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return TLSCheckError(KIND_CONNECTION, 'the connection was closed by the server: {0}'.format(inner), retryable=True)
    if isinstance(inner, ssl.SSLError):
        return TLSCheckError(KIND_TLS, str(inner))
    if isinstance(inner, socket.gaierror):
        return TLSCheckError(KIND_CONNECTION, 'the host name cannot be resolved: {0}'.format(inner))
    if isinstance(inner, OSError):
        if inner.errno in (errno.ECONNREFUSED,):
            return TLSCheckError(KIND_REFUSED, str(inner), retryable=True)
        if inner.errno in (errno.ETIMEDOUT,):
            return TLSCheckError(KIND_TIMEOUT, str(inner), retryable=True)
        return TLSCheckError(KIND_CONNECTION, str(inner))
    if isinstance(inner, URLError):
        return TLSCheckError(KIND_CONNECTION, str(getattr(inner, 'reason', inner)))
    return None


def _connect(host, port, context, timeout, server_name, deadline=None):
    """A TLS connection; with ``deadline`` the connect and the handshake end by it (else each step by ``timeout``)."""
    if deadline is not None:
        timeout = min(timeout, deadline.budget())
        deadlines.arm(context, deadline)
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        return context.wrap_socket(sock, server_hostname=server_name or host)
    except BaseException:
        sock.close()
        raise


def fetch_peer_certificate(host, port, timeout=10, server_name=None, deadline=None):
    """Open a direct TLS connection without verification and return the peer certificate as DER.

    ``server_name`` is sent as SNI (defaults to ``host``). Raises ``TLSCheckError``.
    Does not go through an HTTP proxy.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        tls_socket = _connect(host, port, context, timeout, server_name, deadline)
    except (OSError, ValueError) as exc:
        classified = classify_connection_error(exc)
        if classified is None:
            raise
        raise classified
    try:
        der = tls_socket.getpeercert(binary_form=True)
    finally:
        tls_socket.close()
    if not der:
        raise TLSCheckError(KIND_TLS, 'the server at {0}:{1} did not present a certificate'.format(host, port))
    return der


def verify_server_chain(host, port, cadata, timeout=10, server_name=None, deadline=None):
    """Require that ``host:port`` presents a certificate that chains to ``cadata`` and covers the host name.

    Opens a direct TLS connection (no HTTP proxy). Returns the peer certificate as DER on
    success; raises ``TLSCheckError`` (kind ``untrusted_certificate``, ``hostname_mismatch``,
    ``connection_refused``, ``timeout``, ``tls_error`` or ``connection_error``) otherwise.
    """
    context = ca_context(cadata)
    try:
        tls_socket = _connect(host, port, context, timeout, server_name, deadline)
    except (OSError, ValueError) as exc:
        classified = classify_connection_error(exc)
        if classified is None:
            raise
        raise classified
    try:
        return tls_socket.getpeercert(binary_form=True)
    finally:
        tls_socket.close()
