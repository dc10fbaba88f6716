"""The role run end to end in export mode: real playbook runs, a real local HTTPS server as DTR's /ca."""

import base64
import datetime
import json

import pytest
import yaml
from cryptography import x509

from ansible_collections.dtr.cache.tests.unit.seed_guide import seed_config
from ansible_collections.dtr.cache.tests.unit.tls_servers import free_port, make_certificate
from ansible_collections.dtr.cache.tests.render.conftest import run_role


def load(out, name):
    return yaml.safe_load((out / name).read_text())


def seed_site(dtr, pki, **overrides):
    site = {
        "dtr_cache_upstreams": [dtr.url("localhost")],
        "dtr_cache_ca_fingerprint": [pki.root.fingerprint],
        "dtr_cache_expose": "ingress",
        "dtr_cache_external_host": "cache.example.com",
    }
    site.update(overrides)
    return site


@pytest.fixture(scope="module")
def seed_export(dtr, pki, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("seed")
    code, output = run_role(tmp_path, **seed_site(dtr, pki))
    assert code == 0, output
    return tmp_path / "out", output


def test_the_default_dtr_image_is_pointed_out(seed_export, dtr, pki, tmp_path):
    dummy, output = seed_export
    note = "dtr_cache_image is not set, so the dtr flavor runs docker/dtr-content-cache:2.6.5"
    assert note in " ".join(output.split())
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_image="mirantis/dtr-content-cache:2.9.16"))
    assert code == 0 and note not in " ".join(output.split())


def test_seed_equivalent_config_matches_the_seed_but_for_the_secret(seed_export, dtr):
    out, dummy = seed_export
    config = (out / "config.yaml").read_text()
    secret = yaml.safe_load(config)["http"]["secret"]
    assert len(secret) == 48 and secret.isalnum()
    assert config == seed_config(secret, "https://cache.example.com", dtr.url("localhost"))


def test_objects_keep_the_seed_names_and_modern_apis(seed_export):
    out, dummy = seed_export
    assert sorted(p.name for p in out.iterdir()) == [
        "config.yaml", "deployment-dtr-cache.yml", "ingress-dtr-cache.yml", "namespace-dtr.yml",
        "secret-dtr-cache-ca.yml", "secret-dtr-cache-config.yml", "secret-dtr-certs.yml", "service-dtr-cache.yml"]
    deployment = load(out, "deployment-dtr-cache.yml")
    assert deployment["apiVersion"] == "apps/v1"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]
    assert container["ports"] == [{"name": "https", "containerPort": 443, "protocol": "TCP"}]
    assert container["args"] == ["start.sh", "/config/config.yaml"]
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/certs", "/config"}
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"checksum/config", "checksum/certs"}
    ingress = load(out, "ingress-dtr-cache.yml")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["pathType"] == "Prefix" and path["backend"]["service"] == {"name": "dtr-cache", "port": {"number": 443}}
    # Passthrough only: no tls section (the controller would terminate TLS) and no backend protocol (ignored).
    assert set(ingress["metadata"]["annotations"]) == {"nginx.ingress.kubernetes.io/ssl-passthrough", "dtr.cache/spec-hash"}
    assert "tls" not in ingress["spec"]


