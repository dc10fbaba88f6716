"""No inventory or survey value can add keys to a manifest or to config.yaml.

Every string variable that reaches a manifest or config.yaml gets each payload; all cases run as
the hosts of one playbook run. A payload is either rejected before anything is written, by a
message that names its variable, or it renders inert: the value arrives as one string and the
object has no key it did not have without it.
"""

import json
import pathlib
import re

import pytest
import yaml

from ansible_collections.dtr.cache.tests.render.conftest import playbook

PAYLOADS = {
    "newline and keys": "%s\nhostPID: true\nhostNetwork: true\nnodeName: victim",
    "flow style": "%s, hostPID: true}",
    "trailing newline": "%s\n",
}

# variable -> (a valid value that the payload is appended to, how to set it)
TARGETS = {
    "dtr_cache_namespace": ("dtr", lambda v: {"dtr_cache_namespace": v}),
    "dtr_cache_name": ("dtr-cache", lambda v: {"dtr_cache_name": v}),
    "dtr_cache_image": ("registry.example.com/cache:1", lambda v: {"dtr_cache_image": v}),
    "dtr_cache_image_pull_secrets": ("pull", lambda v: {"dtr_cache_image_pull_secrets": [v]}),
    "dtr_cache_certs_secret_name": ("dtr-certs", lambda v: {"dtr_cache_certs_secret_name": v}),
    "dtr_cache_storage.size": ("10Gi", lambda v: {"dtr_cache_storage": {"type": "pvc", "size": v}}),
    "dtr_cache_storage.class": ("fast", lambda v: {"dtr_cache_storage": {"type": "pvc", "size": "1Gi", "class": v}}),
    "dtr_cache_storage.access_mode": ("ReadWriteOnce", lambda v: {"dtr_cache_storage": {"type": "pvc", "size": "1Gi", "access_mode": v}}),
    "dtr_cache_ingress_class": ("nginx", lambda v: {"dtr_cache_ingress_class": v}),
    "dtr_cache_external_host": ("cache.example.com", lambda v: {"dtr_cache_external_host": v}),
    "dtr_cache_extra_sans": ("alt.example.com", lambda v: {"dtr_cache_extra_sans": [v]}),
    "dtr_cache_upstreams": ("https://dtr.example.com", lambda v: {"dtr_cache_upstreams": [v]}),
    "dtr_cache_dtr_url": ("https://dtr.example.com", lambda v: {"dtr_cache_dtr_url": v}),
    "dtr_cache_blobttl": ("24h", lambda v: {"dtr_cache_blobttl": v}),
    "dtr_cache_labels": ("team", lambda v: {"dtr_cache_labels": {"team": v}}),
    "dtr_cache_ingress_annotations": ("example.com/a", lambda v: {"dtr_cache_ingress_annotations": {v: "x"}}),
    "dtr_cache_service_annotations": ("example.com/a", lambda v: {"dtr_cache_service_annotations": {v: "x"}}),
    "dtr_cache_pod_annotations": ("example.com/a", lambda v: {"dtr_cache_pod_annotations": {v: "x"}}),
    "dtr_cache_node_selector": ("zone", lambda v: {"dtr_cache_node_selector": {"zone": v}}),
    "dtr_cache_priority_class_name": ("critical", lambda v: {"dtr_cache_priority_class_name": v}),
    "dtr_cache_image_pull_policy": ("Always", lambda v: {"dtr_cache_image_pull_policy": v}),
    "dtr_cache_log_level": ("info", lambda v: {"dtr_cache_log_level": v}),
    "dtr_cache_verify_url": ("https://cache.example.com", lambda v: {"dtr_cache_verify_url": v}),
    "dtr_cache_client_users": ("dev", lambda v: {"dtr_cache_flavor": "distribution",
                                                 "dtr_cache_client_users": [{"username": v, "password": "p"}]}),
}

