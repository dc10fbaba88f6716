# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""certificate_pipe: a CA and a server certificate it signs, checked with cryptography's own verifier."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from ansible_collections.dtr.cache.plugins.modules import certificate_pipe


def new_key():
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def issue(run_module, **args):
    result = run_module(certificate_pipe, args)
    assert not result.get('failed'), result.get('msg')
    return x509.load_pem_x509_certificate(result['certificate'].encode()), result


def test_a_ca_and_a_server_certificate_that_verifies_against_it(run_module):
    ca_key, server_key = new_key(), new_key()
    ca, ca_result = issue(run_module, privatekey_content=ca_key, common_name='Site CA', ca=True, valid_days=3650)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'Site CA'
    assert 3649 <= (ca.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days <= 3650
    assert ca_key not in str(ca_result)

    server, server_result = issue(
        run_module, privatekey_content=server_key, common_name='cache.example.test',
        subject_alt_name=['DNS:cache.example.test', 'IP:10.0.0.5'],
        issuer_content=ca_result['certificate'], issuer_privatekey_content=ca_key, valid_days=30)
    assert server_key not in str(server_result) and ca_key not in str(server_result)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert list(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert server.public_key().public_numbers() == serialization.load_pem_private_key(
        server_key.encode(), None).public_key().public_numbers()
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(x509.DNSName('cache.example.test'))
    chain = verifier.verify(server, [])
    assert chain[-1] == ca
    assert 29 <= (server.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days <= 30


def test_an_issuer_key_that_does_not_match_the_issuer_fails(run_module):
    ca_key = new_key()
    ca, ca_result = issue(run_module, privatekey_content=ca_key, common_name='Site CA', ca=True, valid_days=10)
    result = run_module(certificate_pipe, dict(
        privatekey_content=new_key(), common_name='cache', issuer_content=ca_result['certificate'],
        issuer_privatekey_content=new_key(), valid_days=10))
    assert result['failed'] and 'private key' in result['msg'].lower(), result['msg']
    assert 'certificate' not in result


def test_valid_days_below_one_is_refused(run_module):
    result = run_module(certificate_pipe, dict(privatekey_content=new_key(), common_name='x', valid_days=0))
    assert result['failed'] and 'valid_days must be at least 1' in result['msg']
