# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: covered_by
short_description: Whether a certificate's subject alternative names cover a host
version_added: 0.1.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - True when one of the subject alternative names O(sans) matches the host O(_input), with the
    rules TLS clients use (RFC 6125, without partial wildcards).
  - Host names compare case-insensitively; one trailing dot is ignored.
  - A wildcard matches only as the whole left-most label of a V(DNS:) name with at least two more
    labels, and stands for exactly one non-empty label. V(DNS:*.example.com) covers V(a.example.com) but neither V(example.com) nor
    V(a.b.example.com). Names such as V(DNS:f*.example.com), V(DNS:a.*.example.com) or V(DNS:*.com) cover nothing.
  - An IP address host is matched only by V(IP:) names, compared as addresses (V(::1) equals V(0:0::1)),
    never by V(DNS:) names nor wildcards. A host name is never matched by V(IP:) names.
  - The common name is not considered, as modern clients ignore it.
  - Names of other kinds (V(email:), V(URI:), ...) and malformed entries are ignored.
options:
  _input:
    description:
      - The host name or IP address a client connects to. A URL such as
        V(https://node1.example.com:30443) is accepted too; its host is used. An IPv6 address may be in brackets.
    type: string
    required: true
  sans:
    description:
      - The subject alternative names, as the C(subject_alt_name) of
        M(community.crypto.x509_certificate_info) returns them (V(DNS:name), V(IP:address)).
        The OpenSSL text form V(IP Address:address) is also understood.
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
---
- name: Read the cache certificate
  community.crypto.x509_certificate_info:
    path: /tmp/cache.cert.pem
  register: _cert

- name: Make sure the certificate names the host clients use
  ansible.builtin.assert:
    that:
      - dtr_cache_external_host is dtr.cache.covered_by(_cert.subject_alt_name)
    fail_msg: >-
      The certificate's names {{ _cert.subject_alt_name }} do not cover {{ dtr_cache_external_host }}:
      add it to the certificate, or make a new one.
"""

RETURN = r"""
_value:
  description:
    - Whether a name in O(sans) covers the host.
  type: bool
"""

import ipaddress
from urllib.parse import urlsplit

from ansible.errors import AnsibleError

_IP_PREFIXES = ("ip", "ip address")


def parse_san(san):
    """('DNS', lower-case name) or ('IP', address) for one SAN; None for anything else."""
    if not isinstance(san, str):
        return None
    kind, sep, value = san.partition(":")
    if not sep:
        return None
    kind, value = kind.strip().lower(), value.strip()
    if kind == "dns" and value:
        return "DNS", value.lower()
    if kind in _IP_PREFIXES:
        try:
            return "IP", ipaddress.ip_address(value)
        except ValueError:
            return None
    return None


def _host_part(host):
    """The bare host of host, which may be a URL or a bracketed IPv6 address."""
    host = host.strip()
    if "://" in host:
        try:
            return urlsplit(host).hostname or ""
        except ValueError:
            return ""
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    return host


def _host_ip(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _strip_dot(name):
    """Drop one trailing dot (absolute form); keep anything else as is."""
    return name[:-1] if name.endswith(".") else name


def dns_matches(pattern, host):
    """RFC 6125 match of a lower-case host against a lower-case DNS SAN pattern."""
    pattern, host = _strip_dot(pattern), _strip_dot(host)
    host_labels = host.split(".")
    if not host or "" in host_labels or "*" in host:
        return False
    labels = pattern.split(".")
    if "" in labels or "*" in "".join(labels[1:]):
        return False
    if labels[0] == "*":
        return len(labels) == len(host_labels) and len(labels) > 2 and labels[1:] == host_labels[1:]
    return labels == host_labels


def covered_by(host, sans):
    """Test: whether one of sans covers host."""
    if not isinstance(host, str):
        raise AnsibleError("dtr.cache.covered_by: the host must be a string, got %s %r" % (type(host).__name__, host))
    if isinstance(sans, (str, bytes)) or not isinstance(sans, (list, tuple)):
        raise AnsibleError("dtr.cache.covered_by: sans must be a list such as ['DNS:cache.example.com', 'IP:10.0.0.5'], got %r" % (sans,))
    name = _host_part(host)
    address = _host_ip(name)
    for san in sans:
        parsed = parse_san(san)
        if parsed is None:
            continue
        kind, value = parsed
        if address is not None:
            if kind == "IP" and value == address:
                return True
        elif kind == "DNS" and dns_matches(value, name.lower()):
            return True
    return False


class TestModule(object):
    """Certificate coverage test."""

    def tests(self):
        return {
            "covered_by": covered_by,
        }
