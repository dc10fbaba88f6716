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
  - Verifies TLS against O(ca_path) or O(ca_content), so a cache whose certificate was not issued by the expected CA,
    or does not cover the host name in O(url), fails with a message that says which.
  - Reports the certificate the server presents (subject, SANs, issuer, validity).
  - Can wait for a cache that is still starting (O(wait_timeout)) and for repositories to appear in the catalog
    (O(expect_repositories)).
  - Every failure sets RV(failure_kind) so that callers can branch on the cause.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.info_module
  - dtr.cache.attributes.action_group
  - dtr.cache.attributes.in_process
  - dtr.cache.connection
options:
  url:
    description:
      - Base URL of the registry, for example V(https://cache.example.com:30443).
      - A trailing V(/) or V(/v2/) is ignored; any other path is refused because the registry API lives at the root.
      - Redirects are not followed.
      - With an C(http://) URL the deadline of O(timeout) is checked between reads only; use C(https://) where a server
        may be hostile.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the server certificate and host name.
      - Set to V(false) only to inspect a server whose certificate is known to be wrong; RV(certificate) is still returned.
  timeout:
    description:
      - How many seconds one attempt may take as a whole. Connecting, TLS handshakes, C(GET /v2/), the token request
        and every catalog page count against one deadline, not each network read on its own.
      - A server that answers slowly, a byte at a time say, makes the attempt fail with RV(failure_kind=timeout) at
        the deadline instead of holding the module.
    default: 10
  wait_timeout:
    description:
      - How many seconds to keep retrying, for a cache that is still starting.
      - V(0) makes one attempt.
      - Retries, with exponential backoff capped at 5 seconds, happen only on refused or reset connections, timeouts,
        HTTP 5xx and 429 answers, and missing O(expect_repositories). Certificate errors fail at once.
      - An attempt started before this deadline may take up to O(timeout), so the module ends within O(wait_timeout)
        plus O(timeout) seconds.
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
  allow_foreign_token_realm:
    description:
      - In the Docker token flow the registry names the token service (the C(realm)) to which the module sends
        O(username) and O(password). The realm must be an C(https://) URL, and by default on the registry's host name,
        as DTR's is.
      - Set to V(true) to allow a token service on another host, when it is known to be the registry's (a central
        authentication service, say).
      - A realm that is refused fails with RV(failure_kind=untrusted_realm) before the credentials are sent anywhere.
    type: bool
    default: false
  use_proxy:
    description:
      - Whether to use the proxy from the C(https_proxy) and C(no_proxy) environment variables.
      - The direct connection that reads the served certificate after a TLS failure does not use a proxy.
  connect_to:
    description:
      - IP address or host name to connect to instead of the host of O(url), on the port of O(url), as C(curl --resolve)
        does. The TLS server name, the certificate check and the C(Host) header still use the host of O(url).
      - For a controller that cannot resolve the name clients use (a site's public name, say), while the certificate
        names only that name.
      - Applies to the registry's own requests; a token service on another host is reached by its name.
    type: str
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

- name: The same with the CA as text, no file needed
  dtr.cache.registry_catalog_info:
    url: https://cache.example.com:30443
    ca_content: "{{ cache_ca_pem }}"

- name: List DTR's catalog as an admin (DTR's token service is on its own host)
  dtr.cache.registry_catalog_info:
    url: https://dtr.example.com
    ca_content: "{{ dtr_ca.pem }}"
    username: admin
    password: "{{ dtr_admin_password }}"

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

- name: Check the certificate for the name clients use, through the node's address
  dtr.cache.registry_catalog_info:
    url: https://cache.site-c.example.com:30443
    connect_to: 10.20.0.15
    ca_path: /etc/dtr-cache/certs/cache-ca.pem

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
    - V(untrusted_certificate) (not issued by the CA in O(ca_path) or O(ca_content), or expired), V(hostname_mismatch),
      V(connection_refused), V(timeout) (including an attempt that outlasts O(timeout)), V(not_json), V(http_error)
      (including authentication failures and redirects, which are not followed), V(untrusted_realm) (the token
      service is not C(https://), or on another host without O(allow_foreign_token_realm)), V(too_large) (an answer
      over 1 MiB), V(missing_repositories), V(tls_error) (handshake failure, for example HTTPS to a plain HTTP port),
      V(connection_error) (name resolution, reset connections), V(invalid_argument).
  returned: failure
  type: str
  sample: untrusted_certificate
"""

import re
import time
from urllib.parse import urlencode, urljoin, urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils import registry_client
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-registry_catalog_info'
INITIAL_DELAY = 0.25
MAX_DELAY = 5.0
RETRYABLE_STATUS = (429,)
CA_PATH_HINT = 'Give the PEM file of the CA that issued the cache certificate.'
CONNECTION_HINTS = {
    tls.KIND_REFUSED: ('Check that the cache is running and exposed on this port (Service, NodePort or Ingress) '
                       'and that url has the right port.'),
    tls.KIND_TIMEOUT: 'Check firewalls, the Service or NodePort, and proxy settings (use_proxy), or raise timeout.',
    tls.KIND_TLS: 'Check that this port serves HTTPS, not plain HTTP.',
    tls.KIND_CONNECTION: 'Check the host name and the network.',
}


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
    """One attempt, within ``deadline``: ping, authenticate if asked to, walk the catalog."""

    def __init__(self, module, base, scheme, host, port, context, deadline, route):
        self.module = module
        self.params = module.params
        self.base = base
        self.route = route
        self.scheme = scheme
        self.host = host
        self.port = port
        self.context = context
        self.deadline = deadline
        self.authorization = None
        self.credentials = registry_client.Credentials(base, host, self.params['username'], self.params['password'],
                                                       self.params['allow_foreign_token_realm'])
        self.peer_der = None
        self.certificate = None
        # Redirects are not followed: urllib would read a redirect's body without limit, and a registry's API
        # (/v2/, /v2/_catalog, its token service) answers where it is.
        self.request = Request(use_proxy=self.params['use_proxy'], http_agent=HTTP_AGENT, follow_redirects='none')

    # --- transport -------------------------------------------------------------------------------------------

    def get(self, url, authorization=None):
        """``(status, headers, body, elapsed_ms)`` for any HTTP status; Failure on connection errors."""
        headers = {}
        if authorization or self.authorization:
            headers['Authorization'] = authorization or self.authorization
        url = self.route.url(url, headers)
        start = time.monotonic()
        try:
            answer = http_common.exchange(self.request, 'GET', url, self.deadline, self.context, headers=headers,
                                          unredirected_headers=['Authorization'], peer=self.wants_peer(url))
        except tls.TLSCheckError as error:
            raise self.connection_failure(error)
        if answer.peer_der:
            self.peer_der = answer.peer_der
        return answer.status, answer.headers, answer.body, (time.monotonic() - start) * 1000.0

    def wants_peer(self, url):
        """Keep the certificate of the first answer that comes from the registry itself (not a token service)."""
        return self.peer_der is None and self.scheme == 'https' and urlsplit(url)[:2] == urlsplit(self.route.send_to or self.base)[:2]

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
                der = tls.fetch_peer_certificate(self.route.connect_host, self.port, timeout=self.params['timeout'],
                                                 server_name=self.host, deadline=self.deadline)
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

    def where(self):
        """The registry as messages name it: its URL and the address connected to."""
        return '{0} ({1}:{2})'.format(self.base, self.route.connect_host, self.port)

    def trust_failure(self, error):
        """The message of a certificate that is not trusted: what the server presents and which CA was expected."""
        where = self.where()
        certificate = self.served_certificate()
        if error.expired:
            msg = ('The certificate served by {0} is outside its validity period ({1}; valid from {2} to {3}). '
                   'Renew the certificate of the cache.').format(
                where, error.detail, certificate.get('not_before', '?'), certificate.get('not_after', '?'))
        else:
            option = 'ca_path' if self.params['ca_path'] else 'ca_content' if self.params['ca_content'] else None
            hint = ('Check that {0} holds the CA that issued the cache certificate, and that the server sends its intermediate '
                    'certificates.'.format(option) if option else 'Set ca_path or ca_content to the CA that issued the cache certificate.')
            msg = 'The certificate served by {0} is not signed by {1} ({2}); it was issued by {3!r}. {4}'.format(
                where, http_common.trust_source(self.params['ca_path'], self.params['ca_content']), error.detail,
                certificate.get('issuer', 'unknown'), hint)
        return Failure(error.kind, msg, certificate=certificate)

    def hostname_failure(self, error):
        where = self.where()
        certificate = self.served_certificate()
        sans = certificate.get('sans') or []
        msg = ('The certificate served by {0} does not cover the host name {1!r} ({2}); it covers: {3}. '
               'Use one of those names in url, or reissue the certificate with {1!r} in its subjectAltName.').format(
            where, self.host, error.detail, ', '.join(sans) if sans else 'no subjectAltName entries')
        return Failure(error.kind, msg, certificate=certificate)

    def connection_failure(self, error):
        if error.kind == tls.KIND_UNTRUSTED:
            return self.trust_failure(error)
        if error.kind == tls.KIND_HOSTNAME:
            return self.hostname_failure(error)
        return http_common.connection_failure(error, 'Cannot reach {0}'.format(self.base), self.route.connect_host, self.port,
                                              self.params['timeout'], hints=CONNECTION_HINTS)

    @staticmethod
    def http_failure(url, status, headers, body, hint=None):
        retryable = status >= 500 or status in RETRYABLE_STATUS
        if hint is None:
            if 300 <= status < 400:
                hint = ('It redirects to {0!r}, which the module does not follow; give the address the registry answers at '
                        'in url.'.format(headers.get('Location')))
            elif status == 404:
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

    parse_json = staticmethod(registry_client.parse_json)

    # --- authentication --------------------------------------------------------------------------------------

    def authenticate(self, url, headers):
        """Handle a 401: set ``self.authorization`` from the challenge, or raise Failure."""
        self.authorization = self.credentials.answer(url, headers.get('WWW-Authenticate', ''), self.token_get,
                                                     'registry:catalog:*')

    def token_get(self, url, authorization):
        status, headers, body, dummy = self.get(url, authorization=authorization)
        return status, headers, body

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
        if status >= 300:
            raise self.http_failure(url, status, headers, body)
        if body.strip():
            self.parse_json(url, status, body)
        return status, headers.get('Docker-Distribution-API-Version'), elapsed

    def catalog_page(self, url):
        """``(repositories, next url or None, elapsed)`` of one page."""
        status, headers, body, elapsed = self.get_authorized(url)
        if status >= 300:
            raise self.http_failure(url, status, headers, body)
        data = self.parse_json(url, status, body)
        if not isinstance(data, dict) or not isinstance(data.get('repositories', []), (list, type(None))):
            raise Failure(
                'not_json',
                'GET {0} answered HTTP {1} with JSON that is not a registry catalog: {2!r}. '
                'Check that url points at a registry.'.format(url, status, excerpt(body)),
                status=status,
            )
        link = next_link(headers.get('Link'))
        following = urljoin(url, link) if link else None
        if following and urlsplit(following)[:2] != urlsplit(self.base)[:2]:
            raise Failure(
                'http_error',
                'The catalog of {0} links its next page to another server ({1}); refusing to follow it.'.format(self.base, following),
                status=status,
            )
        return [to_text(name) for name in data.get('repositories') or []], following, elapsed

    def catalog(self):
        url = '{0}/v2/_catalog?{1}'.format(self.base, urlencode({'n': self.params['page_size']}))
        repositories, pages, total = [], 0, 0.0
        while url:
            if pages >= self.params['max_pages']:
                self.module.warn('The catalog of {0} has more than max_pages={1} pages of {2}; the list is incomplete. '
                                 'Raise max_pages or page_size.'.format(self.base, self.params['max_pages'], self.params['page_size']))
                return repositories, pages, total, False
            page, url, elapsed = self.catalog_page(url)
            repositories.extend(page)
            total += elapsed
            pages += 1
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


def attempt(module, target, context, route):
    """One probe within its own deadline of ``timeout`` seconds; the result, or Failure."""
    probe = RegistryProbe(module, *target, context=context, deadline=Deadline(module.params['timeout']), route=route)
    result = probe.run()
    failure = missing_failure(target[0], module.params['expect_repositories'], result)
    if failure is not None:
        raise failure
    result['certificate'] = probe.served_certificate()
    return result


def run(module, state):
    params = module.params
    check_arguments(params)
    context = http_common.connection_context(module, CA_PATH_HINT)
    target = registry_client.normalize_base_url(params['url'])
    state['url'] = target[0]
    route = http_common.route(context, *target[:3], connect_to=params['connect_to'])
    # Attempts start until wait_timeout; each ends within timeout, so the module ends within both together.
    wait_until = time.monotonic() + params['wait_timeout']
    delay = INITIAL_DELAY
    while True:
        state['attempts'] += 1
        try:
            return attempt(module, target, context, route)
        except Failure as failure:
            remaining = wait_until - time.monotonic()
            if not failure.retryable or remaining <= 0:
                raise
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    argument_spec = dict(
        url=dict(type='str', required=True),
        wait_timeout=dict(type='int', default=0),
        page_size=dict(type='int', default=100),
        max_pages=dict(type='int', default=100),
        expect_repositories=dict(type='list', elements='str', default=[]),
    )
    argument_spec.update(registry_client.login_argument_spec())
    argument_spec.update(http_common.connection_argument_spec(timeout=10, validate_certs=True))
    return dict(
        argument_spec=argument_spec,
        mutually_exclusive=http_common.CONNECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
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
