"""The API part of the DTR stand-in: DTR's documented content-cache endpoints, stdlib only.

This is not DTR. It implements the small surface the dtr.cache collection talks to:

  GET    /api/v0/content_caches              list of {"id", "name", "host"}
  POST   /api/v0/content_caches              {"name", "host"} -> 201 with the new object
  GET    /api/v0/content_caches/{id}         one object, 404 when unknown
  DELETE /api/v0/content_caches/{id}         204, 404 when unknown
  GET    /api/v0/accounts/{user}/settings    the user's settings object, 404 for unknown users
  POST|PATCH|PUT /api/v0/accounts/{user}/settings
                                             merge the given keys, return the full settings

Every /api/v0 request needs the admin's HTTP basic credentials. `GET /_ping` (no auth, not
routed by the stand-in's nginx) lets up.sh see that the process serves.

DTR does not document the settings key that names a user's cache; the stand-in calls it
`contentCacheUUID` and keeps unrelated keys beside it, so that a client that overwrites the
whole object instead of one key is caught. State is one JSON file, replaced atomically.

    python3 dtr_api.py --state-dir DIR [--listen 127.0.0.1:8081] [--port-file FILE]
                       [--tls-cert CHAIN.pem --tls-key KEY.pem]

(up.sh runs it in plain HTTP behind nginx; port 0 picks a free port and --port-file reports
it, for the tests. With --tls-cert and --tls-key it serves HTTPS itself, which the module
tests use to talk to it as to DTR without nginx.)
"""

import argparse
import base64
import binascii
import copy
import hmac
import ipaddress
import json
import os
import re
import signal
import ssl
import sys
import tempfile
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHE_KEY = "contentCacheUUID"

# Keys every user starts with besides the cache key. They mean nothing to the stand-in; they
# are there so that tests can see a client preserve what it did not come to change.
DEFAULT_SETTINGS = {
    CACHE_KEY: "",
    "defaultRepositoryVisibility": "public",
    "dismissedHints": ["welcome"],
    "showTutorials": True,
}

MAX_BODY = 1 << 20
# Seconds a client gets to finish the TLS handshake (--tls-cert), so that a silent one cannot hold a thread.
HANDSHAKE_TIMEOUT = 10
NAME_MAX = 255
# A DNS name (labels of letters, digits and inner hyphens) for the cache host.
DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")

CACHES_PATH = "/api/v0/content_caches"
CACHE_PATH = re.compile(r"^/api/v0/content_caches/([^/]+)$")
SETTINGS_PATH = re.compile(r"^/api/v0/accounts/([^/]+)/settings$")


