# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the dtr.cache.go_duration filter."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dtr.cache.plugins.filter.go_duration import (
    FilterModule,
    GoDurationError,
    go_duration,
    go_quote,
    parse_go_duration,
)

from go_duration_vectors import EXTRA_ERRORS, EXTRA_VALID, GO_INVALID, GO_VALID

HINT = "use a number with a unit, such as 24h, 90m or 1h30m"


def test_filter_names():
    assert FilterModule().filters() == {"go_duration": go_duration}


@pytest.mark.parametrize("text, nanoseconds", GO_VALID + EXTRA_VALID)
def test_parse_valid(text, nanoseconds):
    result = parse_go_duration(text)
    assert result == nanoseconds
    assert isinstance(result, int)


@pytest.mark.parametrize("text, quoted", GO_INVALID)
def test_parse_invalid_go_vectors(text, quoted):
    with pytest.raises(GoDurationError) as exc:
        parse_go_duration(text)
    assert quoted in str(exc.value)
    assert str(exc.value).startswith("time: ")


@pytest.mark.parametrize("text, message", EXTRA_ERRORS)
def test_parse_error_messages_are_gos(text, message):
    with pytest.raises(GoDurationError) as exc:
        parse_go_duration(text)
    assert str(exc.value) == message


@pytest.mark.parametrize("text, nanoseconds", GO_VALID + EXTRA_VALID)
def test_filter_ns_matches_go(text, nanoseconds):
    assert go_duration(text, unit="ns") == nanoseconds


@pytest.mark.parametrize("text, seconds", [
    ("24h", 86400.0),
    ("90m", 5400.0),
    ("1h30m", 5400.0),
    ("1.5s", 1.5),
    ("-1.5h", -5400.0),
    ("300ms", 0.3),
    ("1ns", 1e-9),
    ("0", 0.0),
])
def test_filter_seconds(text, seconds):
    result = go_duration(text)
    assert isinstance(result, float)
    assert result == seconds


def test_filter_seconds_is_default_unit():
    assert go_duration("2m", unit="s") == go_duration("2m") == 120.0


def test_filter_bytes_input():
    assert go_duration(b"1h", unit="ns") == 3600 * 10 ** 9


@pytest.mark.parametrize("text, message", [
    ("3", 'time: missing unit in duration "3"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("", 'time: invalid duration ""'),
    ("3000000h", 'time: invalid duration "3000000h"'),
])
def test_filter_error_wording_and_hint(text, message):
    with pytest.raises(AnsibleFilterError) as exc:
        go_duration(text)
    assert str(exc.value) == "dtr.cache.go_duration: %s: %s" % (message, HINT)


@pytest.mark.parametrize("value", [86400, 1.5, None, True, ["24h"], {"h": 1}])
def test_filter_rejects_non_strings(value):
    with pytest.raises(AnsibleFilterError) as exc:
        go_duration(value)
    message = str(exc.value)
    assert "expected a duration string, got %s %r" % (type(value).__name__, value) in message
    assert HINT in message


def test_filter_rejects_unknown_unit_option():
    with pytest.raises(AnsibleFilterError, match=r"unit 'ms' is not supported: use unit='s' .* or unit='ns'"):
        go_duration("1s", unit="ms")


@pytest.mark.parametrize("data, quoted", [
    (b"abc", '"abc"'),
    (b'a"b\\c', '"a\\"b\\\\c"'),
    (b"\x00\x1f\x7f", '"\\x00\\x1f\x7f"'),
    (u"\u00e9".encode("utf-8"), '"\\xc3\\xa9"'),
    (u"\U0001f600".encode("utf-8"), '"\\xf0\\x9f\\x98\\x80"'),
    (b"\xef\xbf\xbd", '"\\xef\\xbf\\xbd"'),
    (b"\xef\xbf", '"\\xef\\xbf"'),
    (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),  # a UTF-16 surrogate: three invalid bytes for Go
])
def test_go_quote(data, quoted):
    assert go_quote(data) == quoted


def test_surrogate_escaped_text_is_read_as_its_bytes():
    # os.fsdecode-style text keeps undecodable bytes as lone surrogates
    text = b"\xffff".decode("utf-8", "surrogateescape")
    with pytest.raises(GoDurationError, match=r'"\\xffff"'):
        parse_go_duration(text)
