# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test vectors for Go's time.ParseDuration.

GO_VALID and GO_INVALID are parseDurationTests and parseDurationErrorTests from Go 1.26's
src/time/time_test.go. Go strings are bytes: inputs that are not valid UTF-8 are bytes here.
EXTRA_VALID and EXTRA_ERRORS were produced by running time.ParseDuration (go1.26.8) itself.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

NS = 1
US = 1000 * NS
MS = 1000 * US
S = 1000 * MS
M = 60 * S
H = 60 * M

# (input, nanoseconds)
GO_VALID = [
    # simple
    ("0", 0),
    ("5s", 5 * S),
    ("30s", 30 * S),
    ("1478s", 1478 * S),
    # sign
    ("-5s", -5 * S),
    ("+5s", 5 * S),
    ("-0", 0),
    ("+0", 0),
    # decimal
    ("5.0s", 5 * S),
    ("5.6s", 5 * S + 600 * MS),
    ("5.s", 5 * S),
    (".5s", 500 * MS),
    ("1.0s", 1 * S),
    ("1.00s", 1 * S),
    ("1.004s", 1 * S + 4 * MS),
    ("1.0040s", 1 * S + 4 * MS),
    ("100.00100s", 100 * S + 1 * MS),
    # different units
    ("10ns", 10 * NS),
    ("11us", 11 * US),
    (u"12\u00b5s", 12 * US),  # U+00B5
    (u"12\u03bcs", 12 * US),  # U+03BC
    ("13ms", 13 * MS),
    ("14s", 14 * S),
    ("15m", 15 * M),
    ("16h", 16 * H),
    # composite durations
    ("3h30m", 3 * H + 30 * M),
    ("10.5s4m", 4 * M + 10 * S + 500 * MS),
    ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
    ("1h2m3s4ms5us6ns", 1 * H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
    ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
    # large value
    ("52763797000ns", 52763797000 * NS),
    # more than 9 digits after decimal point, see https://golang.org/issue/6617
    ("0.3333333333333333333h", 20 * M),
    # 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
    ("9007199254740993ns", (1 << 53) + 1),
    # largest duration that can be represented by int64 in nanoseconds
    ("9223372036854775807ns", (1 << 63) - 1),
    ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)),
    ("-9223372036s854ms775us808ns", -(1 << 63)),
    # largest negative value
    ("-9223372036854775808ns", -(1 << 63)),
    # largest negative round trip value, see https://golang.org/issue/48629
    ("-2562047h47m16.854775808s", -(1 << 63)),
    # huge string; issue 15011.
    ("0.100000000000000000000h", 6 * M),
    # This value tests the first overflow check in leadingFraction.
    ("0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS),
]

# (input, text the error message must contain)
GO_INVALID = [
    # invalid
    ("", '""'),
    ("3", '"3"'),
    ("-", '"-"'),
    ("s", '"s"'),
    (".", '"."'),
    ("-.", '"-."'),
    (".s", '".s"'),
    ("+.s", '"+.s"'),
    ("1d", '"1d"'),
    (b"\x85\x85", '"\\x85\\x85"'),
    (b"\xffff", '"\\xffff"'),
    (b"hello \xffff world", '"hello \\xffff world"'),
    (u"\ufffd", '"\\xef\\xbf\\xbd"'),  # utf8.RuneError
    (u"\ufffd hello \ufffd world", '"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'),  # utf8.RuneError
    # overflow
    ("9223372036854775810ns", '"9223372036854775810ns"'),
    ("9223372036854775808ns", '"9223372036854775808ns"'),
    ("-9223372036854775809ns", '"-9223372036854775809ns"'),
    ("9223372036854776us", '"9223372036854776us"'),
    ("3000000h", '"3000000h"'),
    ("9223372036854775.808us", '"9223372036854775.808us"'),
    ("9223372036854ms775us808ns", '"9223372036854ms775us808ns"'),
]

# More (input, nanoseconds) from go1.26.8.
EXTRA_VALID = [
    ("0s", 0),
    ("-0s", 0),
    ("1.h", H),
    ("1ns1ns", 2),
    ("24h", 24 * H),
    ("90m", 90 * M),
    ("1h30m", 90 * M),
    ("0.000000001s", 1),
    ("0.0000000009s", 0),
    ("1.9999999999ns", 1),
    ("3.000000000000000000000000000000001h", 3 * H),
    ("9223372036.854775807s", (1 << 63) - 1),
    ("2562047h47m16.854775807s", (1 << 63) - 1),
    # Go adds the parts in uint64 and checks after adding: 2**63 + 2**63 wraps around to 0.
    ("9223372036854775808ns9223372036854775808ns", 0),
]

# More (input, complete error message) from go1.26.8.
EXTRA_ERRORS = [
    ("3", 'time: missing unit in duration "3"'),
    ("86400", 'time: missing unit in duration "86400"'),
    ("00", 'time: missing unit in duration "00"'),
    ("0.0", 'time: missing unit in duration "0.0"'),
    ("0.", 'time: missing unit in duration "0."'),
    ("1.5.5s", 'time: missing unit in duration "1.5.5s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("7d", 'time: unknown unit "d" in duration "7d"'),
    ("2w", 'time: unknown unit "w" in duration "2w"'),
    ("1H", 'time: unknown unit "H" in duration "1H"'),
    ("1sec", 'time: unknown unit "sec" in duration "1sec"'),
    ("1e3s", 'time: unknown unit "e" in duration "1e3s"'),
    ("1hh", 'time: unknown unit "hh" in duration "1hh"'),
    ("1mss", 'time: unknown unit "mss" in duration "1mss"'),
    ("1_000s", 'time: unknown unit "_" in duration "1_000s"'),
    ("1h 30m", 'time: unknown unit "h " in duration "1h 30m"'),
    ("1s-1s", 'time: unknown unit "s-" in duration "1s-1s"'),
    ("1s ", 'time: unknown unit "s " in duration "1s "'),
    ("1h\n", 'time: unknown unit "h\\x0a" in duration "1h\\x0a"'),
    (u"1\u00b5", 'time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"'),
    (u"1\u03bc", 'time: unknown unit "\\xce\\xbc" in duration "1\\xce\\xbc"'),
    (" 1s", 'time: invalid duration " 1s"'),
    ("+-1s", 'time: invalid duration "+-1s"'),
    ("--1s", 'time: invalid duration "--1s"'),
    (".h", 'time: invalid duration ".h"'),
    (u"\u0661s", 'time: invalid duration "\\xd9\\xa1s"'),
    ('a"b\\\\', 'time: invalid duration "a\\"b\\\\\\\\"'),
    ("", 'time: invalid duration ""'),
    ("18446744073709551616ns", 'time: invalid duration "18446744073709551616ns"'),
    ("2562047h47m16.854775808s", 'time: invalid duration "2562047h47m16.854775808s"'),
    ("-2562047h47m16.854775809s", 'time: invalid duration "-2562047h47m16.854775809s"'),
    ("9223372036.854775808s", 'time: invalid duration "9223372036.854775808s"'),
]
