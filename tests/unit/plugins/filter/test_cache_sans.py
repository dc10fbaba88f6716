# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the dtr.cache.cache_sans filter."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dtr.cache.plugins.filter.cache_sans import FilterModule, cache_sans

SERVICE_SANS = [
    "DNS:dtr-cache",
    "DNS:dtr-cache.dtr",
    "DNS:dtr-cache.dtr.svc",
    "DNS:dtr-cache.dtr.svc.cluster.local",
]


def params(**overrides):
    base = {
        "name": "dtr-cache",
        "namespace": "dtr",
        "expose": "nodeport",
        "external_host": "node1.example.com",
        "extra_sans": [],
    }
    base.update(overrides)
    return base


def test_filter_names():
    assert FilterModule().filters() == {"cache_sans": cache_sans}


def test_external_host_first_then_service_names():
    assert cache_sans(params()) == ["DNS:node1.example.com"] + SERVICE_SANS


def test_order_external_extra_service():
    result = cache_sans(params(expose="ingress", external_host="cache.example.com",
                               extra_sans=["alias.example.com", "IP:10.0.0.5", "DNS:*.apps.example.com", "2001:db8::7"]))
    assert result == [
        "DNS:cache.example.com",
        "DNS:alias.example.com",
        "IP:10.0.0.5",
        "DNS:*.apps.example.com",
        "IP:2001:db8::7",
    ] + SERVICE_SANS


def test_cluster_domain():
    result = cache_sans(params(cluster_domain="k8s.internal"))
    assert result[-1] == "DNS:dtr-cache.dtr.svc.k8s.internal"
    assert "DNS:dtr-cache.dtr.svc.cluster.local" not in result


@pytest.mark.parametrize("value", [None, ""])
def test_cluster_domain_defaults(value):
    assert cache_sans(params(cluster_domain=value))[-1] == "DNS:dtr-cache.dtr.svc.cluster.local"


def test_dedup_keeps_first_and_lowercases():
    result = cache_sans(params(external_host="Node1.Example.COM",
                               extra_sans=["node1.example.com", "DNS:NODE1.example.com", "dtr-cache.dtr.svc", "10.0.0.5", "IP:10.0.0.5"]))
    # a service name given in extra_sans keeps its earlier place
    assert result == [
        "DNS:node1.example.com",
        "DNS:dtr-cache.dtr.svc",
        "IP:10.0.0.5",
        "DNS:dtr-cache",
        "DNS:dtr-cache.dtr",
        "DNS:dtr-cache.dtr.svc.cluster.local",
    ]


def test_ip_detection_and_canonical_form():
    result = cache_sans(params(external_host="192.0.2.10", expose="loadbalancer",
                               extra_sans=["2001:DB8:0:0::1", "IP:::1", "ip:0:0::1", "dns:Alias.example.com"]))
    assert result == ["IP:192.0.2.10", "IP:2001:db8::1", "IP:::1", "DNS:alias.example.com"] + SERVICE_SANS


def test_clusterip_needs_no_external_name():
    assert cache_sans(params(expose="clusterip", external_host=None, extra_sans=None)) == SERVICE_SANS
    assert cache_sans(params(expose="clusterip", external_host="")) == SERVICE_SANS


@pytest.mark.parametrize("expose", ["nodeport", "loadbalancer"])
def test_extra_sans_can_stand_in_for_external_host(expose):
    assert cache_sans(params(expose=expose, external_host="", extra_sans=["10.0.0.5"])) == ["IP:10.0.0.5"] + SERVICE_SANS


def test_route():
    assert cache_sans(params(expose="route", external_host="cache.apps.example.com"))[0] == "DNS:cache.apps.example.com"


def test_wildcard_in_extra_sans():
    assert cache_sans(params(extra_sans=["*.Example.com"]))[1] == "DNS:*.example.com"


def test_single_label_and_numeric_labels():
    assert cache_sans(params(extra_sans=["localhost", "1and1.example.com", "123.example.com"]))[1:4] == [
        "DNS:localhost", "DNS:1and1.example.com", "DNS:123.example.com"]


def test_tuple_extra_sans():
    assert cache_sans(params(extra_sans=("10.0.0.5",)))[1] == "IP:10.0.0.5"


def _error(**overrides):
    with pytest.raises(AnsibleFilterError) as exc:
        cache_sans(params(**overrides))
    message = str(exc.value)
    assert message.startswith("dtr.cache.cache_sans: ")
    return message


