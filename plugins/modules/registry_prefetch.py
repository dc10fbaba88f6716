#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
module: registry_prefetch
short_description: Warm a registry cache by pulling images through it
version_added: 0.1.0
author:
  - DTR cache collection maintainers (@dtr-cache)
description:
  - Pulls each image of O(images) through the registry or content cache at O(url) as a client would, so that the
    cache fetches it from its upstream and keeps it; the bytes are checked and then dropped, nothing is written here.
  - For each image it gets the manifest, for an index (OCI image index or Docker manifest list) the manifests of the
    O(platforms) asked for, then the config blob and every layer blob of those manifests.
  - Every digest is verified. A manifest asked for by digest must have it; one asked for by tag must match the
    C(Docker-Content-Digest) header when the registry sends one, and its digest is returned. Each blob's bytes must
    have the SHA-256 digest and the size its manifest declares.
  - Blobs are streamed through the hash, never held in memory, and no more than the declared size is read (a larger
    answer fails with RV(failure_kind=too_large)); a manifest may have at most 4 MiB.
  - Each blob is fetched once per repository per run, even when several platforms or images share it.
  - Every reference is checked before the first request. The images are pulled one after the other, the blobs of an
    image in parallel (O(concurrency)); the first image that fails ends the module, naming the image and what had
    been fetched.
  - When the task runs in the controller's process (see the C(action) attribute), one line per image is printed as
    the image completes.
  - Every failure sets RV(failure_kind) so that callers can branch on the cause.
extends_documentation_fragment:
  - dtr.cache.attributes
  - dtr.cache.attributes.info_module
  - dtr.cache.attributes.action_group
  - dtr.cache.attributes.in_process
  - dtr.cache.connection
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it never reports a change. In check mode it gets only the manifests (a cache keeps
        those too, a few KB each) and returns the blobs it would fetch, with their sizes, in RV(images[].would_fetch),
        without fetching any blob.
  idempotent:
    support: full
    details:
      - The module only reads. A second run fetches the same images again, from the cache this time.
