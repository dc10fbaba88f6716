"""pending_objects: which wanted objects the cluster does not hold as wanted."""

from ansible_collections.dtr.cache.plugins.filter.pending_objects import pending_objects

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "namespace": "n", "labels": {"a": "1"}},
           "spec": {"ports": [{"name": "https", "port": 443}]}}
LIVE_SERVICE = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "c", "namespace": "n", "labels": {"a": "1", "extra": "x"}, "uid": "u"},
                "spec": {"ports": [{"name": "https", "port": 443, "nodePort": 30001, "protocol": "TCP"}], "type": "NodePort"},
                "status": {}}


def test_a_live_object_with_more_fields_is_not_pending():
    assert pending_objects([SERVICE], [LIVE_SERVICE]) == []


def test_a_missing_object_is_pending():
    assert pending_objects([SERVICE], []) == [SERVICE]


def test_a_differing_value_is_pending():
    live = dict(LIVE_SERVICE, metadata=dict(LIVE_SERVICE["metadata"], labels={"a": "2"}))
    assert pending_objects([SERVICE], [live]) == [SERVICE]


def test_a_list_of_another_length_is_pending():
    live = dict(LIVE_SERVICE, spec={"ports": LIVE_SERVICE["spec"]["ports"] * 2})
    assert pending_objects([SERVICE], [live]) == [SERVICE]


def test_objects_are_matched_by_kind_namespace_and_name():
    other = dict(LIVE_SERVICE, metadata=dict(LIVE_SERVICE["metadata"], namespace="m"))
    secret = dict(LIVE_SERVICE, kind="Secret")
    assert pending_objects([SERVICE], [other, secret]) == [SERVICE]


def test_a_scalar_where_a_mapping_is_wanted_is_pending():
    live = dict(LIVE_SERVICE, spec="broken")
    assert pending_objects([SERVICE], [live]) == [SERVICE]