def test_secrets_hold_the_tls_material_and_the_config(seed_export, pki):
    out, dummy = seed_export
    certs = load(out, "secret-dtr-certs.yml")
    assert sorted(certs["data"]) == ["cache.cert.pem", "cache.key.pem", "dtr.cert.pem"]
    decoded = {k: base64.b64decode(v).decode() for k, v in certs["data"].items()}
    assert decoded["dtr.cert.pem"].strip() == pki.root.pem.strip()
    assert "PRIVATE KEY" in decoded["cache.key.pem"]
    cert = x509.load_pem_x509_certificate(decoded["cache.cert.pem"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName)[:2] == ["cache.example.com", "dtr-cache"]
    for name in ("secret-dtr-certs.yml", "secret-dtr-cache-config.yml", "secret-dtr-cache-ca.yml", "config.yaml"):
        assert (out / name).stat().st_mode & 0o777 == 0o600, name


def test_key_material_never_reaches_the_output(seed_export):
    out, output = seed_export
    key = base64.b64decode(load(out, "secret-dtr-certs.yml")["data"]["cache.key.pem"]).decode()
    body = key.splitlines()[1]
    secret = yaml.safe_load((out / "config.yaml").read_text())["http"]["secret"]
    assert body not in output
    assert secret not in output


def test_a_second_export_changes_nothing(seed_export, dtr, pki, tmp_path):
    out, dummy = seed_export
    before = {p.name: p.read_text() for p in out.iterdir()}
    code, output = run_role(tmp_path, dtr_cache_export_dir=str(out), **seed_site(dtr, pki))
    assert code == 0, output
    assert "changed=0" in output
    assert {p.name: p.read_text() for p in out.iterdir()} == before


def test_distribution_flavor_with_node_port(dtr, pki, tmp_path):
    site = seed_site(dtr, pki, dtr_cache_flavor="distribution", dtr_cache_expose="nodeport", dtr_cache_node_port=30443,
                     dtr_cache_external_host="node1.example.com", dtr_cache_image="localhost/distribution:3.1.2")
    code, output = run_role(tmp_path, **site)
    assert code == 0, output
    out = tmp_path / "out"
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["proxy"] == {"remoteurl": dtr.url("localhost")}
    assert config["http"]["host"] == "https://node1.example.com:30443"
    assert config["http"]["addr"] == "0.0.0.0:5000"
    assert "middleware" not in config
    service = load(out, "service-dtr-cache.yml")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["nodePort"] == 30443
    pod = load(out, "deployment-dtr-cache.yml")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["env"] == [{"name": "SSL_CERT_FILE", "value": "/certs/dtr.cert.pem"}]
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert not (out / "ingress-dtr-cache.yml").exists()


def _write_cert(tmp_path, name, issued):
    (tmp_path / (name + ".pem")).write_text(issued.pem)
    (tmp_path / (name + ".key")).write_text(issued.key_pem)
    return str(tmp_path / (name + ".pem")), str(tmp_path / (name + ".key"))


BAD_INPUTS = [
    ("no upstreams", {"dtr_cache_upstreams": []}, "dtr_cache_upstreams is empty"),
    ("http upstream", {"dtr_cache_upstreams": ["http://dtr.example.com"]}, "each upstream must be 'https://host[:port]'"),
    ("two upstreams for distribution", {"dtr_cache_flavor": "distribution", "dtr_cache_upstreams": ["https://a.example.com", "https://b.example.com"]},
     "dtr_cache_flavor 'distribution' proxies exactly one"),
    ("blobttl in days", {"dtr_cache_blobttl": "1d"}, 'dtr_cache_blobttl has "1d"'),
    ("bare blobttl", {"dtr_cache_blobttl": "86400"}, 'dtr_cache_blobttl has "86400"'),
    ("zero blobttl", {"dtr_cache_blobttl": "0s"}, "a zero TTL would expire every blob"),
    ("unknown exposure", {"dtr_cache_expose": "hostport"}, "dtr_cache_expose"),
    ("ingress without host", {"dtr_cache_external_host": ""}, "dtr_cache_expose 'ingress' needs dtr_cache_external_host"),
    ("node port out of range", {"dtr_cache_expose": "nodeport", "dtr_cache_node_port": 8443}, "dtr_cache_node_port is 8443"),
    ("namespace not DNS-1123", {"dtr_cache_namespace": "DTR_Cache"}, 'dtr_cache_namespace has "DTR_Cache", which is not a DNS-1123 label'),
    ("name not DNS-1035", {"dtr_cache_name": "1cache"}, 'dtr_cache_name has "1cache", which is not a DNS-1035 label'),
    ("upstream with a trailing slash", {"dtr_cache_upstreams": ["https://dtr.example.com/"]}, "no path, credentials or trailing '/'"),
    ("object storage without a driver", {"dtr_cache_storage": {"type": "object"}}, "'object' needs exactly one storage driver"),
    ("service port out of range", {"dtr_cache_service_port": 70000}, "dtr_cache_service_port is 70000: use a port in 1-65535"),
    ("negative replicas", {"dtr_cache_replicas": -1}, "dtr_cache_replicas is -1"),
    ("negative wait timeout", {"dtr_cache_wait_timeout": -1}, "dtr_cache_wait_timeout is -1"),
    ("PVC size of lots", {"dtr_cache_storage": {"type": "pvc", "size": "lots"}}, 'dtr_cache_storage.size has "lots", which is not a Kubernetes quantity'),
    ("PVC size in GB", {"dtr_cache_storage": {"type": "pvc", "size": "100GB"}}, "'GB' is not a Kubernetes unit"),
    ("PVC size as a bare number", {"dtr_cache_storage": {"type": "pvc", "size": 100}},
     'dtr_cache_storage.size has "100", which is not a Kubernetes quantity with a unit'),
    ("a toleration with an unknown operator", {"dtr_cache_tolerations": [{"key": "dedicated", "operator": "Is", "effect": "NoSchedule"}]},
     "dtr_cache_tolerations"),
    ("a node selector value that is not text", {"dtr_cache_node_selector": {"cache": True}}, "quote numbers and booleans"),
    ("a pod annotation key with a space", {"dtr_cache_pod_annotations": {"bad key": "x"}}, 'dtr_cache_pod_annotations (keys) has "bad key"'),
    ("upstreams as one string", {"dtr_cache_upstreams": "https://dtr.example.com"},
     'dtr_cache_upstreams has "https://dtr.example.com", which is not a list: write it as a YAML list'),
    ("three pods on a ReadWriteOnce PVC", {"dtr_cache_replicas": 3, "dtr_cache_storage": {"type": "pvc", "size": "10Gi"}},
     "pods can share only object storage or a ReadWriteMany PVC"),
    ("renewal as long as validity", {"dtr_cache_tls_valid_days": 30, "dtr_cache_tls_renew_days": 30}, "use fewer days than dtr_cache_tls_valid_days (30)"),
    ("external host with a scheme", {"dtr_cache_external_host": "https://cache.example.com"}, 'dtr_cache_external_host has "https://cache.example.com"'),
    ("empty ingress class", {"dtr_cache_ingress_class": ""}, 'dtr_cache_ingress_class has ""'),
    ("chain check off without a pin", {"dtr_cache_ca_verify_chain": False, "dtr_cache_ca_fingerprint": []},
     "dtr_cache_ca_verify_chain is false without dtr_cache_ca_fingerprint"),
    ("not a fingerprint", {"dtr_cache_ca_fingerprint": ["AB:CD"]}, 'dtr_cache_ca_fingerprint has "AB:CD", which is not a SHA-256 fingerprint'),
    ("upstream credentials and anonymous clients", {"dtr_cache_flavor": "distribution", "dtr_cache_upstream_username": "robot",
     "dtr_cache_upstream_password": "upstream-secret-1"}, "set dtr_cache_client_users"),
    ("credentials in an upstream", {"dtr_cache_upstreams": ["https://robot:upstream-secret-1@dtr.example.com"]},
     "no path, credentials or trailing '/'"),
    ("client users on the dtr flavor", {"dtr_cache_client_users": [{"username": "dev", "password": "client-secret-1"}]},
     "dtr_cache_client_users is for dtr_cache_flavor distribution"),
    ("fingerprint mismatch", {"dtr_cache_ca_fingerprint": ["AB" * 32]}, "put its fingerprint in dtr_cache_ca_fingerprint"),
    ("a tier's CA file not written yet", {"dtr_cache_ca_file": "/nonexistent/site-a-ca.pem"},
     "dtr_cache_ca_file /nonexistent/site-a-ca.pem is not a file on the controller. If it is the CA another site"),
]


@pytest.mark.parametrize("case, overrides, message", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_fails_with_a_message_naming_the_variable(dtr, pki, tmp_path, case, overrides, message):
    code, output = run_role(tmp_path, **seed_site(dtr, pki, **overrides))
    assert code != 0, case
    assert message in " ".join(output.split())
    assert "secret-1" not in output
    assert list((tmp_path / "out").iterdir()) == [], "nothing is written before the inputs are checked"


def test_a_misspelt_variable_is_named_with_the_one_meant(dtr, pki, tmp_path):
    # dtr_cache_warm_images belongs to playbooks/warm-cache.yml: known, so not named.
    site = seed_site(dtr, pki, dtr_cache_storge={"type": "pvc", "size": "100Gi"}, dtr_cache_zzz_unrelated=1,
                     dtr_cache_warm_images=["team/api:1"])
    code, output = run_role(tmp_path, **site)
    assert code == 0, output
    flat = " ".join(output.split())
    assert ("Not variables of dtr.cache, so ignored: dtr_cache_storge (did you mean dtr_cache_storage?); "
            "dtr_cache_zzz_unrelated. Fix or remove them") in flat

    code, output = run_role(tmp_path / "strict", **dict(site, dtr_cache_unknown_variables="fail"))
    assert code != 0 and "dtr_cache_storge (did you mean dtr_cache_storage?)" in " ".join(output.split())
    assert list((tmp_path / "strict" / "out").iterdir()) == [], "nothing is written before the inputs are checked"


def test_fingerprint_mismatch_names_both_fingerprints(dtr, pki, tmp_path):
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_ca_fingerprint=["AB" * 32]))
    assert code != 0
    flat = output.replace("\n", " ")
    assert pki.root.fingerprint in flat or pki.root.fingerprint.replace(":", "") in flat
    assert "AB:AB:AB" in flat or "ABABAB" in flat


