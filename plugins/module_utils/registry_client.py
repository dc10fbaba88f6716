# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The registry API as a client sees it: base URLs, image references, and logging in.

Shared by registry_catalog_info and registry_prefetch. Nothing here sends a request itself:
callers pass a ``get(url, authorization) -> (status, headers, body)`` for the token service, so
that each module keeps its own transport, deadline and failure wording.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from base64 import b64encode
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt

# 429 is the only 4xx worth another attempt: the server asks to come back later.
RETRYABLE_STATUS = (429,)


# --- base URL ---------------------------------------------------------------------------------------------------


def login_argument_spec():
    """The options of the registry modules that say how to log in and where to connect."""
    return dict(
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        allow_foreign_token_realm=dict(type='bool', default=False, no_log=False),
        connect_to=dict(type='str'),
    )


def normalize_base_url(url):
    """``(base_url, scheme, host, port)``; refuses anything but an http(s) root URL."""
    parts, host, port = http_common.split_url(url, ('https', 'http'), 'https://cache.example.com:30443')
    path = parts.path.rstrip('/')
    if path not in ('', '/v2') or parts.query or parts.fragment:
        raise Failure(
            'invalid_argument',
            'url {0!r} has the path {1!r}; give the registry root such as {2}://{3} (the API is always at /v2/).'
            .format(url, parts.path, parts.scheme, parts.netloc),
        )
    return http_common.origin(parts), parts.scheme, host, port


# --- image references -------------------------------------------------------------------------------------------

# The grammar of github.com/distribution/reference, each part matched on its own and as a whole string.
# A path component: lower-case alphanumerics, separated by '.', '_', '__' or any number of '-'.
_PATH_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
REPOSITORY_RE = re.compile(r'\A{0}(?:/{0})*\Z'.format(_PATH_COMPONENT))
_DOMAIN_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
DOMAIN_RE = re.compile(r'\A(?:{0}(?:\.{0})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?\Z'.format(_DOMAIN_COMPONENT))
TAG_RE = re.compile(r'\A[\w][\w.-]{0,127}\Z', re.ASCII)
# Only sha256: it is what registries use, and what this collection can verify.
DIGEST_RE = re.compile(r'\Asha256:[0-9a-f]{64}\Z')
MAX_REPOSITORY = 255
REFERENCE_FORM = ('[host[:port]/]repository[:tag][@sha256:<64 lower-case hex digits>], the repository in lower case with '
                  "components separated by '/', such as team/app:1 or dtr.example.com/team/app@sha256:<digest>")
DEFAULT_TAG = 'latest'


class Reference(object):
    """A parsed image reference: ``repository`` (without the upstream's host), ``tag`` and ``digest``."""

    def __init__(self, text, domain, repository, tag, digest):
        self.text = text
        self.domain = domain
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def manifest_key(self):
        """What goes after ``/manifests/``: the digest when there is one (it pins the content), else the tag."""
        return self.digest or self.tag

    def __str__(self):
        return '{0}{1}{2}'.format(self.repository, ':' + self.tag if self.tag else '', '@' + self.digest if self.digest else '')


def split_domain(name):
    """``(domain or None, rest)`` by docker's rule: the first component is a host when it has '.' or ':' or is localhost."""
    first, slash, rest = name.partition('/')
    if slash and ('.' in first or ':' in first or first == 'localhost'):
        return first, rest
    return None, name


def _reference_problem(text):
    """``(Reference, None)`` or ``(None, why it is not a reference)``."""
    name, at, digest = text.partition('@')
    if at and not DIGEST_RE.match(digest):
        return None, 'the digest {0!r} is not sha256: and 64 lower-case hex digits'.format(digest)
    domain, rest = split_domain(name)
    if domain is not None and not DOMAIN_RE.match(domain):
        return None, 'the host {0!r} is not a host name with an optional port'.format(domain)
    # A ':' after the last '/' starts the tag; one before it belongs to a host that was not split off.
    repository, colon, tag = rest.rpartition(':') if ':' in rest.rsplit('/', 1)[-1] else (rest, '', '')
    if colon and not TAG_RE.match(tag):
        return None, 'the tag {0!r} is not 1 to 128 letters, digits, "_", "." or "-" (starting with a letter, digit or "_")'.format(tag)
    if not REPOSITORY_RE.match(repository):
        return None, 'the repository {0!r} is not lower-case components separated by "/"'.format(repository)
    if len(repository) > MAX_REPOSITORY:
        return None, 'the repository has {0} characters, more than {1}'.format(len(repository), MAX_REPOSITORY)
    if not colon and not at:
        tag = DEFAULT_TAG
    return Reference(text, domain, repository, tag or None, digest or None), None