class ApiError(Exception):
    """An error answer in DTR's shape: {"errors": [{"code": ..., "message": ...}]}."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def validate_host(host):
    """Return an error message for a cache host URL, or None when it is acceptable.

    DTR redirects blob pulls to this URL, so it must be an https origin: scheme, host and an
    optional port, nothing else.
    """
    if not isinstance(host, str) or not host:
        return "host must be a non-empty string"
    try:
        parts = urllib.parse.urlsplit(host)
        port = parts.port
    except ValueError as exc:
        return f"host is not a valid URL: {exc}"
    if parts.scheme != "https":
        return "host must be an https:// URL"
    if "@" in parts.netloc:
        return "host must not carry user information"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "host must be scheme, host name and port only (no path, query or fragment)"
    hostname = parts.hostname
    if not hostname:
        return "host has no host name"
    if port is not None and port == 0:
        return "host port must be between 1 and 65535"
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        if not DNS_NAME.match(hostname):
            return f"host name {hostname!r} is not a valid DNS name or IP address"
    return None


def validate_name(name):
    if not isinstance(name, str) or not name:
        return "name must be a non-empty string"
    if len(name) > NAME_MAX:
        return f"name must be at most {NAME_MAX} characters"
    if name != name.strip() or not name.isprintable():
        return "name must not start or end with spaces nor contain control characters"
    return None


class State:
    """Content caches and per-user settings, persisted as JSON after every change."""

    def __init__(self, path, users):
        self.path = path
        self.users = list(dict.fromkeys(users))
        self.lock = threading.Lock()
        self.caches = []
        self.settings = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            self.caches = data.get("content_caches", [])
            self.settings = data.get("settings", {})

    def _save(self):
        # Write a sibling temp file and rename it, so a crash never leaves a half file.
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".dtr-api-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"content_caches": self.caches, "settings": self.settings}, f, indent=2, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def list_caches(self):
        with self.lock:
            return copy.deepcopy(self.caches)

    def get_cache(self, cache_id):
        with self.lock:
            for cache in self.caches:
                if cache["id"] == cache_id:
                    return dict(cache)
        raise ApiError(404, "NO_SUCH_CONTENT_CACHE", f"no content cache with id {cache_id}")

    def create_cache(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_CONTENT_CACHE", "the request body must be a JSON object")
        for field, check in (("name", validate_name), ("host", validate_host)):
            if field not in body:
                raise ApiError(400, "INVALID_CONTENT_CACHE", f"missing field {field!r}")
            problem = check(body[field])
            if problem:
                raise ApiError(400, "INVALID_CONTENT_CACHE", problem)
        with self.lock:
            if any(c["name"] == body["name"] for c in self.caches):
                raise ApiError(400, "INVALID_CONTENT_CACHE", f"a content cache named {body['name']!r} already exists")
            cache = {"id": str(uuid.uuid4()), "name": body["name"], "host": body["host"]}
            self.caches.append(cache)
            self._save()
            return dict(cache)

    def delete_cache(self, cache_id):
        with self.lock:
            kept = [c for c in self.caches if c["id"] != cache_id]
            if len(kept) == len(self.caches):
                raise ApiError(404, "NO_SUCH_CONTENT_CACHE", f"no content cache with id {cache_id}")
            self.caches = kept
            # Users whose cache is gone fall back to pulling from DTR itself, so their
            # settings never name a cache that does not exist.
            for values in self.settings.values():
                if values.get(CACHE_KEY) == cache_id:
                    values[CACHE_KEY] = ""
            self._save()

    def _user_settings(self, user):
        if user not in self.users:
            raise ApiError(404, "NO_SUCH_ACCOUNT", f"no account named {user}")
        return self.settings.setdefault(user, copy.deepcopy(DEFAULT_SETTINGS))

    def get_settings(self, user):
        with self.lock:
            return copy.deepcopy(self._user_settings(user))

    def update_settings(self, user, body):
        with self.lock:
            current = self._user_settings(user)
            if not isinstance(body, dict):
                raise ApiError(400, "INVALID_SETTINGS", "the request body must be a JSON object")
            if CACHE_KEY in body:
                value = body[CACHE_KEY]
                if not isinstance(value, str):
                    raise ApiError(400, "INVALID_SETTINGS", f"{CACHE_KEY} must be a string")
                if value and not any(c["id"] == value for c in self.caches):
                    raise ApiError(400, "INVALID_SETTINGS", f"{CACHE_KEY} {value!r} is not the id of a content cache")
            current.update(copy.deepcopy(body))
            self._save()
            return copy.deepcopy(current)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dtr-standin-api/1"
    # Set on the class by make_server().
    state = None
    admin_user = ""
    admin_password = ""

    # --- plumbing -------------------------------------------------------------------------

    def _send(self, status, payload=None, headers=None):
        body = b"" if payload is None else (json.dumps(payload) + "\n").encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self):
        # The body is read before anything else so that an early error answer does not leave
        # unread bytes on a kept-alive connection.
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise ApiError(411, "LENGTH_REQUIRED", "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "INVALID_JSON", "bad Content-Length") from None
        if length > MAX_BODY or length < 0:
            self.close_connection = True
            raise ApiError(413, "TOO_LARGE", f"request bodies are limited to {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _json(raw):
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, "INVALID_JSON", f"the request body is not valid JSON: {exc}") from None

    def _authenticate(self):
        unauthorized = ApiError(
            401, "NOT_AUTHENTICATED", "admin credentials are required (HTTP basic auth)",
            {"WWW-Authenticate": 'Basic realm="DTR stand-in"'},
        )
        scheme, dummy, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise unauthorized
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized from None
        # Both comparisons always run, in constant time, whatever the first one says.
        ok_user = hmac.compare_digest(user.encode(), self.admin_user.encode())
        ok_password = hmac.compare_digest(password.encode(), self.admin_password.encode())
        if not (sep and ok_user and ok_password):
            raise unauthorized
        self.auth_user = user

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        sys.stderr.write("%s [%s] %s\n" % (self.address_string(), self.log_date_time_string(), format % args))

    def log_request(self, code="-", size="-"):
        extra = ""
        # Behind nginx the peer is always loopback; the original client (a pod) is here.
        if self.headers and self.headers.get("X-Forwarded-For"):
            extra += f" for={self.headers['X-Forwarded-For']}"
        if getattr(self, "auth_user", None):
            extra += f" user={self.auth_user}"
        if getattr(self, "logged_body", None):
            extra += f" body={self.logged_body}"
        self.log_message('"%s" %s%s', self.requestline, code, extra)

    # --- dispatch -------------------------------------------------------------------------

    def _handle(self, method):
        self.auth_user = None
        self.logged_body = None
        try:
            raw = self._read_body()
            if raw:
                self.logged_body = raw[:500].decode("utf-8", "replace")
            path = urllib.parse.urlsplit(self.path).path
            if path == "/_ping" and method == "GET":
                return self._send(200, {"ok": True})
            if not path.startswith("/api/v0/"):
                raise ApiError(404, "NOT_FOUND", f"no such endpoint: {path}")
            self._authenticate()
            self._route(method, path, raw)
        except ApiError as err:
            self._send(err.status, {"errors": [{"code": err.code, "message": err.message}]}, err.headers)

    def _route(self, method, path, raw):
        state = self.state
        if path == CACHES_PATH:
            if method == "GET":
                return self._send(200, state.list_caches())
            if method == "POST":
                cache = state.create_cache(self._json(raw))
                return self._send(201, cache, {"Location": f"{CACHES_PATH}/{cache['id']}"})
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here", {"Allow": "GET, POST"})
        match = CACHE_PATH.match(path)
        if match:
            cache_id = urllib.parse.unquote(match.group(1))
            if method == "GET":
                return self._send(200, state.get_cache(cache_id))
            if method == "DELETE":
                state.delete_cache(cache_id)
                return self._send(204)
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here", {"Allow": "GET, DELETE"})
        match = SETTINGS_PATH.match(path)
        if match:
            user = urllib.parse.unquote(match.group(1))
            if method == "GET":
                return self._send(200, state.get_settings(user))
            if method in ("POST", "PATCH", "PUT"):
                # Unknown users get 404 before a body is judged, as a missing resource would.
                state.get_settings(user)
                return self._send(200, state.update_settings(user, self._json(raw)))
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here", {"Allow": "GET, POST, PATCH, PUT"})
        raise ApiError(404, "NOT_FOUND", f"no such endpoint: {path}")

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self):  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self):  # noqa: N802
        self._handle("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Tests open many connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 64
    # An ssl.SSLContext with --tls-cert/--tls-key; None serves plain HTTP.
    tls_context = None

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            return super().finish_request(request, client_address)
        # The handshake runs here, in the request's thread, so a stuck client cannot block accept().
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls_socket = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            # A client that does not trust the certificate ends up here; tests rely on that.
            sys.stderr.write(f"{client_address[0]} TLS handshake failed: {exc}\n")
            return None
        tls_socket.settimeout(None)
        try:
            return super().finish_request(tls_socket, client_address)
        finally:
            tls_socket.close()


def tls_context(cert_file, key_file):
    """A server context for the certificate chain (leaf first) and key in these PEM files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def users_from_env(admin_user):
    extra = os.environ.get("STANDIN_USERS", "alice,bob")
    return [admin_user] + [u.strip() for u in extra.split(",") if u.strip()]


