"""Whom the role trusts for DTR: a pin narrows it, trust on first use is a choice, a CA file is checked.

Real playbook runs against real local HTTPS servers.
"""

import pytest

from ansible_collections.dtr.cache.tests.render.conftest import run_role
from ansible_collections.dtr.cache.tests.unit.tls_servers import Reply, Servers, make_certificate, text_app

ADMIN_PASSWORD = "admin-secret-1"


def site(url, **overrides):
    variables = {
        "dtr_cache_upstreams": [url],
        "dtr_cache_expose": "ingress",
        "dtr_cache_external_host": "cache.example.com",
    }
    variables.update(overrides)
    return variables


def flat(output):
    return " ".join(output.split())


@pytest.fixture
def servers(tmp_path):
    started = Servers(str(tmp_path))
    yield started
    started.stop()


@pytest.fixture
def attacker(pki, servers):
    """A man in the middle: /ca holds the real, pinned CA and its own; it answers TLS with a certificate of its own CA.

    Every other path plays DTR's admin API and records what it is sent.
    """
    own_root = make_certificate(u"Attacker Root CA", ca=True)
    own_server = make_certificate(u"localhost", issuer=own_root, sans=[u"localhost", u"127.0.0.1"])
    bundle = pki.root.pem + own_root.pem

    def app(request):
        if request.path == "/ca":
            return Reply(200, bundle.encode(), content_type="text/plain")
        return Reply(200, [])
    return servers.https(app, own_server), own_root


def test_a_bundle_with_an_unpinned_ca_is_refused_and_the_admin_password_never_leaves(attacker, pki, tmp_path):
    server, own_root = attacker
    code, output = run_role(tmp_path, **site(
        server.url("localhost"), dtr_cache_state="absent", dtr_cache_ca_fingerprint=[pki.root.fingerprint],
        dtr_cache_register=True, dtr_cache_dtr_admin_username="admin", dtr_cache_dtr_admin_password=ADMIN_PASSWORD,
        dtr_cache_kubeconfig=str(tmp_path / "no-cluster")))
    assert code != 0
    assert "dtr_cache_ca_fingerprint" in flat(output)
    assert own_root.fingerprint in flat(output), "the message names the unpinned certificate"
    assert all("Authorization" not in request["headers"] for request in server.requests)
    assert set(server.paths()) <= {"/ca"}
    assert ADMIN_PASSWORD not in output


def test_without_a_pin_the_run_stops_and_prints_the_line_to_add(dtr, pki, tmp_path):
    code, output = run_role(tmp_path, **site(dtr.url("localhost")))
    assert code != 0
    assert 'dtr_cache_ca_fingerprint: ["%s"]' % pki.root.fingerprint in output
    assert "dtr_cache_ca_trust_on_first_use" in output
    assert list((tmp_path / "out").iterdir()) == []


def test_trust_on_first_use_when_chosen(dtr, tmp_path):
    code, output = run_role(tmp_path, **site(dtr.url("localhost"), dtr_cache_ca_trust_on_first_use=True))
    assert code == 0, output


def test_the_pin_as_openssl_prints_it(dtr, pki, tmp_path):
    pin = "sha256 Fingerprint=" + pki.root.fingerprint
    code, output = run_role(tmp_path, **site(dtr.url("localhost"), dtr_cache_ca_fingerprint=[pin]))
    assert code == 0, output


def _ca_file(tmp_path, text):
    path = tmp_path / "dtr-ca.pem"
    path.write_text(text)
    return str(path)


def test_a_ca_file_that_is_expired_not_a_ca_or_not_pem_fails(pki, tmp_path):
    for text in (pki.expired_root.pem, pki.leaf_without_constraints.pem, "not a certificate\n"):
        code, output = run_role(tmp_path, **site("https://dtr.example.com", dtr_cache_ca_file=_ca_file(tmp_path, text)))
        assert code != 0, text
        assert "(dtr_cache_ca_file) cannot be trusted" in flat(output)
        assert list((tmp_path / "out").iterdir()) == []


def test_a_pinned_ca_file_may_not_carry_an_unpinned_ca(pki, tmp_path):
    path = _ca_file(tmp_path, pki.root.pem + pki.other_root.pem)
    variables = site("https://dtr.example.com", dtr_cache_ca_file=path, dtr_cache_ca_fingerprint=[pki.root.fingerprint])
    code, output = run_role(tmp_path, **variables)
    assert code != 0
    assert "dtr_cache_ca_fingerprint" in flat(output) and pki.other_root.fingerprint in flat(output)


def test_an_unpinned_ca_file_is_explicit_trust(pki, tmp_path):
    code, output = run_role(tmp_path, **site("https://dtr.example.com", dtr_cache_ca_file=_ca_file(tmp_path, pki.root.pem)))
    assert code == 0, output


def test_the_chain_check_still_runs_without_a_pin(pki, servers, tmp_path):
    """Trust on first use still requires that the host presents a certificate of the CA it serves."""
    other = servers.https(text_app(pki.root.pem), pki.other_server)
    code, output = run_role(tmp_path, **site(other.url("localhost"), dtr_cache_ca_trust_on_first_use=True))
    assert code != 0
    assert "does not present a certificate issued by the CA it serves" in flat(output)
