#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: registry_catalog_info
short_description: Check that a registry or DTR content cache answers, and list its catalog
version_added: 0.1.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Calls C(GET /v2/) and then C(GET /v2/_catalog) of a Docker registry, a DTR content cache or DTR, following the
    pagination C(Link) header, and returns the repositories.
  - Verifies TLS against O(ca_path), so a cache whose certificate was not issued by the expected CA, or does not cover
    the host name in O(url), fails with a message that says which.
  - Reports the certificate the server presents (subject, SANs, issuer, validity).
  - Can wait for a cache that is still starting (O(wait_timeout)) and for repositories to appear in the catalog
    (O(expect_repositories)).
  - Every failure sets RV(failure_kind) so that callers can branch on the cause.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.info_module
options:
  url:
    description:
      - Base URL of the registry, for example V(https://cache.example.com:30443).
      - A trailing V(/) or V(/v2/) is ignored; any other path is refused because the registry API lives at the root.
    type: str
    required: true
  ca_path:
    description:
      - PEM file with the CA that must have issued the certificate the server presents.
      - Only this CA is trusted when set; without it the system trust store is used.
    type: path
  validate_certs:
    description:
      - Whether to verify the server certificate and host name.
      - Set to V(false) only to inspect a server whose certificate is known to be wrong; RV(certificate) is still returned.
    type: bool
    default: true
  timeout:
    description:
      - Timeout in seconds of each HTTP request.
    type: int
    default: 10
  wait_timeout:
    description:
      - How many seconds to keep retrying, for a cache that is still starting.
      - V(0) makes one attempt.
      - Retries, with exponential backoff capped at 5 seconds, happen only on refused or reset connections, timeouts,
        HTTP 5xx and 429 answers, and missing O(expect_repositories). Certificate errors fail at once.
      - A request that is running at the deadline is allowed to finish, so the module may take up to O(timeout) longer.
    type: int
    default: 0
  page_size:
    description:
      - Number of repositories asked for per catalog page (the C(n) query parameter).
    type: int
    default: 100
  max_pages:
    description:
      - The most catalog pages to read. When the catalog has more, the module warns and returns RV(complete=false).
    type: int
    default: 100
  expect_repositories:
    description:
      - Repositories that must be in the catalog, for example V(library/alpine).
      - A cache lists a repository only after it was pulled through the cache.
      - Missing ones are retried until O(wait_timeout) and then fail with RV(failure_kind=missing_repositories).
    type: list
    elements: str
    default: []
  username:
    description:
      - User name for registries that require authentication (HTTP basic, or the Docker token flow used by DTR).
    type: str
  password:
    description:
      - Password or access token of O(username).
    type: str
  use_proxy:
    description:
      - Whether to use the proxy from the C(https_proxy) and C(no_proxy) environment variables.
      - The direct connection that reads the served certificate after a TLS failure does not use a proxy.
    type: bool
    default: true
seealso:
  - module: dtr.cache.dtr_ca
  - module: community.crypto.get_certificate
requirements:
  - cryptography >= 41.0.0
"""

EXAMPLES = r"""
- name: Wait until the cache answers with a certificate from our CA
  dtr.cache.registry_catalog_info:
    url: https://cache.example.com:30443
    ca_path: /etc/dtr-cache/certs/cache-ca.pem
    wait_timeout: 120
  register: cache

- name: Show the round trip and the certificate expiry
  ansible.builtin.debug:
    msg: "{{ cache.elapsed_ms.ping }} ms, certificate valid until {{ cache.certificate.not_after }}"

- name: Check that an image pulled through the cache is listed
  dtr.cache.registry_catalog_info:
    url: https://cache.example.com:30443
    ca_path: /etc/dtr-cache/certs/cache-ca.pem
    expect_repositories:
      - engineering/api
    wait_timeout: 60

- name: Tell apart a trust problem from an outage
  dtr.cache.registry_catalog_info:
    url: https://cache.example.com:30443
    ca_path: /etc/dtr-cache/certs/cache-ca.pem
  register: probe
  ignore_errors: true

- name: Explain a certificate problem
  ansible.builtin.debug:
    msg: "The cache presents {{ probe.certificate.subject }} for {{ probe.certificate.sans | join(', ') }}"
  when: probe.failure_kind | default('') in ['untrusted_certificate', 'hostname_mismatch']
"""

RETURN = r"""
url:
  description: The normalized base URL.
  returned: always
  type: str
  sample: https://cache.example.com:30443
repositories:
  description:
    - Repositories of the catalog, in the order served.
    - On RV(failure_kind=missing_repositories), the repositories that were listed.
  returned: success or when failure_kind is missing_repositories
  type: list
  elements: str
  sample: ["engineering/api", "library/alpine"]
complete:
  description: Whether the whole catalog was read (V(false) when it has more than O(max_pages) pages).
  returned: success
  type: bool
  sample: true
pages:
  description: Number of catalog pages read.
  returned: success
  type: int
  sample: 1
status:
  description:
    - HTTP status of C(GET /v2/) on success.
    - On RV(failure_kind=http_error), the failing status.
  returned: success or when failure_kind is http_error
  type: int
  sample: 200
api_version:
  description: Value of the C(Docker-Distribution-API-Version) header of C(/v2/), V(null) when absent.
  returned: success
  type: str
  sample: registry/2.0
elapsed_ms:
  description: Round-trip times in milliseconds.
  returned: success
  type: dict
  contains:
    ping:
      description: The C(GET /v2/) request.
      type: float
      returned: success
      sample: 12.4
    catalog:
      description: All catalog pages together.
      type: float
      returned: success
      sample: 20.9
attempts:
  description: Number of attempts made (more than 1 when O(wait_timeout) caused retries).
  returned: always
  type: int
  sample: 1
certificate:
  description:
    - The certificate the server presents, read without verification.
    - Empty for C(http) URLs, or when it cannot be read.
  returned: success, and on certificate failures when it can be read
  type: dict
  contains:
    subject:
      description: Subject as an RFC 4514 string.
      type: str
      returned: when available
      sample: CN=cache.example.com
    issuer:
      description: Issuer as an RFC 4514 string.
      type: str
      returned: when available
      sample: CN=Example Cache CA
    sans:
      description: DNS names and IP addresses of the subjectAltName extension.
      type: list
      elements: str
      returned: when available
      sample: ["cache.example.com", "10.0.0.5"]
    not_before:
      description: Start of validity, ISO 8601 in UTC.
      type: str
      returned: when available
      sample: "2025-01-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 in UTC.
      type: str
      returned: when available
      sample: "2026-01-01T00:00:00Z"
    sha256_fingerprint:
      description: SHA-256 fingerprint, upper-case colon-separated hex.
      type: str
      returned: when available
      sample: "3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"
failure_kind:
  description:
    - Why the module failed.
    - V(untrusted_certificate) (not issued by the CA in O(ca_path), or expired), V(hostname_mismatch),
      V(connection_refused), V(timeout), V(not_json), V(http_error) (including authentication failures),
      V(missing_repositories), V(tls_error) (handshake failure, for example HTTPS to a plain HTTP port),
      V(connection_error) (name resolution, reset connections), V(invalid_argument).
  returned: failure
  type: str
  sample: untrusted_certificate
"""

import json
import re
import time
from base64 import b64encode
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.urls import Request, SSLValidationError, getpeercert

from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-registry_catalog_info'
INITIAL_DELAY = 0.25
MAX_DELAY = 5.0
RETRYABLE_STATUS = (429,)
CONNECTION_ERRORS = (URLError, OSError, ValueError, HTTPException, SSLValidationError)


def normalize_base_url(url):
    """``(base_url, scheme, host, port)``; refuses anything but an http(s) root URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Failure('invalid_argument', 'url {0!r} is not a valid URL: {1}'.format(url, exc))
    scheme = parts.scheme.lower()
    if scheme not in ('https', 'http') or not parts.hostname:
        raise Failure('invalid_argument', 'url must look like https://cache.example.com:30443, got {0!r}.'.format(url))
    path = parts.path.rstrip('/')
    if path not in ('', '/v2'):
        raise Failure(
            'invalid_argument',
            'url {0!r} has the path {1!r}; give the registry root such as {2}://{3} (the API is always at /v2/).'
            .format(url, parts.path, scheme, parts.netloc),
        )
    base = urlunsplit((scheme, parts.netloc, '', '', ''))
    return base, scheme, parts.hostname, port or (443 if scheme == 'https' else 80)


def parse_challenge(header):
    """``(scheme, params)`` of a WWW-Authenticate header such as ``Bearer realm="...",service="..."``."""
    if not header:
        return None, {}
    scheme, dummy, rest = header.strip().partition(' ')
    params = dict((key.lower(), value) for key, value in re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def next_link(header):
    """The target of the ``rel="next"`` entry of a Link header, or None."""
    for target, attributes in re.findall(r'<([^>]*)>([^<]*)', header or ''):
        if re.search(r'rel\s*=\s*"?next"?', attributes):
            return target
    return None


def certificate_summary(der):
    """The RV(certificate) dict for DER bytes."""
    info = tls.certificate_info(tls.load_certificate(der))
    return dict((key, info[key]) for key in ('subject', 'issuer', 'sans', 'not_before', 'not_after', 'sha256_fingerprint'))


class RegistryProbe(object):
    """One attempt: ping, authenticate if asked to, walk the catalog."""

    def __init__(self, module, base, scheme, host, port, request_timeout):
        self.module = module
        self.params = module.params
        self.base = base
        self.scheme = scheme
        self.host = host
        self.port = port
        self.timeout = request_timeout
        self.authorization = None
        self.peer_der = None
        self.certificate = None
        self.request = Request(
            use_proxy=self.params['use_proxy'],
            timeout=request_timeout,
            validate_certs=self.params['validate_certs'],
            ca_path=self.params['ca_path'] if self.params['validate_certs'] else None,
            http_agent=HTTP_AGENT,
        )

    # --- transport -------------------------------------------------------------------------------------------

    def get(self, url, headers=None, authorization=None):
        """``(status, headers, body, elapsed_ms)`` for any HTTP status; Failure on connection errors."""
        request_headers = dict(headers or {})
        if authorization or self.authorization:
            request_headers['Authorization'] = authorization or self.authorization
        start = time.monotonic()
        try:
            response = self.request.open('GET', url, headers=request_headers, unredirected_headers=['Authorization'])
            try:
                self.remember_peer(response)
                body = response.read()
            finally:
                response.close()
            status, response_headers = response.getcode(), response.headers
        except HTTPError as exc:
            status, response_headers = exc.code, exc.headers
            body = self.read_error_body(exc)
        except CONNECTION_ERRORS as exc:
            raise self.connection_failure(exc)
        return status, response_headers, body, (time.monotonic() - start) * 1000.0

    def remember_peer(self, response):
        """Keep the certificate of the first answer that came from the registry itself (not a token service)."""
        if self.peer_der is None and self.scheme == 'https' and urlsplit(response.geturl())[:2] == urlsplit(self.base)[:2]:
            try:
                self.peer_der = getpeercert(response, binary_form=True)
            except Exception:  # pylint: disable=broad-except
                self.peer_der = None

    @staticmethod
    def read_error_body(exc):
        try:
            return exc.read() or b''
        except Exception:  # pylint: disable=broad-except
            return b''

    def served_certificate(self):
        """The RV(certificate) dict: from the HTTP connection if possible, else from a direct connection."""
        if self.certificate is not None:
            return self.certificate
        if self.scheme != 'https':
            self.certificate = {}
            return self.certificate
        der = self.peer_der
        if not der:
            try:
                der = tls.fetch_peer_certificate(self.host, self.port, timeout=self.timeout)
            except (tls.TLSCheckError, OSError, ValueError) as exc:
                self.module.warn('Cannot read the certificate served by {0}: {1}'.format(self.base, to_native(exc)))
                der = None
        try:
            self.certificate = certificate_summary(der) if der else {}
        except ValueError as exc:
            self.module.warn('Cannot parse the certificate served by {0}: {1}'.format(self.base, to_native(exc)))
            self.certificate = {}
        return self.certificate

    # --- failures --------------------------------------------------------------------------------------------

    def connection_failure(self, exc):
        if isinstance(exc, SSLValidationError):
            error = tls.TLSCheckError(tls.KIND_UNTRUSTED, to_native(exc))
        else:
            error = tls.classify_connection_error(exc) or tls.TLSCheckError(tls.KIND_CONNECTION, to_native(exc))
        where = '{0} ({1}:{2})'.format(self.base, self.host, self.port)
        extra = {}
        if error.kind == tls.KIND_UNTRUSTED:
            extra['certificate'] = certificate = self.served_certificate()
            issuer = certificate.get('issuer', 'unknown')
            if error.expired:
                msg = ('The certificate served by {0} is outside its validity period ({1}; valid from {2} to {3}). '
                       'Renew the certificate of the cache.').format(
                    where, error.detail, certificate.get('not_before', '?'), certificate.get('not_after', '?'))
            elif self.params['ca_path']:
                msg = ('The certificate served by {0} is not signed by the CA in {1} ({2}); it was issued by {3!r}. '
                       'Check that ca_path holds the CA that issued the cache certificate, and that the server '
                       'sends its intermediate certificates.').format(where, self.params['ca_path'], error.detail, issuer)
            else:
                msg = ('The certificate served by {0} is not signed by a CA of the system trust store ({1}); it was issued '
                       'by {2!r}. Set ca_path to the CA that issued the cache certificate.').format(where, error.detail, issuer)
        elif error.kind == tls.KIND_HOSTNAME:
            extra['certificate'] = certificate = self.served_certificate()
            sans = certificate.get('sans') or []
            msg = ('The certificate served by {0} does not cover the host name {1!r} ({2}); it covers: {3}. '
                   'Use one of those names in url, or reissue the certificate with {1!r} in its subjectAltName.').format(
                where, self.host, error.detail, ', '.join(sans) if sans else 'no subjectAltName entries')
        elif error.kind == tls.KIND_REFUSED:
            msg = ('Connection to {0} was refused. Check that the cache is running and exposed on this port '
                   '(Service, NodePort or Ingress) and that url has the right port.').format(where)
        elif error.kind == tls.KIND_TIMEOUT:
            msg = ('No answer from {0} within {1} seconds. Check firewalls, the Service or NodePort, '
                   'and proxy settings (use_proxy), or raise timeout.').format(where, self.timeout)
        elif error.kind == tls.KIND_TLS:
            msg = ('The TLS handshake with {0} failed ({1}). Check that this port serves HTTPS, '
                   'not plain HTTP.').format(where, error.detail)
        else:
            msg = 'Cannot talk to {0}: {1}. Check the host name and the network.'.format(where, error.detail)
        return Failure(error.kind, msg, retryable=error.retryable, **extra)

    @staticmethod
    def http_failure(url, status, body, hint=None):
        retryable = status >= 500 or status in RETRYABLE_STATUS
        if hint is None:
            if status == 404:
                hint = 'There is no registry API here; check the host and port of url.'
            elif status == 403:
                hint = 'The account may not list the catalog; use one that may (a DTR admin, say).'
            elif retryable:
                hint = 'The registry is failing or still starting; raise wait_timeout or read its logs (kubectl logs).'
            else:
                hint = 'Check that url points at a registry.'
        return Failure(
            'http_error',
            'GET {0} answered HTTP {1}: {2!r}. {3}'.format(url, status, excerpt(body), hint),
            retryable=retryable,
            status=status,
        )

    @staticmethod
    def parse_json(url, status, body):
        try:
            return json.loads(to_text(body, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError):
            raise Failure(
                'not_json',
                'GET {0} answered HTTP {1} with a body that is not JSON, so this is not a registry API: {2!r}. '
                'Check that url points at the registry or cache and not at another web server '
                '(an ingress default backend, say).'.format(url, status, excerpt(body)),
                status=status,
            )

    # --- authentication --------------------------------------------------------------------------------------

    def authenticate(self, url, headers):
        """Handle a 401: set ``self.authorization`` from the challenge, or raise Failure."""
        challenge = headers.get('WWW-Authenticate', '')
        scheme, params = parse_challenge(challenge)
        username = self.params['username']
        if not username:
            raise Failure(
                'http_error',
                'GET {0} answered HTTP 401: the registry requires authentication (challenge: {1!r}). '
                'Set username and password.'.format(url, challenge),
                status=401,
            )
        basic = 'Basic ' + to_text(b64encode(to_bytes('{0}:{1}'.format(username, self.params['password'] or ''))))
        if scheme == 'bearer' and params.get('realm'):
            self.authorization = 'Bearer ' + self.fetch_token(params, basic)
        else:
            self.authorization = basic

    def fetch_token(self, challenge, basic):
        query = {'scope': challenge.get('scope') or 'registry:catalog:*'}
        if challenge.get('service'):
            query['service'] = challenge['service']
        realm = challenge['realm']
        token_url = realm + ('&' if '?' in realm else '?') + urlencode(query)
        status, dummy, body, dummy = self.get(token_url, authorization=basic)
        if status == 401:
            raise Failure(
                'http_error',
                'The token service {0} rejected the credentials of {1!r} (HTTP 401). Check username and password.'
                .format(realm, self.params['username']),
                status=401,
            )
        if status >= 400:
            raise self.http_failure(token_url, status, body, hint='The token service of the registry failed.')
        data = self.parse_json(token_url, status, body)
        token = (data.get('token') or data.get('access_token')) if isinstance(data, dict) else None
        if not token:
            raise Failure('not_json', 'The token service {0} answered without a token.'.format(realm), status=status)
        return token

    def get_authorized(self, url):
        """GET with one authentication round on 401."""
        status, headers, body, elapsed = self.get(url)
        if status == 401 and self.authorization is None:
            self.authenticate(url, headers)
            status, headers, body, elapsed = self.get(url)
            if status == 401:
                raise Failure(
                    'http_error',
                    'GET {0} answered HTTP 401 even with the credentials of {1!r}. Check username and password.'
                    .format(url, self.params['username']),
                    status=401,
                )
        return status, headers, body, elapsed

    # --- the checks ------------------------------------------------------------------------------------------

    def ping(self):
        url = self.base + '/v2/'
        status, headers, body, elapsed = self.get_authorized(url)
        if status >= 400:
            raise self.http_failure(url, status, body)
        if body.strip():
            self.parse_json(url, status, body)
        return status, headers.get('Docker-Distribution-API-Version'), elapsed

    def catalog(self):
        url = '{0}/v2/_catalog?{1}'.format(self.base, urlencode({'n': self.params['page_size']}))
        repositories, pages, total = [], 0, 0.0
        origin = urlsplit(self.base)[:2]
        while url:
            if pages >= self.params['max_pages']:
                self.module.warn('The catalog of {0} has more than max_pages={1} pages of {2}; the list is incomplete. '
                                 'Raise max_pages or page_size.'.format(self.base, self.params['max_pages'], self.params['page_size']))
                return repositories, pages, total, False
            status, headers, body, elapsed = self.get_authorized(url)
            total += elapsed
            pages += 1
            if status >= 400:
                raise self.http_failure(url, status, body)
            data = self.parse_json(url, status, body)
            if not isinstance(data, dict) or not isinstance(data.get('repositories', []), (list, type(None))):
                raise Failure(
                    'not_json',
                    'GET {0} answered HTTP {1} with JSON that is not a registry catalog: {2!r}. '
                    'Check that url points at a registry.'.format(url, status, excerpt(body)),
                    status=status,
                )
            repositories.extend(to_text(name) for name in data.get('repositories') or [])
            link = next_link(headers.get('Link'))
            url = urljoin(url, link) if link else None
            if url and urlsplit(url)[:2] != origin:
                raise Failure(
                    'http_error',
                    'The catalog of {0} links its next page to another server ({1}); refusing to follow it.'.format(self.base, url),
                    status=status,
                )
        return repositories, pages, total, True

    def run(self):
        status, api_version, ping_ms = self.ping()
        repositories, pages, catalog_ms, complete = self.catalog()
        return dict(
            status=status,
            api_version=api_version,
            repositories=repositories,
            pages=pages,
            complete=complete,
            elapsed_ms=dict(ping=round(ping_ms, 1), catalog=round(catalog_ms, 1)),
        )


def missing_failure(base, expected, result):
    missing = [name for name in expected if name not in result['repositories']]
    if not missing:
        return None
    listed = result['repositories']
    shown = ', '.join(listed[:20]) + (', ...' if len(listed) > 20 else '')
    msg = ('The catalog of {0} does not list: {1} (it lists {2} repositories{3}). '
           'A cache lists a repository only after it was pulled through the cache; pull it first or raise wait_timeout.').format(
        base, ', '.join(missing), len(listed), ': ' + shown if listed else '')
    if not result['complete']:
        msg += ' The catalog was cut at max_pages; raise max_pages.'
    return Failure('missing_repositories', msg, retryable=True, repositories=listed, missing_repositories=missing)


def check_arguments(params):
    for name, minimum in (('timeout', 1), ('wait_timeout', 0), ('page_size', 1), ('max_pages', 1)):
        if params[name] < minimum:
            raise Failure('invalid_argument', '{0} must be at least {1}, got {2}.'.format(name, minimum, params[name]))
    if params['password'] and not params['username']:
        raise Failure('invalid_argument', 'password is set but username is not; set both or neither.')
    if params['ca_path'] and params['validate_certs']:
        try:
            tls.check_ca_file(params['ca_path'])
        except ValueError as exc:
            raise Failure('invalid_argument', 'ca_path: {0}. Give the PEM file of the CA that issued the cache certificate.'.format(exc))


def run(module, state):
    params = module.params
    check_arguments(params)
    base, scheme, host, port = normalize_base_url(params['url'])
    state['url'] = base
    deadline = time.monotonic() + params['wait_timeout']
    delay = INITIAL_DELAY
    while True:
        state['attempts'] += 1
        remaining = deadline - time.monotonic()
        request_timeout = params['timeout'] if params['wait_timeout'] == 0 else max(1, min(params['timeout'], int(remaining + 0.999)))
        probe = RegistryProbe(module, base, scheme, host, port, request_timeout)
        try:
            result = probe.run()
            failure = missing_failure(base, params['expect_repositories'], result)
            if failure is None:
                result['certificate'] = probe.served_certificate()
                return result
            raise failure
        except Failure as failure:
            remaining = deadline - time.monotonic()
            if not failure.retryable or remaining <= 0:
                raise
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            ca_path=dict(type='path'),
            validate_certs=dict(type='bool', default=True),
            timeout=dict(type='int', default=10),
            wait_timeout=dict(type='int', default=0),
            page_size=dict(type='int', default=100),
            max_pages=dict(type='int', default=100),
            expect_repositories=dict(type='list', elements='str', default=[]),
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
            use_proxy=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    if not tls.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=tls.CRYPTOGRAPHY_IMPORT_ERROR)

    state = dict(url=module.params['url'], attempts=0)
    try:
        result = run(module, state)
    except Failure as failure:
        module.fail_json(msg=failure.msg, failure_kind=failure.kind, url=state['url'], attempts=state['attempts'], **failure.extra)
    module.exit_json(changed=False, url=state['url'], attempts=state['attempts'], **result)


if __name__ == '__main__':
    main()
