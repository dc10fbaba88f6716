# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the dtr.cache.covered_by test."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

import pytest

from ansible.errors import AnsibleError

from ansible_collections.dtr.cache.plugins.test import covered_by as plugin
from ansible_collections.dtr.cache.plugins.test.covered_by import covered_by, dns_matches, parse_san

# As community.crypto.x509_certificate_info returns them.
SANS = [
    "DNS:cache.example.com",
    "DNS:*.apps.example.com",
    "DNS:dtr-cache.dtr.svc.cluster.local",
    "IP:192.0.2.10",
    "IP:2001:db8::1",
    "email:admin@example.com",
    "URI:https://example.com/",
]


def test_test_names():
    assert plugin.TestModule().tests() == {"covered_by": covered_by}


@pytest.mark.parametrize("host", [
    "cache.example.com",
    "CACHE.Example.COM",
    "cache.example.com.",
    "dtr-cache.dtr.svc.cluster.local",
    "a.apps.example.com",
    "A.APPS.EXAMPLE.COM",
    "192.0.2.10",
    "2001:db8::1",
    "2001:DB8:0:0:0:0:0:1",
    "[2001:db8::1]",
    "https://cache.example.com",
    "https://cache.example.com:30443",
    "https://[2001:db8::1]:30443",
])
def test_covered(host):
    assert covered_by(host, SANS) is True


@pytest.mark.parametrize("host", [
    "example.com",                 # not the wildcard's parent
    "apps.example.com",            # the wildcard needs one more label
    "a.b.apps.example.com",        # the wildcard is one label only
    ".apps.example.com",           # empty label
    "*.apps.example.com",          # a wildcard host is not a host
    "other.example.com",
    "cache.example.com.evil.test",
    "cache.example.co",
    "192.0.2.11",
    "2001:db8::2",
    "dtr-cache",
    "cache.example.com:30443",     # a port without a scheme is not a host name
    "",
    "admin@example.com",
    "https://",
])
def test_not_covered(host):
    assert covered_by(host, SANS) is False


@pytest.mark.parametrize("host, sans, expected", [
    ("::1", ["IP:0:0::1"], True),
    ("0:0::1", ["IP:::1"], True),
    ("::1", ["IP Address:0:0:0:0:0:0:0:1"], True),
    ("10.0.0.5", ["IP Address:10.0.0.5"], True),
    ("10.0.0.5", ["ip:10.0.0.5"], True),
    ("10.0.0.5", ["IP: 10.0.0.5"], True),
    # an IP host matches IP names only
    ("10.0.0.5", ["DNS:10.0.0.5"], False),
    ("10.0.0.5", ["DNS:*.0.0.5"], False),
    ("10.0.0.5", ["DNS:*.0.5"], False),
    # a host name never matches an IP name
    ("cache.example.com", ["IP:10.0.0.5"], False),
    # an IPv4-mapped IPv6 address is another address
    ("10.0.0.5", ["IP:::ffff:10.0.0.5"], False),
    # malformed entries are skipped, not fatal
    ("10.0.0.5", ["IP:10.0.0.500", "IP:10.0.0.5"], True),
    ("10.0.0.5", ["IP:10.0.0.0/24"], False),
    ("cache.example.com", ["cache.example.com"], False),
    ("cache.example.com", [None, 5, "DNS:", "DNS:cache.example.com"], True),
    ("cache.example.com", [], False),
    ("cache.example.com", ("DNS:cache.example.com",), True),
    ("cache.example.com", ["dns:Cache.Example.Com."], True),
])
def test_ip_and_kind_rules(host, sans, expected):
    assert covered_by(host, sans) is expected


@pytest.mark.parametrize("pattern, host, expected", [
    ("*.example.com", "a.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False),
    ("*.example.com", "xn--bcher-kva.example.com", True),
    ("*.com", "example.com", False),         # no wildcard over a single label
    ("*", "localhost", False),
    ("f*.example.com", "foo.example.com", False),  # no partial wildcards
    ("*o.example.com", "foo.example.com", False),
    ("a.*.example.com", "a.b.example.com", False),  # only the left-most label
    ("a.example.*", "a.example.com", False),
    ("**.example.com", "a.example.com", False),
    ("*.example.com", "*.example.com", False),
    ("example.com", "example.com", True),
    ("example.com.", "example.com", True),
    ("example.com", "example.com.", True),
    ("example..com", "example..com", False),
    ("localhost", "localhost", True),
])
def test_dns_matches(pattern, host, expected):
    assert dns_matches(pattern, host) is expected


@pytest.mark.parametrize("san, parsed", [
    ("DNS:Cache.Example.com", ("DNS", "cache.example.com")),
    ("IP:192.0.2.1", ("IP", ipaddress.ip_address(u"192.0.2.1"))),
    ("IP Address:::1", ("IP", ipaddress.ip_address(u"::1"))),
    ("email:a@example.com", None),
    ("IP:not-an-ip", None),
    ("no-prefix", None),
    ("DNS:", None),
    (42, None),
])
def test_parse_san(san, parsed):
    assert parse_san(san) == parsed


@pytest.mark.parametrize("host, sans, message", [
    (None, SANS, "the host must be a string, got NoneType None"),
    (443, SANS, "the host must be a string, got int 443"),
    ("cache.example.com", "DNS:cache.example.com", "sans must be a list"),
    ("cache.example.com", None, "sans must be a list"),
    ("cache.example.com", {"DNS": "cache.example.com"}, "sans must be a list"),
])
def test_misuse_raises(host, sans, message):
    with pytest.raises(AnsibleError) as exc:
        covered_by(host, sans)
    assert message in str(exc.value)
    assert str(exc.value).startswith("dtr.cache.covered_by: ")
