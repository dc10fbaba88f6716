# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: cache_sans
short_description: Subject alternative names for a cache's TLS certificate
version_added: 0.1.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Builds the subject alternative names a content cache's certificate needs, from the way the
    cache is exposed, in the format of the O(community.crypto.openssl_csr#module:subject_alt_name)
    option (V(DNS:name), V(IP:address)).
  - "The order is: the external host first (so that it can also serve as the common name), then
    O(_input.extra_sans) in their order, then the in-cluster service names V(<name>),
    V(<name>.<namespace>), V(<name>.<namespace>.svc) and V(<name>.<namespace>.svc.<cluster_domain>)."
  - Duplicates are dropped (the first one stays). DNS names are lower-cased; IPv4 and IPv6
    addresses are detected and written in their canonical form, so V(2001:DB8:0:0::1) becomes
    V(IP:2001:db8::1).
  - Every external exposure (anything but V(clusterip)) needs at least one external name, because
    a certificate holding only in-cluster names cannot be verified by clients outside the cluster.
    V(ingress) and V(route) need O(_input.external_host) itself, as a DNS name (the host of the rule).
  - Raises an error that names the value for anything that is neither a DNS-1123 host name nor
    an IP address.
options:
  _input:
    description:
      - The exposure settings.
    type: dict
    required: true
    suboptions:
      name:
        description:
          - The Kubernetes Service name (a DNS-1123 label).
        type: string
        required: true
      namespace:
        description:
          - The namespace of the Service (a DNS-1123 label).
        type: string
        required: true
      expose:
        description:
          - How clients outside the cluster reach the cache.
        type: string
        required: true
        choices:
          - nodeport
          - loadbalancer
          - ingress
          - clusterip
          - route
      external_host:
        description:
          - The host name or IP address clients use, without scheme or port (a node's FQDN for
            V(nodeport), the load balancer's name or address, the Ingress or Route host).
          - Empty or V(null) when there is none.
        type: string
      extra_sans:
        description:
          - More names or addresses, with or without a V(DNS:) or V(IP:) prefix. Without a prefix,
            an IP address becomes V(IP:), anything else V(DNS:).
          - A wildcard is allowed as the whole left-most label of a DNS name with at least two more
            labels, such as V(*.example.com).
        type: list
        elements: string
        default: []
      cluster_domain:
        description:
          - The cluster's DNS domain.
        type: string
        default: cluster.local
"""

EXAMPLES = r"""
---
- name: Names for a NodePort cache
  ansible.builtin.debug:
    msg: >-
      {{ {'name': 'dtr-cache', 'namespace': 'dtr', 'expose': 'nodeport',
          'external_host': 'node1.example.com', 'extra_sans': ['10.0.0.5']} | dtr.cache.cache_sans }}
  # [DNS:node1.example.com, IP:10.0.0.5, DNS:dtr-cache, DNS:dtr-cache.dtr,
  #  DNS:dtr-cache.dtr.svc, DNS:dtr-cache.dtr.svc.cluster.local]

- name: Make the CSR
  community.crypto.openssl_csr:
    path: /tmp/cache.csr
    privatekey_path: /tmp/cache.key.pem
    common_name: "{{ dtr_cache_external_host }}"
    subject_alt_name: "{{ _dtr_cache_sans }}"
  vars:
    _dtr_cache_sans: >-
      {{ {'name': dtr_cache_name, 'namespace': dtr_cache_namespace, 'expose': dtr_cache_expose,
          'external_host': dtr_cache_external_host, 'extra_sans': dtr_cache_extra_sans} | dtr.cache.cache_sans }}
"""

RETURN = r"""
_value:
  description:
    - Subject alternative names such as V(DNS:cache.example.com) and V(IP:192.0.2.10).
  type: list
  elements: string
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from collections.abc import Mapping

EXPOSE_CHOICES = ("nodeport", "loadbalancer", "ingress", "clusterip", "route")
NEEDS_EXTERNAL_HOST = ("ingress", "route")
DEFAULT_CLUSTER_DOMAIN = "cluster.local"

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _fail(msg):
    raise AnsibleFilterError("dtr.cache.cache_sans: " + msg)


def _text(params, key, required=False):
    """A string setting; empty and null give None."""
    value = params.get(key)
    if value is None or value == "":
        if required:
            _fail("%s is missing: set it to the Service's %s" % (key, key))
        return None
    if not isinstance(value, str):
        _fail("%s=%r must be a string" % (key, value))
    return value


def dns_label_error(value):
    """Why value is not a DNS-1123 label, or None."""
    if not _LABEL.match(value):
        return "is not a DNS-1123 label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)"
    return None


def dns_name_error(value, allow_wildcard=False):
    """Why the lower-cased value is not a DNS-1123 host name, or None."""
    if len(value) > 253:
        return "is longer than 253 characters"
    labels = value.split(".")
    if allow_wildcard and labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            return "has a wildcard over fewer than two labels: use a name such as *.example.com"
    for label in labels:
        if "*" in label:
            return "has a wildcard that is not the whole left-most label: use a name such as *.example.com"
        if dns_label_error(label):
            return "is not a DNS-1123 host name (labels of lower-case letters, digits and '-', separated by '.')"
    if labels[-1].isdigit():
        return "looks like an IP address but is not one"
    return None


def parse_ip(value):
    """An ipaddress object for value, or None when it is not an IP address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if getattr(address, "scope_id", None):
        return None
    return address


def _split_prefix(value):
    """('DNS'|'IP'|None, rest) for an optional DNS:/IP: prefix."""
    head, sep, rest = value.partition(":")
    if sep and head.strip().upper() in ("DNS", "IP"):
        return head.strip().upper(), rest.strip()
    return None, value.strip()


def normalize_san(value, what, allow_wildcard=True):
    """One SAN in community.crypto form (DNS:x or IP:x); raise for an invalid one."""
    if not isinstance(value, str):
        _fail("%s %r is not a string: give a DNS name or an IP address" % (what, value))
    kind, name = _split_prefix(value)
    address = parse_ip(name)
    if kind == "IP" or (kind is None and address is not None):
        if address is None:
            _fail("%s %r is not an IP address: write DNS:%s for a DNS name, or give a valid IPv4 or IPv6 address" % (what, value, name))
        return "IP:" + str(address)
    if address is not None:
        _fail("%s %r is an IP address in a DNS name: write IP:%s instead" % (what, value, name))
    lowered = name.lower()
    reason = dns_name_error(lowered, allow_wildcard=allow_wildcard)
    if reason:
        _fail("%s %r %s" % (what, value, reason))
    return "DNS:" + lowered


def _external_host_san(external_host):
    if external_host is None:
        return []
    name = _split_prefix(external_host)[1]
    if parse_ip(name) is None and any(char in name for char in "/:[]@"):
        _fail("external_host %r must be a bare host name or IP address: drop any scheme, port or path, as in cache.example.com"
              % external_host)
    if name.startswith("*"):
        _fail("external_host %r cannot be a wildcard: give the one host name clients use (a wildcard may go in extra_sans)" % external_host)
    return [normalize_san(external_host, "external_host", allow_wildcard=False)]


def _extra_sans(params):
    extra = params.get("extra_sans")
    if extra is None:
        return []
    if not isinstance(extra, (list, tuple)):
        _fail("extra_sans=%r must be a list of names, such as ['cache.example.com', '10.0.0.5']" % (extra,))
    return [normalize_san(item, "extra_sans entry") for item in extra]


def _service_sans(name, namespace, cluster_domain):
    for key, value in (("name", name), ("namespace", namespace)):
        reason = dns_label_error(value)
        if reason:
            _fail("%s %r %s" % (key, value, reason))
    reason = dns_name_error(cluster_domain.lower())
    if reason:
        _fail("cluster_domain %r %s" % (cluster_domain, reason))
    service = "%s.%s.svc" % (name, namespace)
    return ["DNS:" + name, "DNS:%s.%s" % (name, namespace), "DNS:" + service, "DNS:%s.%s" % (service, cluster_domain.lower())]


def _check_expose(expose):
    if expose not in EXPOSE_CHOICES:
        _fail("expose=%r is not supported: use one of %s" % (expose, ", ".join(EXPOSE_CHOICES)))


def _check_exposure(expose, external, extra):
    if expose in NEEDS_EXTERNAL_HOST and not external:
        _fail("expose=%s needs external_host: set it to the host name of the %s, which clients use and the certificate must name"
              % (expose, "Ingress rule" if expose == "ingress" else "Route"))
    if expose in NEEDS_EXTERNAL_HOST and external[0].startswith("IP:"):
        _fail("expose=%s needs a DNS name as external_host, not the address %s: Kubernetes %s hosts are DNS names"
              % (expose, external[0][3:], "Ingress" if expose == "ingress" else "Route"))
    if expose != "clusterip" and not external and not extra:
        _fail("expose=%s needs external_host (or extra_sans): set it to the name clients outside the cluster use, "
              "such as a node's FQDN for nodeport or the load balancer's name or address" % expose)


def _dedupe(items):
    """Drop repeated items, keeping the first of each."""
    result = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def cache_sans(params):
    """Filter: the SAN list for a cache exposed as params describe."""
    if not isinstance(params, Mapping):
        _fail("expected a dict with name, namespace, expose, external_host, extra_sans, cluster_domain; got %s" % type(params).__name__)
    name = _text(params, "name", required=True)
    namespace = _text(params, "namespace", required=True)
    expose = params.get("expose")
    _check_expose(expose)
    external = _external_host_san(_text(params, "external_host"))
    extra = _extra_sans(params)
    _check_exposure(expose, external, extra)
    cluster_domain = _text(params, "cluster_domain") or DEFAULT_CLUSTER_DOMAIN
    return _dedupe(external + extra + _service_sans(name, namespace, cluster_domain))


class FilterModule(object):
    """Certificate SAN filter."""

    def filters(self):
        return {
            "cache_sans": cache_sans,
        }