@pytest.mark.parametrize("value, reason", [
    ("under_score.example.com", "is not a DNS-1123 host name"),
    ("-dash.example.com", "is not a DNS-1123 host name"),
    ("dash-.example.com", "is not a DNS-1123 host name"),
    ("double..dot.example.com", "is not a DNS-1123 host name"),
    ("trailing.dot.", "is not a DNS-1123 host name"),
    ("sp ace.example.com", "is not a DNS-1123 host name"),
    ("a" * 64 + ".example.com", "is not a DNS-1123 host name"),
    ("x" * 250 + ".com", "is longer than 253 characters"),
    (u"b\u00fccher.example.com", "is not a DNS-1123 host name"),
    ("10.0.0", "looks like an IP address but is not one"),
    ("10.0.0.256", "looks like an IP address but is not one"),
    ("*.com", "has a wildcard over fewer than two labels"),
    ("*", "has a wildcard over fewer than two labels"),
    ("f*.example.com", "has a wildcard that is not the whole left-most label"),
    ("a.*.example.com", "has a wildcard that is not the whole left-most label"),
    ("IP:cache.example.com", "is not an IP address: write DNS:cache.example.com for a DNS name"),
    ("IP:10.0.0.0/24", "is not an IP address"),
    ("IP:fe80::1%eth0", "is not an IP address"),
    ("DNS:10.0.0.5", "is an IP address in a DNS name: write IP:10.0.0.5 instead"),
    ("", "is not a DNS-1123 host name"),
])
def test_invalid_extra_sans(value, reason):
    message = _error(extra_sans=[value])
    assert "extra_sans entry %r %s" % (value, reason) in message


@pytest.mark.parametrize("value", [5, None, ["nested"]])
def test_extra_sans_entries_must_be_strings(value):
    assert "extra_sans entry %r is not a string" % (value,) in _error(extra_sans=[value])


@pytest.mark.parametrize("value", ["cache.example.com", {"a": 1}, 5])
def test_extra_sans_must_be_a_list(value):
    assert "extra_sans=%r must be a list of names" % (value,) in _error(extra_sans=value)


@pytest.mark.parametrize("value", [
    "https://cache.example.com",
    "cache.example.com:30443",
    "cache.example.com/v2",
    "[2001:db8::1]",
    "user@cache.example.com",
])
def test_external_host_must_be_bare(value):
    assert "external_host %r must be a bare host name or IP address" % value in _error(external_host=value)


def test_external_host_cannot_be_a_wildcard():
    assert "external_host '*.example.com' cannot be a wildcard" in _error(external_host="*.example.com")


def test_external_host_invalid_name():
    assert "external_host 'bad_name.example.com' is not a DNS-1123 host name" in _error(external_host="bad_name.example.com")


def test_external_host_must_be_a_string():
    assert "external_host=443 must be a string" in _error(external_host=443)


@pytest.mark.parametrize("expose, what", [("ingress", "Ingress rule"), ("route", "Route")])
def test_ingress_and_route_need_external_host(expose, what):
    message = _error(expose=expose, external_host=None, extra_sans=["alias.example.com"])
    assert "expose=%s needs external_host: set it to the host name of the %s" % (expose, what) in message


@pytest.mark.parametrize("expose", ["ingress", "route"])
def test_ingress_and_route_need_a_dns_name(expose):
    assert "expose=%s needs a DNS name as external_host, not the address 10.0.0.5" % expose in _error(expose=expose, external_host="10.0.0.5")


@pytest.mark.parametrize("expose", ["nodeport", "loadbalancer"])
def test_external_exposure_needs_an_external_name(expose):
    message = _error(expose=expose, external_host="", extra_sans=[])
    assert "expose=%s needs external_host (or extra_sans)" % expose in message


@pytest.mark.parametrize("expose", ["NodePort", "hostport", None, ""])
def test_unknown_expose(expose):
    assert "expose=%r is not supported: use one of nodeport, loadbalancer, ingress, clusterip, route" % (expose,) in _error(expose=expose)


@pytest.mark.parametrize("key", ["name", "namespace"])
@pytest.mark.parametrize("value", [None, ""])
def test_name_and_namespace_required(key, value):
    assert "%s is missing" % key in _error(**{key: value})


@pytest.mark.parametrize("key", ["name", "namespace"])
@pytest.mark.parametrize("value", ["Dtr-Cache", "dtr.cache", "dtr_cache", "-dtr", "a" * 64])
def test_name_and_namespace_are_labels(key, value):
    assert "%s %r is not a DNS-1123 label" % (key, value) in _error(**{key: value})


def test_name_must_be_a_string():
    assert "name=5 must be a string" in _error(name=5)


def test_invalid_cluster_domain():
    assert "cluster_domain 'cluster_local' is not a DNS-1123 host name" in _error(cluster_domain="cluster_local")


@pytest.mark.parametrize("value", [None, "dtr-cache", ["dtr-cache"]])
def test_input_must_be_a_dict(value):
    with pytest.raises(AnsibleFilterError, match="expected a dict with name, namespace, expose"):
        cache_sans(value)
