# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""k8s_apply's own logic: what it masks in Secrets, when a rollout is done, which pods are stuck.

The apply and the wait against a real API server are in tests/e2e (test_objects.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dtr.cache.plugins.modules import k8s_apply


def secret(**data):
    return {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's', 'namespace': 'n'}, 'data': data}


def test_every_value_of_a_secret_is_a_no_log_value_and_nothing_else_is():
    definitions = [secret(key='a2V5', cert='Y2VydA==', binary='/w=='), dict(secret(), stringData={'config.yaml': 'password: hunter2'}),
                   {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'}, 'data': {'x': 'visible'}}]
    # data values as given and decoded (when they decode to text)
    assert k8s_apply.secret_values(definitions) == {'a2V5', 'key', 'Y2VydA==', 'cert', '/w==', 'password: hunter2'}


def test_a_returned_secret_keeps_its_keys_and_loses_its_values():
    masked = k8s_apply.mask_secret(dict(secret(key='a2V5'), stringData={'pw': 'x'}))
    assert masked['data'] == {'key': '***'} and masked['stringData'] == {'pw': '***'}
    assert masked['metadata'] == {'name': 's', 'namespace': 'n'}


def test_a_secret_diff_tells_which_keys_change_as_kubectl_diff_does():
    diff = {'before': {'data': {'same': 'QQ==', 'changed': 'b2xk', 'removed': 'Z29uZQ=='}},
            'after': {'data': {'same': 'QQ==', 'changed': 'bmV3', 'added': 'aGk='}, 'metadata': {'labels': {'a': 'b'}}}}
    masked = k8s_apply.mask_secret_diff(diff)
    assert masked['before'] == {'data': {'same': '***', 'changed': '*** (before)', 'removed': '*** (before)'}}
    assert masked['after'] == {'data': {'same': '***', 'changed': '*** (after)', 'added': '*** (after)'},
                               'metadata': {'labels': {'a': 'b'}}}
    assert diff['before']['data']['changed'] == 'b2xk'  # the module's own copy is masked, not the input


def test_a_new_secret_shows_only_its_keys():
    masked = k8s_apply.mask_secret_diff({'before': {}, 'after': secret(key='a2V5')})
    assert masked['before'] == {} and masked['after']['data'] == {'key': '*** (after)'}


def deployment(generation=2, observed=2, wanted=2, **status):
    return {'metadata': {'generation': generation}, 'spec': {'replicas': wanted},
            'status': dict({'observedGeneration': observed}, **status)}


def test_a_rollout_is_done_only_when_every_replica_is_new_and_available_and_no_old_one_is_left():
    done = dict(updatedReplicas=2, replicas=2, availableReplicas=2)
    assert k8s_apply.rolled_out(deployment(**done))
    assert not k8s_apply.rolled_out(deployment(observed=1, **done))  # the controller has not seen the latest spec
    assert not k8s_apply.rolled_out(deployment(updatedReplicas=1, replicas=2, availableReplicas=2))
    assert not k8s_apply.rolled_out(deployment(updatedReplicas=2, replicas=3, availableReplicas=2))  # an old pod is still there
    assert not k8s_apply.rolled_out(deployment(updatedReplicas=2, replicas=2, availableReplicas=1))
    assert not k8s_apply.rolled_out({'metadata': {'generation': 1}, 'spec': {}})  # no status yet


def test_only_the_reasons_asked_for_stop_the_wait():
    def pod(*reasons):
        return {'status': {'containerStatuses': [{'state': {'waiting': {'reason': reason}}} for reason in reasons]}}
    pods = [pod('ContainerCreating'), pod('CrashLoopBackOff'), pod('ErrImageNeverPull', 'CrashLoopBackOff'), {'status': {}}]
    assert k8s_apply.stuck_reasons(pods, k8s_apply.STUCK_REASONS) == ['CrashLoopBackOff', 'ErrImageNeverPull']
    assert k8s_apply.stuck_reasons(pods, ['ImagePullBackOff']) == []


def managed(manager, operation, fields, subresource=None):
    entry = {'manager': manager, 'operation': operation, 'apiVersion': 'apps/v1', 'fieldsType': 'FieldsV1', 'fieldsV1': fields,
             'time': '2026-01-01T00:00:00Z'}
    if subresource:
        entry['subresource'] = subresource
    return entry


def live_object(*entries):
    return {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'd', 'resourceVersion': '42', 'managedFields': list(entries)}}


def test_fields_a_former_client_updated_become_the_apply_managers():
    ours = managed('dtr.cache', 'Apply', {'f:metadata': {'f:labels': {'f:app': {}}}, 'f:spec': {'f:replicas': {}}})
    old = managed('OpenAPI-Generator', 'Update', {'f:metadata': {'f:annotations': {'f:example.com/x': {}}, 'f:labels': {'f:app': {}}}})
    status = managed('OpenAPI-Generator', 'Update', {'f:status': {'f:replicas': {}}}, subresource='status')
    controller = managed('kube-controller-manager', 'Update', {'f:metadata': {'f:annotations': {'f:deployment.kubernetes.io/revision': {}}}})
    test, replace = k8s_apply.takeover_patch(live_object(ours, old, status, controller), 'dtr.cache', ['OpenAPI-Generator'])
    assert test == {'op': 'test', 'path': '/metadata/resourceVersion', 'value': '42'}
    assert replace['op'] == 'replace' and replace['path'] == '/metadata/managedFields'
    entries = replace['value']
    assert [entry['manager'] for entry in entries] == ['dtr.cache', 'OpenAPI-Generator', 'kube-controller-manager']
    assert entries[1] == status and entries[2] == controller, "a status update and other managers stay as they are"
    assert entries[0]['fieldsV1'] == {'f:metadata': {'f:labels': {'f:app': {}}, 'f:annotations': {'f:example.com/x': {}}},
                                      'f:spec': {'f:replicas': {}}}


def test_a_takeover_makes_the_apply_entry_when_there_is_none_and_is_not_needed_twice():
    old = managed('OpenAPI-Generator', 'Update', {'f:spec': {'f:replicas': {}}})
    entries = k8s_apply.takeover_patch(live_object(old), 'dtr.cache', ['OpenAPI-Generator'])[1]['value']
    assert len(entries) == 1 and entries[0]['manager'] == 'dtr.cache' and entries[0]['operation'] == 'Apply'
    assert entries[0]['fieldsV1'] == {'f:spec': {'f:replicas': {}}}
    assert k8s_apply.takeover_patch(live_object(*entries), 'dtr.cache', ['OpenAPI-Generator']) is None
    assert k8s_apply.takeover_patch(live_object(old), 'dtr.cache', ['someone-else']) is None