def make_server(host, port, state_file):
    admin_user = os.environ.get("STANDIN_ADMIN_USER", "admin")
    handler = type("BoundHandler", (Handler,), {
        "state": State(state_file, users_from_env(admin_user)),
        "admin_user": admin_user,
        "admin_password": os.environ.get("STANDIN_ADMIN_PASSWORD", "standin-password"),
    })
    server = Server((host, port), handler)
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description="DTR stand-in: content-cache and account-settings API")
    parser.add_argument("--state-dir", required=True, help="directory for dtr-api.json")
    parser.add_argument("--listen", default="127.0.0.1:8081", help="HOST:PORT; port 0 picks a free port")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    host, dummy, port = args.listen.rpartition(":")
    os.makedirs(args.state_dir, exist_ok=True)
    context = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    server = make_server(host or "127.0.0.1", int(port), os.path.join(args.state_dir, "dtr-api.json"))
    server.tls_context = context
    bound = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
            f.write(f"{bound}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    scheme = "https" if context else "http"
    print(f"dtr_api listening on {scheme}://{host}:{bound}, users: {', '.join(server.RequestHandlerClass.state.users)}",
          file=sys.stderr, flush=True)

    # SIGTERM ends serve_forever() cleanly; shutdown() must run off the serving thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        # A short poll interval keeps SIGTERM-to-exit quick (tests start and stop it often).
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("dtr_api stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
