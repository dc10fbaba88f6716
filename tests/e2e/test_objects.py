"""What the role changes on the local Kubernetes: exposure objects it no longer needs and fields no
setting asks for any more go, only objects that carry its labels are removed (never a user's own
object of the same kind and name), Secrets change without their values in the output, and a
failed rollout explains itself."""

import base64
import json
import os
import pathlib
import subprocess
import sys
import time

import kubernetes
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE = ROOT / ".cluster"
BIN = pathlib.Path(sys.executable).parent
NAMESPACE = "dtr-objects"
# site-b's settings in a namespace of its own; no verification (no router serves the Route here).
SITE = {"dtr_cache_namespace": NAMESPACE, "dtr_cache_external_host": "cache.objects.test", "dtr_cache_verify": False,
        "dtr_cache_register": False, "dtr_cache_client_ca_dest": ""}


def role(tmp_path, expect_success=True, options=(), **variables):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(dict(SITE, **variables)))
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "inventories/local", "-l", "site-b", "playbooks/%s" % (
            "remove-cache.yml" if variables.get("dtr_cache_state") == "absent" else "deploy-cache.yml"), "-e", "@%s" % extra]
        + list(options),
        capture_output=True, text=True, cwd=str(ROOT), timeout=600, check=False,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"))
    output = result.stdout + result.stderr
    assert (result.returncode == 0) == expect_success, output[-5000:]
    return output


@pytest.fixture(scope="module")
def api():
    client = kubernetes.config.new_client_from_config(config_file=str(STATE / "kubeconfig"))
    return (kubernetes.client.CoreV1Api(client), kubernetes.client.NetworkingV1Api(client), kubernetes.client.CustomObjectsApi(client),
            kubernetes.client.AppsV1Api(client))


def routes(custom):
    listed = custom.list_namespaced_custom_object("route.openshift.io", "v1", NAMESPACE, "routes")
    return [item["metadata"]["name"] for item in listed["items"]]


def test_removal_follows_the_settings_and_spares_what_is_not_the_roles(api, tmp_path):
    core, networking, custom = api[:3]
    # The user's namespace with the user's own Ingress that happens to share the cache's name.
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    networking.create_namespaced_ingress(NAMESPACE, {
        "metadata": {"name": "dtr-cache"},
        "spec": {"defaultBackend": {"service": {"name": "other", "port": {"number": 80}}}}})
    try:
        role(tmp_path, dtr_cache_expose="route", dtr_cache_replicas=1)
        assert routes(custom) == ["dtr-cache"]

        role(tmp_path, dtr_cache_expose="clusterip", dtr_cache_network_policy=True)
        assert routes(custom) == [], "the Route of the earlier exposure is gone"
        assert [p.metadata.name for p in networking.list_namespaced_network_policy(NAMESPACE).items] == ["dtr-cache"]
        assert networking.read_namespaced_ingress("dtr-cache", NAMESPACE).spec.default_backend.service.name == "other"

        role(tmp_path, dtr_cache_expose="clusterip", dtr_cache_network_policy=False)
        assert networking.list_namespaced_network_policy(NAMESPACE).items == []

        role(tmp_path, dtr_cache_state="absent")
        assert networking.read_namespaced_ingress("dtr-cache", NAMESPACE).spec.default_backend.service.name == "other"
        assert core.list_namespaced_secret(NAMESPACE, label_selector="app.kubernetes.io/managed-by=dtr.cache").items == []
        assert core.read_namespace(NAMESPACE).status.phase == "Active", "a namespace the role did not create stays"
    finally:
        core.delete_namespace(NAMESPACE)


