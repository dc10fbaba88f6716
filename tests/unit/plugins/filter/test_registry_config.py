# -*- coding: utf-8 -*-
# Copyright (c) 2025, dtr.cache maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the dtr.cache.registry_config filter."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_nice_yaml

from ansible_collections.dtr.cache.plugins.filter.registry_config import FilterModule, registry_config
from ansible_collections.dtr.cache.tests.unit.seed_guide import SEED_CONFIG_YAML, SEED_GUIDE_PATH, seed_config

SECRET = "Zk3q9XfL0pWm2RtY7uVb4NcD8sGh1JeA"
CACHE_URL = "https://cache.example.com"
DTR_URL = "https://dtr.example.com"
EXPECTED_DTR_YAML = seed_config(SECRET, CACHE_URL, DTR_URL)


def seed_params(**overrides):
    """The role's inputs that stand for the seed guide's cache."""
    params = {
        "flavor": "dtr",
        "upstreams": [DTR_URL],
        "ca_paths": ["/certs/dtr.cert.pem"],
        "blobttl": "24h",
        "http_host": CACHE_URL,
        "listen_port": 443,
        "secret": SECRET,
        "tls_certificate": "/certs/cache.cert.pem",
        "tls_key": "/certs/cache.key.pem",
        "storage": {"type": "emptydir", "path": "/var/lib/registry"},
        "log_level": "info",
        "upstream_username": "",
        "upstream_password": "",
    }
    params.update(overrides)
    return params


def distribution_params(**overrides):
    params = seed_params(flavor="distribution", listen_port=5000, upstreams=["https://registry.example.com:5000"])
    params.update(overrides)
    return params


def render(config):
    return to_nice_yaml(config, indent=2, sort_keys=False)


