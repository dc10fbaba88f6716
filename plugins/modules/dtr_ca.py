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
    C(downstream) middleware.
  - Checks that the answer is a PEM bundle of CA certificates that are valid now.
  - Optionally pins the bundle with SHA-256 fingerprints and, by default, checks that the DTR host presents a certificate
    issued by the fetched CA for its host name. This replaces the trust-on-first-use C(curl -k https://dtr/ca) of the
    upstream guide with checked trust.
  - Optionally writes the bundle to a file, atomically and only when the content differs.
extends_documentation_fragment:
  - dtr.cache.attributes
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
      - Must use C(https).
    type: str
    required: true
  sha256_fingerprint:
    description:
      - SHA-256 fingerprints of CA certificates to pin, as printed by C(openssl x509 -noout -fingerprint -sha256).
      - Upper or lower case, with or without colons.
      - The fetched bundle must contain at least one certificate whose fingerprint is in this list.
      - An empty list disables pinning.
    type: list
    elements: str
    default: []
  verify_chain:
    description:
      - After fetching, connect to the host and port of O(url) and require that the certificate the host presents chains
        to the fetched bundle and covers the host name.
      - The connection honours O(use_proxy) like the download does.
    type: bool
    default: true
  validate_certs:
    description:
      - Whether to verify the server certificate while downloading.
      - Defaults to V(false) because the CA is what is being fetched; without O(ca_path) the system trust store is
        unlikely to know it. Trust comes from O(verify_chain) and O(sha256_fingerprint) instead.
      - Set to V(true) together with O(ca_path) when a copy of the CA is already trusted.
    type: bool
    default: false
  ca_path:
    description:
      - PEM file of CA certificates used to verify the server while downloading, when O(validate_certs=true).
      - Without it the system trust store is used. Ignored, with a warning, when O(validate_certs=false).
    type: path
  timeout:
    description:
      - Timeout in seconds of each connection.
    type: int
    default: 30
  use_proxy:
    description:
      - Whether to use the proxy from the C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
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

- name: Fetch the bundle from another URL, trusting a CA already on disk
  dtr.cache.dtr_ca:
    url: https://pki.example.com/dtr/ca-bundle.pem
    validate_certs: true
    ca_path: /etc/pki/ca-trust/source/anchors/corp-root.pem
    verify_chain: false

- name: Show when the CA expires
  ansible.builtin.debug:
    msg: "{{ dtr_ca.subjects | first }} expires {{ dtr_ca.not_after }}"
"""

RETURN = r"""
url:
  description: The URL the bundle was fetched from.
  returned: always
  type: str
  sample: https://dtr.example.com/ca
pem:
  description: The bundle as normalized PEM, one block per certificate in the order served, text outside the blocks dropped.
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
failure_kind:
  description:
    - Why the module failed, for callers that branch on it.
    - One of V(untrusted_certificate), V(hostname_mismatch), V(connection_refused), V(timeout), V(tls_error),
      V(connection_error), V(http_error), V(not_pem), V(not_ca), V(not_valid_now), V(fingerprint_mismatch),
      V(invalid_argument), V(write_error).
  returned: failure
  type: str
  sample: fingerprint_mismatch
"""

import os
import tempfile
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.urls import Request, SSLValidationError, open_url

from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-dtr_ca'
ACCEPT = 'application/x-pem-file, application/x-x509-ca-cert, text/plain;q=0.9, */*;q=0.5'


def build_fetch_url(url):
    """The URL of the bundle: ``/ca`` appended to a base URL, any other path kept."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Failure('invalid_argument', 'url {0!r} is not a valid URL: {1}'.format(url, exc))
    if parts.scheme.lower() != 'https':
        raise Failure(
            'invalid_argument',
            'url must be an https:// URL such as https://dtr.example.com, got {0!r}. DTR serves its CA only over HTTPS.'.format(url),
        )
    if not parts.hostname:
        raise Failure('invalid_argument', 'url {0!r} has no host name; use the form https://dtr.example.com'.format(url))
    if parts.path in ('', '/'):
        parts = parts._replace(path='/ca')
    return urlunsplit(parts), parts.hostname, port or 443


def describe_connection_failure(error, url, host, port, timeout, ca_path):
    """A readable message for a classified connection error of the download."""
    if error.kind == tls.KIND_UNTRUSTED:
        where = 'the CA in {0}'.format(ca_path) if ca_path else 'a CA of the system trust store'
        return ('Cannot fetch the CA bundle from {0}: the server certificate is not signed by {1} ({2}). '
                'Check ca_path, or leave validate_certs=false and rely on verify_chain and sha256_fingerprint.'
                .format(url, where, error.detail))
    if error.kind == tls.KIND_HOSTNAME:
        return ('Cannot fetch the CA bundle from {0}: the server certificate does not cover the host name {1!r} ({2}). '
                'Use the host name the DTR certificate was issued for.'.format(url, host, error.detail))
    if error.kind == tls.KIND_REFUSED:
        return ('Cannot fetch the CA bundle from {0}: connection to {1}:{2} refused. '
                'Check the host and port of url and that DTR is running.'.format(url, host, port))
    if error.kind == tls.KIND_TIMEOUT:
        return ('Cannot fetch the CA bundle from {0}: no answer within {1} seconds. '
                'Check the host, firewalls and proxy settings (use_proxy), or raise timeout.'.format(url, timeout))
    if error.kind == tls.KIND_TLS:
        return ('Cannot fetch the CA bundle from {0}: the TLS handshake failed ({1}). '
                'Check that the port serves HTTPS.'.format(url, error.detail))
    return 'Cannot fetch the CA bundle from {0}: {1}. Check the host name, network and proxy settings.'.format(url, error.detail)


def classify(exc):
    """A TLSCheckError for any connection-level exception from urllib/ssl/socket."""
    if isinstance(exc, SSLValidationError):
        return tls.TLSCheckError(tls.KIND_UNTRUSTED, to_native(exc))
    classified = tls.classify_connection_error(exc)
    if classified is None:
        classified = tls.TLSCheckError(tls.KIND_CONNECTION, to_native(exc))
    return classified


def fetch_bundle(module, fetch_url, host, port):
    """GET the bundle; returns the body bytes or raises Failure."""
    params = module.params
    try:
        response = open_url(
            fetch_url,
            method='GET',
            headers={'Accept': ACCEPT},
            use_proxy=params['use_proxy'],
            timeout=params['timeout'],
            validate_certs=params['validate_certs'],
            ca_path=params['ca_path'] if params['validate_certs'] else None,
            http_agent=HTTP_AGENT,
        )
        try:
            return response.read()
        finally:
            response.close()
    except HTTPError as exc:
        body = b''
        try:
            body = exc.read() or b''
        except Exception:  # pylint: disable=broad-except
            pass
        raise Failure(
            'http_error',
            'GET {0} answered HTTP {1} {2}: {3!r}. Check that url points at DTR; its /ca endpoint needs no login.'
            .format(fetch_url, exc.code, exc.reason, excerpt(body, 200)),
            status=exc.code,
        )
    except (URLError, OSError, ValueError, HTTPException, SSLValidationError) as exc:
        error = classify(exc)
        raise Failure(error.kind, describe_connection_failure(error, fetch_url, host, port, params['timeout'], params['ca_path']))


def parse_bundle(body, fetch_url):
    """Parse the PEM bundle; returns the certificate objects or raises Failure."""
    blocks = tls.split_pem_certificates(body)
    if not blocks:
        raise Failure(
            'not_pem',
            'The answer from {0} is not a PEM certificate bundle (no BEGIN CERTIFICATE block); it starts with {1!r}. '
            'Check that url points at the DTR /ca endpoint.'.format(fetch_url, excerpt(body, 80)),
        )
    try:
        return tls.load_certificates(body)
    except ValueError as exc:
        raise Failure('not_pem', 'The answer from {0} is not a valid PEM certificate bundle: {1}.'.format(fetch_url, exc))


def check_certificates(certificates, fetch_url):
    """Every certificate must be a CA and valid now."""
    count = len(certificates)
    for index, certificate in enumerate(certificates):
        subject = tls.subject_string(certificate)
        if not tls.is_ca(certificate):
            raise Failure(
                'not_ca',
                'Certificate {0!r} (number {1} of {2}) from {3} is not a CA certificate (no basicConstraints CA:TRUE). '
                'The URL must serve the CA bundle, not a server certificate.'.format(subject, index + 1, count, fetch_url),
            )
        if not tls.is_valid_now(certificate):
            raise Failure(
                'not_valid_now',
                'CA certificate {0!r} (number {1} of {2}) from {3} is not valid now: it is valid from {4} to {5}. '
                'Renew the DTR CA, or check the clock of this host.'.format(
                    subject, index + 1, count, fetch_url, tls.not_before(certificate), tls.not_after(certificate)),
            )


def check_pins(pins, infos, fetch_url):
    """At least one certificate of the bundle must carry a pinned fingerprint."""
    if not pins:
        return
    actual = [info['sha256_fingerprint'] for info in infos]
    if set(pins) & set(actual):
        return
    described = ', '.join('{0} ({1})'.format(info['sha256_fingerprint'], info['subject']) for info in infos)
    raise Failure(
        'fingerprint_mismatch',
        'The CA bundle from {0} does not contain a certificate with a pinned SHA-256 fingerprint. '
        'Expected one of: {1}. The bundle has: {2}. If the DTR CA was replaced on purpose, update sha256_fingerprint; '
        'otherwise something other than DTR answers at this URL.'.format(fetch_url, ', '.join(pins), described),
        expected_fingerprints=pins,
        actual_fingerprints=actual,
    )


def served_sans(host, port, timeout):
    """Best effort: the SANs of the certificate the host serves, for error messages."""
    try:
        der = tls.fetch_peer_certificate(host, port, timeout=timeout)
        return tls.subject_alt_names(tls.load_certificate(der))
    except Exception:  # pylint: disable=broad-except
        return None


def verify_chain(module, fetch_url, host, port, pem):
    """Require that the host presents a certificate issued by the fetched CA for its name."""
    params = module.params
    request = Request(use_proxy=params['use_proxy'], timeout=params['timeout'], http_agent=HTTP_AGENT)
    try:
        response = request.open('GET', fetch_url, headers={'Accept': ACCEPT}, context=tls.ca_context(pem))
        response.close()
        return
    except HTTPError:
        return  # TLS was established and verified; the status does not matter here.
    except (URLError, OSError, ValueError, HTTPException, SSLValidationError) as exc:
        error = classify(exc)
    if error.kind == tls.KIND_UNTRUSTED:
        msg = ('{0}:{1} does not present a certificate issued by the CA bundle fetched from {2} ({3}). '
               'The bundle is not the CA of the server that answers at this address (wrong URL, or a proxy or load balancer '
               'answering in its place). Check url; set verify_chain=false only if this host is known to use another CA.'
               .format(host, port, fetch_url, error.detail))
    elif error.kind == tls.KIND_HOSTNAME:
        sans = served_sans(host, port, params['timeout'])
        covers = ', '.join(sans) if sans else 'no subjectAltName entries'
        msg = ('{0}:{1} presents a certificate issued by the fetched CA, but it does not cover the host name {0!r} ({2}); '
               'it covers: {3}. Use one of those names in url.'.format(host, port, error.detail, covers))
    else:
        msg = 'Cannot verify the certificate chain of {0}:{1}: {2}'.format(
            host, port, describe_connection_failure(error, fetch_url, host, port, params['timeout'], None))
    raise Failure(error.kind, msg)


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


def run(module, fetch_url, host, port):
    params = module.params
    result = dict(changed=False, url=fetch_url, dest=params['dest'])
    try:
        pins = [tls.normalize_fingerprint(pin) for pin in params['sha256_fingerprint'] or []]
    except ValueError as exc:
        raise Failure('invalid_argument', 'sha256_fingerprint: {0}.'.format(exc))

    if params['ca_path']:
        if not params['validate_certs']:
            module.warn('ca_path is ignored because validate_certs is false.')
        else:
            try:
                tls.check_ca_file(params['ca_path'])
            except ValueError as exc:
                raise Failure('invalid_argument', 'ca_path: {0}. Give a PEM file of CA certificates.'.format(exc))

    body = fetch_bundle(module, fetch_url, host, port)
    certificates = parse_bundle(body, fetch_url)
    infos = [tls.certificate_info(certificate) for certificate in certificates]
    check_pins(pins, infos, fetch_url)
    check_certificates(certificates, fetch_url)
    pem = ''.join(tls.certificate_pem(certificate) for certificate in certificates)
    if params['verify_chain']:
        verify_chain(module, fetch_url, host, port, pem)

    result.update(
        pem=pem,
        certificates=[
            dict((key, info[key]) for key in ('subject', 'issuer', 'sha256_fingerprint', 'not_before', 'not_after'))
            for info in infos
        ],
        sha256_fingerprints=[info['sha256_fingerprint'] for info in infos],
        subjects=[info['subject'] for info in infos],
        not_after=tls.iso8601(min(tls.not_after_datetime(certificate) for certificate in certificates)),
    )
    if params['dest']:
        changed, diff = update_dest(module, params['dest'], pem)
        result['changed'] = changed
        if module._diff:
            result['diff'] = diff
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            sha256_fingerprint=dict(type='list', elements='str', default=[]),
            verify_chain=dict(type='bool', default=True),
            validate_certs=dict(type='bool', default=False),
            ca_path=dict(type='path'),
            timeout=dict(type='int', default=30),
            use_proxy=dict(type='bool', default=True),
            dest=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    if not tls.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=tls.CRYPTOGRAPHY_IMPORT_ERROR)
    if module.params['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds, got {0}.'.format(module.params['timeout']),
                         failure_kind='invalid_argument')

    fetch_url = module.params['url']
    try:
        fetch_url, host, port = build_fetch_url(fetch_url)
        result = run(module, fetch_url, host, port)
    except Failure as exc:
        module.fail_json(msg=exc.msg, failure_kind=exc.kind, url=fetch_url, dest=module.params['dest'], **exc.extra)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
