# -*- coding: utf-8 -*-
# Copyright (c) 2026, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: pending_objects
short_description: The Kubernetes objects that the cluster does not hold as wanted yet
version_added: 0.2.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Given the objects a run wants and the objects read from the cluster, returns the wanted objects whose live
    counterpart (same kind, namespace and name) is missing or differs in a field the wanted object sets.
  - A live object may hold more than the wanted one (defaults, status, other managers' fields); only the wanted
    fields count. Lists must match in length and order.
  - Lets a run that changes nothing skip the apply calls; a wanted object that carries a hash of itself (as the
    C(dtr.cache/spec-hash) annotation of the dtr_cache role) also turns pending when a field was removed from it.
options:
  _input:
    description: The wanted objects.
    type: list
    elements: dict
    required: true
  live:
    description: The objects read from the cluster.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply only what differs
  kubernetes.core.k8s:
    definition: "{{ wanted | dtr.cache.pending_objects(query('kubernetes.core.k8s', kind='Service', namespace='dtr')) }}"
  when: wanted | dtr.cache.pending_objects(live) | length > 0
"""

RETURN = r"""
_value:
  description: The wanted objects that need applying, in the given order.
  type: list
  elements: dict
"""

from collections.abc import Mapping


def _key(obj):
    metadata = obj.get("metadata") or {}
    return obj.get("kind"), metadata.get("namespace"), metadata.get("name")


def contains(live, wanted):
    """Does ``live`` hold every field of ``wanted`` with the same value?"""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(key in live and contains(live[key], value) for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(contains(l, w) for l, w in zip(live, wanted))
    return live == wanted


def pending_objects(wanted, live):
    """Filter: the objects of ``wanted`` that ``live`` does not hold as they are."""
    held = dict((_key(obj), obj) for obj in live or [])
    return [obj for obj in wanted if not contains(held.get(_key(obj)), obj)]


class FilterModule(object):
    """pending_objects filter."""

    def filters(self):
        return {"pending_objects": pending_objects}