def ordered(value):
    """Nested data with the order of mapping keys made visible to ==."""
    if isinstance(value, dict):
        return [(key, ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def seed_lines():
    """The seed's lines with its placeholders filled in and comments dropped."""
    text = (SEED_CONFIG_YAML.replace("generate-random-secret", SECRET)
            .replace("https://<external-fqdn-dtrcache>", CACHE_URL)
            .replace("https://<dtr-url>", DTR_URL))
    return [re.sub(r"\s+#.*$", "", line) for line in text.splitlines()]


def test_filter_names():
    assert FilterModule().filters() == {"registry_config": registry_config}


def test_seed_block_matches_the_guide():
    if not os.path.exists(SEED_GUIDE_PATH):
        pytest.skip("the seed guide is not at %s" % SEED_GUIDE_PATH)
    with open(SEED_GUIDE_PATH, encoding="utf-8") as handle:
        guide = handle.read()
    block = re.search(r"cat > config\.yaml <<EOF\n(.*?\n)EOF\n", guide, re.S)
    assert block is not None
    assert block.group(1) == SEED_CONFIG_YAML


def test_seed_equivalent_renders_the_seed_text():
    rendered = render(registry_config(seed_params()))
    # the guide lost its indentation: compare line by line without it
    assert [line.strip() for line in rendered.splitlines()] == seed_lines()


def test_seed_equivalent_renders_exactly():
    rendered = render(registry_config(seed_params()))
    assert rendered == EXPECTED_DTR_YAML
    assert rendered.splitlines()[0] == "version: 0.1"


def test_seed_equivalent_structure_and_key_order():
    config = registry_config(seed_params())
    assert ordered(config) == ordered(yaml.safe_load(EXPECTED_DTR_YAML))
    assert list(config) == ["version", "log", "storage", "http", "middleware"]
    assert list(config["http"]) == ["addr", "secret", "host", "tls"]
    assert list(config["middleware"]["registry"][0]["options"]) == ["blobttl", "upstreams", "cas"]
    assert yaml.safe_load(render(config))["version"] == 0.1


def test_role_minimum_uses_defaults():
    params = {"flavor": "dtr", "upstreams": [DTR_URL], "ca_paths": ["/certs/dtr.cert.pem"], "blobttl": "24h",
              "http_host": CACHE_URL, "listen_port": 443, "secret": SECRET}
    assert render(registry_config(params)) == EXPECTED_DTR_YAML


@pytest.mark.parametrize("blobttl", [None, ""])
def test_empty_blobttl_is_left_out(blobttl):
    config = registry_config(seed_params(blobttl=blobttl))
    assert list(config["middleware"]["registry"][0]["options"]) == ["upstreams", "cas"]
    assert config["storage"]["delete"] == {"enabled": True}


@pytest.mark.parametrize("blobttl", ["1h30m", "90m", "0.5h", " 24h "])
def test_blobttl_is_kept_as_written(blobttl):
    assert registry_config(seed_params(blobttl=blobttl))["middleware"]["registry"][0]["options"]["blobttl"] == blobttl.strip()


@pytest.mark.parametrize("ca_paths", [[], None])
def test_no_ca_paths_leaves_cas_out(ca_paths):
    options = registry_config(seed_params(ca_paths=ca_paths))["middleware"]["registry"][0]["options"]
    assert "cas" not in options


def test_several_upstreams_and_cas_keep_their_order():
    upstreams = ["https://dtr1.example.com", "https://dtr2.example.com:4443", "https://10.0.0.5", "https://[2001:db8::5]:443",
                 "https://[::1]", "HTTPS://DTR3.example.com", "https://registry_1:5000"]
    options = registry_config(seed_params(upstreams=upstreams, ca_paths=["/certs/a.pem", "/certs/b.pem"]))["middleware"]["registry"][0]["options"]
    assert options["upstreams"] == upstreams
    assert options["cas"] == ["/certs/a.pem", "/certs/b.pem"]


def test_http_section_with_nodeport_host_and_custom_paths():
    config = registry_config(seed_params(http_host="https://node1.example.com:30443", listen_port="8443",
                                         tls_certificate="/tls/tls.crt", tls_key="/tls/tls.key", log_level="debug"))
    assert config["http"] == {
        "addr": "0.0.0.0:8443",
        "secret": SECRET,
        "host": "https://node1.example.com:30443",
        "tls": {"certificate": "/tls/tls.crt", "key": "/tls/tls.key"},
    }
    assert config["log"] == {"level": "debug"}


def test_pvc_storage_path():
    config = registry_config(seed_params(storage={"type": "pvc", "path": "/data"}))
    assert ordered(config["storage"]) == ordered({"delete": {"enabled": True}, "filesystem": {"rootdirectory": "/data"}})


@pytest.mark.parametrize("storage", [None, {"type": "emptydir"}, {"type": "pvc", "driver": {"s3": {}}}])
def test_filesystem_storage_defaults(storage):
    assert registry_config(seed_params(storage=storage))["storage"] == {
        "delete": {"enabled": True}, "filesystem": {"rootdirectory": "/var/lib/registry"}}


def test_object_storage_is_passed_through():
    driver = {"s3": {"region": "us-east-1", "bucket": "dtr-cache", "regionendpoint": "https://minio.example.com",
                     "secure": True, "chunksize": 5242880},
              "redirect": {"disable": True}}
    given = copy.deepcopy(driver)
    config = registry_config(seed_params(storage={"type": "object", "driver": given, "path": "/ignored"}))
    assert ordered(config["storage"]) == ordered({"delete": {"enabled": True}, "s3": driver["s3"], "redirect": {"disable": True}})
    assert "filesystem" not in config["storage"]
    # a copy: changing the output leaves the input alone
    config["storage"]["s3"]["bucket"] = "changed"
    assert given == driver
    assert render(config).startswith("version: 0.1\nlog:\n  level: info\nstorage:\n  delete:\n    enabled: true\n  s3:\n    region: us-east-1\n")


def test_object_storage_driver_without_parameters():
    assert registry_config(seed_params(storage={"type": "object", "driver": {"inmemory": None}}))["storage"] == {
        "delete": {"enabled": True}, "inmemory": None}


def test_distribution_config():
    config = registry_config(distribution_params())
    assert list(config) == ["version", "log", "storage", "http", "proxy"]
    assert config["proxy"] == {"remoteurl": "https://registry.example.com:5000"}
    assert config["http"]["addr"] == "0.0.0.0:5000"
    assert render(config) == """\
version: 0.1
log:
  level: info
storage:
  delete:
    enabled: true
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: 0.0.0.0:5000
  secret: %s
  host: https://cache.example.com
  tls:
    certificate: /certs/cache.cert.pem
    key: /certs/cache.key.pem
proxy:
  remoteurl: https://registry.example.com:5000
""" % SECRET


def test_distribution_credentials():
    config = registry_config(distribution_params(upstream_username="puller", upstream_password="pa55"))
    assert ordered(config["proxy"]) == ordered({"remoteurl": "https://registry.example.com:5000", "username": "puller", "password": "pa55"})


@pytest.mark.parametrize("blobttl", ["24h", "not-a-duration", 86400])
def test_distribution_ignores_blobttl_and_ca_paths(blobttl):
    config = registry_config(distribution_params(blobttl=blobttl, ca_paths=["relative/ignored.pem"]))
    assert "middleware" not in config
    assert "blobttl" not in str(config)
    assert "ignored.pem" not in str(config)


def test_distribution_with_object_storage():
    config = registry_config(distribution_params(storage={"type": "object", "driver": {"gcs": {"bucket": "b"}}}))
    assert config["storage"] == {"delete": {"enabled": True}, "gcs": {"bucket": "b"}}


def _error(params):
    with pytest.raises(AnsibleFilterError) as exc:
        registry_config(params)
    message = str(exc.value)
    assert message.startswith("dtr.cache.registry_config: ")
    assert SECRET not in message
    return message


@pytest.mark.parametrize("params", [None, "flavor: dtr", [seed_params()]])
def test_input_must_be_a_dict(params):
    assert "expected a dict of cache settings" in _error(params)


def test_unknown_keys():
    message = _error(seed_params(blob_ttl="24h", upstream="x"))
    assert "unknown setting(s) blob_ttl, upstream: the filter reads flavor, upstreams" in message


@pytest.mark.parametrize("flavor", [None, "", "DTR", "harbor"])
def test_unsupported_flavor(flavor):
    assert "flavor=%r is not supported: use dtr (the DTR content cache) or distribution" % (flavor,) in _error(seed_params(flavor=flavor))


@pytest.mark.parametrize("upstreams", [None, [], (), "https://dtr.example.com", {"url": DTR_URL}])
def test_upstreams_must_be_a_non_empty_list(upstreams):
    assert "upstreams=%r must be a non-empty list of URLs" % (upstreams,) in _error(seed_params(upstreams=upstreams))


@pytest.mark.parametrize("url, reason", [
    ("http://dtr.example.com", "must start with https://"),
    ("dtr.example.com", "must start with https://"),
    ("dtr.example.com:443", "must start with https://"),
    ("https://", "has no valid host name"),
    ("https://:443", "has no valid host name"),
    ("https://dtr.example.com/", "must have no path (not even a trailing '/'), query or fragment"),
    ("https://dtr.example.com/v2", "must have no path"),
    ("https://dtr.example.com?x=1", "must have no path"),
    ("https://dtr.example.com?", "must have no path"),
    ("https://dtr.example.com#top", "must have no path"),
    ("https://admin:pw@dtr.example.com", "must not hold credentials"),
    ("https://dtr.example.com:99999", "is not a valid URL"),
    ("https://dtr.example.com:https", "is not a valid URL"),
    ("https://dtr.example.com:0", "has port 0"),
    ("https://dtr example.com", "has no valid host name"),
    ("https://[not-ipv6]", "is not a valid URL"),
    ("https://[v1.fe]", "has an invalid IPv6 address in brackets"),
    ("https://[::1]x", "has an invalid IPv6 address in brackets"),
    ("https://[1:2:3]", "is not a valid URL"),
    (443, "is not a string"),
    (None, "is not a string"),
])
def test_invalid_upstream(url, reason):
    message = _error(seed_params(upstreams=[DTR_URL, url]))
    assert "upstream %r %s" % (url, reason) in message
    assert message.endswith(": use https://host or https://host:port")


def test_distribution_proxies_one_upstream():
    message = _error(distribution_params(upstreams=["https://a.example.com", "https://b.example.com"]))
    assert "distribution proxies exactly one upstream; use flavor dtr for several, or chain caches" in message
    assert "https://a.example.com" in message


@pytest.mark.parametrize("ca_paths", ["/certs/dtr.cert.pem", {"a": 1}])
def test_ca_paths_must_be_a_list(ca_paths):
    assert "ca_paths=%r must be a list of absolute paths" % (ca_paths,) in _error(seed_params(ca_paths=ca_paths))


@pytest.mark.parametrize("entry", ["certs/dtr.cert.pem", "", None, 5])
def test_ca_paths_entries_must_be_absolute(entry):
    assert "ca_paths entry %r must be an absolute path inside the container" % (entry,) in _error(seed_params(ca_paths=[entry]))


@pytest.mark.parametrize("blobttl, kind", [(86400, "int"), (1.5, "float"), (True, "bool")])
def test_bare_number_blobttl(blobttl, kind):
    message = _error(seed_params(blobttl=blobttl))
    assert "blobttl=%r is a bare %s, which the DTR cache would read as nanoseconds" % (blobttl, kind) in message
    assert "use a string with a unit, such as 24h" in message


@pytest.mark.parametrize("blobttl, go_error", [
    ("86400", 'time: missing unit in duration "86400"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("24 h", 'time: unknown unit " h" in duration "24 h"'),
])
def test_invalid_blobttl(blobttl, go_error):
    assert "blobttl=%r is not a duration (%s): use a number with a unit" % (blobttl, go_error) in _error(seed_params(blobttl=blobttl))


@pytest.mark.parametrize("blobttl", ["0", "0s", "-1h"])
def test_blobttl_must_be_positive(blobttl):
    assert "blobttl=%r must be positive" % blobttl in _error(seed_params(blobttl=blobttl))


@pytest.mark.parametrize("port", [None, 0, 65536, -1, "abc", "", True, 443.0, "443.0"])
def test_invalid_listen_port(port):
    assert "listen_port=%r must be a port number from 1 to 65535" % (port,) in _error(seed_params(listen_port=port))


@pytest.mark.parametrize("secret", [None, "", 12345])
def test_secret_is_required(secret):
    assert "secret is missing or not a string: set one random http.secret shared by every replica" in _error(seed_params(secret=secret))


def test_placeholder_secret_is_refused():
    assert "secret is the guide's placeholder 'generate-random-secret'" in _error(seed_params(secret="generate-random-secret"))


@pytest.mark.parametrize("host", [None, ""])
def test_http_host_is_required(host):
    assert "http_host is missing: set it, for example to https://cache.example.com" in _error(seed_params(http_host=host))


@pytest.mark.parametrize("host, reason", [
    ("cache.example.com", "must start with https://"),
    ("https://cache.example.com/", "must have no path"),
])
def test_invalid_http_host(host, reason):
    assert "http_host %r %s" % (host, reason) in _error(seed_params(http_host=host))


def test_http_host_must_be_a_string():
    assert "http_host=443 must be a string" in _error(seed_params(http_host=443))


@pytest.mark.parametrize("key", ["tls_certificate", "tls_key"])
def test_tls_paths_must_be_absolute(key):
    assert "%s='certs/x.pem' must be an absolute path inside the container" % key in _error(seed_params(**{key: "certs/x.pem"}))


@pytest.mark.parametrize("storage", ["emptydir", ["emptydir"]])
def test_storage_must_be_a_dict(storage):
    assert "storage=%r must be a dict such as {type: emptydir}" % (storage,) in _error(seed_params(storage=storage))


@pytest.mark.parametrize("kind", [None, "hostpath", "s3", "EmptyDir"])
def test_unsupported_storage_type(kind):
    assert "storage.type=%r is not supported: use emptydir, pvc or object" % (kind,) in _error(seed_params(storage={"type": kind}))


def test_storage_path_must_be_absolute():
    assert "path='data' must be an absolute path inside the container" in _error(seed_params(storage={"type": "pvc", "path": "data"}))


@pytest.mark.parametrize("driver", [None, {}, "s3", ["s3"]])
def test_object_storage_needs_a_driver(driver):
    message = _error(seed_params(storage={"type": "object", "driver": driver}))
    assert "storage.driver=%r must be a storage driver section for type object" % (driver,) in message


def test_object_storage_driver_must_not_set_delete():
    message = _error(seed_params(storage={"type": "object", "driver": {"s3": {}, "delete": {"enabled": False}}}))
    assert "storage.driver must not hold 'delete'" in message


@pytest.mark.parametrize("driver, count, names", [
    ({"s3": {}, "gcs": {}}, 2, "s3, gcs"),
    ({"redirect": {"disable": True}}, 0, "none"),
])
def test_object_storage_needs_exactly_one_driver(driver, count, names):
    message = _error(seed_params(storage={"type": "object", "driver": driver}))
    assert "storage.driver has %d storage drivers (%s): give exactly one" % (count, names) in message


@pytest.mark.parametrize("level", ["INFO", "verbose", 3])
def test_invalid_log_level(level):
    assert "log_level=%r is not a registry log level: use one of panic, fatal, error, warn" % (level,) in _error(seed_params(log_level=level))


@pytest.mark.parametrize("username, password", [("puller", ""), ("", "pa55"), ("puller", "pa55")])
def test_credentials_are_for_distribution_only(username, password):
    message = _error(seed_params(upstream_username=username, upstream_password=password))
    assert "upstream_username and upstream_password are for flavor distribution only" in message
    assert "pa55" not in message


@pytest.mark.parametrize("username, password", [("puller", None), (None, "pa55"), ("puller", "")])
def test_credentials_go_together(username, password):
    message = _error(distribution_params(upstream_username=username, upstream_password=password))
    assert "upstream_username and upstream_password go together: set both, or neither" in message
    assert "pa55" not in message


def test_credentials_must_be_strings():
    message = _error(distribution_params(upstream_username="puller", upstream_password=12345))
    assert "upstream_username and upstream_password must be strings" in message
    assert "12345" not in message