def test_provided_certificate_that_does_not_match_its_key(dtr, pki, tmp_path):
    cert = make_certificate(u"cache.example.com", issuer=pki.root, sans=[u"cache.example.com"])
    other = make_certificate(u"cache.example.com", issuer=pki.root, sans=[u"cache.example.com"])
    cert_file, dummy = _write_cert(tmp_path, "cert", cert)
    dummy, key_file = _write_cert(tmp_path, "other", other)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_tls_cert_file=cert_file, dtr_cache_tls_key_file=key_file))
    assert code != 0
    assert "does not match dtr_cache_tls_key_file" in output


def test_removal_is_not_held_up_by_settings_only_a_deploy_needs(dtr, pki, tmp_path):
    """An expired certificate of yours and a bad image name stop a deploy, not a removal: it goes on to the cluster."""
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = make_certificate(u"cache.example.com", issuer=pki.root, sans=[u"cache.example.com"],
                            not_before=now - datetime.timedelta(days=60), not_after=now - datetime.timedelta(days=1))
    cert_file, key_file = _write_cert(tmp_path, "cert", cert)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "closed",
        "clusters": [{"name": "closed", "cluster": {"server": "https://127.0.0.1:%d" % free_port()}}],
        "contexts": [{"name": "closed", "context": {"cluster": "closed", "user": "nobody"}}],
        "users": [{"name": "nobody", "user": {"token": "none"}}]}))
    site = seed_site(dtr, pki, dtr_cache_tls_cert_file=cert_file, dtr_cache_tls_key_file=key_file, dtr_cache_image="Not An Image",
                     dtr_cache_replicas=0)
    deploy_code, deploy_output = run_role(tmp_path / "deploy", **site)
    assert deploy_code != 0 and "dtr_cache_image" in deploy_output
    code, output = run_role(tmp_path / "remove", create_dir=False, **dict(
        site, dtr_cache_state="absent", dtr_cache_register=False, dtr_cache_export_dir="", dtr_cache_kubeconfig=str(kubeconfig)))
    assert code != 0
    assert "TASK [dtr.cache.dtr_cache : Absent | Delete the cache's objects]" in output, output[-3000:]
    assert "dtr_cache_image" not in output.split("Absent | Delete")[0].split("Validate |", 1)[-1]


