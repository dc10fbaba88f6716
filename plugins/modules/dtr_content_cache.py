#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: dtr_content_cache
short_description: Register a content cache with Docker Trusted Registry and point users at it
version_added: 0.1.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Adds, updates or removes a content cache in DTR through C(/api/v0/content_caches), so that DTR redirects the blob
    pulls of the users who chose the cache to O(host).
  - Optionally points DTR users at the cache, or away from it, through C(/api/v0/accounts/{user}/settings).
  - Caches are found by O(name). DTR assigns the id.
  - All reads happen before the first write, so an unknown user or a missing O(settings_key) fails without changing
    anything.
  - Every failure sets RV(failure_kind) so that callers can branch on the cause.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.action_group
  - dtr.cache.attributes.in_process
  - dtr.cache.connection
attributes:
  check_mode:
    support: full
    details:
      - In check mode the module reads the caches and the users' settings and reports what would change, without
        any C(POST) or C(DELETE).
      - When the cache would be created or re-created, its new id is not known yet; RV(cache.id) and the RV(users[].after)
        of the users who would be pointed at it are V(null).
  diff_mode:
    support: full
    details:
      - Returns the cache object and each listed user's O(settings_key) value, before and after.
  idempotent:
    support: full
options:
  url:
    description:
      - Base URL of DTR such as V(https://dtr.example.com) or V(https://dtr.example.com:8443).
      - Must use C(https). A trailing V(/) is ignored; any other path is refused because the API lives at the root.
      - Redirects are not followed, so the admin's credentials go to this address only.
    type: str
    required: true
  username:
    description:
      - A DTR admin. Sent with HTTP basic authentication on every request.
    type: str
    required: true
  password:
    description:
      - Password or access token of O(username).
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify DTR's certificate and host name.
  ca_path:
    description:
      - PEM file of the CA that issued DTR's certificate, for example the file that M(dtr.cache.dtr_ca) wrote.
      - Only this CA is trusted when set; without it and O(ca_content) the system trust store is used. Ignored, with a
        warning, when O(validate_certs=false).
      - Mutually exclusive with O(ca_content).
  ca_content:
    description:
      - The same as O(ca_path), given as PEM text instead of a file, for example the C(pem) that M(dtr.cache.dtr_ca)
        returns. No temporary file is needed.
      - Mutually exclusive with O(ca_path).
  timeout:
    description:
      - How many seconds the whole run may spend talking to DTR. Every request (connecting, TLS handshake, sending it
        and reading the whole answer) counts against this one deadline, not each network read on its own.
      - A DTR that answers slowly, a byte at a time say, makes the module fail with RV(failure_kind=timeout) at the
        deadline instead of holding it. Raise it for long O(users) lists on a slow DTR.
      - A deadline reached after a write fails like any other error after a write, with C(changed=true); running the
        module again completes the work.
  name:
    description:
      - The cache's name in DTR, what users see when they choose a cache.
    type: str
    required: true
  host:
    description:
      - The URL to which DTR redirects blob pulls, V(https://fqdn[:port]), that is the C(http.host) of the cache's
        configuration, including a non-default port such as a NodePort.
      - Required when O(state=present).
      - Compared with the registered host as an origin, so the case of the host name, a trailing V(/) and an explicit
        V(:443) do not count as a change.
    type: str
  state:
    description:
      - V(present) registers the cache, or updates its host; V(absent) removes the registration.
      - DTR does not document how to change a cache's host, so an update deletes the cache and creates it again with
        the same name. The cache then gets a B(new id). Users listed in O(users) are pointed at the new id; other
        users who had chosen the cache fall back to pulling from DTR and must choose it again. The module warns when
        this happens.
    type: str
    choices: [present, absent]
    default: present
  users:
    description:
      - DTR users to point at the cache (O(state=present)), or away from it (O(state=absent), only those whose setting
        names this cache; they go back to pulling from DTR itself).
      - Each user's settings are read first; the module writes back only O(settings_key), and only when its value
        differs.
      - Users not listed are left alone.
    type: list
    elements: str
    default: []
  settings_key:
    description:
      - The key of a user's account settings that carries the id of the chosen cache, V("") for none.
      - DTR does not document this key publicly. The module never invents it; when a listed user's settings do not
        have the key, it fails and names the keys that are there.
    type: str
    default: contentCacheUUID
seealso:
  - module: dtr.cache.dtr_ca
  - module: dtr.cache.registry_catalog_info
notes:
  - Register the cache only after it answers with a certificate that clients trust (see
    M(dtr.cache.registry_catalog_info)); DTR sends users' blob pulls to O(host) as soon as they chose the cache.
  - When cryptography is installed, O(ca_path) is parsed before connecting, so that a wrong file is not reported as
    a TLS failure. O(ca_content) is always checked before connecting.
requirements:
  - cryptography (optional, to check O(ca_path) before connecting)
"""

EXAMPLES = r"""
- name: Fetch DTR's CA
  dtr.cache.dtr_ca:
    url: https://dtr.example.com
    dest: /etc/dtr-cache/dtr-ca.pem
  register: dtr_ca

- name: Register the EU cache and point two users at it
  dtr.cache.dtr_content_cache:
    url: https://dtr.example.com
    username: admin
    password: "{{ dtr_admin_password }}"
    ca_path: /etc/dtr-cache/dtr-ca.pem
    name: eu-west
    host: https://cache-eu.example.com:30443
    users:
      - alice
      - ci-eu
  register: registration

- name: Show the id DTR gave the cache
  ansible.builtin.debug:
    msg: "{{ registration.cache.id }}"

- name: Remove the cache; alice goes back to pulling from DTR (DTR's CA as text, from dtr.cache.dtr_ca)
  dtr.cache.dtr_content_cache:
    url: https://dtr.example.com
    username: admin
    password: "{{ dtr_admin_password }}"
    ca_content: "{{ dtr_ca.pem }}"
    name: eu-west
    state: absent
    users:
      - alice
"""

RETURN = r"""
url:
  description: The normalized base URL of DTR.
  returned: always
  type: str
  sample: https://dtr.example.com
cache:
  description:
    - The cache as registered in DTR after the run, V({}) when it is absent.
    - In check mode, what it would be; RV(cache.id) is V(null) when DTR would assign a new one.
  returned: success
  type: dict
  contains:
    id:
      description: DTR's id of the cache, the value users' settings carry.
      type: str
      returned: when the cache is present
      sample: 5a4b1f3e-7c0d-4e26-9a8b-1d2c3e4f5a6b
    name:
      description: The cache's name.
      type: str
      returned: when the cache is present
      sample: eu-west
    host:
      description: The URL DTR redirects blob pulls to.
      type: str
      returned: when the cache is present
      sample: https://cache-eu.example.com:30443
users:
  description: One entry per user of O(users), in order, duplicates removed.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The user's name.
      type: str
      returned: success
      sample: alice
    before:
      description: The value of O(settings_key) before the run.
      type: str
      returned: success
      sample: ""
    after:
      description:
        - The value of O(settings_key) after the run (in check mode, what it would be).
        - V(null) in check mode when the cache would get a new id.
      type: str
      returned: success
      sample: 5a4b1f3e-7c0d-4e26-9a8b-1d2c3e4f5a6b
    changed:
      description: Whether the user's setting was (or would be) written.
      type: bool
      returned: success
      sample: true
status:
  description: The HTTP status of the failing request.
  returned: when failure_kind is authentication_failed, invalid_request, unknown_user or http_error
  type: int
  sample: 400
dtr_errors:
  description: The C(errors) list of DTR's error answer, each with C(code) and C(message).
  returned: when failure_kind is invalid_request, unknown_user or http_error and DTR sent them
  type: list
  elements: dict
  sample: [{"code": "INVALID_CONTENT_CACHE", "message": "host must be an https:// URL"}]
failure_kind:
  description:
    - Why the module failed, for callers that branch on it.
    - V(authentication_failed) (HTTP 401 for the admin credentials), V(invalid_request) (HTTP 400; DTR's code and
      message are in the message and RV(dtr_errors)), V(unknown_user), V(missing_settings_key), V(duplicate_name)
      (DTR lists several caches with O(name)), V(http_error) (any other error status), V(not_json) (an answer that is
      not the JSON DTR sends), V(too_large) (an answer over 1 MiB), V(untrusted_certificate), V(hostname_mismatch),
      V(connection_refused), V(timeout) (including a run that outlasts O(timeout)), V(tls_error), V(connection_error),
      V(invalid_argument).
    - A failure after a write still reports C(changed=true).
  returned: failure
  type: str
  sample: authentication_failed
"""

import ipaddress
import json
import re
from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-dtr_content_cache'
CACHES_PATH = '/api/v0/content_caches'
SETTINGS_PATH = '/api/v0/accounts/{0}/settings'
CA_PATH_HINT = 'Give the PEM file of the CA that issued DTR\'s certificate.'
CONNECTION_HINTS = {
    tls.KIND_UNTRUSTED: 'Set ca_path or ca_content to DTR\'s CA, for example what dtr.cache.dtr_ca wrote or returned.',
    tls.KIND_HOSTNAME: 'Use the host name DTR\'s certificate was issued for.',
    tls.KIND_REFUSED: 'Check the host and port of url and that DTR runs.',
}
# A DNS name: labels of letters, digits and inner hyphens.
DNS_NAME = re.compile(r'^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$')


def shown(data):
    """The start of decoded JSON, for messages."""
    return excerpt(to_bytes(json.dumps(data)))


def normalize_base_url(url):
    """``(base URL https://host[:port], host, port)``; refuses other schemes and paths."""
    parts, host, port = http_common.split_url(url, ('https',), 'https://dtr.example.com')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise Failure(
            'invalid_argument',
            'url {0!r} has a path, query or fragment; give the DTR root such as https://{1} (the API is at /api/v0/).'
            .format(url, parts.netloc),
        )
    return http_common.origin(parts), host, port


def host_origin(host):
    """``(scheme, host name, port)`` of a cache host URL, for comparison; raises ValueError with a reason."""
    parts = urlsplit(host)
    port = parts.port
    if parts.scheme.lower() != 'https':
        raise ValueError('it must be an https:// URL, because DTR redirects clients there and clients use TLS')
    if '@' in parts.netloc:
        raise ValueError('it must not carry user information')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError('it must be scheme, host name and port only (no path, query or fragment)')
    hostname = parts.hostname
    if not hostname:
        raise ValueError('it has no host name')
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        if not DNS_NAME.match(hostname):
            raise ValueError('{0!r} is not a valid DNS name or IP address'.format(hostname))
    if port == 0:
        raise ValueError('the port must be between 1 and 65535')
    return 'https', hostname.lower().rstrip('.'), port or 443


def same_host(registered, wanted):
    """Whether two host URLs name the same origin; falls back to string comparison for what cannot be parsed."""
    try:
        return host_origin(registered) == host_origin(wanted)
    except (ValueError, AttributeError):
        return registered == wanted


def check_arguments(module):
    """Check the options; returns the SSLContext for DTR."""
    params = module.params
    if not params['name'] or not params['name'].strip():
        raise Failure('invalid_argument', 'name must not be empty.')
    if not params['settings_key']:
        raise Failure('invalid_argument', 'settings_key must not be empty.')
    if any(not user or not user.strip() for user in params['users']):
        raise Failure('invalid_argument', 'users must not contain empty names, got {0!r}.'.format(params['users']))
    if params['state'] == 'present':
        try:
            host_origin(params['host'])
        except ValueError as exc:
            raise Failure(
                'invalid_argument',
                'host {0!r} is not usable: {1}. Give the URL clients reach the cache at, such as '
                'https://cache.example.com:30443 (the cache\'s http.host).'.format(params['host'], exc),
            )
    return http_common.connection_context(module, CA_PATH_HINT)


def dtr_errors(body):
    """The ``errors`` list of a DTR error answer, or []."""
    try:
        data = json.loads(to_text(body, errors='surrogate_or_strict'))
    except (ValueError, UnicodeError):
        return []
    errors = data.get('errors') if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return []
    return [dict(code=to_text(entry.get('code', '')), message=to_text(entry.get('message', '')))
            for entry in errors if isinstance(entry, dict)]


def describe_errors(errors, body):
    if errors:
        return '; '.join('{0}: {1}'.format(entry['code'], entry['message']) for entry in errors)
    return repr(excerpt(body)) if body else 'no details'


class DTRClient(object):
    """The content-cache and account-settings API of DTR, with admin basic auth, every request by one deadline."""

    def __init__(self, module, base, host, port, context):
        params = module.params
        self.params = params
        self.base = base
        self.host = host
        self.port = port
        self.username = params['username']
        self.context = context
        self.deadline = Deadline(params['timeout'])
        self.request = Request(
            url_username=params['username'],
            url_password=params['password'],
            force_basic_auth=True,
            use_proxy=params['use_proxy'],
            http_agent=HTTP_AGENT,
            # The admin's credentials go to url only; DTR's API does not redirect.
            follow_redirects='none',
        )

    def call(self, method, path, body=None):
        """``(status, body bytes)`` of a 2xx answer; Failure on connection errors and error statuses."""
        url = self.base + path
        headers = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = to_bytes(json.dumps(body))
            headers['Content-Type'] = 'application/json'
        try:
            answer = http_common.exchange(self.request, method, url, self.deadline, self.context, data=data, headers=headers)
        except tls.TLSCheckError as error:
            raise self.connection_failure(error)
        if answer.status >= 300:
            location = answer.headers.get('Location') if answer.headers is not None else None
            raise self.http_failure(method, url, answer.status, answer.body, location)
        return answer.status, answer.body

    def call_json(self, method, path, body=None):
        status, raw = self.call(method, path, body)
        try:
            return json.loads(to_text(raw, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError):
            raise Failure(
                'not_json',
                '{0} {1}{2} answered HTTP {3} with a body that is not JSON: {4!r}. Check that url points at DTR '
                '(not at a load balancer page or another service).'.format(method, self.base, path, status, excerpt(raw)),
                status=status,
            )

    def http_failure(self, method, url, status, body, location=None):
        errors = dtr_errors(body)
        details = describe_errors(errors, body)
        extra = dict(status=status)
        if errors:
            extra['dtr_errors'] = errors
        if status == 401:
            return Failure(
                'authentication_failed',
                'DTR rejected the admin credentials for {0} at {1} (HTTP 401 on {2} {3}). '
                'Check username and password (or access token).'.format(self.username, self.base, method, url),
                **extra
            )
        if status == 400:
            return Failure('invalid_request', 'DTR refused {0} {1} (HTTP 400): {2}.'.format(method, url, details), **extra)
        if 300 <= status < 400:
            hint = ('DTR\'s API does not redirect, so the module does not follow it (it would send the admin credentials '
                    'elsewhere): redirected to {0!r}. Set url to the address DTR answers at.'.format(location))
        elif status == 403:
            hint = 'The account {0} must be a DTR admin.'.format(self.username)
        elif status == 404:
            hint = 'Check that url points at DTR 2.3 or later, which has the content-cache API.'
        elif status >= 500:
            hint = 'DTR is failing; read its logs and try again.'
        else:
            hint = 'Check that url points at DTR.'
        return Failure('http_error', '{0} {1} answered HTTP {2}: {3}. {4}'.format(method, url, status, details, hint), **extra)

    def connection_failure(self, error):
        trust = http_common.trust_source(self.params['ca_path'], self.params['ca_content'])
        return http_common.connection_failure(error, 'Cannot reach DTR at {0}'.format(self.base), self.host, self.port,
                                              self.params['timeout'], trust, CONNECTION_HINTS)

    # --- the API -----------------------------------------------------------------------------------------------

    def list_caches(self):
        data = self.call_json('GET', CACHES_PATH)
        if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
            raise Failure(
                'not_json',
                'GET {0}{1} answered JSON that is not a list of content caches: {2!r}.'.format(self.base, CACHES_PATH, shown(data)),
            )
        return data

    def create_cache(self, name, host):
        data = self.call_json('POST', CACHES_PATH, dict(name=name, host=host))
        if not isinstance(data, dict) or not data.get('id'):
            raise Failure(
                'not_json',
                'POST {0}{1} answered without the id of the new cache: {2!r}.'.format(self.base, CACHES_PATH, shown(data)),
            )
        return data

    def delete_cache(self, cache_id):
        try:
            self.call('DELETE', '{0}/{1}'.format(CACHES_PATH, quote(cache_id, safe='')))
        except Failure as failure:
            # Deleted by someone else since the listing: the goal is reached.
            if failure.extra.get('status') != 404:
                raise

    def settings_path(self, user):
        return SETTINGS_PATH.format(quote(user, safe=''))

    def read_settings(self, user):
        try:
            data = self.call_json('GET', self.settings_path(user))
        except Failure as failure:
            if failure.extra.get('status') != 404:
                raise
            raise Failure(
                'unknown_user',
                'user {0} does not exist in DTR at {1} ({2}). Check the names in users.'.format(user, self.base, failure.msg),
                **failure.extra
            )
        if not isinstance(data, dict):
            raise Failure(
                'not_json',
                'GET {0}{1} answered JSON that is not a settings object: {2!r}.'.format(self.base, self.settings_path(user), shown(data)),
            )
        return data

    def write_setting(self, user, key, value):
        # Only the one key is sent: DTR merges it into the settings and keeps the others.
        self.call('POST', self.settings_path(user), {key: value})


def public_cache(cache):
    """The RV(cache) dict of a DTR cache object."""
    if not cache:
        return {}
    return dict(id=cache.get('id'), name=cache.get('name'), host=cache.get('host'))


def find_cache(caches, name, base):
    matches = [cache for cache in caches if cache.get('name') == name]
    if len(matches) > 1:
        raise Failure(
            'duplicate_name',
            'DTR at {0} lists {1} content caches named {2!r} (ids {3}); the module cannot tell which one to manage. '
            'Delete the extra ones in DTR.'.format(base, len(matches), name, ', '.join(to_text(cache.get('id')) for cache in matches)),
        )
    return matches[0] if matches else None


def read_users(client, users, key):
    """``[(user, value of key)]``; fails on unknown users and on settings without the key."""
    values = []
    for user in users:
        settings = client.read_settings(user)
        if key not in settings:
            raise Failure(
                'missing_settings_key',
                'The DTR settings of user {0} have no key {1!r} (they have: {2}). DTR does not document the key that carries '
                'a user\'s content cache; the module does not invent one. Set settings_key to the key this DTR uses '
                '(choose a cache for a user in the DTR web UI, then read GET {3}{4}).'.format(
                    user, key, ', '.join(sorted(to_text(name) for name in settings)) or 'none', client.base, client.settings_path(user)),
            )
        values.append((user, settings[key]))
    return values


def ensure_present(module, client, existing, result):
    """Create the cache, or re-create it with the wanted host. Returns the cache after (id None in check mode if new)."""
    params = module.params
    name, host = params['name'], params['host']
    if existing is not None and same_host(existing.get('host'), host):
        return public_cache(existing)
    if existing is not None:
        module.warn(
            'The content cache {0!r} {1} re-created to change its host from {2} to {3}, so it gets a new id. Users not listed '
            'in users who had chosen it fall back to pulling from DTR and must choose it again.'.format(
                name, 'would be' if module.check_mode else 'is', existing.get('host'), host))
    if module.check_mode:
        return dict(id=None, name=name, host=host)
    if existing is not None:
        client.delete_cache(existing['id'])
        result.update(changed=True, cache={})
    try:
        created = public_cache(client.create_cache(name, host))
    except Failure as failure:
        if existing is not None:
            failure.msg = ('The registration of {0!r} (id {1}, host {2}) was deleted to change its host, but creating it again '
                           'failed, so DTR has no cache {0!r} now: {3}').format(name, existing['id'], existing.get('host'), failure.msg)
        raise
    result.update(changed=True, cache=created)
    return created


def run(module, client, result):
    """Read everything first, then write what differs (nothing in check mode). Fills ``result`` as it goes."""
    params = module.params
    key = params['settings_key']
    existing = find_cache(client.list_caches(), params['name'], client.base)
    current = read_users(client, list(dict.fromkeys(params['users'])), key)
    result['cache'] = before_cache = public_cache(existing)

    if params['state'] == 'present':
        after_cache = ensure_present(module, client, existing, result)
    else:
        after_cache = {}
    result['users'] = entries = []
    for user, value in current:
        if params['state'] == 'present':
            after = after_cache['id']
            needed = after is None or value != after
        else:
            needed = existing is not None and value == existing['id']
            after = '' if needed else value
        if needed and not module.check_mode:
            client.write_setting(user, key, after)
            result['changed'] = True
        entries.append(dict(name=user, before=value, after=after, changed=needed))

    if params['state'] == 'absent' and existing is not None and not module.check_mode:
        # After the users: DTR may reset the settings that name a deleted cache, which would hide that they did.
        client.delete_cache(existing['id'])
        result['changed'] = True

    result['cache'] = after_cache
    result['changed'] = result['changed'] or after_cache != before_cache or any(entry['changed'] for entry in entries)
    if module._diff:
        result['diff'] = dict(
            before=dict(cache=before_cache, users=dict((entry['name'], {key: entry['before']}) for entry in entries)),
            after=dict(cache=after_cache, users=dict((entry['name'], {key: entry['after']}) for entry in entries)),
        )
    return result


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    argument_spec = dict(
        url=dict(type='str', required=True),
        username=dict(type='str', required=True),
        password=dict(type='str', required=True, no_log=True),
        name=dict(type='str', required=True),
        host=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        users=dict(type='list', elements='str', default=[]),
        settings_key=dict(type='str', default='contentCacheUUID', no_log=False),
    )
    argument_spec.update(http_common.connection_argument_spec(timeout=30, validate_certs=True))
    return dict(
        argument_spec=argument_spec,
        required_if=[('state', 'present', ['host'])],
        mutually_exclusive=http_common.CONNECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
    result = dict(changed=False, url=module.params['url'])
    try:
        base, host, port = normalize_base_url(module.params['url'])
        result['url'] = base
        context = check_arguments(module)
        run(module, DTRClient(module, base, host, port, context), result)
    except Failure as failure:
        module.fail_json(msg=failure.msg, failure_kind=failure.kind, **dict(result, **failure.extra))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
