#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: dtr_ca
short_description: Fetch and check the CA bundle of a Docker Trusted Registry
version_added: 0.1.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Downloads the PEM CA bundle that DTR serves at C(/ca), the file a content cache lists in the C(cas) option of its
    C(downstream) middleware, or checks a bundle given in O(content).
  - Checks that the bundle is PEM, holds at most 64 CA certificates, and that all of them are valid now.
  - Optionally pins the bundle with SHA-256 fingerprints; then every certificate of the bundle must be pinned.
  - By default checks that the DTR host presents a certificate issued by the bundle for its host name. This replaces
    the trust-on-first-use C(curl -k https://dtr/ca) of the upstream guide with checked trust.
  - Optionally writes the bundle to a file, atomically and only when the content differs.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.action_group
  - dtr.cache.attributes.in_process
  - dtr.cache.connection
attributes:
  check_mode:
    support: full
    details:
      - In check mode the bundle is fetched and checked, and O(dest) is compared but not written.
  diff_mode:
    support: full
    details:
      - Returns the old and new content of O(dest) (public certificates).
  idempotent:
    support: full
options:
  url:
    description:
      - Base URL of DTR such as V(https://dtr.example.com), to which C(/ca) is appended.
      - When the URL has a path other than V(/), it is used as is, so any HTTPS URL of a PEM bundle works.
      - Must use C(https). Redirects are not followed.
      - With O(content), only used for the chain check (O(verify_chain)); nothing is downloaded.
      - At least one of O(url) and O(content) is required.
    type: str
  content:
    description:
      - A PEM CA bundle to check instead of downloading one, for example the text of a CA file the caller read.
      - It gets the same checks as a downloaded bundle. With O(url) and O(verify_chain=true), the certificate the host
        of O(url) presents must chain to it.
    type: str
  sha256_fingerprint:
    description:
      - SHA-256 fingerprints of the CA certificates of the bundle.
      - Upper or lower case, with or without colons, or the whole line C(openssl x509 -noout -fingerprint -sha256)
        prints, such as V(sha256 Fingerprint=3F:2A:...) or V(SHA256 Fingerprint=3F:2A:...).
      - When set, B(every) certificate of the bundle must have one of these fingerprints, because every certificate of
        the bundle becomes trusted. A bundle with a certificate that is not listed fails with
        RV(failure_kind=unpinned_certificate), which names it; when DTR's CA is being rotated, list both CAs.
      - An empty list disables pinning.
    type: list
    elements: str
    default: []
  verify_chain:
    description:
      - After reading the bundle, connect to the host and port of O(url) and require that the certificate the host
        presents chains to the bundle and covers the host name.
      - The connection honours O(use_proxy) like the download does. It sends a C(HEAD) request and reads no answer.
      - Without O(sha256_fingerprint) the chain check is all that ties a downloaded bundle to DTR, so it may be turned
        off only together with a pin. V(false) without O(sha256_fingerprint) fails with
        RV(failure_kind=invalid_argument) when the bundle is downloaded.
    type: bool
    default: true
  validate_certs:
    description:
      - Whether to verify the server certificate while downloading.
      - Defaults to V(false) because the CA is what is being fetched; without O(ca_path) or O(ca_content) the system
        trust store is unlikely to know it. Trust comes from O(verify_chain) and O(sha256_fingerprint) instead.
      - Set to V(true) together with O(ca_path) or O(ca_content) when a copy of the CA is already trusted.
    default: false
  ca_path:
    description:
      - PEM file of CA certificates used to verify the server while downloading, when O(validate_certs=true).
      - Without it and O(ca_content) the system trust store is used. Ignored, with a warning, when
        O(validate_certs=false).
      - Mutually exclusive with O(ca_content).
  ca_content:
    description:
      - The same as O(ca_path), given as PEM text instead of a file.
      - Not to be confused with O(content), the bundle this module checks.
      - Mutually exclusive with O(ca_path).
  dest:
    description:
      - Write the normalized bundle to this file with mode C(0644).
      - The file is replaced atomically and only when its content differs. The directory must exist.
      - Without O(dest) the module only reads and never reports a change.
    type: path
requirements:
  - cryptography >= 41.0.0
seealso:
  - module: dtr.cache.registry_catalog_info
  - module: community.crypto.get_certificate
notes:
  - A DTR fronted by a load balancer that terminates TLS with another certificate fails O(verify_chain); point O(url)
    at DTR itself, or pin the bundle and set O(verify_chain=false).
"""

EXAMPLES = r"""
- name: Fetch the DTR CA for the cache configuration
  dtr.cache.dtr_ca:
    url: https://dtr.example.com
    sha256_fingerprint:
      - "3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"
    dest: /etc/dtr-cache/certs/dtr.cert.pem
  register: dtr_ca

- name: Pin with what openssl printed, during a CA rotation (both CAs are served)
  dtr.cache.dtr_ca:
    url: https://dtr.example.com
    sha256_fingerprint:
      - "sha256 Fingerprint=3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"
      - "sha256 Fingerprint=8D:11:42:0C:7A:9B:E3:55:60:2F:D1:B8:04:6E:93:AA:17:C5:38:F0:6B:2D:91:4E:A8:73:5C:0F:E2:19:B6:47"

- name: Check a CA file the user gave against what DTR presents, without downloading
  dtr.cache.dtr_ca:
    url: https://dtr.example.com
    content: "{{ lookup('ansible.builtin.file', '/etc/pki/dtr-ca.pem') }}"

- name: Fetch the bundle from another URL, trusting a CA already on disk
  dtr.cache.dtr_ca:
    url: https://pki.example.com/dtr/ca-bundle.pem
    validate_certs: true
    ca_path: /etc/pki/ca-trust/source/anchors/corp-root.pem
    sha256_fingerprint:
      - "3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"
    verify_chain: false

- name: Show when the CA expires
  ansible.builtin.debug:
    msg: "{{ dtr_ca.subjects | first }} expires {{ dtr_ca.not_after }}"
"""

RETURN = r"""
url:
  description:
    - The URL the bundle was fetched from, or whose host the chain check connected to when O(content) is given.
    - V(null) with O(content) and no O(url).
  returned: always
  type: str
  sample: https://dtr.example.com/ca
pem:
  description:
    - The bundle as normalized PEM, one block per certificate in the order served, text outside the blocks dropped.
    - With O(sha256_fingerprint), only pinned certificates, since a bundle with another one fails.
  returned: success
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
certificates:
  description: One entry per certificate of the bundle, in order.
  returned: success
  type: list
  elements: dict
  contains:
    subject:
      description: Subject as an RFC 4514 string.
      type: str
      returned: success
      sample: CN=UCP Client Root CA
    issuer:
      description: Issuer as an RFC 4514 string.
      type: str
      returned: success
      sample: CN=UCP Client Root CA
    sha256_fingerprint:
      description: SHA-256 fingerprint, upper-case colon-separated hex.
      type: str
      returned: success
      sample: "3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"
    not_before:
      description: Start of validity, ISO 8601 in UTC.
      type: str
      returned: success
      sample: "2024-01-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 in UTC.
      type: str
      returned: success
      sample: "2034-01-01T00:00:00Z"
sha256_fingerprints:
  description: SHA-256 fingerprints of the certificates, in order.
  returned: success
  type: list
  elements: str
  sample: ["3F:2A:9C:61:0B:5E:77:D4:12:8A:AF:03:6C:E9:41:B7:58:0D:2E:93:C4:6B:1F:A0:7E:55:39:D8:02:CB:64:11"]
subjects:
  description: Subjects of the certificates as RFC 4514 strings, in order.
  returned: success
  type: list
  elements: str
  sample: ["CN=UCP Client Root CA"]
not_after:
  description: The earliest end of validity in the bundle, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2034-01-01T00:00:00Z"
dest:
  description: The O(dest) path, or V(null) without O(dest).
  returned: always
  type: str
  sample: /etc/dtr-cache/certs/dtr.cert.pem
unpinned_certificates:
  description: The certificates of the bundle that no pin matches, each with C(sha256_fingerprint) and C(subject).
  returned: when failure_kind is unpinned_certificate
  type: list
  elements: dict
  sample: [{"sha256_fingerprint": "8D:11:42:0C:...", "subject": "CN=New DTR CA"}]
failure_kind:
  description:
    - Why the module failed, for callers that branch on it.
    - V(fingerprint_mismatch) (no certificate of the bundle is pinned), V(unpinned_certificate) (some are, others are
      not), V(not_pem), V(not_ca), V(not_valid_now), V(too_many_certificates) (more than 64), V(too_large) (an answer
      over 1 MiB), V(http_error) (including redirects, which are not followed), V(untrusted_certificate),
      V(hostname_mismatch), V(connection_refused), V(timeout), V(tls_error), V(connection_error), V(invalid_argument),
      V(write_error).
  returned: failure
  type: str
  sample: unpinned_certificate
"""

import os
import tempfile
from urllib.parse import urlunsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-dtr_ca'
ACCEPT = 'application/x-pem-file, application/x-x509-ca-cert, text/plain;q=0.9, */*;q=0.5'
CA_PATH_HINT = 'Give a PEM file of CA certificates.'


class Target(object):
    """Where the bundle comes from: ``url`` is the bundle's URL (None with content alone), ``label`` names it in messages."""

    def __init__(self, url=None, host=None, port=None):
        self.url = url
        self.host = host
        self.port = port
        self.label = 'the answer from {0}'.format(url) if url else 'content'

    @property
    def where(self):
        return 'from {0}'.format(self.url) if self.url else 'in content'


def build_fetch_url(url):
    """The URL of the bundle: ``/ca`` appended to a base URL, any other path kept. Returns ``(url, host, port)``."""
    parts, host, port = http_common.split_url(url, ('https',), 'https://dtr.example.com')
    if parts.path in ('', '/'):
        parts = parts._replace(path='/ca')
    return urlunsplit(parts), host, port


def parse_pins(values):
    try:
        return [tls.normalize_fingerprint(value) for value in values or []]
    except ValueError as exc:
        raise Failure('invalid_argument', 'sha256_fingerprint: {0}.'.format(exc))


def check_trust_options(params, pins):
    """Refuse a download that nothing would verify: no pin and no chain check is trust on first use."""
    downloading = params['content'] is None
    if downloading and not params['verify_chain'] and not pins:
        raise Failure(
            'invalid_argument',
            'verify_chain=false without sha256_fingerprint verifies nothing: any bundle served at url would be trusted. '
            'Pin the CA with sha256_fingerprint (openssl x509 -noout -fingerprint -sha256 -in ca.pem), '
            'or keep verify_chain=true.',
        )


# --- download ---------------------------------------------------------------------------------------------------


def new_request(params):
    # Redirects are not followed: urllib would read a redirect's body without limit, and DTR serves /ca itself.
    return Request(use_proxy=params['use_proxy'], http_agent=HTTP_AGENT, follow_redirects='none')


def download_failure(error, module, target):
    params = module.params
    trust = http_common.trust_source(params['ca_path'], params['ca_content'])
    hints = {
        tls.KIND_UNTRUSTED: 'Check ca_path or ca_content, or leave validate_certs=false and rely on verify_chain and sha256_fingerprint.',
        tls.KIND_HOSTNAME: 'Use the host name the DTR certificate was issued for.',
        tls.KIND_REFUSED: 'Check the host and port of url and that DTR is running.',
    }
    return http_common.connection_failure(
        error, 'Cannot fetch the CA bundle from {0}'.format(target.url), target.host, target.port, params['timeout'], trust, hints)


def fetch_bundle(module, target, context, deadline):
    """GET the bundle; returns the body bytes or raises Failure."""
    try:
        answer = http_common.exchange(new_request(module.params), 'GET', target.url, deadline, context, headers={'Accept': ACCEPT})
    except tls.TLSCheckError as error:
        raise download_failure(error, module, target)
    if 300 <= answer.status < 400:
        raise Failure(
            'http_error',
            'GET {0} answered HTTP {1}, a redirect to {2!r}, which is not followed. Set url to the address that serves '
            'the bundle.'.format(target.url, answer.status, answer.headers.get('Location')),
            status=answer.status,
        )
    if answer.status >= 400:
        raise Failure(
            'http_error',
            'GET {0} answered HTTP {1}: {2!r}. Check that url points at DTR; its /ca endpoint needs no login.'
            .format(target.url, answer.status, excerpt(answer.body, 200)),
            status=answer.status,
        )
    return answer.body


# --- checks -----------------------------------------------------------------------------------------------------


def parse_bundle(body, target):
    """Parse the PEM bundle; returns the certificate objects or raises Failure."""
    try:
        blocks = tls.bundle_blocks(body)
    except tls.TooManyCertificates as exc:
        raise Failure('too_many_certificates', 'The CA bundle {0} is refused: {1}.'.format(target.where, exc))
    if not blocks:
        hint = 'Check that url points at the DTR /ca endpoint.' if target.url else 'Give the text of a PEM CA file.'
        raise Failure(
            'not_pem',
            '{0} is not a PEM certificate bundle (no BEGIN CERTIFICATE block); it starts with {1!r}. {2}'.format(
                target.label[0].upper() + target.label[1:], excerpt(body, 80), hint),
        )
    try:
        return tls.load_certificates(''.join(blocks))
    except ValueError as exc:
        raise Failure('not_pem', 'The CA bundle {0} is not a valid PEM certificate bundle: {1}.'.format(target.where, exc))


def check_certificates(certificates, target):
    """Every certificate must be a CA and valid now."""
    count = len(certificates)
    for index, certificate in enumerate(certificates):
        subject = tls.subject_string(certificate)
        if not tls.is_ca(certificate):
            raise Failure(
                'not_ca',
                'Certificate {0!r} (number {1} of {2}) {3} is not a CA certificate (no basicConstraints CA:TRUE). '
                'The bundle must hold CA certificates, not a server certificate.'.format(subject, index + 1, count, target.where),
            )
        if not tls.is_valid_now(certificate):
            raise Failure(
                'not_valid_now',
                'CA certificate {0!r} (number {1} of {2}) {3} is not valid now: it is valid from {4} to {5}. '
                'Renew the DTR CA, or check the clock of this host.'.format(
                    subject, index + 1, count, target.where, tls.not_before(certificate), tls.not_after(certificate)),
            )


def describe_certificates(infos):
    return ', '.join('{0} ({1})'.format(info['sha256_fingerprint'], info['subject']) for info in infos)


def check_pins(pins, infos, target):
    """With pins, every certificate of the bundle must be pinned: each one would be trusted (chain check, pem)."""
    if not pins:
        return
    actual = [info['sha256_fingerprint'] for info in infos]
    unpinned = [info for info in infos if info['sha256_fingerprint'] not in pins]
    if len(unpinned) == len(infos):
        raise Failure(
            'fingerprint_mismatch',
            'The CA bundle {0} does not contain a certificate with a pinned SHA-256 fingerprint. '
            'Expected one of: {1}. The bundle has: {2}. If the DTR CA was replaced on purpose, update sha256_fingerprint; '
            'otherwise something other than DTR answers at this URL.'.format(target.where, ', '.join(pins), describe_certificates(infos)),
            expected_fingerprints=pins,
            actual_fingerprints=actual,
        )
    if unpinned:
        raise Failure(
            'unpinned_certificate',
            'The CA bundle {0} holds {1} certificate(s) that sha256_fingerprint does not pin: {2}. Every certificate of the '
            'bundle would be trusted, so all of them must be pinned. If DTR serves them on purpose (a CA rotation, say), add '
            'their fingerprints to sha256_fingerprint; otherwise something other than DTR answers at this URL.'
            .format(target.where, len(unpinned), describe_certificates(unpinned)),
            unpinned_certificates=[dict(sha256_fingerprint=info['sha256_fingerprint'], subject=info['subject']) for info in unpinned],
            expected_fingerprints=pins,
            actual_fingerprints=actual,
        )


# --- chain check ------------------------------------------------------------------------------------------------


def served_sans(target, module, deadline):
    """Best effort: the SANs of the certificate the host serves, for error messages."""
    try:
        der = tls.fetch_peer_certificate(target.host, target.port, timeout=module.params['timeout'], deadline=deadline)
        return tls.subject_alt_names(tls.load_certificate(der))
    except Exception:  # pylint: disable=broad-except
        return None


def chain_failure(error, module, target, deadline, bundle):
    host, port = target.host, target.port
    if error.kind == tls.KIND_UNTRUSTED:
        msg = ('{0}:{1} does not present a certificate issued by the CA bundle {2} ({3}). The bundle is not the CA of the '
               'server that answers at this address (wrong URL, or a proxy or load balancer answering in its place). '
               'Check url; set verify_chain=false only if this host is known to use another CA and the bundle is pinned.'
               .format(host, port, bundle, error.detail))
        return Failure(error.kind, msg)
    if error.kind == tls.KIND_HOSTNAME:
        sans = served_sans(target, module, deadline)
        covers = ', '.join(sans) if sans else 'no subjectAltName entries'
        msg = ('{0}:{1} presents a certificate issued by the CA bundle, but it does not cover the host name {0!r} ({2}); '
               'it covers: {3}. Use one of those names in url.'.format(host, port, error.detail, covers))
        return Failure(error.kind, msg)
    return http_common.connection_failure(
        error, 'Cannot verify the certificate chain of {0}:{1}'.format(host, port), host, port, module.params['timeout'])


def verify_chain(module, target, pem, deadline, bundle):
    """Require that the host presents a certificate issued by ``pem`` for its name. A HEAD: only the handshake counts."""
    try:
        http_common.exchange(new_request(module.params), 'HEAD', target.url, deadline, tls.ca_context(pem),
                             read_body=False, headers={'Accept': ACCEPT})
    except tls.TLSCheckError as error:
        raise chain_failure(error, module, target, deadline, bundle)
    # Any HTTP status will do: TLS was established and verified.


# --- dest -------------------------------------------------------------------------------------------------------


def read_file(path):
    with open(path, 'rb') as handle:
        return handle.read()


def write_atomically(module, dest, content):
    """Write ``content`` (bytes) to ``dest`` through a temporary file in the same directory."""
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise Failure('write_error', 'Cannot write {0}: the directory {1} does not exist. Create it first.'.format(dest, directory))
    try:
        handle, temp_path = tempfile.mkstemp(prefix='.dtr_ca.', suffix='.tmp', dir=directory)
    except OSError as exc:
        raise Failure('write_error', 'Cannot write {0}: {1}. Check the permissions of {2}.'.format(dest, to_native(exc), directory))
    try:
        with os.fdopen(handle, 'wb') as temp_file:
            temp_file.write(content)
        os.chmod(temp_path, 0o644)
        module.atomic_move(temp_path, dest)
        os.chmod(dest, 0o644)
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)


def update_dest(module, dest, pem):
    """Compare and, outside check mode, write. Returns (changed, diff)."""
    if os.path.isdir(dest):
        raise Failure('write_error', 'dest {0} is a directory; give the path of the bundle file.'.format(dest))
    content = to_bytes(pem)
    before = None
    if os.path.exists(dest):
        try:
            before = read_file(dest)
        except (IOError, OSError) as exc:
            raise Failure('write_error', 'Cannot read {0}: {1}.'.format(dest, to_native(exc)))
    changed = before != content
    diff = dict(
        before=to_text(before, errors='replace') if before is not None else '',
        after=pem,
        before_header=dest,
        after_header=dest,
    )
    if changed and not module.check_mode:
        try:
            write_atomically(module, dest, content)
        except Failure:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise Failure('write_error', 'Cannot write {0}: {1}.'.format(dest, to_native(exc)))
    return changed, diff


# --- run --------------------------------------------------------------------------------------------------------


def read_bundle(module, target, deadline):
    """The bundle's bytes or text: ``content``, or the download."""
    params = module.params
    if params['content'] is not None:
        for name in ('ca_path', 'ca_content'):
            if params[name]:
                module.warn('{0} is ignored: it verifies the download, and with content nothing is downloaded.'.format(name))
        if params['url'] and not params['verify_chain']:
            module.warn('url is not used: with content it serves only the chain check, which verify_chain=false turns off.')
        return params['content']
    context = http_common.connection_context(module, CA_PATH_HINT)
    return fetch_bundle(module, target, context, deadline)


def summary(certificates, infos, pem):
    return dict(
        pem=pem,
        certificates=[
            dict((key, info[key]) for key in ('subject', 'issuer', 'sha256_fingerprint', 'not_before', 'not_after'))
            for info in infos
        ],
        sha256_fingerprints=[info['sha256_fingerprint'] for info in infos],
        subjects=[info['subject'] for info in infos],
        not_after=tls.iso8601(min(tls.not_after_datetime(certificate) for certificate in certificates)),
    )


def run(module, target):
    params = module.params
    pins = parse_pins(params['sha256_fingerprint'])
    check_trust_options(params, pins)
    http_common.check_timeout(params)
    deadline = Deadline(params['timeout'])

    body = read_bundle(module, target, deadline)
    certificates = parse_bundle(body, target)
    infos = [tls.certificate_info(certificate) for certificate in certificates]
    check_pins(pins, infos, target)
    check_certificates(certificates, target)
    # After check_pins, every certificate here is pinned (or nothing is pinned): only those are trusted below.
    pem = ''.join(tls.certificate_pem(certificate) for certificate in certificates)
    if target.url and params['verify_chain']:
        bundle = 'given in content' if params['content'] is not None else target.where
        verify_chain(module, target, pem, deadline, bundle)

    result = dict(changed=False, url=target.url, dest=params['dest'], **summary(certificates, infos, pem))
    if params['dest']:
        changed, diff = update_dest(module, params['dest'], pem)
        result['changed'] = changed
        if module._diff:
            result['diff'] = diff
    return result


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    argument_spec = dict(
        url=dict(type='str'),
        content=dict(type='str'),
        sha256_fingerprint=dict(type='list', elements='str', default=[]),
        verify_chain=dict(type='bool', default=True),
        dest=dict(type='path'),
    )
    argument_spec.update(http_common.connection_argument_spec(timeout=30, validate_certs=False))
    return dict(
        argument_spec=argument_spec,
        required_one_of=[('url', 'content')],
        mutually_exclusive=http_common.CONNECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
    if not tls.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=tls.CRYPTOGRAPHY_IMPORT_ERROR)

    url = module.params['url']
    try:
        target = Target(*build_fetch_url(url)) if url else Target()
        url = target.url
        result = run(module, target)
    except Failure as exc:
        module.fail_json(msg=exc.msg, failure_kind=exc.kind, url=url, dest=module.params['dest'], **exc.extra)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
