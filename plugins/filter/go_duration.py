# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: go_duration
short_description: Parse a Go duration string such as V(24h) or V(1h30m)
version_added: 0.1.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Parses a duration with exactly the rules of Go's C(time.ParseDuration), which the registry
    and the DTR content cache use for settings such as C(blobttl).
  - A duration is an optional sign followed by one or more decimal numbers, each with an optional
    fraction and a unit. Units are V(ns), V(us) (or V(µs) U+00B5, or V(μs) U+03BC), V(ms), V(s), V(m)
    and V(h). Examples are V(300ms), V(-1.5h), V(2h45m) and V(.5s).
  - V(0) alone (or V(+0), V(-0)) is valid. Any other number without a unit is invalid, as in Go
    (C(missing unit in duration)). Note that the DTR cache reads a YAML B(number) (not a string)
    as nanoseconds; this filter does not accept that form, because V(86400) would silently mean
    86 microseconds.
  - Durations must fit in a signed 64-bit count of nanoseconds (about 292 years), as in Go.
  - 'Raises an error that carries Go''s own wording, such as C(time: missing unit in duration "3"),
    followed by a hint.'
seealso:
  - name: Go time.ParseDuration
    description: The reference implementation.
    link: https://pkg.go.dev/time#ParseDuration
options:
  _input:
    description:
      - The duration string.
    type: string
    required: true
  unit:
    description:
      - V(s) returns the duration in seconds as a float.
      - V(ns) returns the exact number of nanoseconds as an integer.
    type: string
    default: s
    choices:
      - s
      - ns
"""

EXAMPLES = r"""
---
- name: Seconds in a blob TTL (86400.0)
  ansible.builtin.debug:
    msg: "{{ '24h' | dtr.cache.go_duration }}"

- name: Exact nanoseconds (5400000000000)
  ansible.builtin.debug:
    msg: "{{ '1h30m' | dtr.cache.go_duration(unit='ns') }}"

- name: Refuse a blob TTL shorter than one hour
  ansible.builtin.assert:
    that:
      - (dtr_cache_blobttl | dtr.cache.go_duration) >= 3600
"""

RETURN = r"""
_value:
  description:
    - The duration in seconds (a float) when O(unit=s), or in nanoseconds (an integer) when O(unit=ns).
    - Negative for a negative duration.
  type: raw
"""

from ansible.errors import AnsibleFilterError

HINT = "use a number with a unit, such as 24h, 90m or 1h30m"

# Go's unitMap: unit suffix -> nanoseconds. Keys are UTF-8 bytes, as Go compares bytes.
UNITS = {
    b"ns": 1,
    b"us": 1000,
    u"\u00b5s".encode("utf-8"): 1000,  # micro sign
    u"\u03bcs".encode("utf-8"): 1000,  # Greek small letter mu
    b"ms": 1000 * 1000,
    b"s": 1000 * 1000 * 1000,
    b"m": 60 * 1000 * 1000 * 1000,
    b"h": 60 * 60 * 1000 * 1000 * 1000,
}

_U64 = (1 << 64) - 1
_MAX = 1 << 63
_DIGITS = b"0123456789"
_HEX = "0123456789abcdef"
_RUNE_ERROR = u"\ufffd".encode("utf-8")


class GoDurationError(ValueError):
    """A duration that Go's time.ParseDuration rejects; str() is Go's message."""


def _to_bytes(value):
    """Return the UTF-8 bytes Go would see, or raise TypeError."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass")
    raise TypeError(type(value).__name__)


def _rune_width(data, pos):
    """Width in bytes of the UTF-8 sequence at pos, or 0 when it is not valid UTF-8."""
    for width in range(1, 5):
        try:
            if len(data[pos:pos + width].decode("utf-8")) == 1:
                return width
        except UnicodeDecodeError:
            continue
    return 0


def go_quote(data):
    """Go's time.quote: double quotes, with non-ASCII and control bytes as \\xNN."""
    out = ['"']
    pos = 0
    while pos < len(data):
        byte = data[pos]
        if byte < 0x20 or byte >= 0x80:
            width = _rune_width(data, pos)
            if width == 0 or data[pos:pos + 3] == _RUNE_ERROR:
                width = 3 if data[pos:pos + 3] == _RUNE_ERROR else 1
            out.extend("\\x" + _HEX[b >> 4] + _HEX[b & 0xF] for b in bytearray(data[pos:pos + width]))
            pos += width
            continue
        if byte in (0x22, 0x5C):
            out.append("\\")
        out.append(chr(byte))
        pos += 1
    out.append('"')
    return "".join(out)


