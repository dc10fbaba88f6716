"""Tests of the DTR stand-in's API service, run as a real process over real HTTP."""

import base64
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request

import ssl

import pytest

from ansible_collections.dtr.cache.tests.unit.tls_servers import make_certificate

API = pathlib.Path(__file__).with_name("dtr_api.py")
ADMIN = ("root-admin", "s3cret:with:colons")


class Api:
    """A running dtr_api.py process on a free loopback port with its own state dir."""

    def __init__(self, state_dir, env_extra=None, extra_args=(), context=None):
        self.state_dir = state_dir
        self.context = context
        self.log_path = state_dir / "api.log"
        port_file = state_dir / "port"
        if port_file.exists():
            port_file.unlink()
        env = dict(os.environ, STANDIN_ADMIN_USER=ADMIN[0], STANDIN_ADMIN_PASSWORD=ADMIN[1],
                   STANDIN_USERS="alice, bob,,")
        env.update(env_extra or {})
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(API), "--state-dir", str(state_dir), "--listen", "127.0.0.1:0",
                 "--port-file", str(port_file), *extra_args],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
            )
        deadline = time.monotonic() + 15
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dtr_api.py did not start: {self.log_path.read_text()}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.base = f"{'https' if '--tls-cert' in extra_args else 'http'}://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def call(self, method, path, body=None, **kwargs):
        """Returns (status, decoded JSON or None)."""
        status, unused_headers, payload = self.call_full(method, path, body, **kwargs)
        return status, payload

    def call_full(self, method, path, body=None, auth=ADMIN, raw=None, headers=None):
        """Returns (status, headers, decoded JSON or None)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
                status, hdrs, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, hdrs, payload = err.code, err.headers, err.read()
        return status, hdrs, (json.loads(payload) if payload else None)


@pytest.fixture
def api(tmp_path):
    server = Api(tmp_path)
    yield server
    server.stop()


def error_code(payload):
    return payload["errors"][0]["code"]


def create(api, name="eu-west", host="https://cache-eu.example.test:30443"):
    status, cache = api.call("POST", "/api/v0/content_caches", {"name": name, "host": host})
    assert status == 201, cache
    return cache


# --- authentication --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v0/content_caches", "/api/v0/accounts/alice/settings"])
@pytest.mark.parametrize("auth", [None, (ADMIN[0], "wrong"), ("alice", ADMIN[1]), (ADMIN[0], "")])
def test_api_requires_admin_basic_auth(api, path, auth):
    status, headers, payload = api.call_full("GET", path, auth=auth)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    assert error_code(payload) == "NOT_AUTHENTICATED"


def test_malformed_authorization_headers_are_rejected(api):
    for value in ["Bearer abc", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode()]:
        status = api.call("GET", "/api/v0/content_caches", auth=None, headers={"Authorization": value})[0]
        assert status == 401, value


def test_writes_without_auth_change_nothing(api):
    status = api.call("POST", "/api/v0/content_caches", {"name": "x", "host": "https://x.test"}, auth=None)[0]
    assert status == 401
    assert api.call("GET", "/api/v0/content_caches")[1] == []


def test_ping_needs_no_auth(api):
    status, payload = api.call("GET", "/_ping", auth=None)
    assert (status, payload) == (200, {"ok": True})


# --- content caches --------------------------------------------------------------------------

def test_create_list_get_delete(api):
    status, listed = api.call("GET", "/api/v0/content_caches")
    assert (status, listed) == (200, [])

    body = {"name": "eu-west", "host": "https://cache-eu.example.test:30443", "ignored": 1}
    status, headers, eu = api.call_full("POST", "/api/v0/content_caches", body)
    assert status == 201
    assert set(eu) == {"id", "name", "host"}
    assert (eu["name"], eu["host"]) == ("eu-west", "https://cache-eu.example.test:30443")
    assert headers["Location"] == f"/api/v0/content_caches/{eu['id']}"
    us = create(api, "us-east", "https://198.51.100.5")
    assert us["id"] != eu["id"]

    status, listed = api.call("GET", "/api/v0/content_caches")
    assert status == 200
    assert listed == [eu, us]
    assert api.call("GET", f"/api/v0/content_caches/{us['id']}")[1] == us

    status, payload = api.call("DELETE", f"/api/v0/content_caches/{eu['id']}")
    assert (status, payload) == (204, None)
    assert api.call("GET", "/api/v0/content_caches")[1] == [us]
    assert api.call("GET", f"/api/v0/content_caches/{eu['id']}")[0] == 404


def test_delete_unknown_cache_is_404(api):
    status, payload = api.call("DELETE", "/api/v0/content_caches/00000000-0000-0000-0000-000000000000")
    assert status == 404
    assert error_code(payload) == "NO_SUCH_CONTENT_CACHE"


@pytest.mark.parametrize("body", [
    {"host": "https://cache.test:443"},                     # no name
    {"name": "a"},                                          # no host
    {"name": "", "host": "https://cache.test"},
    {"name": 7, "host": "https://cache.test"},
    {"name": " padded", "host": "https://cache.test"},
    {"name": "a", "host": "http://cache.test:5000"},        # not https
    {"name": "a", "host": "cache.test:5000"},
    {"name": "a", "host": "https://cache.test:5000/v2/"},   # a path
    {"name": "a", "host": "https://cache.test?x=1"},
    {"name": "a", "host": "https://user:pw@cache.test"},
    {"name": "a", "host": "https://cache.test:99999"},
    {"name": "a", "host": "https://:443"},
    {"name": "a", "host": "https://bad_name.test"},
    {"name": "a", "host": ["https://cache.test"]},
    ["name", "host"],                                       # not an object
])
def test_create_rejects_invalid_bodies(api, body):
    status, payload = api.call("POST", "/api/v0/content_caches", body)
    assert status == 400, payload
    assert error_code(payload) == "INVALID_CONTENT_CACHE"
    assert payload["errors"][0]["message"]
    assert api.call("GET", "/api/v0/content_caches")[1] == []


def test_create_rejects_invalid_json(api):
    status, payload = api.call("POST", "/api/v0/content_caches", raw=b"{not json")
    assert status == 400
    assert error_code(payload) == "INVALID_JSON"


def test_duplicate_name_is_400_and_keeps_the_first(api):
    first = create(api, "dup", "https://one.test")
    status, payload = api.call("POST", "/api/v0/content_caches", {"name": "dup", "host": "https://two.test"})
    assert status == 400
    assert error_code(payload) == "INVALID_CONTENT_CACHE"
    assert "dup" in payload["errors"][0]["message"]
    assert api.call("GET", "/api/v0/content_caches")[1] == [first]


def test_accepted_hosts(api):
    for i, host in enumerate(["https://cache.test", "https://cache.test:30443", "https://[fd00::5]:443",
                              "https://10.244.0.1:443", "https://CACHE-1.Example.test/"]):
        assert create(api, f"c{i}", host)["host"] == host


def test_wrong_method_and_unknown_paths(api):
    status, headers = api.call_full("PUT", "/api/v0/content_caches", {})[:2]
    assert status == 405
    assert headers["Allow"] == "GET, POST"
    assert api.call("GET", "/api/v0/nothing-here")[0] == 404
    assert api.call("GET", "/v2/", auth=None)[0] == 404


# --- account settings ------------------------------------------------------------------------

def test_settings_of_known_users(api):
    for user in (ADMIN[0], "alice", "bob"):
        status, settings = api.call("GET", f"/api/v0/accounts/{user}/settings")
        assert status == 200
        assert settings["contentCacheUUID"] == ""
        # Keys unrelated to caches are there, so a client must keep them.
        assert len(settings) > 1


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "PUT"])
def test_unknown_user_is_404(api, method):
    body = None if method == "GET" else {"contentCacheUUID": ""}
    status, payload = api.call(method, "/api/v0/accounts/mallory/settings", body)
    assert status == 404
    assert error_code(payload) == "NO_SUCH_ACCOUNT"


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
def test_partial_write_preserves_other_keys(api, method):
    cache = create(api)
    before = api.call("GET", "/api/v0/accounts/alice/settings")[1]

    status, after = api.call(method, "/api/v0/accounts/alice/settings", {"contentCacheUUID": cache["id"]})
    assert status == 200
    assert after == dict(before, contentCacheUUID=cache["id"])
    assert api.call("GET", "/api/v0/accounts/alice/settings")[1] == after
    # Other users are untouched.
    assert api.call("GET", "/api/v0/accounts/bob/settings")[1]["contentCacheUUID"] == ""

    # Other keys can be written too, and the cache stays.
    status, again = api.call(method, "/api/v0/accounts/alice/settings", {"showTutorials": False, "newKey": [1]})
    assert status == 200
    assert again == dict(after, showTutorials=False, newKey=[1])

    # Back to pulling from DTR itself.
    status, cleared = api.call(method, "/api/v0/accounts/alice/settings", {"contentCacheUUID": ""})
    assert (status, cleared["contentCacheUUID"]) == (200, "")


@pytest.mark.parametrize("body", [
    {"contentCacheUUID": "00000000-0000-0000-0000-000000000000"},  # no such cache
    {"contentCacheUUID": "eu-west"},                               # a name, not an id
    {"contentCacheUUID": None},
    ["contentCacheUUID"],
])
def test_settings_write_rejects_bad_values(api, body):
    create(api)
    before = api.call("GET", "/api/v0/accounts/alice/settings")[1]
    status, payload = api.call("PATCH", "/api/v0/accounts/alice/settings", body)
    assert status == 400
    assert error_code(payload) == "INVALID_SETTINGS"
    assert api.call("GET", "/api/v0/accounts/alice/settings")[1] == before


def test_settings_write_rejects_invalid_json(api):
    status, payload = api.call("POST", "/api/v0/accounts/alice/settings", raw=b"[1,")
    assert (status, error_code(payload)) == (400, "INVALID_JSON")


def test_deleting_a_cache_clears_the_users_that_chose_it(api):
    cache = create(api)
    api.call("POST", "/api/v0/accounts/bob/settings", {"contentCacheUUID": cache["id"]})
    api.call("DELETE", f"/api/v0/content_caches/{cache['id']}")
    settings = api.call("GET", "/api/v0/accounts/bob/settings")[1]
    assert settings["contentCacheUUID"] == ""
    assert settings["defaultRepositoryVisibility"] == "public"


# --- process behaviour -----------------------------------------------------------------------

def test_state_survives_a_restart(tmp_path):
    first = Api(tmp_path)
    try:
        cache = create(first)
        first.call("PATCH", "/api/v0/accounts/alice/settings", {"contentCacheUUID": cache["id"], "theme": "dark"})
    finally:
        first.stop()
    assert json.loads((tmp_path / "dtr-api.json").read_text())["content_caches"] == [cache]

    second = Api(tmp_path)
    try:
        assert second.call("GET", "/api/v0/content_caches")[1] == [cache]
        settings = second.call("GET", "/api/v0/accounts/alice/settings")[1]
        assert (settings["contentCacheUUID"], settings["theme"]) == (cache["id"], "dark")
    finally:
        second.stop()


def test_users_come_from_the_environment(tmp_path):
    server = Api(tmp_path, {"STANDIN_USERS": "carol"})
    try:
        assert server.call("GET", "/api/v0/accounts/carol/settings")[0] == 200
        assert server.call("GET", "/api/v0/accounts/alice/settings")[0] == 404
        assert server.call("GET", f"/api/v0/accounts/{ADMIN[0]}/settings")[0] == 200
    finally:
        server.stop()


def test_every_request_is_logged(api):
    api.call("GET", "/api/v0/content_caches", auth=None)
    create(api, "logged")
    api.stop()
    log = api.log_path.read_text()
    assert '"GET /api/v0/content_caches HTTP/1.1" 401' in log
    assert f'"POST /api/v0/content_caches HTTP/1.1" 201 user={ADMIN[0]}' in log
    assert '"name": "logged"' in log
    assert ADMIN[1] not in log


def test_sigterm_stops_the_service(api):
    api.proc.terminate()
    assert api.proc.wait(timeout=10) == 0


# --- HTTPS (--tls-cert/--tls-key) --------------------------------------------------------------

def test_serves_https_with_the_given_certificate(tmp_path):
    root = make_certificate("Stand-in Test CA", ca=True)
    server_cert = make_certificate("localhost", issuer=root, sans=["localhost", "127.0.0.1"])
    (tmp_path / "chain.pem").write_text(server_cert.chain_pem)
    (tmp_path / "key.pem").write_text(server_cert.key_pem)
    trusting = ssl.create_default_context(cadata=root.pem)
    api = Api(tmp_path, extra_args=["--tls-cert", str(tmp_path / "chain.pem"), "--tls-key", str(tmp_path / "key.pem")],
              context=trusting)
    try:
        assert api.base.startswith("https://")
        assert api.call("GET", "/api/v0/content_caches") == (200, [])
        cache = create(api)
        # A client that does not trust the CA fails the handshake ...
        api.context = ssl.create_default_context(cadata=make_certificate("Other CA", ca=True).pem)
        with pytest.raises(urllib.error.URLError) as failed:
            api.call("GET", "/api/v0/content_caches")
        assert isinstance(failed.value.reason, ssl.SSLCertVerificationError)
        # ... and plain HTTP gets no answer, while the service keeps serving trusting clients.
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{api.port}/_ping", timeout=5).close()
        api.context = trusting
        assert api.call("GET", "/api/v0/content_caches") == (200, [cache])
    finally:
        api.stop()
    assert "TLS handshake failed" in api.log_path.read_text()


def test_tls_cert_needs_tls_key(tmp_path):
    done = subprocess.run([sys.executable, str(API), "--state-dir", str(tmp_path), "--tls-cert", "x.pem"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "--tls-cert and --tls-key go together" in done.stderr