def test_provided_certificate_that_has_expired(dtr, pki, tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = make_certificate(u"cache.example.com", issuer=pki.root, sans=[u"cache.example.com"],
                            not_before=now - datetime.timedelta(days=60), not_after=now - datetime.timedelta(days=1))
    cert_file, key_file = _write_cert(tmp_path, "cert", cert)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_tls_cert_file=cert_file, dtr_cache_tls_key_file=key_file))
    assert code != 0
    assert "expired on" in output and "dtr_cache_tls_cert_file" in output


def test_provided_certificate_for_another_host(dtr, pki, tmp_path):
    cert = make_certificate(u"other.example.com", issuer=pki.root, sans=[u"other.example.com"])
    cert_file, key_file = _write_cert(tmp_path, "cert", cert)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_tls_cert_file=cert_file, dtr_cache_tls_key_file=key_file))
    assert code != 0
    assert "does not cover dtr_cache_external_host 'cache.example.com'" in output


def test_provided_certificate_is_used_as_is(dtr, pki, tmp_path):
    cert = make_certificate(u"*.example.com", issuer=pki.root, sans=[u"*.example.com"])
    cert_file, key_file = _write_cert(tmp_path, "cert", cert)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_tls_cert_file=cert_file, dtr_cache_tls_key_file=key_file))
    assert code == 0, output
    data = load(tmp_path / "out", "secret-dtr-certs.yml")["data"]
    assert base64.b64decode(data["cache.cert.pem"]).decode() == cert.pem
    assert not (tmp_path / "out" / "secret-dtr-cache-ca.yml").exists()


def test_ca_file_that_does_not_match_the_pin(dtr, pki, tmp_path):
    ca_file = tmp_path / "dtr-ca.pem"
    ca_file.write_text(pki.root.pem)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_ca_file=str(ca_file), dtr_cache_ca_fingerprint=["AB" * 32]))
    assert code != 0
    flat = " ".join(output.split())
    assert "(dtr_cache_ca_file) cannot be trusted" in flat and "put its fingerprint in dtr_cache_ca_fingerprint" in flat
    assert pki.root.fingerprint in flat


