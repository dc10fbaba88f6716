# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the collection's modules raise internally and how they quote an unexpected answer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_text

EXCERPT = 200


class Failure(Exception):
    """A failure with its ``failure_kind``, a readable message and extra result keys."""

    def __init__(self, kind, msg, retryable=False, **extra):
        super(Failure, self).__init__(msg)
        self.kind = kind
        self.msg = msg
        self.retryable = retryable
        self.extra = extra


def excerpt(body, length=EXCERPT):
    """The start of a body as printable text."""
    text = to_text(body[:length * 4], errors='replace')
    text = re.sub(r'\s+', ' ', text)
    text = re.sub(r'[^\x20-\x7e]', '?', text).strip()
    return text[:length]