def parse_references(values, option='images'):
    """Every reference of ``values`` parsed, or Failure(invalid_argument) naming each bad one (index and value)."""
    references, problems = [], []
    for index, value in enumerate(values):
        reference, problem = _reference_problem(value if isinstance(value, str) else '')
        if problem:
            problems.append('{0}[{1}] {2!r}: {3}'.format(option, index, value, problem))
        references.append(reference)
    if problems:
        raise Failure('invalid_argument', '{0}. Expected {1}.'.format('; '.join(problems), REFERENCE_FORM),
                      invalid_items=problems)
    return references


# --- answers ----------------------------------------------------------------------------------------------------


def http_failure(url, status, body, hint):
    """Failure(http_error) quoting the answer; 5xx and 429 are retryable."""
    return Failure(
        'http_error',
        'GET {0} answered HTTP {1}: {2!r}. {3}'.format(url, status, excerpt(body), hint),
        retryable=status >= 500 or status in RETRYABLE_STATUS,
        status=status,
    )


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


# --- logging in -------------------------------------------------------------------------------------------------


def parse_challenge(header):
    """``(scheme, params)`` of a WWW-Authenticate header such as ``Bearer realm="...",service="..."``."""
    if not header:
        return None, {}
    scheme, dummy, rest = header.strip().partition(' ')
    params = dict((key.lower(), value) for key, value in re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class Credentials(object):
    """A user's credentials for the registry at ``base``, and where they may be sent (HTTP basic or the token flow)."""

    def __init__(self, base, host, username, password, allow_foreign_token_realm=False):
        self.base = base
        self.host = host
        self.username = username
        self.password = password
        self.allow_foreign_token_realm = allow_foreign_token_realm

    def basic(self):
        return 'Basic ' + to_text(b64encode(to_bytes('{0}:{1}'.format(self.username, self.password or ''))))

    def answer(self, url, challenge, get, default_scope):
        """The Authorization header that answers the 401 of ``url`` with ``challenge``; Failure when it cannot be answered.

        ``get(url, authorization)`` fetches the token; ``default_scope`` is asked for when the challenge names none.
        """
        scheme, params = parse_challenge(challenge)
        if not self.username:
            raise Failure(
                'http_error',
                'GET {0} answered HTTP 401: the registry requires authentication (challenge: {1!r}). '
                'Set username and password.'.format(url, challenge),
                status=401,
            )
        if scheme == 'bearer' and params.get('realm'):
            self.check_realm(params['realm'])
            return 'Bearer ' + self.fetch_token(params, get, default_scope)
        return self.basic()

    def check_realm(self, realm):
        """The credentials go to the realm: only over https, and to another host only when allowed."""
        try:
            parts = urlsplit(realm)
            parts.port  # pylint: disable=pointless-statement
        except ValueError:
            parts = None
        if parts is None or parts.scheme.lower() != 'https' or not parts.hostname:
            raise Failure(
                'untrusted_realm',
                'The registry at {0} asks for a token from {1!r}, which is not an https:// URL; the module does not send the '
                'credentials of {2!r} there, where they could be read on the way. Configure the token service of the '
                'registry with an https:// realm.'.format(self.base, realm, self.username),
                realm=realm,
            )
        if not http_common.same_host(realm, self.host) and not self.allow_foreign_token_realm:
            raise Failure(
                'untrusted_realm',
                'The registry at {0} asks for a token from {1}, on another host ({2}); the module does not send the '
                'credentials of {3!r} to another host. If {2} is the token service of this registry, set '
                'allow_foreign_token_realm=true.'.format(self.base, realm, parts.hostname, self.username),
                realm=realm,
            )

    def fetch_token(self, challenge, get, default_scope):
        query = {'scope': challenge.get('scope') or default_scope}
        if challenge.get('service'):
            query['service'] = challenge['service']
        realm = challenge['realm']
        token_url = realm + ('&' if '?' in realm else '?') + urlencode(query)
        status, dummy, body = get(token_url, self.basic())
        if status == 401:
            raise Failure(
                'http_error',
                'The token service {0} rejected the credentials of {1!r} (HTTP 401). Check username and password.'
                .format(realm, self.username),
                status=401,
            )
        if status >= 300:
            raise http_failure(token_url, status, body, 'The token service of the registry failed.')
        data = parse_json(token_url, status, body)
        token = (data.get('token') or data.get('access_token')) if isinstance(data, dict) else None
        if not token:
            raise Failure('not_json', 'The token service {0} answered without a token.'.format(realm), status=status)
        return token
