# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the dtr.cache.go_duration test."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os

import pytest

from ansible_collections.dtr.cache.plugins.test import go_duration as plugin
from ansible_collections.dtr.cache.plugins.test.go_duration import is_go_duration


def _load_vectors():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "filter", "go_duration_vectors.py")
    spec = importlib.util.spec_from_file_location("go_duration_vectors_for_test_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VECTORS = _load_vectors()


def test_test_names():
    assert plugin.TestModule().tests() == {"go_duration": is_go_duration}


@pytest.mark.parametrize("text", [text for text, dummy in VECTORS.GO_VALID + VECTORS.EXTRA_VALID])
def test_valid(text):
    assert is_go_duration(text) is True


@pytest.mark.parametrize("text", [text for text, dummy in VECTORS.GO_INVALID + VECTORS.EXTRA_ERRORS])
def test_invalid(text):
    assert is_go_duration(text) is False


@pytest.mark.parametrize("value", [None, 0, 86400, 1.5, True, False, ["24h"], {"24h": 1}, object()])
def test_non_strings_are_false(value):
    assert is_go_duration(value) is False


def test_role_defaults():
    assert is_go_duration("24h") is True
    assert is_go_duration("86400") is False
