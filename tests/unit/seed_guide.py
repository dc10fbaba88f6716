"""The seed guide's config.yaml: the reference the registry config of the dtr flavor is held to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# The config.yaml of the seed guide "Deploy a DTR cache with Kubernetes", verbatim. The guide's
# text lost the YAML indentation; SEED_GUIDE_PATH, when it exists, is checked to hold this block.
SEED_CONFIG_YAML = """\
version: 0.1
log:
level: info
storage:
delete:
enabled: true
filesystem:
rootdirectory: /var/lib/registry
http:
addr: 0.0.0.0:443
secret: generate-random-secret
host: https://<external-fqdn-dtrcache> # Could be DTR Cache / Loadbalancer / Worker Node external FQDN
tls:
certificate: /certs/cache.cert.pem
key: /certs/cache.key.pem
middleware:
registry:
- name: downstream
options:
blobttl: 24h
upstreams:
- https://<dtr-url> # URL of the Main DTR Deployment
cas:
- /certs/dtr.cert.pem
"""

SEED_GUIDE_PATH = os.environ.get(
    "DTR_CACHE_SEED_GUIDE",
    os.path.join(os.path.dirname(__file__), *([os.pardir] * 3 + ["shared", "seed", "deploy-dtr-cache-with-kubernetes.txt"])))

# The same configuration, indented as to_nice_yaml(indent=2, sort_keys=False) writes it.
SEED_CONFIG_INDENTED = """\
version: 0.1
log:
  level: info
storage:
  delete:
    enabled: true
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: 0.0.0.0:443
  secret: {secret}
  host: {cache_url}
  tls:
    certificate: /certs/cache.cert.pem
    key: /certs/cache.key.pem
middleware:
  registry:
  - name: downstream
    options:
      blobttl: 24h
      upstreams:
      - {dtr_url}
      cas:
      - /certs/dtr.cert.pem
"""


def seed_config(secret, cache_url, dtr_url):
    """The indented seed configuration with its placeholders filled in."""
    return SEED_CONFIG_INDENTED.format(secret=secret, cache_url=cache_url, dtr_url=dtr_url)
