#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: k8s_apply
short_description: Server-side apply of Kubernetes objects, Secrets' data kept out of the output
version_added: 0.1.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Applies each object of O(definition), in the order given, by server-side apply under the field manager of
    O(server_side_apply). It runs the code of M(kubernetes.core.k8s) with O(kubernetes.core.k8s#module:apply=true),
    so kubernetes.core's client, its dry run for check mode and its diff.
  - Server-side apply removes a field that the manager set before and no longer sets; a merge patch would keep it.
  - The C(data) and C(stringData) of every Secret never appear in the result or the diff. Their values show as
    C(***) (kubectl diff's mask), with C(*** (before)) and C(*** (after)) for a value that changes, so a diff tells
    which keys of a Secret change and nothing of their values. Every such value is also removed from any message.
  - With O(wait_rollout), it then waits for a Deployment's rollout as C(kubectl rollout status) does, and stops
    early when a pod of the newest ReplicaSet waits for a reason it does not recover from by waiting.
  - On the controller (a task with a local connection) it runs in the task's process instead of starting a Python
    process that imports the kubernetes client, so that one task applies a whole set of objects, Secrets included,
    at the cost of one import.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - dtr.cache.attributes
  - dtr.cache.attributes.in_process
attributes:
  check_mode:
    support: full
    details:
      - The API server applies each object as a dry run, so the result and the diff are those a run would have.
      - O(wait_rollout) does not wait in check mode.
  diff_mode:
    support: full
    details:
      - One diff for each object that changes, its header naming the object; Secrets' values masked.
  idempotent:
    support: full
    details:
      - Reports a change only for an object whose stored form the apply changed.
      - Waiting changes nothing.
options:
  definition:
    description:
      - The objects to apply, each a complete mapping with C(apiVersion), C(kind) and C(metadata.name)
        (and C(metadata.namespace) for a namespaced kind).
      - Applied in this order, so a Namespace goes before the objects in it.
    type: list
    elements: dict
    required: true
  server_side_apply:
    description: The field manager, as in M(kubernetes.core.k8s).
    type: dict
    default: {field_manager: dtr.cache, force_conflicts: true}
    suboptions:
      field_manager:
        description: The name of the manager that owns the applied fields.
        type: str
        required: true
      force_conflicts:
        description: Take over a field that another manager owns, instead of failing.
        type: bool
        default: false
  take_over_from:
    description:
      - Field managers whose updates (not applies) of an object become the apply of O(server_side_apply.field_manager)
        before it is applied, as C(kubectl apply --server-side) does for the fields of a client-side apply.
      - Server-side apply removes only fields its own manager set. An object that a client patched before keeps
        what that client set, even when the definition no longer has it; taking those fields over lets the apply
        remove them.
      - The kubernetes Python client, and so M(kubernetes.core.k8s) without O(kubernetes.core.k8s#module:apply),
        updates as C(OpenAPI-Generator).
      - Not in check mode.
    type: list
    elements: str
    default: []
  hidden_fields:
    description: Fields left out of each returned object and diff, as in M(kubernetes.core.k8s).
    type: list
    elements: str
    default: [metadata.managedFields]
  wait_rollout:
    description:
      - After the apply (or with an empty O(definition), alone), wait until this Deployment has rolled out, whether or
        not this call changed it. Done means what C(kubectl rollout status) waits for. The Deployment is read five
        times a second for the first ten seconds, then once a second; the pods of its newest ReplicaSet once a
        second.
      - Fails when the time is up, and at once when a container of a pod of the newest ReplicaSet waits with one of
        O(wait_rollout.stuck_reasons). Pods of older ReplicaSets keep serving either way; the result's RV(rollout)
        tells which case it was.
    type: dict
    suboptions:
      name:
        description: The Deployment.
        type: str
        required: true
      namespace:
        description: Its namespace.
        type: str
        required: true
      timeout:
        description: Seconds to wait at most.
        type: int
        default: 300
      stuck_reasons:
        description: Waiting reasons of a container that end the wait at once.
        type: list
        elements: str
        default: [CrashLoopBackOff, ImagePullBackOff, ErrImageNeverPull, InvalidImageName, CreateContainerConfigError]
requirements:
  - kubernetes >= 24.2.0
  - kubernetes.core >= 5.0.0
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: A namespace, its Secret and a Deployment, in one call
  dtr.cache.k8s_apply:
    kubeconfig: ~/.kube/config
    definition:
      - {apiVersion: v1, kind: Namespace, metadata: {name: cache}}
      - apiVersion: v1
        kind: Secret
        metadata: {name: cache-config, namespace: cache}
        data:
          config.yaml: "{{ config | b64encode }}"
      - "{{ lookup('ansible.builtin.template', 'deployment.yml.j2') | from_yaml }}"
    server_side_apply:
      field_manager: my-team
      force_conflicts: true
    wait_rollout:
      name: dtr-cache
      namespace: cache
      timeout: 120
  register: applied
"""

RETURN = r"""
objects:
  description: Each object as the API server stored it (in check mode, as it would), in the order given.
  returned: success
  type: list
  elements: dict
changed_objects:
  description: The kind, namespace and name (C(Kind/namespace/name)) of each object the apply changed.
  returned: success
  type: list
  elements: str
  sample: [Secret/cache/cache-config, Deployment/cache/dtr-cache]
rollout:
  description: How the wait of O(wait_rollout) ended.
  returned: when O(wait_rollout) is set, outside check mode
  type: dict
  contains:
    complete:
      description: Whether every replica is updated and available, and no old one is left.
      type: bool
    stuck:
      description: The waiting reasons of O(wait_rollout.stuck_reasons) that ended the wait early.
      type: list
      elements: str
    seconds:
      description: How long the wait took.
      type: float
"""

import base64
import copy
import datetime
import time
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.runner import perform_action
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService
except ImportError:
    KUBERNETES_CORE_ERROR = traceback.format_exc()
else:
    KUBERNETES_CORE_ERROR = None

SECRET_FIELDS = ('data', 'stringData')
MASK = '***'
# Most rollouts end within seconds: read often at first, then once a second.
POLL_SECONDS = ((10, 0.2), (None, 1.0))
STUCK_REASONS = ('CrashLoopBackOff', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError')
REVISION = 'deployment.kubernetes.io/revision'


def decoded(value):
    try:
        return base64.b64decode(value, validate=True).decode('utf-8')
    except (ValueError, UnicodeDecodeError):
        return None


def secret_values(definitions):
    """Every value under a Secret's data (as given and decoded) or stringData, which no output may carry."""
    values = set()
    for definition in definitions:
        if definition.get('kind') != 'Secret':
            continue
        values.update(str(value) for value in (definition.get('stringData') or {}).values() if value)
        for value in (definition.get('data') or {}).values():
            values.update(text for text in (str(value), decoded(str(value))) if text)
    return values


def mask_secret(obj):
    """A copy of ``obj`` (a Secret) with each value of data and stringData shown as the mask."""
    masked = copy.deepcopy(obj)
    for field in SECRET_FIELDS:
        if isinstance(masked.get(field), dict):
            masked[field] = dict((key, MASK) for key in masked[field])
    return masked


def mask_secret_diff(diff):
    """kubectl diff's masking: a changed value is ``*** (before)`` / ``*** (after)``, an unchanged one ``***``."""
    before, after = copy.deepcopy(diff.get('before') or {}), copy.deepcopy(diff.get('after') or {})
    for field in SECRET_FIELDS:
        old, new = before.get(field), after.get(field)
        if not isinstance(old, dict) and not isinstance(new, dict):
            continue
        old, new = old or {}, new or {}
        for key in set(old) | set(new):
            changed = old.get(key) != new.get(key)
            if key in old:
                old[key] = MASK + ' (before)' if changed else MASK
            if key in new:
                new[key] = MASK + ' (after)' if changed else MASK
        if field in before:
            before[field] = old
        if field in after:
            after[field] = new
    return dict(before=before, after=after)


def object_name(definition):
    metadata = definition.get('metadata') or {}
    parts = [definition.get('kind'), metadata.get('namespace'), metadata.get('name')]
    return '/'.join(part for part in parts if part)


def check_definitions(module, definitions):
    for index, definition in enumerate(definitions):
        metadata = definition.get('metadata')
        complete = (isinstance(definition.get('apiVersion'), string_types) and isinstance(definition.get('kind'), string_types)
                    and isinstance(metadata, dict) and isinstance(metadata.get('name'), string_types))
        if not complete:
            module.fail_json(msg='definition[{0}] needs apiVersion, kind and metadata.name.'.format(index))


def merged_fields(ours, theirs):
    """The union of two managedFields field sets (fieldsV1 trees, whose leaves are empty mappings)."""
    merged = dict(ours)
    for key, value in theirs.items():
        merged[key] = merged_fields(merged.get(key) or {}, value) if value else merged.get(key, {})
    return merged


def owns_fields(entry, managers, operation):
    """Is this managedFields entry an ``operation`` of one of ``managers`` on the object itself (not status or scale)?"""
    return entry.get('manager') in managers and entry.get('operation') == operation and not entry.get('subresource')


def takeover_patch(live, manager, former):
    """The JSON patch that moves the fields ``former`` managers updated into ``manager``'s apply entry, or None."""
    entries = live['metadata'].get('managedFields') or []
    taken = [entry for entry in entries if owns_fields(entry, former, 'Update')]
    if not taken:
        return None
    kept = [copy.deepcopy(entry) for entry in entries if entry not in taken]
    ours = next((entry for entry in kept if owns_fields(entry, [manager], 'Apply')), None)
    if ours is None:
        now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        ours = dict(manager=manager, operation='Apply', apiVersion=live['apiVersion'], fieldsType='FieldsV1', fieldsV1={}, time=now)
        kept.append(ours)
    for entry in taken:
        ours['fieldsV1'] = merged_fields(ours.get('fieldsV1') or {}, entry.get('fieldsV1') or {})
    # The test makes the patch fail rather than overwrite a change made since the object was read.
    return [dict(op='test', path='/metadata/resourceVersion', value=live['metadata']['resourceVersion']),
            dict(op='replace', path='/metadata/managedFields', value=kept)]


def take_over(module, service, definition):
    resource = service.find_resource(definition['kind'], definition['apiVersion'], fail=True)
    live = service.retrieve(resource, definition)
    patch = live and takeover_patch(live.to_dict(), module.params['server_side_apply']['field_manager'], module.params['take_over_from'])
    if patch:
        metadata = definition['metadata']
        service.client.patch(resource, patch, name=metadata['name'], namespace=metadata.get('namespace'),
                             content_type='application/json-patch+json')


def apply_all(module, service):
    """Apply each object in order; stop at the first the API server refuses."""
    params = dict(module.params, apply=True, state='present', wait=False, label_selectors=None)
    objects, changed, diffs = [], [], []
    for definition in module.params['definition']:
        name = object_name(definition)
        try:
            if module.params['take_over_from'] and not module.check_mode:
                take_over(module, service, definition)
            outcome = perform_action(service, copy.deepcopy(definition), params)
        except Exception as exc:  # kubernetes.core's CoreException, or the kubernetes client's errors
            module.fail_json(msg='{0}: {1}'.format(name, exc), changed_objects=changed)
        secret = definition['kind'] == 'Secret'
        objects.append(mask_secret(outcome['result']) if secret else outcome['result'])
        for warning in outcome.get('warnings', []):
            module.warn('{0}: {1}'.format(name, warning))
        if not outcome['changed']:
            continue
        changed.append(name)
        if module._diff:
            diff = outcome.get('diff') or dict(before={}, after=outcome['result'])
            diff = mask_secret_diff(diff) if secret else diff
            diffs.append(dict(diff, before_header=name, after_header=name))
    return objects, changed, diffs


def rolled_out(deployment):
    """kubectl rollout status's test: the latest spec seen, every replica updated and available, no old one left."""
    spec, status, metadata = deployment.get('spec') or {}, deployment.get('status') or {}, deployment['metadata']
    wanted = spec.get('replicas', 1)
    return (status.get('observedGeneration', -1) >= metadata.get('generation', 0)
            and status.get('updatedReplicas', 0) == wanted
            and status.get('replicas', 0) == wanted
            and status.get('availableReplicas', 0) == wanted)


def newest_pods(client, service, deployment):
    """The pods of the ReplicaSet of the Deployment's current revision (none until the controller made it)."""
    metadata, status = deployment['metadata'], deployment.get('status') or {}
    if status.get('observedGeneration', -1) < metadata.get('generation', 0):
        return []
    labels = (deployment['spec'].get('selector') or {}).get('matchLabels') or {}
    selector = ','.join('{0}={1}'.format(key, value) for key, value in sorted(labels.items()))
    revision = (metadata.get('annotations') or {}).get(REVISION)
    replica_sets = service.find_resource('ReplicaSet', 'apps/v1', fail=True)
    for replica_set in client.get(replica_sets, namespace=metadata['namespace'], label_selector=selector).to_dict()['items']:
        if (replica_set['metadata'].get('annotations') or {}).get(REVISION) == revision:
            template_hash = replica_set['metadata']['labels'].get('pod-template-hash', '')
            pods = service.find_resource('Pod', 'v1', fail=True)
            selector = '{0},pod-template-hash={1}'.format(selector, template_hash)
            return client.get(pods, namespace=metadata['namespace'], label_selector=selector).to_dict()['items']
    return []


def stuck_reasons(pods, reasons):
    found = set()
    for pod in pods:
        for container in (pod.get('status') or {}).get('containerStatuses') or []:
            waiting = (container.get('state') or {}).get('waiting') or {}
            if waiting.get('reason') in reasons:
                found.add(waiting['reason'])
    return sorted(found)


def wait_rollout(client, service, options):
    """Read the Deployment until it rolled out, a new pod is stuck, or the time is up.

    The pods, two more lists, are read at most once a second: a stuck pod stays stuck.
    """
    deployments = service.find_resource('Deployment', 'apps/v1', fail=True)
    begin = time.monotonic()
    deadline = begin + options['timeout']
    pods_read = stuck = None
    while True:
        now = time.monotonic()
        deployment = client.get(deployments, name=options['name'], namespace=options['namespace']).to_dict()
        complete = rolled_out(deployment)
        if not complete and (pods_read is None or now - pods_read >= 1):
            pods_read = now
            stuck = stuck_reasons(newest_pods(client, service, deployment), options['stuck_reasons'])
        if complete or stuck or now >= deadline:
            return dict(complete=complete, stuck=[] if complete else stuck, seconds=round(now - begin, 2))
        interval = next(seconds for until, seconds in POLL_SECONDS if until is None or now - begin < until)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        definition=dict(type='list', elements='dict', required=True),
        server_side_apply=dict(
            type='dict',
            default=dict(field_manager='dtr.cache', force_conflicts=True),
            options=dict(field_manager=dict(type='str', required=True), force_conflicts=dict(type='bool', default=False)),
        ),
        take_over_from=dict(type='list', elements='str', default=[]),
        hidden_fields=dict(type='list', elements='str', default=['metadata.managedFields']),
        wait_rollout=dict(
            type='dict',
            options=dict(
                name=dict(type='str', required=True),
                namespace=dict(type='str', required=True),
                timeout=dict(type='int', default=300),
                stuck_reasons=dict(type='list', elements='str', default=list(STUCK_REASONS)),
            ),
        ),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
    # Before anything can fail: a message quoting an object must not quote a Secret's value.
    module.no_log_values.update(secret_values(module.params['definition']))
    if KUBERNETES_CORE_ERROR is not None:
        module.fail_json(msg='kubernetes.core >= 5.0.0 with its requirements is needed.', exception=KUBERNETES_CORE_ERROR)
    check_definitions(module, module.params['definition'])
    k8s = AnsibleK8SModule(module_class=lambda: module)
    try:
        client = get_api_client(k8s)
        service = K8sService(client, k8s)
    except CoreException as exc:
        module.fail_json(msg=str(exc))
    objects, changed, diffs = apply_all(k8s, service)
    # What a failed wait reports: what was applied, not every object, so the message comes first.
    summary = dict(changed=bool(changed), changed_objects=changed)
    if diffs:
        summary['diff'] = diffs
    options = module.params['wait_rollout']
    if options and not module.check_mode:
        try:
            summary['rollout'] = rollout = wait_rollout(client, service, options)
        except Exception as exc:  # the kubernetes client's errors have no common base besides Exception
            module.fail_json(msg='Reading the rollout of Deployment {namespace}/{name} failed: {0}'.format(exc, **options), **summary)
        if not rollout['complete']:
            why = ('a new pod cannot start ({0})'.format(', '.join(rollout['stuck'])) if rollout['stuck']
                   else 'not rolled out within {0} s'.format(options['timeout']))
            module.fail_json(msg='Deployment {namespace}/{name}: {0}'.format(why, **options), **summary)
    result = dict(summary, objects=objects)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
