# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
name: registry_config
short_description: The config.yaml of a DTR content cache or a distribution pull-through cache
version_added: 0.1.0
author:
  - dtr.cache maintainers (!UNKNOWN)
description:
  - Builds the registry configuration of a content cache as a dictionary whose keys are in the
    order of the DTR guide's C(config.yaml), so that
    C({{ params | dtr.cache.registry_config | to_nice_yaml(indent=2, sort_keys=False) }}) renders it.
  - "Both flavors get: C(version), C(log.level), C(storage) (C(delete.enabled: true) always, so
    that cached blobs can expire, and C(filesystem.rootdirectory) or the object storage driver),
    C(http) (C(addr), C(secret), C(host), C(tls))."
  - Flavor V(dtr) (the C(docker/dtr-content-cache) image) adds C(middleware.registry), the
    C(downstream) middleware with C(blobttl) (left out when empty), C(upstreams) and C(cas)
    (left out when O(_input.ca_paths) is empty).
  - Flavor V(distribution) (the open-source registry in proxy mode) adds C(proxy.remoteurl) and, when
    given, C(proxy.username) and C(proxy.password).
  - Raises an error that names the offending setting and how to fix it. Error messages never
    contain O(_input.secret) or O(_input.upstream_password).
notes:
  - "C(version) is the float V(0.1), which YAML dumpers write as the guide's exact text C(version: 0.1).
    The string V('0.1') would be written quoted (C(version: '0.1')). The registry accepts both."
  - Flavor V(distribution) ignores O(_input.blobttl) (distribution 2.8 keeps proxied blobs for a
    fixed 7 days and has no setting for it) and O(_input.ca_paths) (it has no CA setting; the upstream's CA
    must be in the container's system trust store).
  - Unknown keys in the input are an error, to catch misspelt settings.
options:
  _input:
    description:
      - The cache settings.
    type: dict
    required: true
    suboptions:
      flavor:
        description:
          - Which cache the configuration is for.
        type: string
        required: true
        choices:
          - dtr
          - distribution
      upstreams:
        description:
          - The registries to pull from, each V(https://host) or V(https://host:port) without a path.
          - The V(dtr) flavor uses them round-robin; V(distribution) takes exactly one.
        type: list
        elements: string
        required: true
      ca_paths:
        description:
          - Absolute paths, inside the container, of PEM CA files trusted for the upstreams (V(dtr) only).
        type: list
        elements: string
        default: []
      blobttl:
        description:
          - How long the V(dtr) flavor keeps a blob, as a Go duration string with a unit, such as V(24h).
            Empty or V(null) leaves C(blobttl) out.
          - A bare number is refused (the DTR cache would read a YAML number as nanoseconds).
        type: string
      http_host:
        description:
          - The URL clients reach the cache at (C(http.host)), such as V(https://cache.example.com) or
            V(https://node1.example.com:30443) for a NodePort. DTR redirects blob pulls there.
        type: string
        required: true
      listen_port:
        description:
          - The port the registry listens on in the container (C(http.addr) is C(0.0.0.0:<listen_port>)).
        type: integer
        required: true
      secret:
        description:
          - C(http.secret); the same on every replica. Required, so that replicas never make up
            their own random secrets.
        type: string
        required: true
      tls_certificate:
        description:
          - Path of the cache's certificate (with intermediates) in the container.
        type: string
        default: /certs/cache.cert.pem
      tls_key:
        description:
          - Path of the cache's private key in the container.
        type: string
        default: /certs/cache.key.pem
      storage:
        description:
          - Where the cache keeps blobs.
        type: dict
        default: {type: emptydir}
        suboptions:
          type:
            description:
              - V(emptydir) and V(pvc) use the C(filesystem) driver at O(_input.storage.path);
                V(object) uses O(_input.storage.driver).
            type: string
            required: true
            choices:
              - emptydir
              - pvc
              - object
          path:
            description:
              - C(storage.filesystem.rootdirectory) for V(emptydir) and V(pvc).
            type: string
            default: /var/lib/registry
          driver:
            description:
              - "For V(object), one distribution storage driver section, copied as given, such as
                V({s3: {region: us-east-1, bucket: cache}}). It may also hold the storage keys
                C(redirect), C(maintenance) and C(cache); C(delete) is set by the filter."
              - Ignored for V(emptydir) and V(pvc).
            type: dict
      log_level:
        description:
          - C(log.level).
        type: string
        default: info
        choices:
          - panic
          - fatal
          - error
          - warn
          - warning
          - info
          - debug
          - trace
      upstream_username:
        description:
          - C(proxy.username), for V(distribution) only. Requires O(_input.upstream_password).
        type: string
      htpasswd_path:
        description:
          - For V(distribution) only, the path of an htpasswd file (bcrypt) inside the container. Clients then log in
            with one of its users (C(auth.htpasswd)); without it anyone who reaches the cache may pull through it.
        type: string
      upstream_password:
        description:
          - C(proxy.password), for V(distribution) only. Requires O(_input.upstream_username).
        type: string
"""

EXAMPLES = r"""
---
- name: The configuration of the guide's cache, in a Secret
  kubernetes.core.k8s:
    state: present
    definition:
      apiVersion: v1
      kind: Secret
      metadata:
        name: dtr-cache-config
        namespace: dtr
      stringData:
        config.yaml: "{{ _params | dtr.cache.registry_config | to_nice_yaml(indent=2, sort_keys=False) }}"
  vars:
    _params:
      flavor: dtr
      upstreams: [https://dtr.example.com]
      ca_paths: [/certs/dtr.cert.pem]
      blobttl: 24h
      http_host: https://cache.example.com
      listen_port: 443
      secret: "{{ lookup('ansible.builtin.password', '/dev/null', length=32, chars=['ascii_letters', 'digits']) }}"
      storage: {type: emptydir}
"""

RETURN = r"""
_value:
  description:
    - The registry configuration, ready for C(to_nice_yaml(sort_keys=False)).
  type: dict
  sample:
    version: 0.1
    log: {level: info}
    storage: {delete: {enabled: true}, filesystem: {rootdirectory: /var/lib/registry}}
    http:
      addr: 0.0.0.0:443
      secret: s3cr3t
      host: https://cache.example.com
      tls: {certificate: /certs/cache.cert.pem, key: /certs/cache.key.pem}
    middleware:
      registry:
        - name: downstream
          options: {blobttl: 24h, upstreams: [https://dtr.example.com], cas: [/certs/dtr.cert.pem]}
"""

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError

from ansible_collections.dtr.cache.plugins.filter.go_duration import (
    GoDurationError,
    parse_go_duration,
)

FLAVORS = ("dtr", "distribution")
STORAGE_TYPES = ("emptydir", "pvc", "object")
LOG_LEVELS = ("panic", "fatal", "error", "warn", "warning", "info", "debug", "trace")
STORAGE_EXTRA_KEYS = ("redirect", "maintenance", "cache")
KNOWN_KEYS = ("flavor", "upstreams", "ca_paths", "blobttl", "http_host", "listen_port", "secret", "tls_certificate",
              "tls_key", "storage", "log_level", "upstream_username", "upstream_password", "htpasswd_path")
DEFAULTS = {
    "tls_certificate": "/certs/cache.cert.pem",
    "tls_key": "/certs/cache.key.pem",
    "log_level": "info",
    "storage_path": "/var/lib/registry",
}
# The guide's placeholder: a secret everyone knows.
PLACEHOLDER_SECRET = "generate-random-secret"

_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")
_BRACKETED = re.compile(r"^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$")


def _fail(msg):
    raise AnsibleFilterError("dtr.cache.registry_config: " + msg)


def _empty(value):
    return value is None or value == ""


def _plain(value):
    """A plain copy of nested dicts and lists (no shared or lazy containers in the output)."""
    if isinstance(value, Mapping):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _string(params, key, default=None, example=None):
    value = params.get(key)
    if _empty(value):
        if default is None:
            _fail("%s is missing: set it, for example to %s" % (key, example))
        return default
    if not isinstance(value, str):
        _fail("%s=%r must be a string" % (key, value))
    return value


def _abs_path(params, key, default=None):
    value = _string(params, key, default)
    if not value.startswith("/"):
        _fail("%s=%r must be an absolute path inside the container, such as %s" % (key, value, default or "/certs/ca.pem"))
    return value


def url_error(url):
    """Why url is not https://host[:port], or None."""
    if not isinstance(url, str):
        return "is not a string"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return "is not a valid URL (%s)" % exc
    if parts.scheme != "https":
        return "must start with https://"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not hold credentials"
    if parts.path or parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must have no path (not even a trailing '/'), query or fragment"
    host = parts.hostname or ""
    if "[" in parts.netloc or "]" in parts.netloc:
        if not _BRACKETED.match(parts.netloc):
            return "has an invalid IPv6 address in brackets"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "has an invalid IPv6 address in brackets"
    elif not _HOSTNAME.match(host) or parts.netloc.split(":")[0].lower() != host:
        return "has no valid host name"
    if port == 0:
        return "has port 0"
    return None


def _check_url(key, url):
    reason = url_error(url)
    if reason:
        _fail("%s %r %s: use https://host or https://host:port" % (key, url, reason))
    return url


def _flavor(params):
    flavor = params.get("flavor")
    if flavor not in FLAVORS:
        _fail("flavor=%r is not supported: use dtr (the DTR content cache) or distribution (the open-source registry as a proxy)"
              % (flavor,))
    return flavor


def _upstreams(params, flavor):
    upstreams = params.get("upstreams")
    if not isinstance(upstreams, (list, tuple)) or not upstreams:
        _fail("upstreams=%r must be a non-empty list of URLs, such as ['https://dtr.example.com']" % (upstreams,))
    result = [_check_url("upstream", url) for url in upstreams]
    if flavor == "distribution" and len(result) > 1:
        _fail("upstreams=%r: distribution proxies exactly one upstream; use flavor dtr for several, or chain caches" % (result,))
    return result


def _ca_paths(params):
    paths = params.get("ca_paths")
    if _empty(paths):
        return []
    if not isinstance(paths, (list, tuple)):
        _fail("ca_paths=%r must be a list of absolute paths, such as ['/certs/dtr.cert.pem']" % (paths,))
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/"):
            _fail("ca_paths entry %r must be an absolute path inside the container, such as /certs/dtr.cert.pem" % (path,))
    return list(paths)


def _blobttl(params):
    value = params.get("blobttl")
    if _empty(value):
        return None
    if not isinstance(value, str):
        _fail("blobttl=%r is a bare %s, which the DTR cache would read as nanoseconds: use a string with a unit, such as 24h, 90m or 1h30m"
              % (value, type(value).__name__))
    try:
        nanoseconds = parse_go_duration(value.strip())
    except GoDurationError as exc:
        _fail("blobttl=%r is not a duration (%s): use a number with a unit, such as 24h, 90m or 1h30m" % (value, exc))
    if nanoseconds <= 0:
        _fail("blobttl=%r must be positive: use a duration such as 24h, or leave blobttl empty to keep blobs" % (value,))
    return value.strip()


def _listen_port(params):
    port = params.get("listen_port")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        _fail("listen_port=%r must be a port number from 1 to 65535 (443 for dtr, 5000 for distribution)" % (port,))
    return port


def _secret(params):
    secret = params.get("secret")
    if _empty(secret) or not isinstance(secret, str):
        _fail("secret is missing or not a string: set one random http.secret shared by every replica")
    if secret == PLACEHOLDER_SECRET:
        _fail("secret is the guide's placeholder %r: set a random http.secret shared by every replica" % PLACEHOLDER_SECRET)
    return secret


def _log_level(params):
    level = params.get("log_level")
    if _empty(level):
        return DEFAULTS["log_level"]
    if level not in LOG_LEVELS:
        _fail("log_level=%r is not a registry log level: use one of %s" % (level, ", ".join(LOG_LEVELS)))
    return level


def _driver_section(driver):
    if not isinstance(driver, Mapping) or not driver:
        _fail("storage.driver=%r must be a storage driver section for type object, such as {s3: {region: us-east-1, bucket: cache}}"
              % (driver,))
    if "delete" in driver:
        _fail("storage.driver must not hold 'delete': the filter always sets storage.delete.enabled: true")
    drivers = [key for key in driver if key not in STORAGE_EXTRA_KEYS]
    if len(drivers) != 1:
        _fail("storage.driver has %d storage drivers (%s): give exactly one, such as s3, azure, gcs, swift or oss"
              % (len(drivers), ", ".join(str(key) for key in drivers) or "none"))
    return _plain(driver)


def _storage(params):
    storage = params.get("storage")
    if storage is None:
        storage = {"type": "emptydir"}
    if not isinstance(storage, Mapping):
        _fail("storage=%r must be a dict such as {type: emptydir}" % (storage,))
    kind = storage.get("type")
    if kind not in STORAGE_TYPES:
        _fail("storage.type=%r is not supported: use emptydir, pvc or object" % (kind,))
    section = {"delete": {"enabled": True}}
    if kind == "object":
        section.update(_driver_section(storage.get("driver")))
    else:
        section["filesystem"] = {"rootdirectory": _abs_path(storage, "path", DEFAULTS["storage_path"])}
    return section


def _credentials(params, flavor):
    username, password = params.get("upstream_username"), params.get("upstream_password")
    if _empty(username) and _empty(password):
        return {}
    if flavor != "distribution":
        _fail("upstream_username and upstream_password are for flavor distribution only: the DTR cache gets its tokens from DTR; leave them empty")
    if _empty(username) or _empty(password):
        _fail("upstream_username and upstream_password go together: set both, or neither")
    if not isinstance(username, str) or not isinstance(password, str):
        _fail("upstream_username and upstream_password must be strings")
    return {"username": username, "password": password}


def _check_keys(params):
    unknown = sorted(str(key) for key in params if key not in KNOWN_KEYS)
    if unknown:
        _fail("unknown setting(s) %s: the filter reads %s" % (", ".join(unknown), ", ".join(KNOWN_KEYS)))


def _http_section(params):
    return {
        "addr": "0.0.0.0:%d" % _listen_port(params),
        "secret": _secret(params),
        "host": _check_url("http_host", _string(params, "http_host", example="https://cache.example.com")),
        "tls": {
            "certificate": _abs_path(params, "tls_certificate", DEFAULTS["tls_certificate"]),
            "key": _abs_path(params, "tls_key", DEFAULTS["tls_key"]),
        },
    }


def _downstream_middleware(params, upstreams):
    options = {}
    blobttl = _blobttl(params)
    if blobttl is not None:
        options["blobttl"] = blobttl
    options["upstreams"] = upstreams
    cas = _ca_paths(params)
    if cas:
        options["cas"] = cas
    return {"registry": [{"name": "downstream", "options": options}]}


def _proxy_section(params, upstreams):
    proxy = {"remoteurl": upstreams[0]}
    proxy.update(_credentials(params, "distribution"))
    return proxy


def _auth_section(params):
    """Clients log in with a user of the htpasswd file, when one is given."""
    path = params.get("htpasswd_path")
    if _empty(path):
        return {}
    return {"auth": {"htpasswd": {"realm": "dtr-cache", "path": _abs_path(params, "htpasswd_path")}}}


def registry_config(params):
    """Filter: the registry config.yaml content for a cache, as an ordered dict."""
    if not isinstance(params, Mapping):
        _fail("expected a dict of cache settings, got %s" % type(params).__name__)
    _check_keys(params)
    flavor = _flavor(params)
    upstreams = _upstreams(params, flavor)
    config = {
        "version": 0.1,
        "log": {"level": _log_level(params)},
        "storage": _storage(params),
        "http": _http_section(params),
    }
    if flavor == "dtr":
        _credentials(params, flavor)
        config["middleware"] = _downstream_middleware(params, upstreams)
    else:
        config.update(_auth_section(params))
        config["proxy"] = _proxy_section(params, upstreams)
    return config


class FilterModule(object):
    """Registry configuration filter."""

    def filters(self):
        return {
            "registry_config": registry_config,
        }