# Free text by nature: they must arrive as exactly one string, wherever they land.
INERT = {
    "dtr_cache_service_annotations (value)": (lambda v: {"dtr_cache_service_annotations": {"example.com/note": v}},
                                              "service-dtr-cache.yml", lambda o: o["metadata"]["annotations"]["example.com/note"]),
    "dtr_cache_ingress_annotations (value)": (lambda v: {"dtr_cache_ingress_annotations": {"example.com/note": v}},
                                              "ingress-dtr-cache.yml", lambda o: o["metadata"]["annotations"]["example.com/note"]),
    "dtr_cache_pod_annotations (value)": (lambda v: {"dtr_cache_pod_annotations": {"example.com/note": v}},
                                          "deployment-dtr-cache.yml", lambda o: o["spec"]["template"]["metadata"]["annotations"]["example.com/note"]),
    "dtr_cache_host_aliases": (lambda v: {"dtr_cache_host_aliases": [{"ip": "10.0.0.1", "hostnames": [v]}]},
                               "deployment-dtr-cache.yml", lambda o: o["spec"]["template"]["spec"]["hostAliases"][0]["hostnames"][0]),
    "dtr_cache_upstream_password": (lambda v: {"dtr_cache_flavor": "distribution", "dtr_cache_upstream_username": "robot",
                                               "dtr_cache_upstream_password": v, "dtr_cache_allow_anonymous_pulls": True},
                                    "config.yaml", lambda o: o["proxy"]["password"]),
}


def _run_sites(tmp_path, sites):
    """One playbook run with a host per site; returns {host: [failure messages]} and the export dirs."""
    inventory = {"all": {"hosts": {}}}
    for host, variables in sites.items():
        out = tmp_path / host
        out.mkdir()
        inventory["all"]["hosts"][host] = dict(variables, ansible_connection="local", dtr_cache_export_dir=str(out))
    (tmp_path / "hosts.json").write_text(json.dumps(inventory))
    result = playbook(["-i", str(tmp_path / "hosts.json"), "-e", "sites=all", "-f", "10"],
                      env={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    report = json.loads(result.stdout[result.stdout.index("{"):])
    failures = dict((host, []) for host in sites)
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                if outcome.get("failed"):
                    failures[host].append(outcome.get("msg", ""))
    return failures, dict((host, tmp_path / host) for host in sites)


def _base(dtr, pki):
    return {
        "dtr_cache_upstreams": [dtr.url("localhost")],
        "dtr_cache_ca_fingerprint": [pki.root.fingerprint],
        "dtr_cache_expose": "ingress",
        "dtr_cache_external_host": "cache.example.com",
    }


@pytest.fixture(scope="module")
def rejected(dtr, pki, tmp_path_factory):
    sites = {}
    for target, (valid, setting) in TARGETS.items():
        for index, template in enumerate(PAYLOADS.values()):
            variables = _base(dtr, pki)
            variables.update(setting(template % valid))
            sites["%s-%d" % (target.replace(".", "-").replace("_", "-"), index)] = variables
    return _run_sites(tmp_path_factory.mktemp("rejected"), sites)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_payload_is_rejected_naming_its_variable_before_anything_is_written(rejected, target, payload):
    failures, outs = rejected
    host = "%s-%d" % (target.replace(".", "-").replace("_", "-"), list(PAYLOADS).index(payload))
    assert failures[host], "%s with a %s payload was accepted" % (target, payload)
    assert target.split(".")[0] in failures[host][0], failures[host][0]
    assert list(outs[host].iterdir()) == []


@pytest.fixture(scope="module")
def inert(dtr, pki, tmp_path_factory):
    sites = {}
    for name, (setting, dummy, dummy) in INERT.items():
        for index, template in enumerate(PAYLOADS.values()):
            variables = _base(dtr, pki)
            variables.update(setting(template % "note"))
            sites["%s-%d" % (name.split(" ", 1)[0].replace("_", "-"), index)] = variables
    return _run_sites(tmp_path_factory.mktemp("inert"), sites)


@pytest.mark.parametrize("name", sorted(INERT))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_free_text_renders_as_one_string(inert, name, payload):
    failures, outs = inert
    setting, manifest, locate = INERT[name]
    host = "%s-%d" % (name.split(" ", 1)[0].replace("_", "-"), list(PAYLOADS).index(payload))
    assert failures[host] == []
    rendered = yaml.safe_load((outs[host] / manifest).read_text())
    assert locate(rendered) == PAYLOADS[payload] % "note"
    for path in outs[host].iterdir():
        assert "hostPID" not in yaml.safe_load(path.read_text()).get("spec", {}).get("template", {}).get("spec", {})


def test_every_value_in_a_manifest_template_is_quoted_or_a_number():
    """The rule behind the cases above, for the templates' every expression."""
    templates = pathlib.Path(__file__).resolve().parents[2] / "roles" / "dtr_cache" / "templates"
    safe = re.compile(r"\|\s*(to_json|int|b64encode|hash\('sha256'\))\s*$")
    loose = []
    for template in sorted(templates.glob("*.yml.j2")):
        for expression in re.findall(r"\{\{(.*?)\}\}", template.read_text()):
            if not safe.search(expression.strip()):
                loose.append("%s: {{%s}}" % (template.name, expression))
    assert loose == []
