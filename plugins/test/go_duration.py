# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: go_duration
short_description: Whether a value is a valid Go duration string
version_added: 0.1.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - True when the input is text that Go's C(time.ParseDuration) accepts, such as V(24h), V(90m),
    V(1h30m), V(.5s) or V(0); false otherwise. The rules are those of the P(dtr.cache.go_duration#filter) filter.
  - A number without a unit (other than V(0)) is false, as in Go. Values that are not text
    (numbers, V(null), lists) are false. This test never raises an error.
seealso:
  - plugin: dtr.cache.go_duration
    plugin_type: filter
options:
  _input:
    description:
      - The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
---
- name: Check the blob TTL before rendering the configuration
  ansible.builtin.assert:
    that:
      - dtr_cache_blobttl is dtr.cache.go_duration
    fail_msg: "dtr_cache_blobttl={{ dtr_cache_blobttl }} is not a duration: use a number with a unit, such as 24h, 90m or 1h30m"
"""

RETURN = r"""
_value:
  description:
    - Whether the input is a valid Go duration.
  type: bool
"""

from ansible_collections.dtr.cache.plugins.filter.go_duration import (
    GoDurationError,
    parse_go_duration,
)


def is_go_duration(value):
    """Test: true when Go's time.ParseDuration accepts value."""
    if not isinstance(value, (str, bytes)):
        return False
    try:
        parse_go_duration(value)
    except (GoDurationError, TypeError):
        return False
    return True


class TestModule(object):
    """Go duration test."""

    def tests(self):
        return {
            "go_duration": is_go_duration,
        }
