# -*- coding: utf-8 -*-
# Copyright (c) 2026, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: unknown_names
short_description: Names that are not known, each with the known name most like it
version_added: 0.2.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Returns, for each name of the input that is not in O(known), a sentence that names it and, when one is close
    enough (Python's C(difflib)), the known name it was probably meant to be. The roles use it on the C(dtr_cache_*)
    variables of a host, so that a misspelt one is not silently ignored.
  - Names are compared without O(prefix), which all of them share and which would make every name look alike.
options:
  _input:
    description: The names in use, such as C(query('ansible.builtin.varnames', '^dtr_cache_')).
    type: list
    elements: str
    required: true
  known:
    description: The names that exist.
    type: list
    elements: str
    required: true
  prefix:
    description: The prefix the names share.
    type: str
    default: dtr_cache_
"""

EXAMPLES = r"""
- name: Name the variables no role knows
  ansible.builtin.debug:
    msg: "{{ ['dtr_cache_storge'] | dtr.cache.unknown_names(['dtr_cache_storage', 'dtr_cache_state']) }}"
  # ['dtr_cache_storge (did you mean dtr_cache_storage?)']
"""

RETURN = r"""
_value:
  description: One entry per unknown name, sorted, with the suggestion when there is one.
  type: list
  elements: str
"""

import difflib


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def unknown_names(names, known, prefix="dtr_cache_"):
    """Filter: ``names`` not in ``known``, each as 'name' or 'name (did you mean known?)'."""
    known = list(known)
    stems = dict((_strip(name, prefix), name) for name in known)
    found = []
    for name in sorted(set(names) - set(known)):
        meant = difflib.get_close_matches(_strip(name, prefix), list(stems), n=1, cutoff=0.6)
        found.append("%s (did you mean %s?)" % (name, stems[meant[0]]) if meant else name)
    return found


class FilterModule(object):
    """unknown_names filter."""

    def filters(self):
        return {"unknown_names": unknown_names}
