# -*- coding: utf-8 -*-
# Copyright (c) 2026, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: htpasswd
short_description: An htpasswd file with bcrypt hashes, stable across runs
version_added: 0.2.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Builds the content of an htpasswd file, as the registry's C(auth.htpasswd) reads it (bcrypt only),
    from a list of users with plain-text passwords.
  - A user whose line in O(existing) still matches the password keeps that line, so a second run
    produces the same file (bcrypt salts are random) and rolls no pods.
  - Errors never contain a password.
options:
  _input:
    description: The users, each a dict with C(username) and C(password).
    type: list
    elements: dict
    required: true
  existing:
    description: The htpasswd content an earlier run produced; empty when there is none.
    type: str
    default: ""
requirements:
  - bcrypt
"""

EXAMPLES = r"""
- name: The cache's htpasswd, kept when the passwords did not change
  ansible.builtin.set_fact:
    htpasswd: "{{ users | dtr.cache.htpasswd(previous_htpasswd) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: One C(username:bcrypt-hash) line per user, in the given order, each ending with a newline.
  type: str
  sample: "alice:$2b$10$J6V1r1cOmbdgx3lIu0rf6eE2pq0c4a1wNtHo5p4yqJmPpKaF4u8m6\n"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text

try:
    import bcrypt
except ImportError:
    bcrypt = None

# bcrypt ignores (v4) or refuses (v5) what lies past 72 bytes.
MAX_PASSWORD_BYTES = 72
ROUNDS = 10


def _fail(msg):
    raise AnsibleFilterError("dtr.cache.htpasswd: " + msg)


def parse_htpasswd(text):
    """{username: hash} of an htpasswd file's lines."""
    lines = (line.strip() for line in to_text(text or "").splitlines())
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _user(entry, index):
    if not isinstance(entry, Mapping) or not entry.get("username") or not entry.get("password"):
        _fail("user number %d needs a username and a non-empty password" % (index + 1))
    username, password = to_text(entry["username"]), to_bytes(entry["password"])
    if ":" in username or any(c.isspace() for c in username):
        _fail("user name %r cannot hold ':' or spaces" % username)
    if len(password) > MAX_PASSWORD_BYTES:
        _fail("the password of %r is longer than %d bytes, which bcrypt cannot hash" % (username, MAX_PASSWORD_BYTES))
    return username, password


def _matches(password, hashed):
    try:
        return bcrypt.checkpw(password, to_bytes(hashed))
    except ValueError:  # not a bcrypt hash
        return False


def htpasswd(users, existing=""):
    """Filter: htpasswd content for ``users``, reusing the lines of ``existing`` that still match."""
    if bcrypt is None:
        _fail("the Python library bcrypt is needed on the controller: pip install bcrypt")
    if isinstance(users, (str, bytes)) or not hasattr(users, "__iter__"):
        _fail("expected a list of {username, password}")
    kept = parse_htpasswd(existing)
    lines = []
    for index, entry in enumerate(users):
        username, password = _user(entry, index)
        hashed = kept.get(username)
        if not hashed or not _matches(password, hashed):
            hashed = to_text(bcrypt.hashpw(password, bcrypt.gensalt(rounds=ROUNDS)))
        lines.append("%s:%s\n" % (username, hashed))
    return "".join(lines)


class FilterModule(object):
    """htpasswd filter."""

    def filters(self):
        return {"htpasswd": htpasswd}