def test_a_failed_rollout_explains_itself_and_the_last_good_pod_keeps_serving(api, tmp_path):
    core = api[0]
    try:
        role(tmp_path, dtr_cache_expose="clusterip", dtr_cache_namespace=NAMESPACE + "-bad")
        begin = time.monotonic()
        output = role(tmp_path, expect_success=False, dtr_cache_expose="clusterip", dtr_cache_namespace=NAMESPACE + "-bad",
                      dtr_cache_image="localhost/not-there:1", dtr_cache_wait_timeout=240)
        seconds = time.monotonic() - begin
        flat = " ".join(output.split())
        assert "was not applied and rolled out: a new pod cannot start (ErrImageNeverPull)" in flat
        assert seconds < 60, "a pod that cannot start ends the wait long before dtr_cache_wait_timeout (%.0f s)" % seconds
        assert "ErrImageNeverPull" in flat.split("Pods:")[1], "the message names the new pod's waiting reason"
        assert "keep serving" in flat
        assert "rollout undo deployment/dtr-cache" in flat
        pods = core.list_namespaced_pod(NAMESPACE + "-bad").items
        assert any(pod.spec.containers[0].image == "localhost/distribution:3.1.2" and pod.status.phase == "Running" for pod in pods)
        # The run that fixes it waits for its own pods, not for the one that never started.
        role(tmp_path, dtr_cache_expose="clusterip", dtr_cache_namespace=NAMESPACE + "-bad")
    finally:
        core.delete_namespace(NAMESPACE + "-bad")


def test_a_setting_taken_away_leaves_the_object_and_a_changed_secret_shows_only_its_keys(api, tmp_path):
    core, apps = api[0], api[3]
    namespace = NAMESPACE + "-apply"
    site = dict(dtr_cache_expose="clusterip", dtr_cache_namespace=namespace)
    try:
        role(tmp_path, dtr_cache_pod_annotations={"example.com/team": "cache"}, dtr_cache_node_selector={"kubernetes.io/os": "linux"},
             **site)
        template = apps.read_namespaced_deployment("dtr-cache", namespace).spec.template
        assert template.metadata.annotations["example.com/team"] == "cache"
        assert template.spec.node_selector == {"kubernetes.io/os": "linux"}
        old_config = core.read_namespaced_secret("dtr-cache-config", namespace).data["config.yaml"]

        output = role(tmp_path, options=["--diff", "-v"], dtr_cache_log_level="debug", **site)
        template = apps.read_namespaced_deployment("dtr-cache", namespace).spec.template
        assert "example.com/team" not in template.metadata.annotations, "server-side apply removes what no setting asks for"
        assert template.spec.node_selector is None
        new_config = core.read_namespaced_secret("dtr-cache-config", namespace).data["config.yaml"]
        assert new_config != old_config
        assert "--- before: Secret/%s/dtr-cache-config" % namespace in output
        assert "config.yaml: '*** (before)'" in output and "config.yaml: '*** (after)'" in output
        http_secret = [line for line in base64.b64decode(new_config).decode().splitlines() if "secret:" in line][0].split(":", 1)[1]
        for value in (old_config, new_config, http_secret.strip()):
            assert value not in output, "a Secret's value reached the output"
        assert "--- before: Deployment/%s/dtr-cache" % namespace in output
        assert "example.com/team" in output.split("--- before: Deployment/%s/dtr-cache" % namespace)[1], "the diff shows the annotation go"
    finally:
        core.delete_namespace(namespace)


def test_fields_an_earlier_version_patched_in_go_at_the_next_change(api, tmp_path):
    apps = api[3]
    namespace = NAMESPACE + "-takeover"
    site = dict(dtr_cache_expose="clusterip", dtr_cache_namespace=namespace)
    try:
        role(tmp_path, **site)
        # What an earlier version left: it patched its objects through the kubernetes client (field
        # manager OpenAPI-Generator, as this test's client), here with a setting since taken away.
        apps.patch_namespaced_deployment("dtr-cache", namespace, {"spec": {"template": {"metadata": {
            "annotations": {"example.com/removed-setting": "x"}}}}})
        role(tmp_path, dtr_cache_log_level="debug", **site)
        deployment = apps.read_namespaced_deployment("dtr-cache", namespace)
        assert "example.com/removed-setting" not in deployment.spec.template.metadata.annotations
        managers = [(entry.manager, entry.operation) for entry in deployment.metadata.managed_fields if not entry.subresource]
        assert ("dtr.cache", "Apply") in managers and ("OpenAPI-Generator", "Update") not in managers, managers
    finally:
        api[0].delete_namespace(namespace)
