# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Descriptions of the standard attributes; modules add C(support) and C(details).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # Use together with the standard fragment, for modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    # For the modules of the action group dtr.cache.dtr (meta/runtime.yml).
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/dtr.cache.dtr) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dtr.cache.dtr
"""

    # For the modules with an action plugin that runs them in the task's process on the controller.
    IN_PROCESS = r"""
options: {}
attributes:
  action:
    description:
      - Has an action plugin. When the task's connection is local, without become or async, the module's code runs
        in the process Ansible started for the task, which saves starting a Python process for it; otherwise the
        module is executed as usual.
    support: full
"""
