#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: certificate_pipe
short_description: Issue a CA or a server certificate in memory with community.crypto
version_added: 0.2.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Makes a certificate signing request for O(privatekey_content) and the certificate from it, in one step, with the
    backends of M(community.crypto.openssl_csr_pipe) and M(community.crypto.x509_certificate_pipe). Nothing is written.
  - O(ca=true) makes a CA certificate (C(CA:TRUE), C(pathlen:0), C(keyCertSign) and C(cRLSign), all critical, with a
    subject key identifier); otherwise a TLS server certificate (C(CA:FALSE), C(digitalSignature), C(serverAuth)).
  - Self-signed without O(issuer_content); signed by that CA with it.
  - On the controller (a task with a local connection) it runs in the task's process, as
    M(community.crypto.openssl_privatekey_pipe) does, instead of starting a Python process for each of the two
    community.crypto modules.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.in_process
attributes:
  check_mode:
    support: full
    details:
      - Changes nothing outside the task's result, so check mode makes the certificate as a normal run does.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Each call issues a new certificate; keep it and decide with M(community.crypto.x509_certificate_info) whether
        it still fits.
options:
  privatekey_content:
    description: The PEM private key of the certificate's subject.
    type: str
    required: true
  common_name:
    description: The subject's common name.
    type: str
    required: true
  subject_alt_name:
    description: Subject alternative names, each with its prefix, such as V(DNS:cache.example.com) or V(IP:10.0.0.5).
    type: list
    elements: str
    default: []
  ca:
    description: Make a CA certificate instead of a server certificate.
    type: bool
    default: false
  issuer_content:
    description: The PEM certificate of the CA that signs. Without it, the certificate is self-signed.
    type: str
  issuer_privatekey_content:
    description: The CA's PEM private key. Required with O(issuer_content).
    type: str
  issuer_privatekey_passphrase:
    description: The passphrase of O(issuer_privatekey_content), when it is encrypted.
    type: str
  valid_days:
    description: Days from now until the certificate expires.
    type: int
    required: true
requirements:
  - cryptography >= 3.3
  - community.crypto >= 3.0.0
seealso:
  - module: community.crypto.openssl_csr_pipe
  - module: community.crypto.x509_certificate_pipe
  - module: community.crypto.openssl_privatekey_pipe
"""

EXAMPLES = r"""
- name: A CA key
  community.crypto.openssl_privatekey_pipe:
    type: ECC
    curve: secp384r1
  register: ca_key

- name: A self-signed CA certificate
  dtr.cache.certificate_pipe:
    privatekey_content: "{{ ca_key.privatekey }}"
    common_name: Site CA
    ca: true
    valid_days: 3650
  register: ca
  no_log: true

- name: A server certificate signed by that CA
  dtr.cache.certificate_pipe:
    privatekey_content: "{{ server_key.privatekey }}"
    common_name: cache.example.com
    subject_alt_name: [DNS:cache.example.com, IP:10.0.0.5]
    issuer_content: "{{ ca.certificate }}"
    issuer_privatekey_content: "{{ ca_key.privatekey }}"
    valid_days: 365
  register: server
  no_log: true
"""

RETURN = r"""
certificate:
  description: The certificate, PEM.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

try:
    from ansible_collections.community.crypto.plugins.module_utils._crypto.basic import OpenSSLObjectError
    from ansible_collections.community.crypto.plugins.module_utils._crypto.module_backends import certificate, csr
    from ansible_collections.community.crypto.plugins.module_utils._crypto.module_backends.certificate_ownca import (
        OwnCACertificateProvider,
        add_ownca_provider_to_argument_spec,
    )
    from ansible_collections.community.crypto.plugins.module_utils._crypto.module_backends.certificate_selfsigned import (
        SelfSignedCertificateProvider,
        add_selfsigned_provider_to_argument_spec,
    )
    COMMUNITY_CRYPTO_ERROR = None
