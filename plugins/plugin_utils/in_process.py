# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run one of the collection's modules in the process Ansible forked for the task.

A module call starts a Python interpreter and imports its libraries: about half a second on a
small controller, for milliseconds of work. The role runs on the controller (connection local),
so there the module's ``main()`` runs in the task's worker process, with an object that does
what the module asks of AnsibleModule. Over any other connection, with become or async, the
module is executed as usual.
"""

from __future__ import annotations

import gc
import importlib
import os
import warnings

from ansible.module_utils.basic import remove_values
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

_LOCAL = ('local', 'ansible.builtin.local')


class _Exit(Exception):
    def __init__(self, result):
        super().__init__()
        self.result = result


class InProcessModule:
    """The part of AnsibleModule the collection's modules use, for a task run by ``action``."""

    def __init__(self, action, argument_spec, supports_check_mode=False, **constraints):
        self._name = action._task.action
        self._host = action._inventory_hostname or 'localhost'
        self.check_mode = bool(action._play_context.check_mode)
        self._diff = bool(action._play_context.diff)
        self._warnings = []
        validated = ModuleArgumentSpecValidator(argument_spec, **constraints).validate(action._task.args)
        self.no_log_values = validated._no_log_values
        self.params = validated.validated_parameters
        if validated.error_messages:
            msg = validated.errors.msg
            if isinstance(validated.errors[0], UnsupportedError):
                msg = 'Unsupported parameters for ({0}) module: {1}'.format(self._name, msg)
            self.fail_json(msg=msg)
        if self.check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg='remote module ({0}) does not support check mode'.format(self._name))

    def warn(self, warning):
        self._warnings.append(warning)

    def progress(self, text):
        """Show ``<host>: <text>`` on the controller at once, while the task still runs.

        AnsibleModule has no such channel (its output is the result), so modules call this only when the
        object has it. In a worker process Display sends the line through the results queue to the terminal.
        """
        Display().display('{0}: {1}'.format(self._host, remove_values(text, self.no_log_values)))

    def atomic_move(self, src, dest):
        os.replace(src, dest)

    def exit_json(self, **result):
        result.setdefault('changed', False)
        if self._warnings:
            result['warnings'] = self._warnings
        raise _Exit(remove_values(result, self.no_log_values))

    def fail_json(self, msg, **result):
        self.exit_json(failed=True, msg=msg, **result)


class InProcessAction(ActionBase):
    """Action plugin of a module whose ``main(module=None)`` accepts the module object to use.

    ``MODULE`` names the module (``plugins/modules/<MODULE>.py`` of the plugin's collection); ``module_kwargs()`` there returns the
    arguments of its AnsibleModule. The module is imported when the task runs, in the task's worker:
    Ansible's linear strategy loads every task's action plugin in ansible-playbook's own process, and
    the libraries a module imports there would make that process, and so each fork of it, larger
    and slower.
    """

    MODULE = None
    # The host the task runs for, which progress lines name; set by run().
    _inventory_hostname = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._runs_here():
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        # The worker is a fork of ansible-playbook and ends with this task. Its collector would walk
        # every object inherited from that process each time a full collection runs (the kubernetes
        # client's import sets one off: about 60 ms); frozen, they are left out, as in a pre-fork server.
        gc.freeze()
        environment = {}
        self._compute_environment_string(environment)
        self._inventory_hostname = (task_vars or {}).get('inventory_hostname')
        saved = dict(os.environ)
        os.environ.update(environment)
        # A module process writes Python's warnings (a library's deprecation notice) to a stderr that
        # Ansible shows only when the module fails; here they would reach the terminal as "errantly
        # sent data", so they are kept for -vvv instead.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('default')
            try:
                module = importlib.import_module(self._module_package() + self.MODULE)
                module.main(InProcessModule(self, **module.module_kwargs()))
                raise AssertionError('{0} returned without exit_json or fail_json'.format(self._task.action))
            except _Exit as exited:
                result.update(exited.result)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        for caught_warning in caught:
            Display().vvv('{0}: {1}'.format(self._task.action, warnings.formatwarning(
                caught_warning.message, caught_warning.category, caught_warning.filename, caught_warning.lineno).strip()))
        return result

    def _module_package(self):
        """``ansible_collections.<namespace>.<name>.plugins.modules.``, of the collection this plugin is in."""
        return type(self).__module__.rsplit('.action.', 1)[0] + '.modules.'

    def _runs_here(self):
        """True when the module would run on this machine, as this user, and not in the background."""
        return self._connection.transport in _LOCAL and not self._play_context.become and not self._task.async_val
