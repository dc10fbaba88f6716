# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP for the collection's modules: URLs, trust, bounded answers under a deadline, failure wording.

Requests go through ``ansible.module_utils.urls.Request``. Every answer is read in chunks, at most
``limit`` bytes, and every TLS read and write ends by the module's deadline (see ``deadline``), so a
server cannot make a module read without end or wait without end. Plain HTTP sockets cannot be armed
through urllib: for them the deadline is checked between reads, each of which waits at most the time
that was left when the connection was opened.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import ssl
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import SSLValidationError, getpeercert, make_context

from ansible_collections.dtr.cache.plugins.module_utils import deadline as deadlines
from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure

# The most an answer (a CA bundle, a JSON document) may have. Real ones have a few kilobytes.
MAX_BODY = 1024 * 1024
MAX_BODY_TEXT = '1 MiB'
# Error answers are only quoted in messages: read this much of them and drop the rest.
MAX_ERROR_BODY = 64 * 1024
READ_CHUNK = 64 * 1024

CONNECTION_ERRORS = (URLError, OSError, ValueError, HTTPException, SSLValidationError)

KIND_TOO_LARGE = 'too_large'

# RFC 1123 host names, at most 253 characters.
DNS_NAME = re.compile(r'\A(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*'
                      r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?\Z')

DEFAULT_HINTS = {
    tls.KIND_HOSTNAME: 'Use a host name the certificate was issued for.',
    tls.KIND_REFUSED: 'Check the host and port of url and that the server is running.',
    tls.KIND_TIMEOUT: 'Check the host, firewalls and proxy settings (use_proxy), or raise timeout.',
    tls.KIND_TLS: 'Check that the port serves HTTPS, not plain HTTP.',
    tls.KIND_CONNECTION: 'Check the host name, the network and proxy settings.',
}


# --- URLs -------------------------------------------------------------------------------------------------------


def split_url(url, schemes=('https',), example='https://dtr.example.com'):
    """``(parts, host, port)`` of an absolute URL with one of ``schemes``; Failure(invalid_argument) otherwise.

    ``parts`` is the ``urlsplit`` result with a lower-case scheme; ``port`` is explicit or the scheme's default.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError) as exc:
        raise Failure('invalid_argument', 'url {0!r} is not a valid URL: {1}.'.format(url, exc))
    parts = parts._replace(scheme=parts.scheme.lower())
    if parts.scheme not in schemes or not parts.hostname:
        wanted = ' or '.join('{0}://'.format(scheme) for scheme in schemes)
        raise Failure('invalid_argument', 'url must be an {0} URL such as {1}, got {2!r}.'.format(wanted, example, url))
    if '@' in parts.netloc:
        # urllib would turn user:password@ into Basic credentials for whatever answers.
        raise Failure('invalid_argument', 'url {0!r} carries user information; give credentials in their own options.'.format(url))
    if port == 0:
        raise Failure('invalid_argument', 'url {0!r} has port 0.'.format(url))
    return parts, parts.hostname, port or (443 if parts.scheme == 'https' else 80)


def origin(parts):
    """``scheme://host[:port]`` of split URL parts."""
    return urlunsplit((parts.scheme, parts.netloc, '', '', ''))


def check_address(address, option='connect_to'):
    """``address`` (an IP address, IPv6 with or without brackets, or a DNS name); Failure(invalid_argument) otherwise."""
    if address.startswith('[') and address.endswith(']'):
        address = address[1:-1]
    try:
        ipaddress.ip_address(address)
        return address
    except ValueError:
        pass
    if not DNS_NAME.match(address):
        raise Failure('invalid_argument', '{0} must be an IP address or a host name without port or scheme, such as 10.0.0.5, '
                      'got {1!r}.'.format(option, address))
    return address


class Route(object):
    """Where the requests for the origin ``base`` go: there, or with ``address`` (connect_to) to that address.

    With an address, the URL's host stays what TLS checks (see ``present_name``) and what the Host header says.
    """

    def __init__(self, base, address=None):
        self.base = base
        self.address = address
        # What the connections reach, for messages: the address, else the URL's host.
        self.connect_host = address or urlsplit(base).hostname
        self.send_to = None
        if address:
            parts = urlsplit(base)
            host = '[{0}]'.format(address) if ':' in address else address
            self.send_to = urlunsplit((parts.scheme, host if parts.port is None else '{0}:{1}'.format(host, parts.port), '', '', ''))

    def url(self, url, headers):
        """The URL to request for ``url``; sets ``headers['Host']`` when it goes to the address."""
        if not self.send_to or urlsplit(url)[:2] != urlsplit(self.base)[:2]:
            return url
        headers['Host'] = urlsplit(self.base).netloc
        return self.send_to + url[len(self.base):]


def route(context, base, scheme, host, connect_to=None):
    """The Route of a module's requests to ``base``; with ``connect_to``, checked and set up on ``context``."""
    if not connect_to:
        return Route(base)
    address = check_address(connect_to)
    if scheme == 'https':
        present_name(context, address, host)
    return Route(base, address)


def present_name(context, address, server_name):
    """Make the TLS connections of ``context`` to ``address`` send and check ``server_name``, as curl's --resolve.

    urllib gives the URL's host as the TLS server name; a request sent to an address the controller can
    reach must still check the certificate against the name the clients use.
    """
    wrap_socket = context.wrap_socket

    def wrap_as_name(sock, *args, **kwargs):
        if kwargs.get('server_hostname') == address:
            kwargs['server_hostname'] = server_name
        return wrap_socket(sock, *args, **kwargs)

    context.wrap_socket = wrap_as_name
    return context


def same_host(url, host):
    """Whether ``url`` names ``host`` (DNS names compared without case and trailing dot)."""
    other = urlsplit(url).hostname or ''
    return other.rstrip('.').lower() == (host or '').rstrip('.').lower()


# --- connection options -----------------------------------------------------------------------------------------


def connection_argument_spec(timeout=30, validate_certs=True):
    """The options of the ``dtr.cache.connection`` doc fragment; modules differ only in these defaults."""
    return dict(
        timeout=dict(type='int', default=timeout),
        use_proxy=dict(type='bool', default=True),
        validate_certs=dict(type='bool', default=validate_certs),
        ca_path=dict(type='path'),
        ca_content=dict(type='str'),
    )


CONNECTION_MUTUALLY_EXCLUSIVE = [('ca_path', 'ca_content')]


def check_timeout(params):
    if params['timeout'] <= 0:
        raise Failure('invalid_argument', 'timeout must be a positive number of seconds, got {0}.'.format(params['timeout']))


def connection_context(module, ca_hint):
    """Check the connection options; the SSLContext for the module's requests. Failure(invalid_argument) on bad ones.

    ``ca_hint`` ends the message about an unusable ca_path, saying which CA belongs there.
    """
    params = module.params
    check_timeout(params)
    if not params['validate_certs']:
        for name in ('ca_path', 'ca_content'):
            if params[name]:
                module.warn('{0} is ignored because validate_certs is false.'.format(name))
    elif params['ca_path'] and tls.HAS_CRYPTOGRAPHY:
        # Parsed first so that a wrong file is not reported as a TLS failure of the server.
        try:
            tls.check_ca_file(params['ca_path'])
        except ValueError as exc:
            raise Failure('invalid_argument', 'ca_path: {0}. {1}'.format(exc, ca_hint))
    try:
        return trust_context(params['validate_certs'], params['ca_path'], params['ca_content'])
    except (OSError, ssl.SSLError) as exc:
        raise Failure('invalid_argument', 'ca_path: cannot load {0}: {1}. {2}'.format(params['ca_path'], exc, ca_hint))


# --- trust ------------------------------------------------------------------------------------------------------


def ca_content_pem(text):
    """The certificates of a ``ca_content`` option as normalized PEM; Failure(invalid_argument) when unusable."""
    blocks = tls.bundle_blocks(text, limit=None)
    if not blocks:
        hint = ' It looks like a path; use ca_path for files.' if text.strip().startswith(('/', '~', '.')) else ''
        raise Failure('invalid_argument', 'ca_content holds no PEM certificate (no BEGIN CERTIFICATE block).{0}'.format(hint))
    pem = ''.join(blocks)
    try:
        tls.ca_context(pem)
    except (ssl.SSLError, ValueError) as exc:
        raise Failure('invalid_argument', 'ca_content cannot be loaded as CA certificates: {0}.'.format(exc))
    return pem


def trust_context(validate_certs, ca_path=None, ca_content=None):
    """The SSLContext of a module's requests: only ``ca_content`` or ``ca_path`` when given, else the system store."""
    if not validate_certs:
        return make_context(validate_certs=False)
    if ca_content:
        return tls.ca_context(ca_content_pem(ca_content))
    if ca_path:
        return make_context(cafile=ca_path)
    return make_context()


def trust_source(ca_path=None, ca_content=None):
    """Which CAs were trusted, for messages."""
    if ca_content:
        return 'the CA certificates in ca_content'
    if ca_path:
        return 'the CA in {0}'.format(ca_path)
    return 'a CA of the system trust store'


# --- exchanges --------------------------------------------------------------------------------------------------


class Answer(object):
    """One HTTP answer of any status: ``status``, ``headers``, ``body`` (bytes) and ``peer_der`` when asked for.

    ``size`` is the length of a body that ``stream`` handed to its sink instead of keeping it in ``body``.
    """

    def __init__(self, url, status, headers, body, peer_der=None, size=None):
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.peer_der = peer_der
        self.size = len(body) if size is None else size


def classify(exc):
    """A ``tls.TLSCheckError`` for any connection-level exception from urllib, ssl or socket."""
    if isinstance(exc, SSLValidationError):
        return tls.TLSCheckError(tls.KIND_UNTRUSTED, to_native(exc))
    return tls.classify_connection_error(exc) or tls.TLSCheckError(tls.KIND_CONNECTION, to_native(exc))


def _chunks(stream, deadline, maximum):
    """Up to ``maximum`` bytes of ``stream`` as they arrive, one socket read per chunk, stopping at the deadline."""
    # read1 returns after one read of the socket; read(n) would wait for all n bytes of a slow server.
    read = getattr(stream, 'read1', None) or stream.read
    size = 0
    while size < maximum:
        # Armed TLS sockets stop at the deadline themselves; this also stops plain HTTP between reads.
        deadline.budget()
        chunk = read(min(READ_CHUNK, maximum - size))
        if not chunk:
            break
        size += len(chunk)
        yield chunk


def _read_chunks(stream, deadline, maximum):
    """Up to ``maximum`` bytes of ``stream``, one socket read per chunk, stopping at the deadline."""
    return b''.join(_chunks(stream, deadline, maximum))


def _too_large(what, limit):
    limit_text = MAX_BODY_TEXT if limit == MAX_BODY else '{0} bytes'.format(limit)
    return Failure(
        KIND_TOO_LARGE,
        'The answer to {0} is larger than {1}, the most this module reads; it is refused. '
        'Check that url points at the right service.'.format(what, limit_text),
        max_bytes=limit,
    )


def read_bounded(stream, deadline, what, limit=MAX_BODY):
    """The whole body of ``stream``; Failure(too_large) when it has more than ``limit`` bytes."""
    body = _read_chunks(stream, deadline, limit + 1)
    if len(body) > limit:
        raise _too_large(what, limit)
    return body


def _declared_length(headers):
    """The Content-Length of an answer, or None when absent or not a number."""
    try:
        return int(headers.get('Content-Length'))
    except (TypeError, ValueError):
        return None


def copy_bounded(stream, deadline, sink, what, limit):
    """Hand the body of ``stream`` to ``sink(chunk)`` as it arrives and return its size, keeping none of it.

    Failure(too_large) before ``sink`` sees a byte past ``limit``, and at once when Content-Length says
    the body is larger.
    """
    declared = _declared_length(getattr(stream, 'headers', None) or {})
    if declared is not None and declared > limit:
        raise _too_large(what, limit)
    size = 0
    for chunk in _chunks(stream, deadline, limit + 1):
        size += len(chunk)
        if size > limit:
            raise _too_large(what, limit)
        sink(chunk)
    return size


def _error_body(exc, deadline):
    """The start of an error answer's body, for messages; never raises."""
    try:
        return _read_chunks(exc, deadline, MAX_ERROR_BODY)
    except Exception:  # pylint: disable=broad-except
        return b''


def _close_quietly(exc):
    # An HTTPError made without a response (fp None) has nothing to close and fails on close().
    try:
        exc.close()
    except Exception:  # pylint: disable=broad-except
        pass


def _peer_der(response):
    try:
        return getpeercert(response, binary_form=True)
    except Exception:  # pylint: disable=broad-except
        return None


def _open(request, method, url, deadline, context, read_body, **kwargs):
    """``(response, None)`` for a 2xx answer, ``(None, Answer)`` for any other status; ``tls.TLSCheckError`` else."""
    deadlines.arm(context, deadline)
    try:
        return request.open(method, url, timeout=deadline.budget(), context=context, **kwargs), None
    except HTTPError as exc:
        body = _error_body(exc, deadline) if read_body else b''
        _close_quietly(exc)
        return None, Answer(url, exc.code, exc.headers, body)
    except CONNECTION_ERRORS as exc:
        raise classify(exc)


def exchange(request, method, url, deadline, context, limit=MAX_BODY, read_body=True, peer=False, **kwargs):
    """Send one request through ``request`` (a ``urls.Request``) and read its answer, all by ``deadline``.

    ``context`` is the SSLContext to use (armed with ``deadline`` here). Returns an ``Answer`` for every
    HTTP status; error answers keep at most MAX_ERROR_BODY bytes. Raises ``tls.TLSCheckError`` for
    connection failures and timeouts, and Failure(too_large) for a body over ``limit`` bytes.
    """
    response, error_answer = _open(request, method, url, deadline, context, read_body, **kwargs)
    if error_answer is not None:
        return error_answer
    try:
        peer_der = _peer_der(response) if peer else None
        body = read_bounded(response, deadline, '{0} {1}'.format(method, url), limit) if read_body else b''
        return Answer(url, response.getcode(), response.headers, body, peer_der)
    except CONNECTION_ERRORS as exc:
        raise classify(exc)
    finally:
        response.close()


def stream(request, method, url, deadline, context, sink, limit, **kwargs):
    """``exchange`` for bodies too large to hold: a 2xx answer's body goes to ``sink(chunk)`` as it arrives.

    Same deadline, TLS and error handling as ``exchange``. The ``Answer`` of a 2xx status has an empty
    ``body`` and the streamed length in ``size``; other statuses keep their (cut) body as ``exchange`` does.
    Failure(too_large) when the body has more than ``limit`` bytes; an exception of ``sink`` ends the
    exchange and propagates.
    """
    response, error_answer = _open(request, method, url, deadline, context, True, **kwargs)
    if error_answer is not None:
        return error_answer
    try:
        size = copy_bounded(response, deadline, sink, '{0} {1}'.format(method, url), limit)
        return Answer(url, response.getcode(), response.headers, b'', size=size)
    except CONNECTION_ERRORS as exc:
        raise classify(exc)
    finally:
        response.close()


# --- failure wording --------------------------------------------------------------------------------------------


def describe(error, prefix, host, port, seconds, trust=None):
    """``<prefix>: <what happened>.`` for a ``tls.TLSCheckError``."""
    if error.kind == tls.KIND_UNTRUSTED:
        return '{0}: the server certificate is not signed by {1} ({2}).'.format(prefix, trust or trust_source(), error.detail)
    if error.kind == tls.KIND_HOSTNAME:
        return '{0}: the server certificate does not cover the host name {1!r} ({2}).'.format(prefix, host, error.detail)
    if error.kind == tls.KIND_REFUSED:
        return '{0}: the connection to {1}:{2} was refused.'.format(prefix, host, port)
    if error.kind == tls.KIND_TIMEOUT:
        return '{0}: no complete answer from {1}:{2} within {3} seconds.'.format(prefix, host, port, seconds)
    if error.kind == tls.KIND_TLS:
        return '{0}: the TLS handshake with {1}:{2} failed ({3}).'.format(prefix, host, port, error.detail)
    return '{0}: {1}.'.format(prefix, error.detail)


def connection_failure(error, prefix, host, port, seconds, trust=None, hints=None):
    """A Failure for a ``tls.TLSCheckError``: ``describe`` and the hint for its kind (``hints`` first, then DEFAULT_HINTS)."""
    hint = dict(DEFAULT_HINTS, **(hints or {})).get(error.kind)
    msg = describe(error, prefix, host, port, seconds, trust)
    return Failure(error.kind, msg + (' ' + hint if hint else ''), retryable=error.retryable)
