# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs dtr.cache.k8s_apply in the task's worker process when the task runs on the controller."""

from __future__ import annotations

from ansible_collections.dtr.cache.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    MODULE = 'k8s_apply'