def test_ca_file_with_the_right_pin_is_used(dtr, pki, tmp_path):
    ca_file = tmp_path / "dtr-ca.pem"
    ca_file.write_text(pki.root.pem)
    code, output = run_role(tmp_path, **seed_site(dtr, pki, dtr_cache_ca_file=str(ca_file), dtr_cache_ca_fingerprint=[pki.root.fingerprint.lower()]))
    assert code == 0, output
    data = load(tmp_path / "out", "secret-dtr-certs.yml")["data"]
    assert base64.b64decode(data["dtr.cert.pem"]).decode() == pki.root.pem


def test_export_creates_its_directory(dtr, pki, tmp_path):
    out = tmp_path / "new" / "site"
    code, output = run_role(tmp_path, dtr_cache_export_dir=str(out), create_dir=False, **seed_site(dtr, pki))
    assert code == 0, output
    assert (out / "config.yaml").exists()
    assert out.stat().st_mode & 0o777 == 0o700


def test_objects_are_bounded_and_admitted_by_pod_security(seed_export):
    out, dummy = seed_export
    assert load(out, "namespace-dtr.yml")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    deployment = load(out, "deployment-dtr-cache.yml")
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "data", "emptyDir": {"sizeLimit": "10Gi"}} in pod["volumes"]
    assert pod["containers"][0]["resources"]["limits"]["ephemeral-storage"] == "11Gi"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert not (out / "poddisruptionbudget-dtr-cache.yml").exists()
    assert not (out / "networkpolicy-dtr-cache.yml").exists()


def test_a_single_node_volume_recreates_and_several_pods_get_a_budget(dtr, pki, tmp_path):
    site = seed_site(dtr, pki, dtr_cache_flavor="distribution", dtr_cache_storage={"type": "pvc", "size": "5Gi"},
                     dtr_cache_network_policy=True)
    code, output = run_role(tmp_path / "one", **site)
    assert code == 0, output
    out = tmp_path / "one" / "out"
    assert load(out, "deployment-dtr-cache.yml")["spec"]["strategy"] == {"type": "Recreate"}
    assert load(out, "namespace-dtr.yml")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    policy = load(out, "networkpolicy-dtr-cache.yml")
    assert policy["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": "https"}]}]
    shared = dict(site, dtr_cache_replicas=2, dtr_cache_storage={"type": "pvc", "size": "5Gi", "access_mode": "ReadWriteMany"})
    code, output = run_role(tmp_path / "two", **shared)
    assert code == 0, output
    out = tmp_path / "two" / "out"
    deployment = load(out, "deployment-dtr-cache.yml")
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert load(out, "poddisruptionbudget-dtr-cache.yml")["spec"]["minAvailable"] == 1
    assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"] == [{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}}]


def test_scheduling_settings_reach_the_pods(dtr, pki, tmp_path):
    toleration = {"key": "dedicated", "operator": "Equal", "value": "cache", "effect": "NoSchedule"}
    site = seed_site(dtr, pki, dtr_cache_node_selector={"node-role.kubernetes.io/cache": ""}, dtr_cache_tolerations=[toleration],
                     dtr_cache_priority_class_name="cache-critical", dtr_cache_pod_annotations={"prometheus.io/scrape": "true"})
    code, output = run_role(tmp_path, **site)
    assert code == 0, output
    template = load(tmp_path / "out", "deployment-dtr-cache.yml")["spec"]["template"]
    assert template["spec"]["nodeSelector"] == {"node-role.kubernetes.io/cache": ""}
    assert template["spec"]["tolerations"] == [toleration]
    assert template["spec"]["priorityClassName"] == "cache-critical"
    assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert "topologySpreadConstraints" not in template["spec"], "one pod has nothing to spread"


def test_client_users_get_an_htpasswd_that_a_second_run_keeps(dtr, pki, tmp_path):
    site = seed_site(dtr, pki, dtr_cache_flavor="distribution", dtr_cache_client_users=[{"username": "dev", "password": "client-secret-1"}])
    code, output = run_role(tmp_path, **site)
    assert code == 0, output
    out = tmp_path / "out"
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["auth"] == {"htpasswd": {"realm": "dtr-cache", "path": "/config/htpasswd"}}
    htpasswd = base64.b64decode(load(out, "secret-dtr-cache-config.yml")["data"]["htpasswd"]).decode()
    assert htpasswd.startswith("dev:$2b$")
    probe = load(out, "deployment-dtr-cache.yml")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"]["path"] == "/"
    before = {p.name: p.read_text() for p in out.iterdir()}
    code, output = run_role(tmp_path, **site)
    assert code == 0 and "changed=0" in output, output
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert "client-secret-1" not in output