except ImportError as exc:  # community.crypto older than 3.0.0 keeps these elsewhere
    COMMUNITY_CRYPTO_ERROR = exc

CA_PROFILE = dict(basic_constraints=['CA:TRUE', 'pathlen:0'], basic_constraints_critical=True,
                  key_usage=['keyCertSign', 'cRLSign'], key_usage_critical=True, create_subject_key_identifier=True)
SERVER_PROFILE = dict(basic_constraints=['CA:FALSE'], key_usage=['digitalSignature'], extended_key_usage=['serverAuth'])


class _Step(object):
    """What a community.crypto backend asks of its module: its own options, and the real module's reporting."""

    def __init__(self, module, spec, params):
        validated = ArgumentSpecValidator(
            spec.argument_spec, mutually_exclusive=spec.mutually_exclusive, required_together=spec.required_together,
            required_one_of=spec.required_one_of, required_if=spec.required_if, required_by=spec.required_by,
        ).validate(params)
        if validated.error_messages:
            module.fail_json(msg='; '.join(validated.error_messages))
        self.params = validated.validated_parameters
        self.check_mode = False  # in memory only: check mode makes the same certificate
        self.fail_json = module.fail_json
        self.warn = module.warn


def make_csr(module):
    params = module.params
    spec = csr.get_csr_argument_spec()
    options = dict(CA_PROFILE if params['ca'] else SERVER_PROFILE, privatekey_content=params['privatekey_content'],
                   common_name=params['common_name'], subject_alt_name=params['subject_alt_name'] or None,
                   use_common_name_for_san=False)
    backend = csr.select_backend(_Step(module, spec, options))
    backend.set_existing(csr_bytes=None)
    backend.generate_csr()
    return backend.get_csr_data().decode('ascii')


def make_certificate(module, request):
    params = module.params
    spec = certificate.get_certificate_argument_spec()
    not_after = '+{0}d'.format(params['valid_days'])
    if params['issuer_content']:
        add_ownca_provider_to_argument_spec(spec)
        provider = OwnCACertificateProvider()
        options = dict(provider='ownca', csr_content=request, ownca_content=params['issuer_content'],
                       ownca_privatekey_content=params['issuer_privatekey_content'],
                       ownca_privatekey_passphrase=params['issuer_privatekey_passphrase'], ownca_not_after=not_after)
    else:
        add_selfsigned_provider_to_argument_spec(spec)
        provider = SelfSignedCertificateProvider()
        options = dict(provider='selfsigned', csr_content=request, privatekey_content=params['privatekey_content'],
                       selfsigned_not_after=not_after)
    backend = certificate.select_backend(module=_Step(module, spec, options), provider=provider)
    backend.set_existing(None)
    backend.generate_certificate()
    return backend.get_certificate_data().decode('ascii')


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    return dict(
        argument_spec=dict(
            privatekey_content=dict(type='str', required=True, no_log=True),
            common_name=dict(type='str', required=True),
            subject_alt_name=dict(type='list', elements='str', default=[]),
            ca=dict(type='bool', default=False),
            issuer_content=dict(type='str'),
            issuer_privatekey_content=dict(type='str', no_log=True),
            issuer_privatekey_passphrase=dict(type='str', no_log=True),
            valid_days=dict(type='int', required=True),
        ),
        required_together=[('issuer_content', 'issuer_privatekey_content')],
        supports_check_mode=True,
    )


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
    if COMMUNITY_CRYPTO_ERROR is not None:
        module.fail_json(msg=missing_required_lib('community.crypto >= 3.0.0'), exception=str(COMMUNITY_CRYPTO_ERROR))
    if module.params['valid_days'] < 1:
        module.fail_json(msg='valid_days must be at least 1, got {0}.'.format(module.params['valid_days']))
    try:
        pem = make_certificate(module, make_csr(module))
    except OpenSSLObjectError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, certificate=pem)


if __name__ == '__main__':
    main()