def _error(message, orig):
    return GoDurationError("time: %s %s" % (message, go_quote(orig)))


def _leading_int(data, pos):
    """Go's leadingInt: (value, new position); None on overflow."""
    value = 0
    while pos < len(data) and data[pos] in _DIGITS:
        if value > _MAX // 10:
            return None, pos
        value = value * 10 + data[pos] - 0x30
        if value > _MAX:
            return None, pos
        pos += 1
    return value, pos


def _leading_fraction(data, pos):
    """Go's leadingFraction: (digits, scale, new position); stops gaining precision on overflow."""
    value, scale, overflow = 0, 1.0, False
    while pos < len(data) and data[pos] in _DIGITS:
        if not overflow:
            if value > (_MAX - 1) // 10:
                overflow = True
            else:
                nxt = value * 10 + data[pos] - 0x30
                if nxt > _MAX:
                    overflow = True
                else:
                    value = nxt
                    scale *= 10
        pos += 1
    return value, scale, pos


def _unit_end(data, pos):
    while pos < len(data) and data[pos] != 0x2E and data[pos] not in _DIGITS:
        pos += 1
    return pos


def _parse_component(data, pos, orig):
    """Parse one `[0-9]*(.[0-9]*)?unit`; return (nanoseconds, new position)."""
    if data[pos] != 0x2E and data[pos] not in _DIGITS:
        raise _error("invalid duration", orig)
    start = pos
    whole, pos = _leading_int(data, pos)
    if whole is None:
        raise _error("invalid duration", orig)
    pre = pos != start
    frac, scale, post = 0, 1.0, False
    if pos < len(data) and data[pos] == 0x2E:
        pos += 1
        start = pos
        frac, scale, pos = _leading_fraction(data, pos)
        post = pos != start
    if not pre and not post:
        raise _error("invalid duration", orig)
    end = _unit_end(data, pos)
    if end == pos:
        raise _error("missing unit in duration", orig)
    unit = UNITS.get(data[pos:end])
    if unit is None:
        raise _error("unknown unit %s in duration" % go_quote(data[pos:end]), orig)
    if whole > _MAX // unit:
        raise _error("invalid duration", orig)
    whole *= unit
    if frac > 0:
        # Go: uint64(float64(f) * (float64(unit) / scale)), truncating toward zero.
        whole += int(float(frac) * (float(unit) / scale))
        if whole > _MAX:
            raise _error("invalid duration", orig)
    return whole, end


def parse_go_duration(value):
    """Return the duration in integer nanoseconds, exactly as Go's time.ParseDuration.

    Raises TypeError for anything but text or bytes, GoDurationError for an invalid duration.
    """
    orig = _to_bytes(value)
    data, neg, total = orig, False, 0
    if data[:1] in (b"-", b"+"):
        neg = data[:1] == b"-"
        data = data[1:]
    if data == b"0":
        return 0
    if not data:
        raise _error("invalid duration", orig)
    pos = 0
    while pos < len(data):
        part, pos = _parse_component(data, pos, orig)
        # Go adds in uint64 and only then compares: the sum can wrap around (kept as in Go).
        total = (total + part) & _U64
        if total > _MAX:
            raise _error("invalid duration", orig)
    if neg:
        return -total
    if total > _MAX - 1:
        raise _error("invalid duration", orig)
    return total


def go_duration(value, unit="s"):
    """Filter: a Go duration string in seconds (float) or nanoseconds (int)."""
    if unit not in ("s", "ns"):
        raise AnsibleFilterError(
            "dtr.cache.go_duration: unit %r is not supported: use unit='s' (seconds, float) or unit='ns' (nanoseconds, integer)" % (unit,))
    try:
        nanoseconds = parse_go_duration(value)
    except TypeError:
        raise AnsibleFilterError(
            "dtr.cache.go_duration: expected a duration string, got %s %r: %s (quote it so YAML keeps it a string)"
            % (type(value).__name__, value, HINT)) from None
    except GoDurationError as exc:
        raise AnsibleFilterError("dtr.cache.go_duration: %s: %s" % (exc, HINT)) from None
    if unit == "ns":
        return nanoseconds
    return nanoseconds / 1000000000


class FilterModule(object):
    """Go duration filter."""

    def filters(self):
        return {
            "go_duration": go_duration,
        }