options:
  url:
    description:
      - Base URL of the cache, for example V(https://cache.example.com:30443).
      - A trailing V(/) or V(/v2/) is ignored; any other path is refused because the registry API lives at the root.
      - Redirects are not followed, except that a blob answered with a redirect (a cache whose storage sends clients
        to an object store) counts as already cached; see RV(images[].redirected).
      - With an C(http://) URL the deadline of O(timeout) is checked between reads only; use C(https://) where a server
        may be hostile.
    type: str
    required: true
  images:
    description:
      - The images to pull, as C([host[:port]/]repository[:tag][@sha256:<digest>]), for example V(team/app:1.4),
        V(dtr.example.com/team/app:1.4) or V(team/app@sha256:0123...).
      - A first component with a V(.) or a V(:), or V(localhost), is the host of the upstream and is dropped, as the
        cache mirrors one upstream and serves its repositories at its own root.
      - Without tag and digest the tag is V(latest). With a digest the manifest is asked for by digest.
      - Every reference must follow the grammar of the distribution project (lower-case repository components
        separated by V(/), a tag of at most 128 characters, a C(sha256) digest); a reference that does not fails with
        RV(failure_kind=invalid_argument) before any request.
    type: list
    elements: str
    required: true
  platforms:
    description:
      - The platforms to fetch of an image that is an index, as C(os/architecture[/variant]), for example
        V(linux/arm64/v8).
      - A platform without variant matches every variant of its architecture.
      - V(all) fetches every manifest the index lists.
      - An index that has none of them fails with RV(failure_kind=platform_not_found), naming the platforms it has.
      - An image that is a single manifest is fetched whatever its platform.
    type: list
    elements: str
    default: [linux/amd64]
  concurrency:
    description:
      - How many blobs of an image are fetched at the same time, from 1 to 16.
    type: int
    default: 4
  timeout:
    description:
      - How many seconds the whole run may take, for all of O(images) together. Connecting, TLS handshakes, the token
        requests, every manifest and every blob count against one deadline.
      - Raise it for large images or a slow upstream, since a cache that does not hold an image yet fetches it from
        the upstream while it answers.
      - At the deadline the module fails with RV(failure_kind=timeout) and names the image it was fetching.
    default: 300
  username:
    description:
      - User name for a cache that requires authentication (HTTP basic, or the Docker token flow used by DTR).
      - With the token flow a token is asked for each repository, with the scope the registry names (pull).
    type: str
  password:
    description:
      - Password or access token of O(username).
    type: str
  allow_foreign_token_realm:
    description:
      - In the Docker token flow the registry names the token service (the C(realm)) to which the module sends
        O(username) and O(password). The realm must be an C(https://) URL, and by default on the host of O(url).
      - Set to V(true) to allow a token service on another host, when it is known to be the registry's.
      - A realm that is refused fails with RV(failure_kind=untrusted_realm) before the credentials are sent anywhere.
    type: bool
    default: false
  connect_to:
    description:
      - IP address or host name to connect to instead of the host of O(url), on the port of O(url), as C(curl --resolve)
        does. The TLS server name, the certificate check and the C(Host) header still use the host of O(url).
      - For a controller that cannot resolve the name clients use for the cache.
    type: str
seealso:
  - module: dtr.cache.registry_catalog_info
requirements:
  - cryptography >= 41.0.0
"""

EXAMPLES = r"""
- name: Pull a release's images through the cache before the release
  dtr.cache.registry_prefetch:
    url: https://cache.example.com:30443
    ca_path: /etc/dtr-cache/certs/cache-ca.pem
    images:
      - dtr.example.com/team/api:2.3.0
      - team/worker:2.3.0
      - library/busybox@sha256:0f3fd5d9ab1ee67e7e8f9d64f1a2d5b3c0ab3b27d88e3a53d9aef5e4fbb6a0b9
    timeout: 900
  register: warmed

- name: Report what the cache now holds
  ansible.builtin.debug:
    msg: "{{ warmed.blobs }} blobs, {{ (warmed.bytes / 1e6) | round(1) }} MB in {{ warmed.seconds }} s"

- name: Both platforms of a multi-platform image, as a user of the cache
  dtr.cache.registry_prefetch:
    url: https://cache.example.com:30443
    ca_content: "{{ cache_ca_pem }}"
    username: puller
    password: "{{ cache_pull_password }}"
    images: [team/api:2.3.0]
    platforms: [linux/amd64, linux/arm64]

- name: What a warm-up would fetch (manifests only)
  dtr.cache.registry_prefetch:
    url: https://cache.example.com:30443
    ca_path: /etc/dtr-cache/certs/cache-ca.pem
    images: [team/api:2.3.0]
  check_mode: true
  register: plan

- name: Show the size of each image
  ansible.builtin.debug:
    msg: "{{ item.reference }}: {{ item.would_fetch | length }} blobs, {{ item.bytes }} bytes"
  loop: "{{ plan.images }}"
"""

RETURN = r"""
url:
  description: The normalized base URL.
  returned: always
  type: str
  sample: https://cache.example.com:30443
images:
  description:
    - One entry per image, in the order of O(images).
    - On failure, the images that completed before the one that failed.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The reference as given in O(images).
      type: str
      returned: always
      sample: dtr.example.com/team/api:2.3.0
    repository:
      description: The repository asked for at O(url), without the upstream's host.
      type: str
      returned: always
      sample: team/api
    digest:
      description: The digest of the manifest the reference names (of the index for a multi-platform image).
      type: str
      returned: always
      sample: sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
    media_type:
      description: The media type of that manifest.
      type: str
      returned: always
      sample: application/vnd.oci.image.index.v1+json
    platforms:
      description: The platforms fetched of an index, as C(os/architecture[/variant]); empty for a single manifest.
      type: list
      elements: str
      returned: always
      sample: [linux/amd64]
    manifests:
      description: Number of manifests fetched, the index included.
      type: int
      returned: always
      sample: 2
    blobs:
      description: Number of distinct blobs (configs and layers) of the image, fetched now or by an earlier image.
      type: int
      returned: always
      sample: 4
    bytes:
      description: Their total size in bytes, as the manifests declare it.
      type: int
      returned: always
      sample: 31457280
    redirected:
      description:
        - Blobs the cache answered with a redirect to its storage instead of the bytes. Such a blob is in the cache
          already; it is not downloaded, so not verified.
      type: int
      returned: success, outside check mode
      sample: 0
    seconds:
      description: How long the image took.
      type: float
      returned: always
      sample: 2.41
    would_fetch:
      description: In check mode, the blobs a run would fetch for this image (not those of an earlier image).
      type: list
      elements: dict
      returned: in check mode
      contains:
        digest:
          description: The blob's digest.
          type: str
          returned: always
          sample: sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
        size:
          description: Its size in bytes.
          type: int
          returned: always
          sample: 3145728
        media_type:
          description: Its media type.
          type: str
          returned: always
          sample: application/vnd.oci.image.layer.v1.tar+gzip
blobs:
  description:
    - Number of blobs fetched in this run (or found in the cache's storage, see RV(images[].redirected)), each counted
      once however many images share it.
    - In check mode, the number a run would fetch.
  returned: always
  type: int
  sample: 12
bytes:
  description: Their total size in bytes (in check mode, what a run would fetch).
  returned: always
  type: int
  sample: 94371840
seconds:
  description: How long the module took.
  returned: always
  type: float
  sample: 7.93
failed_image:
  description: The reference of the image that failed, as given in O(images).
  returned: when an image failed
  type: str
  sample: team/api:2.3.0
status:
  description: On RV(failure_kind=http_error), the failing HTTP status.
  returned: when failure_kind is http_error
  type: int
  sample: 404
failure_kind:
  description:
    - Why the module failed.
    - V(invalid_argument) (a bad reference, platform or option; nothing was requested), V(http_error) (including an
      image the cache does not have, HTTP 404, and authentication failures), V(digest_mismatch) (a manifest or blob
      whose bytes do not have the digest or size asked for or declared), V(too_large) (a manifest over 4 MiB, or a
      blob larger than its manifest declares), V(platform_not_found), V(invalid_manifest) (not a manifest this module
      knows, such as a Docker schema 1 manifest, or a descriptor without a C(sha256) digest), V(not_json),
      V(timeout) (the whole run outlasted O(timeout)), V(untrusted_certificate), V(hostname_mismatch),
      V(connection_refused), V(tls_error), V(connection_error), V(untrusted_realm).
  returned: failure
  type: str
  sample: digest_mismatch
"""

import hashlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure, excerpt
from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils import registry_client
from ansible_collections.dtr.cache.plugins.module_utils import tls


HTTP_AGENT = 'ansible-dtr.cache-registry_prefetch'
CA_PATH_HINT = 'Give the PEM file of the CA that issued the cache certificate.'
MAX_MANIFEST = 4 * 1024 * 1024
MAX_CONCURRENCY = 16

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ', '.join(INDEX_TYPES + IMAGE_TYPES)
# Registries do not serve these (Windows base layers and the like): clients fetch them from the descriptor's urls.
NOT_SERVED = re.compile(r'foreign|nondistributable')

ALL_PLATFORMS = 'all'
PLATFORM_RE = re.compile(r'\A[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?\Z')
PLATFORM_FORM = 'os/architecture[/variant] such as linux/amd64 or linux/arm64/v8, or all'

CONNECTION_HINTS = {
    tls.KIND_REFUSED: 'Check that the cache is running and exposed on this port, and that url has the right port.',
    tls.KIND_TIMEOUT: ('timeout covers every image of the run; raise it for large images or a slow upstream, or check '
                       'firewalls and proxy settings (use_proxy).'),
}


class Cancelled(Exception):
    """Ends a blob download early because another one of the same image failed."""


class Blob(object):
    """A descriptor the module fetches: digest, declared size and media type."""

    def __init__(self, digest, size, media_type):
        self.digest = digest
        self.size = size
        self.media_type = media_type


# --- arguments --------------------------------------------------------------------------------------------------


def parse_platforms(values):
    """The platforms asked for as ``(os, arch, variant or None)`` tuples, or None for all."""
    if not values:
        raise Failure('invalid_argument', 'platforms is empty; give at least one platform, {0}.'.format(PLATFORM_FORM))
    bad = ['platforms[{0}] {1!r}'.format(index, value) for index, value in enumerate(values)
           if value != ALL_PLATFORMS and not PLATFORM_RE.match(value)]
    if bad:
        raise Failure('invalid_argument', '{0}: not a platform; expected {1}.'.format(', '.join(bad), PLATFORM_FORM))
    if ALL_PLATFORMS in values:
        return None
    return [tuple(value.split('/')) + (None,) * (3 - len(value.split('/'))) for value in values]


def check_arguments(params):
    if params['password'] and not params['username']:
        raise Failure('invalid_argument', 'password is set but username is not; set both or neither.')
    if not 1 <= params['concurrency'] <= MAX_CONCURRENCY:
        raise Failure('invalid_argument', 'concurrency must be from 1 to {0}, got {1}.'.format(MAX_CONCURRENCY, params['concurrency']))
    if not params['images']:
        raise Failure('invalid_argument', 'images is empty; give at least one image reference.')


# --- manifests --------------------------------------------------------------------------------------------------


def sha256_digest(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def platform_text(platform):
    return '/'.join(part for part in (platform.get('os') or 'unknown', platform.get('architecture') or 'unknown',
                                      platform.get('variant')) if part)


def platform_of(entry):
    """The platform of an index entry; an entry without one (or with a malformed one) is unknown/unknown."""
    platform = entry.get('platform')
    return dict((key, value) for key, value in platform.items() if isinstance(value, str)) if isinstance(platform, dict) else {}


def matches(platform, wanted):
    """Whether an index entry's platform is one of ``wanted``; a wanted platform without variant takes any variant."""
    if wanted is None:
        return True
    for os_name, architecture, variant in wanted:
        if (platform.get('os'), platform.get('architecture')) == (os_name, architecture) and variant in (None, platform.get('variant')):
            return True
    return False


def descriptor(entry, where):
    """A Blob for a descriptor of a manifest; Failure(invalid_manifest) for one this module cannot fetch safely."""
    # The digest goes into a URL path: anything but sha256 hex is refused rather than quoted.
    digest = entry.get('digest') if isinstance(entry, dict) else None
    size = entry.get('size') if isinstance(entry, dict) else None
    if not isinstance(digest, str) or not registry_client.DIGEST_RE.match(digest):
        raise Failure('invalid_manifest', '{0} lists a descriptor with the digest {1!r}; this module fetches sha256 digests only.'
                      .format(where, digest))
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Failure('invalid_manifest', '{0} declares the size {1!r} for {2}; it must be a number of bytes.'.format(where, size, digest))
    return Blob(digest, size, entry.get('mediaType') or '')


def media_type_of(document, headers):
    """The manifest's own mediaType, else the Content-Type it was served with."""
    declared = document.get('mediaType')
    if isinstance(declared, str) and declared:
        return declared
    return (headers.get('Content-Type') or '').split(';')[0].strip()


def is_index(document, media_type):
    return media_type in INDEX_TYPES or (media_type not in IMAGE_TYPES and isinstance(document.get('manifests'), list))


def image_blobs(document, where):
    """The config and the layers a registry serves, of an image manifest."""
    if document.get('schemaVersion') != 2 or not isinstance(document.get('layers'), list):
        raise Failure('invalid_manifest', '{0} is not an image manifest of schema version 2 (OCI or Docker v2); this module '
                      'does not fetch Docker schema 1 or other manifests.'.format(where))
    blobs = [descriptor(document.get('config'), where)]
    blobs.extend(blob for blob in (descriptor(layer, where) for layer in document['layers'])
                 if not NOT_SERVED.search(blob.media_type))
    return blobs


def size_text(size):
    return '{0:.1f} MB'.format(size / 1e6)


def plural(count, noun):
    return '{0} {1}{2}'.format(count, noun, '' if count == 1 else 's')


# --- the client -------------------------------------------------------------------------------------------------


class Registry(object):
    """GETs against the cache at ``base``, all by ``deadline``, logging in per repository when asked to."""

    def __init__(self, params, target, context, deadline, route):
        self.params = params
        self.base, self.scheme, self.host, self.port = target
        self.route = route
        self.context = context
        self.deadline = deadline
        # Redirects are not followed: urllib would read a redirect's body without limit; see fetch_blob.
        self.request = Request(use_proxy=params['use_proxy'], http_agent=HTTP_AGENT, follow_redirects='none')
        self.credentials = registry_client.Credentials(self.base, self.host, params['username'], params['password'],
                                                       params['allow_foreign_token_realm'])
        # A token is for one repository's scope; basic credentials answer for all of them alike.
        self.authorizations = {}
        self.lock = threading.Lock()

    def send(self, url, headers, limit, sink=None):
        url = self.route.url(url, headers)
        try:
            if sink is None:
                return http_common.exchange(self.request, 'GET', url, self.deadline, self.context, limit=limit,
                                            headers=headers, unredirected_headers=['Authorization'])
            return http_common.stream(self.request, 'GET', url, self.deadline, self.context, sink, limit,
                                      headers=headers, unredirected_headers=['Authorization'])
        except tls.TLSCheckError as error:
            raise http_common.connection_failure(
                error, 'Cannot reach {0}'.format(self.base), self.route.connect_host, self.port, self.params['timeout'],
                trust=http_common.trust_source(self.params['ca_path'], self.params['ca_content']), hints=CONNECTION_HINTS)

    def token_get(self, url, authorization):
        answer = self.send(url, {'Authorization': authorization}, http_common.MAX_BODY)
        return answer.status, answer.headers, answer.body

    def get(self, url, repository, limit, sink=None, accept=None):
        """The Answer of a GET; on a 401 one round of logging in (or of renewing an expired token), then Failure."""
        for renewed in (False, True):
            headers = {'Accept': accept} if accept else {}
            authorization = self.authorizations.get(repository)
            if authorization:
                headers['Authorization'] = authorization
            answer = self.send(url, headers, limit, sink)
            if answer.status != 401:
                return answer
            if renewed:
                break
            fresh = self.credentials.answer(url, answer.headers.get('WWW-Authenticate', ''), self.token_get,
                                            'repository:{0}:pull'.format(repository))
            with self.lock:
                self.authorizations[repository] = fresh
        raise Failure('http_error', 'GET {0} answered HTTP 401 even with the credentials of {1!r}: {2!r}. Check username and '
                      'password, and that the user may pull {3}.'.format(url, self.params['username'], excerpt(answer.body), repository),
                      status=401)

    def fetch_manifest(self, repository, key, what, expected=None, declared=None):
        """``(digest, media_type, document)`` of ``/v2/<repository>/manifests/<key>``, its digest verified."""
        url = '{0}/v2/{1}/manifests/{2}'.format(self.base, repository, key)
        if declared is not None and declared > MAX_MANIFEST:
            raise Failure(http_common.KIND_TOO_LARGE, 'The manifest {0} declares {1} bytes, more than the 4 MiB this module reads.'
                          .format(what, declared), max_bytes=MAX_MANIFEST)
        answer = self.get(url, repository, MAX_MANIFEST if declared is None else declared, accept=ACCEPT)
        if answer.status == 404:
            raise registry_client.http_failure(
                url, 404, answer.body, 'The cache has no manifest {0}: check the repository and tag, and that the upstream '
                'the cache mirrors has the image.'.format(what))
        if answer.status >= 300:
            raise registry_client.http_failure(url, answer.status, answer.body, 'The cache could not serve the manifest {0}.'.format(what))
        digest = sha256_digest(answer.body)
        served = (answer.headers.get('Docker-Content-Digest') or '').strip()
        for name, wanted in (('the digest asked for', expected), ('Docker-Content-Digest', served if served.startswith('sha256:') else None)):
            if wanted and wanted != digest:
                raise Failure('digest_mismatch', 'The manifest {0} from {1} has the digest {2}, not {3} ({4}); the cache or '
                              'something between it and this host changed it.'.format(what, url, digest, wanted, name),
                              expected_digest=wanted, digest=digest)
        document = registry_client.parse_json(url, answer.status, answer.body)
        if not isinstance(document, dict):
            raise Failure('invalid_manifest', 'GET {0} answered JSON that is not a manifest: {1!r}.'.format(url, excerpt(answer.body)))
        return digest, media_type_of(document, answer.headers), document

    def fetch_blob(self, repository, blob, cancelled):
        """Stream one blob through its hash; True when fetched, False when the cache redirected to its storage."""
        url = '{0}/v2/{1}/blobs/{2}'.format(self.base, repository, blob.digest)
        hasher = hashlib.sha256()

        def sink(chunk):
            if cancelled.is_set():
                raise Cancelled()
            hasher.update(chunk)

        answer = self.get(url, repository, blob.size, sink=sink)
        if 300 <= answer.status < 400:
            # A cache answers with a redirect only for a blob its storage holds (S3 and the like, with redirects on).
            return False
        if answer.status >= 300:
            raise registry_client.http_failure(url, answer.status, answer.body, 'The cache could not serve the blob {0} of {1}.'
                                               .format(blob.digest, repository))
        if answer.size != blob.size or 'sha256:' + hasher.hexdigest() != blob.digest:
            raise Failure('digest_mismatch', 'The blob {0} of {1} arrived with {2} bytes and the digest sha256:{3}, where the '
                          'manifest declares {4} bytes and {0}; the cache or its upstream serves corrupt data.'.format(
                              blob.digest, repository, answer.size, hasher.hexdigest(), blob.size),
                          digest=blob.digest)
        return True


# --- one image --------------------------------------------------------------------------------------------------


class ImagePull(object):
    """What one image of the run fetched so far, for its result and for the message when it fails."""

    def __init__(self, reference):
        self.reference = reference
        self.started = time.monotonic()
        self.digest = None
        self.media_type = None
        self.platforms = []
        self.manifests = 0
        self.blobs = []
        self.fetched = 0
        self.fetched_bytes = 0
        self.redirected = 0
        self.lock = threading.Lock()

    def count(self, blob, fetched):
        with self.lock:
            if fetched:
                self.fetched += 1
                self.fetched_bytes += blob.size
            else:
                self.redirected += 1

    def so_far(self):
        if not self.manifests:
            return 'nothing of this image had been fetched'
        return '{0} and {1} of {2} blobs ({3}) of this image had been fetched'.format(
            plural(self.manifests, 'manifest'), self.fetched + self.redirected, len(self.blobs), size_text(self.fetched_bytes))

    def result(self, check_mode, pending):
        result = dict(
            reference=self.reference.text,
            repository=self.reference.repository,
            digest=self.digest,
            media_type=self.media_type,
            platforms=self.platforms,
            manifests=self.manifests,
            blobs=len(self.blobs),
            bytes=sum(blob.size for blob in self.blobs),
            seconds=round(time.monotonic() - self.started, 2),
        )
        if check_mode:
            result['would_fetch'] = [dict(digest=blob.digest, size=blob.size, media_type=blob.media_type) for blob in pending]
        else:
            result['redirected'] = self.redirected
        return result


class Prefetch(object):
    """The run: each image in turn, remembering the blobs fetched per repository so that none is fetched twice."""

    def __init__(self, module, registry, platforms):
        self.registry = registry
        self.platforms = platforms
        self.check_mode = module.check_mode
        self.concurrency = module.params['concurrency']
        self.seen = set()
        self.current = None
        self.total_blobs = 0
        self.total_bytes = 0

    def manifests_of(self, pull):
        """Fetch the manifest the reference names and, for an index, those of the chosen platforms; their blobs."""
        reference = pull.reference
        what = str(reference)
        pull.digest, pull.media_type, document = self.registry.fetch_manifest(
            reference.repository, reference.manifest_key, what, expected=reference.digest)
        pull.manifests = 1
        if not is_index(document, pull.media_type):
            return image_blobs(document, 'The manifest of {0}'.format(what))
        entries = document.get('manifests') or []
        children = [(descriptor(entry, 'The index of {0}'.format(what)), platform_of(entry)) for entry in entries
                    if isinstance(entry, dict)]
        chosen = [(child, platform) for child, platform in children if matches(platform, self.platforms)]
        if not chosen:
            raise Failure('platform_not_found', 'The index of {0} lists the platforms {1}; none is one of platforms {2}. Set '
                          'platforms to those to fetch, or to all.'.format(
                              what, ', '.join(platform_text(platform) for dummy, platform in children) or 'none',
                              ', '.join('/'.join(part for part in wanted if part) for wanted in self.platforms or [])
                              or ALL_PLATFORMS))
        blobs = []
        for child, platform in chosen:
            where = '{0} for {1} ({2})'.format(what, platform_text(platform), child.digest)
            dummy, media_type, manifest = self.registry.fetch_manifest(
                reference.repository, child.digest, where, expected=child.digest, declared=child.size)
            if is_index(manifest, media_type):
                raise Failure('invalid_manifest', 'The manifest {0} is itself an index; this module does not fetch nested '
                              'indexes.'.format(where))
            pull.manifests += 1
            pull.platforms.append(platform_text(platform))
            blobs.extend(image_blobs(manifest, 'The manifest {0}'.format(where)))
        return blobs

    def fetch_blobs(self, pull, pending):
        """Fetch ``pending`` in parallel; on the first failure stop the others and raise it."""
        cancelled = threading.Event()
        repository = pull.reference.repository
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(pending))) as pool:
            futures = dict((pool.submit(self.registry.fetch_blob, repository, blob, cancelled), blob) for blob in pending)
            try:
                for future in as_completed(futures):
                    pull.count(futures[future], future.result())
            except BaseException:
                cancelled.set()
                for future in futures:
                    future.cancel()
                raise

    def pull(self, reference):
        """The result of one image: its manifests, then its blobs that this run has not fetched yet."""
        pull = self.current = ImagePull(reference)
        blobs = self.manifests_of(pull)
        # One entry per digest: platforms often share the same config or base layers.
        pull.blobs = list(dict((blob.digest, blob) for blob in blobs).values())
        pending = [blob for blob in pull.blobs if (reference.repository, blob.digest) not in self.seen]
        if pending and not self.check_mode:
            self.fetch_blobs(pull, pending)
        self.seen.update((reference.repository, blob.digest) for blob in pending)
        self.total_blobs += len(pending)
        self.total_bytes += sum(blob.size for blob in pending)
        return pull.result(self.check_mode, pending)


def progress_line(result, check_mode):
    """``pulled <reference> (<digest>[ for <platforms>]): <n> blobs, <MB> in <s> s``, or what check mode would pull."""
    platforms = ' for {0}'.format(', '.join(result['platforms'])) if result['platforms'] else ''
    image = '{0} ({1}{2})'.format(result['reference'], result['digest'][:19], platforms)
    if check_mode:
        pending = result['would_fetch']
        return 'would pull {0}: {1} of its {2} blobs, {3}'.format(
            image, len(pending), result['blobs'], size_text(sum(blob['size'] for blob in pending)))
    return 'pulled {0}: {1} blobs, {2} in {3} s'.format(image, result['blobs'], size_text(result['bytes']), result['seconds'])


def run(module, state):
    params = module.params
    check_arguments(params)
    context = http_common.connection_context(module, CA_PATH_HINT)
    target = registry_client.normalize_base_url(params['url'])
    state['url'] = target[0]
    # Every reference is judged before the first request: a typo in the tenth image must not cost nine pulls.
    references = registry_client.parse_references(params['images'])
    platforms = parse_platforms(params['platforms'])
    route = http_common.route(context, *target[:3], connect_to=params['connect_to'])
    prefetch = Prefetch(module, Registry(params, target, context, Deadline(params['timeout']), route), platforms)
    state['prefetch'] = prefetch
    report = getattr(module, 'progress', None)
    for index, reference in enumerate(references):
        state['index'] = index
        result = prefetch.pull(reference)
        state['images'].append(result)
        if report is not None:
            report(progress_line(result, module.check_mode))


def failure_message(failure, state):
    """The cause, with the image it happened to and what the run had fetched by then."""
    if 'index' not in state:
        return failure.msg
    return 'images[{0}] {1!r} failed: {2} ({3}; {4} completed before).'.format(
        state['index'], state['references'][state['index']], failure.msg.rstrip('.'), state['prefetch'].current.so_far(),
        plural(len(state['images']), 'earlier image'))


def module_kwargs():
    """AnsibleModule's arguments: the options and how they combine (the action plugin reads them too)."""
    argument_spec = dict(
        url=dict(type='str', required=True),
        images=dict(type='list', elements='str', required=True),
        platforms=dict(type='list', elements='str', default=['linux/amd64']),
        concurrency=dict(type='int', default=4),
    )
    argument_spec.update(registry_client.login_argument_spec())
    argument_spec.update(http_common.connection_argument_spec(timeout=300, validate_certs=True))
    return dict(
        argument_spec=argument_spec,
        mutually_exclusive=http_common.CONNECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )


def main(module=None):
    module = module or AnsibleModule(**module_kwargs())
    if not tls.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=tls.CRYPTOGRAPHY_IMPORT_ERROR)

    started = time.monotonic()
    state = dict(url=module.params['url'], images=[], references=module.params['images'])
    try:
        run(module, state)
    except Failure as failure:
        extra = dict(failure.extra)
        if 'index' in state:
            extra['failed_image'] = state['references'][state['index']]
        prefetch = state.get('prefetch')
        module.fail_json(msg=failure_message(failure, state), failure_kind=failure.kind, url=state['url'], images=state['images'],
                         blobs=prefetch.total_blobs if prefetch else 0, bytes=prefetch.total_bytes if prefetch else 0,
                         seconds=round(time.monotonic() - started, 2), **extra)
    prefetch = state['prefetch']
    module.exit_json(changed=False, url=state['url'], images=state['images'], blobs=prefetch.total_blobs,
                     bytes=prefetch.total_bytes, seconds=round(time.monotonic() - started, 2))


if __name__ == '__main__':
    main()
