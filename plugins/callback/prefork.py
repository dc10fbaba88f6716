# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: prefork
type: aggregate
short_description: Load what this collection's tasks import once, before ansible-playbook forks its workers
version_added: 0.1.0
description:
  - C(ansible-playbook) runs each task of each host in a worker process that it forks from itself and that
    ends with the task, so whatever a task imports, the next task imports again. When a play starts, this
    callback imports, in C(ansible-playbook) itself, what the tasks of this collection load in their workers
    (the kubernetes client and C(kubernetes.core)'s client code, the HTTP and X.509 code of its modules, and
    the Jinja plugins of the role's templates). Every worker inherits them. The kubernetes client alone takes
    about 0.1 s to import, and a new site reads and applies in three tasks.
  - It then moves the objects loaded so far out of the garbage collector's reach (C(gc.freeze)), so that a
    worker's collections do not walk, and so copy, the memory it shares with C(ansible-playbook).
  - It reports nothing. A library that is not installed is left out, and the task that needs it reports it.
  - Enable it in C(ansible.cfg) with C(callbacks_enabled = dtr.cache.prefork), as this collection's
    C(ansible.cfg) does; C(docs/performance.md) gives the times with and without it.
author:
  - DTR cache collection maintainers (@dtr-cache)
"""

import gc
import importlib

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, lookup_loader, test_loader

# What every deploy and verify run imports: the cluster read (kubernetes.core's k8s lookup),
# dtr_ca and registry_catalog_info. k8s_apply adds kubernetes.core's apply code, only where a run
# changes something.
_MODULES = (
    'kubernetes',
    'ansible.module_utils.urls',
    'cryptography.x509',
    'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client',
    'ansible_collections.dtr.cache.plugins.modules.dtr_ca',
    'ansible_collections.dtr.cache.plugins.modules.registry_catalog_info',
)

# The Jinja plugins the role's templates use; a plugin loads the whole file that holds it.
_PLUGINS = (
    (filter_loader, ('ansible.builtin.to_json', 'dtr.cache.htpasswd', 'community.crypto.x509_certificate_info')),
    (test_loader, ('ansible.builtin.match',)),
    (lookup_loader, ('ansible.builtin.file', 'ansible.builtin.template', 'ansible.builtin.varnames', 'kubernetes.core.k8s')),
)


def _preload():
    for name in _MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for loader, names in _PLUGINS:
        for name in names:
            loader.get(name)
    gc.freeze()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'dtr.cache.prefork'
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_play_start(self, play):
        _preload()
