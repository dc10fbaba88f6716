# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""registry_prefetch against a real registry: Debian's docker-registry (distribution 2.8) serving TLS from the test PKI.

Images made by tests/standin/make_test_image.py are pushed into it with skopeo; what the module fetched is
read from the registry's own access log. The few answers no honest registry gives (a tampered blob, a blob
larger than declared) come from a small Python TLS server of tls_servers.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import bcrypt
import pytest
import yaml

from ansible.module_utils.urls import Request

from ansible_collections.dtr.cache.plugins.module_utils import http_common
from ansible_collections.dtr.cache.plugins.module_utils.deadline import Deadline
from ansible_collections.dtr.cache.plugins.module_utils.failure import Failure
from ansible_collections.dtr.cache.plugins.modules import registry_prefetch
from ansible_collections.dtr.cache.tests.unit.tls_servers import Reply, free_port

ROOT = pathlib.Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / 'tests' / 'standin'))
import make_test_image  # noqa: E402  pylint: disable=wrong-import-position

REGISTRY = shutil.which('docker-registry')
SKOPEO = shutil.which('skopeo')

USER = 'puller'
PASSWORD = 'pull-password'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
# distribution's access log (gorilla's combined format): "GET /v2/team/app/blobs/sha256:... HTTP/1.1" 200
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>[0-9]{3}) ')


# --- a real registry --------------------------------------------------------------------------------------------


class Distribution(object):
    """docker-registry on a free loopback port with TLS from ``issued``, optionally with htpasswd users.

    Started as its own process group; ``stop`` ends it by its pid.
    """

    def __init__(self, workdir, issued, ca_pem, htpasswd=None):
        assert REGISTRY and SKOPEO, 'needs docker-registry and skopeo, which `make unit` installs'
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.certs_dir = self.workdir / 'certs.d'
        self.certs_dir.mkdir(exist_ok=True)
        (self.certs_dir / 'ca.crt').write_text(ca_pem)
        self.log_path = self.workdir / 'registry.log'
        config = self._config(issued, htpasswd)
        config_path = self.workdir / 'config.yml'
        config_path.write_text(yaml.safe_dump(config))
        with open(str(self.log_path), 'wb') as log:
            self.process = subprocess.Popen([REGISTRY, 'serve', str(config_path)], stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_until_listening()

    def _config(self, issued, htpasswd):
        (self.workdir / 'chain.pem').write_text(issued.chain_pem)
        (self.workdir / 'key.pem').write_text(issued.key_pem)
        config = {
            'version': 0.1,
            'log': {'level': 'warn', 'formatter': 'text'},
            'storage': {'filesystem': {'rootdirectory': str(self.workdir / 'data')}},
            'http': {'addr': '127.0.0.1:%d' % self.port,
                     'tls': {'certificate': str(self.workdir / 'chain.pem'), 'key': str(self.workdir / 'key.pem')}},
        }
        if htpasswd:
            (self.workdir / 'htpasswd').write_text(htpasswd)
            config['auth'] = {'htpasswd': {'realm': 'dtr-cache-tests', 'path': str(self.workdir / 'htpasswd')}}
        return config

    def _wait_until_listening(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('docker-registry exited: %s' % self.log_path.read_text())
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError('docker-registry did not listen on %d: %s' % (self.port, self.log_path.read_text()))

    def url(self, host='localhost'):
        return 'https://%s:%d' % (host, self.port)

    def push(self, layout, tag, repository, all_platforms=False, creds=None):
        command = [SKOPEO, 'copy', '--quiet', '--preserve-digests', '--dest-cert-dir', str(self.certs_dir)]
        command += ['--all'] if all_platforms else []
        command += ['--dest-creds', creds] if creds else []
        command += ['oci:%s:%s' % (layout, tag), 'docker://localhost:%d/%s' % (self.port, repository)]
        subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def mark(self):
        """A point in the access log: ``requests(since=mark)`` lists what came after it."""
        self.sync()
        return self.log_path.stat().st_size

    def sync(self):
        """Wait until the log holds every request answered so far: it logs a request after answering it."""
        marker = '/v2/?sync=%s' % uuid.uuid4().hex
        http_common.exchange(_plain_request(), 'GET', self.url() + marker, Deadline(10), _trusting(self.certs_dir / 'ca.crt'))
        deadline = time.monotonic() + 10
        while marker not in self.log_path.read_text(errors='replace'):
            assert time.monotonic() < deadline, 'the registry did not log %s' % marker
            time.sleep(0.02)

    def requests(self, since):
        """``[(method, path, status)]`` of the access log after ``since``, without the sync requests."""
        self.sync()
        with open(str(self.log_path), 'rb') as log:
            log.seek(since)
            text = log.read().decode('utf-8', 'replace')
        found = [(match.group('method'), match.group('path'), int(match.group('status'))) for match in ACCESS_LINE.finditer(text)]
        return [entry for entry in found if '?sync=' not in entry[1]]

    def blob_gets(self, since):
        return sorted(path.rsplit('/', 1)[1] for method, path, status in self.requests(since) if method == 'GET' and '/blobs/' in path)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def _plain_request():
    return Request(use_proxy=False, follow_redirects='none')


def _trusting(ca_file):
    return http_common.trust_context(True, ca_path=str(ca_file))


def htpasswd_line(user, password):
    # Cost 4, the least bcrypt allows: the tests log in many times.
    return '%s:%s\n' % (user, bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode())


# --- images -----------------------------------------------------------------------------------------------------


def _write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    (layout / 'blobs' / 'sha256' / digest).write_bytes(data)
    return 'sha256:' + digest, len(data)


def _read_blob(layout, digest):
    return (pathlib.Path(layout) / 'blobs' / 'sha256' / digest.split(':', 1)[1]).read_bytes()


def single_image(workdir, tag, seed, layers=3):
    """make_test_image's image; its summary with ``blobs`` (digest -> size) added."""
    summary = make_test_image.make_image(str(workdir), layers=layers, layer_size_kb=48, tag=tag, seed=seed)
    summary['blobs'] = dict([(summary['config']['digest'], summary['config']['size'])]
                            + [(layer['digest'], layer['size']) for layer in summary['layers']])
    return summary


def multi_platform_image(workdir, tag, platforms):
    """An OCI layout whose ``tag`` is an image index over one make_test_image image per platform.

    Each platform's config says its os/architecture/variant, as a real one does. Returns the index digest and,
    per platform text, the manifest digest and the blobs.
    """
    layout = pathlib.Path(workdir) / 'index'
    (layout / 'blobs' / 'sha256').mkdir(parents=True)
    entries, per_platform = [], {}
    for number, (os_name, architecture, variant) in enumerate(platforms):
        part = single_image(pathlib.Path(workdir) / ('platform-%d' % number), 'x', seed=100 + number, layers=2)
        config = json.loads(_read_blob(part['layout'], part['config']['digest']))
        config.update(dict(os=os_name, architecture=architecture, **({'variant': variant} if variant else {})))
        for layer in part['layers']:
            _write_blob(layout, _read_blob(part['layout'], layer['digest']))
        config_digest, config_size = _write_blob(layout, json.dumps(config, sort_keys=True).encode())
        manifest = json.loads(_read_blob(part['layout'], part['manifest']['digest']))
        manifest['config'].update(digest=config_digest, size=config_size)
        manifest_digest, manifest_size = _write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
        platform = dict(os=os_name, architecture=architecture, **({'variant': variant} if variant else {}))
        entries.append(dict(mediaType=make_test_image.MANIFEST_TYPE, digest=manifest_digest, size=manifest_size, platform=platform))
        blobs = dict([(config_digest, config_size)] + [(layer['digest'], layer['size']) for layer in part['layers']])
        per_platform['/'.join(part for part in (os_name, architecture, variant) if part)] = dict(manifest=manifest_digest, blobs=blobs)
    index = dict(schemaVersion=2, mediaType=OCI_INDEX, manifests=entries)
    index_digest, index_size = _write_blob(layout, json.dumps(index, sort_keys=True).encode())
    top = dict(mediaType=OCI_INDEX, digest=index_digest, size=index_size, annotations={'org.opencontainers.image.ref.name': tag})
    (layout / 'index.json').write_text(json.dumps(dict(schemaVersion=2, mediaType=OCI_INDEX, manifests=[top])))
    (layout / 'oci-layout').write_text(json.dumps({'imageLayoutVersion': '1.0.0'}))
    return dict(layout=str(layout), digest=index_digest, platforms=per_platform)


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def registry(pki, tmp_path_factory):
    """One registry for the module's tests, holding team/app:1 (single platform) and team/multi:1 (an index)."""
    workdir = tmp_path_factory.mktemp('distribution')
    started = Distribution(workdir / 'registry', pki.server, pki.root.pem)
    try:
        started.app = single_image(workdir / 'app', '1', seed=1)
        started.push(started.app['layout'], '1', 'team/app:1')
        started.multi = multi_platform_image(workdir / 'multi', '1', [('linux', 'amd64', None), ('linux', 'arm64', 'v8')])
        started.push(started.multi['layout'], '1', 'team/multi:1', all_platforms=True)
        yield started
    finally:
        started.stop()


@pytest.fixture(scope='module')
def private_registry(pki, tmp_path_factory):
    """A registry whose clients log in (htpasswd, HTTP basic), holding team/app:1."""
    workdir = tmp_path_factory.mktemp('private-distribution')
    started = Distribution(workdir / 'registry', pki.server, pki.root.pem, htpasswd=htpasswd_line(USER, PASSWORD))
    try:
        started.app = single_image(workdir / 'app', '1', seed=7)
        started.push(started.app['layout'], '1', 'team/app:1', creds='%s:%s' % (USER, PASSWORD))
        yield started
    finally:
        started.stop()


@pytest.fixture
def ca_path(pki, write_file):
    return write_file('cache-ca.pem', pki.root.pem)


def prefetch(run_module, url, images, check_mode=False, **args):
    args.update(url=url, images=images)
    return run_module(registry_prefetch, args, check_mode=check_mode)


def blobs_of_platforms(registry, *platforms):
    blobs = {}
    for platform in platforms:
        blobs.update(registry.multi['platforms'][platform]['blobs'])
    return blobs


# --- pulls ------------------------------------------------------------------------------------------------------


def test_a_single_platform_image_by_tag(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1'], ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert result['changed'] is False
    (image,) = result['images']
    app = registry.app
    assert image['reference'] == 'team/app:1' and image['repository'] == 'team/app'
    assert image['digest'] == app['manifest']['digest']
    assert image['media_type'] == make_test_image.MANIFEST_TYPE
    assert (image['manifests'], image['blobs'], image['bytes'], image['platforms']) == (1, 4, app['blob_bytes'], [])
    assert (result['blobs'], result['bytes']) == (4, app['blob_bytes'])
    # Each blob exactly once, the manifest once, and nothing else.
    assert registry.blob_gets(since) == sorted(app['blobs'])
    assert [(method, path) for method, path, status in registry.requests(since) if '/manifests/' in path] == [
        ('GET', '/v2/team/app/manifests/1')]
    assert all(status == 200 for dummy, dummy, status in registry.requests(since))


def test_an_index_fetches_the_blobs_of_the_chosen_platform_only(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/multi:1'], ca_path=ca_path, platforms=['linux/amd64'])
    assert result.get('failed') is None, result.get('msg')
    (image,) = result['images']
    amd64 = registry.multi['platforms']['linux/amd64']
    assert (image['digest'], image['media_type']) == (registry.multi['digest'], OCI_INDEX)
    assert (image['manifests'], image['platforms']) == (2, ['linux/amd64'])
    assert (image['blobs'], image['bytes']) == (len(amd64['blobs']), sum(amd64['blobs'].values()))
    assert registry.blob_gets(since) == sorted(amd64['blobs'])
    manifests = [path for method, path, status in registry.requests(since) if '/manifests/' in path]
    assert manifests == ['/v2/team/multi/manifests/1', '/v2/team/multi/manifests/' + amd64['manifest']]


@pytest.mark.parametrize('platforms', [['all'], ['linux/amd64', 'linux/arm64']], ids=['all', 'arm64-without-variant'])
def test_all_platforms_of_an_index(registry, run_module, ca_path, platforms):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/multi:1'], ca_path=ca_path, platforms=platforms)
    assert result.get('failed') is None, result.get('msg')
    (image,) = result['images']
    both = blobs_of_platforms(registry, 'linux/amd64', 'linux/arm64/v8')
    assert (image['manifests'], image['platforms']) == (3, ['linux/amd64', 'linux/arm64/v8'])
    assert (image['blobs'], image['bytes'], result['bytes']) == (len(both), sum(both.values()), sum(both.values()))
    assert registry.blob_gets(since) == sorted(both)


def test_by_digest_and_with_the_upstream_host(registry, run_module, ca_path):
    """The upstream's host is dropped; a blob shared by two references of one repository is fetched once."""
    digest = registry.app['manifest']['digest']
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app@' + digest, 'dtr.example.com:443/team/app:1'], ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    by_digest, by_host = result['images']
    assert by_digest['digest'] == by_host['digest'] == digest
    assert by_host['repository'] == 'team/app' and by_host['blobs'] == 4
    assert (result['blobs'], result['bytes']) == (4, registry.app['blob_bytes'])
    assert registry.blob_gets(since) == sorted(registry.app['blobs'])
    manifests = [path for method, path, status in registry.requests(since) if '/manifests/' in path]
    assert manifests == ['/v2/team/app/manifests/' + digest, '/v2/team/app/manifests/1']


def test_check_mode_reads_manifests_and_fetches_no_blob(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1', 'team/multi:1'], check_mode=True, ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert result['changed'] is False
    app, multi = result['images']
    assert dict((blob['digest'], blob['size']) for blob in app['would_fetch']) == registry.app['blobs']
    amd64 = registry.multi['platforms']['linux/amd64']['blobs']
    assert dict((blob['digest'], blob['size']) for blob in multi['would_fetch']) == amd64
    assert (result['blobs'], result['bytes']) == (4 + len(amd64), registry.app['blob_bytes'] + sum(amd64.values()))
    seen = registry.requests(since)
    assert registry.blob_gets(since) == []
    assert len([path for method, path, status in seen if '/manifests/' in path]) == 3, seen


def test_progress_is_reported_per_image_when_the_module_object_can_show_it(registry, ca_path):
    """What the in-process module object gets; AnsibleModule has no progress method, and the module does without."""
    lines = []

    class Recorder(object):
        check_mode = False
        params = dict(url=registry.url(), images=['team/app:1', 'team/multi:1'], platforms=['linux/amd64'], concurrency=2,
                      username=None, password=None, allow_foreign_token_realm=False, timeout=60, use_proxy=False,
                      validate_certs=True, ca_path=ca_path, ca_content=None, connect_to=None)
        progress = lines.append

        def warn(self, text):
            raise AssertionError(text)

        def exit_json(self, **result):
            raise SystemExit(result)

        fail_json = exit_json

    with pytest.raises(SystemExit) as exited:
        registry_prefetch.main(Recorder())
    assert not exited.value.code.get('failed'), exited.value.code
    assert len(lines) == 2
    assert lines[0].startswith('pulled team/app:1 (%s): 4 blobs, %.1f MB in ' % (
        registry.app['manifest']['digest'][:19], registry.app['blob_bytes'] / 1e6))
    assert lines[1].startswith('pulled team/multi:1 (%s for linux/amd64): 3 blobs, ' % registry.multi['digest'][:19])


# --- failures ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('bad, why', [
    ('Team/app:1', 'the repository'),
    ('team/app:', 'the tag'),
    ('team/app:-1', 'the tag'),
    ('team//app', 'the repository'),
    ('team/app@sha256:abc', 'the digest'),
    ('team/app@sha512:' + 'a' * 128, 'the digest'),
    ('team/app:1\n', 'the tag'),
    (' team/app', 'the repository'),
    ('bad host!/team/app', 'the repository'),
    ('bad_host.example.com/team/app', 'the host'),
    ('', 'the repository'),
])
def test_a_bad_reference_fails_before_any_request(registry, run_module, ca_path, bad, why):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1', bad], ca_path=ca_path)
    assert result['failed'] and result['failure_kind'] == 'invalid_argument', result
    assert 'images[1] %r: %s' % (bad, why) in result['msg']
    assert 'Expected [host[:port]/]repository[:tag][@sha256:' in result['msg']
    assert result['images'] == []
    assert registry.requests(since) == []


def test_bad_platforms_fail_before_any_request(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1'], ca_path=ca_path, platforms=['linux/amd64', 'Linux'])
    assert result['failure_kind'] == 'invalid_argument' and "platforms[1] 'Linux': not a platform" in result['msg'], result
    assert registry.requests(since) == []


def test_an_index_without_the_platform_names_the_platforms_it_has(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/multi:1'], ca_path=ca_path, platforms=['linux/s390x'])
    assert result['failure_kind'] == 'platform_not_found', result
    assert "images[0] 'team/multi:1' failed" in result['msg']
    assert 'linux/amd64, linux/arm64/v8' in result['msg'] and 'linux/s390x' in result['msg']
    assert registry.blob_gets(since) == []


def test_an_unknown_image_is_named(registry, run_module, ca_path):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1', 'team/nope:2'], ca_path=ca_path)
    assert result['failed'] and result['failure_kind'] == 'http_error' and result['status'] == 404, result
    assert result['failed_image'] == 'team/nope:2'
    assert "images[1] 'team/nope:2' failed" in result['msg'] and 'no manifest team/nope:2' in result['msg']
    assert 'nothing of this image had been fetched; 1 earlier image completed before' in result['msg']
    assert [image['reference'] for image in result['images']] == ['team/app:1']
    assert registry.blob_gets(since) == sorted(registry.app['blobs'])


def test_a_digest_that_the_registry_does_not_have(registry, run_module, ca_path):
    result = prefetch(run_module, registry.url(), ['team/app@sha256:' + '0' * 64], ca_path=ca_path)
    assert result['failure_kind'] == 'http_error' and result['status'] == 404, result


def test_connect_to_reaches_the_address_and_checks_the_name_of_url(registry, run_module, ca_path):
    since = registry.mark()
    # localhost is on the registry's certificate: reached through 127.0.0.1, by that name.
    result = prefetch(run_module, registry.url('localhost'), ['team/app:1'], ca_path=ca_path, connect_to='127.0.0.1')
    assert result.get('failed') is None, result.get('msg')
    assert registry.blob_gets(since) == sorted(registry.app['blobs'])
    # A name the certificate does not carry fails, though the address is one it does carry.
    unnamed = prefetch(run_module, registry.url('cache.site-c.test'), ['team/app:1'], ca_path=ca_path, connect_to='127.0.0.1')
    assert unnamed['failure_kind'] == 'hostname_mismatch', unnamed['msg']
    assert 'cache.site-c.test' in unnamed['msg']


def test_the_certificate_must_come_from_the_given_ca(pki, registry, run_module, write_file):
    since = registry.mark()
    result = prefetch(run_module, registry.url(), ['team/app:1'], ca_path=write_file('other.pem', pki.other_root.pem))
    assert result['failure_kind'] == 'untrusted_certificate', result
    assert "images[0] 'team/app:1' failed" in result['msg']
    assert registry.requests(since) == []


def test_login_with_basic_credentials(private_registry, run_module, ca_path):
    since = private_registry.mark()
    result = prefetch(run_module, private_registry.url(), ['team/app:1'], ca_path=ca_path, username=USER, password=PASSWORD)
    assert result.get('failed') is None, result.get('msg')
    assert result['images'][0]['digest'] == private_registry.app['manifest']['digest']
    assert private_registry.blob_gets(since) == sorted(private_registry.app['blobs'])


@pytest.mark.parametrize('credentials, expected', [
    ({}, 'requires authentication'),
    (dict(username=USER, password='wrong'), 'even with the credentials'),
])
def test_without_the_right_credentials_the_pull_fails(private_registry, run_module, ca_path, credentials, expected):
    since = private_registry.mark()
    result = prefetch(run_module, private_registry.url(), ['team/app:1'], ca_path=ca_path, **credentials)
    assert result['failure_kind'] == 'http_error' and result['status'] == 401, result
    assert expected in result['msg'] and "images[0] 'team/app:1'" in result['msg']
    assert 'wrong' not in json.dumps(dict((key, value) for key, value in result.items() if key != 'invocation'))
    assert private_registry.blob_gets(since) == []


# --- answers no honest registry gives -----------------------------------------------------------------------------


class Tampering(object):
    """A registry app serving one image, team/app:1, whose answers can be spoilt."""

    def __init__(self, layer=b'x' * 4096, served_layer=None, manifest_header=None, redirect_layer=False):
        self.config = json.dumps({'architecture': 'amd64', 'os': 'linux'}).encode()
        self.layer = layer
        self.served_layer = layer if served_layer is None else served_layer
        self.manifest = json.dumps(dict(schemaVersion=2, mediaType=make_test_image.MANIFEST_TYPE, config=self.descriptor(self.config),
                                        layers=[self.descriptor(layer)])).encode()
        self.manifest_header = manifest_header
        self.redirect_layer = redirect_layer

    @staticmethod
    def descriptor(data):
        return dict(mediaType='application/octet-stream', digest='sha256:' + hashlib.sha256(data).hexdigest(), size=len(data))

    def __call__(self, request):
        blobs = {self.descriptor(self.config)['digest']: self.config, self.descriptor(self.layer)['digest']: self.served_layer}
        if request.path == '/v2/team/app/manifests/1' or request.path.startswith('/v2/team/app/manifests/sha256:'):
            headers = {'Docker-Content-Digest': self.manifest_header or self.descriptor(self.manifest)['digest']}
            return Reply(200, self.manifest, headers=headers, content_type=make_test_image.MANIFEST_TYPE)
        digest = request.path.rsplit('/', 1)[-1]
        if self.redirect_layer and digest == self.descriptor(self.layer)['digest']:
            return Reply(307, b'', headers={'Location': 'https://storage.invalid/blob'})
        if request.path.startswith('/v2/team/app/blobs/') and digest in blobs:
            return Reply(200, blobs[digest], content_type='application/octet-stream')
        return Reply(404, {'errors': [{'code': 'BLOB_UNKNOWN'}]})


class TokenAuth(object):
    """Docker's token flow in front of ``app``: a Bearer token from ``<realm>`` for the scope the challenge names."""

    TOKEN = 'pull-token'

    def __init__(self, app, realm=None):
        self.app = app
        self.realm = realm
        self.scopes = []

    def __call__(self, request):
        if request.path.startswith('/auth/token'):
            if request.headers.get('Authorization') != 'Basic ' + base64.b64encode(b'puller:pull-password').decode():
                return Reply(401, {'details': 'incorrect username or password'})
            self.scopes.append(parse_qs(urlsplit(request.path).query).get('scope'))
            return Reply(200, {'token': self.TOKEN})
        if request.headers.get('Authorization') != 'Bearer ' + self.TOKEN:
            realm = self.realm or 'https://%s/auth/token' % request.headers.get('Host')
            challenge = 'Bearer realm="%s",service="cache",scope="repository:team/app:pull"' % realm
            return Reply(401, {'errors': [{'code': 'UNAUTHORIZED'}]}, headers={'WWW-Authenticate': challenge})
        return self.app(request)


def test_the_token_flow_asks_for_the_repository_scope(pki, servers, run_module, ca_path):
    auth = TokenAuth(Tampering())
    server = servers.https(auth, pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path, username=USER, password=PASSWORD)
    assert result.get('failed') is None, result.get('msg')
    assert result['blobs'] == 2
    assert auth.scopes == [['repository:team/app:pull']]


def test_a_token_service_on_plain_http_gets_no_credentials(pki, servers, run_module, ca_path):
    auth = TokenAuth(Tampering(), realm='http://localhost:1/auth/token')
    server = servers.https(auth, pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path, username=USER, password=PASSWORD)
    assert result['failure_kind'] == 'untrusted_realm', result
    assert auth.scopes == []


def test_a_tampered_blob_fails_with_digest_mismatch(pki, servers, run_module, ca_path):
    app = Tampering(served_layer=b'y' * 4096)
    server = servers.https(app, pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path)
    assert result['failure_kind'] == 'digest_mismatch', result
    layer = app.descriptor(app.layer)['digest']
    assert layer in result['msg'] and "images[0] 'team/app:1' failed" in result['msg']
    assert '1 manifest and ' in result['msg'] and ' of 2 blobs (' in result['msg']


def test_a_manifest_whose_served_digest_differs_fails(pki, servers, run_module, ca_path):
    server = servers.https(Tampering(manifest_header='sha256:' + '1' * 64), pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path)
    assert result['failure_kind'] == 'digest_mismatch' and 'Docker-Content-Digest' in result['msg'], result
    assert [path for path in server.paths() if '/blobs/' in path] == []


def test_a_manifest_asked_for_by_digest_must_have_it(pki, servers, run_module, ca_path):
    server = servers.https(Tampering(), pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app@sha256:' + '2' * 64], ca_path=ca_path)
    assert result['failure_kind'] == 'digest_mismatch' and 'the digest asked for' in result['msg'], result
    assert [path for path in server.paths() if '/blobs/' in path] == []


def test_a_blob_the_cache_redirects_to_its_storage_is_already_cached(pki, servers, run_module, ca_path):
    server = servers.https(Tampering(redirect_layer=True), pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path)
    assert result.get('failed') is None, result.get('msg')
    assert (result['images'][0]['blobs'], result['images'][0]['redirected']) == (2, 1)
    assert not [path for path in server.paths() if 'storage' in path]


def test_a_blob_larger_than_declared_fails_with_too_large(pki, servers, run_module, ca_path):
    app = Tampering(served_layer=b'x' * 4096 + b'more')
    server = servers.https(app, pki.server)
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path)
    assert result['failure_kind'] == 'too_large', result
    assert '4096 bytes' in result['msg'] and app.descriptor(app.layer)['digest'] in result['msg']


def test_a_body_without_length_is_cut_at_the_declared_size(pki, servers):
    """The streaming read stops one byte past the limit even when no Content-Length warns of more."""
    head = b'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n'
    server = servers.trickling(b'', pki.server, immediate=head + b'z' * 100000, interval=0.01)
    seen = []
    with pytest.raises(Failure) as failed:
        http_common.stream(_plain_request(), 'GET', server.url('localhost') + '/v2/team/app/blobs/x', Deadline(10),
                           http_common.trust_context(True, ca_content=pki.root.pem), seen.append, 1000)
    assert failed.value.kind == 'too_large'
    assert sum(len(chunk) for chunk in seen) <= 1000


def test_the_deadline_covers_the_whole_run(pki, servers, run_module, ca_path):
    head = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'
    server = servers.trickling(b' ' * 100, pki.server, immediate=head, interval=0.5)
    started = time.monotonic()
    result = prefetch(run_module, server.url('localhost'), ['team/app:1'], ca_path=ca_path, timeout=2)
    assert result['failure_kind'] == 'timeout', result
    assert time.monotonic() - started < 6
    assert "images[0] 'team/app:1' failed" in result['msg'] and 'covers every image' in result['msg']


# --- the playbook -----------------------------------------------------------------------------------------------


def run_warm_cache(tmp_path, host_vars, *extra):
    playbook_tool = pathlib.Path(sys.executable).parent / 'ansible-playbook'
    if not playbook_tool.exists():
        pytest.skip('ansible-playbook is not installed next to %s' % sys.executable)
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'dtr_caches': {'hosts': {'site-x': host_vars}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.collections'), ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    return subprocess.run([str(playbook_tool), '-i', str(inventory), str(ROOT / 'playbooks' / 'warm-cache.yml')] + list(extra),
                          cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=180, check=False)


def test_the_warm_cache_playbook_reports_each_image_and_the_site(registry, tmp_path, ca_path):
    since = registry.mark()
    done = run_warm_cache(tmp_path, dict(
        dtr_cache_external_host='localhost', dtr_cache_node_port=registry.port, dtr_cache_client_ca_dest=ca_path,
        dtr_cache_warm_images=['dtr.test/team/app:1', 'team/multi:1'], dtr_cache_warm_platforms=['all']))
    assert done.returncode == 0, done.stdout
    # Printed while the task runs, through the worker's display queue, before the task's result. (With the collection's
    # display_skipped_hosts=False, Ansible prints a task's banner with its first result, so after these lines.)
    progress = [line for line in done.stdout.splitlines() if line.startswith('site-x: ')]
    assert progress[0].startswith('site-x: pulled dtr.test/team/app:1 (%s): 4 blobs, ' % registry.app['manifest']['digest'][:19])
    assert progress[1].startswith('site-x: pulled team/multi:1 (%s for linux/amd64, linux/arm64/v8): 6 blobs, '
                                  % registry.multi['digest'][:19])
    assert done.stdout.index('TASK [Check the cache URL]') < done.stdout.index(progress[0])
    both = blobs_of_platforms(registry, 'linux/amd64', 'linux/arm64/v8')
    megabytes = '%.1f MB' % ((registry.app['blob_bytes'] + sum(both.values())) / 1e6)
    summary = ' '.join(done.stdout.split('TASK [Report]')[1].split())
    assert 'site-x: 2 images, 10 blobs, %s, ' % megabytes in summary, done.stdout
    assert 'through %s' % registry.url() in summary
    assert done.stdout.index(progress[1]) < done.stdout.index('TASK [Report]')
    assert registry.blob_gets(since) == sorted(list(registry.app['blobs']) + list(both))


def test_the_warm_cache_playbook_in_check_mode_fetches_no_blob(registry, tmp_path, ca_path):
    since = registry.mark()
    done = run_warm_cache(tmp_path, dict(dtr_cache_warm_url=registry.url(), dtr_cache_client_ca_dest=ca_path,
                                         dtr_cache_warm_images=['team/app:1']), '--check')
    assert done.returncode == 0, done.stdout
    assert 'site-x: would pull team/app:1 (%s): 4 of its 4 blobs, %.1f MB' % (
        registry.app['manifest']['digest'][:19], registry.app['blob_bytes'] / 1e6) in done.stdout
    assert 'site-x: 1 images, would fetch 4 blobs' in ' '.join(done.stdout.split())
    assert registry.blob_gets(since) == []


@pytest.mark.parametrize('images', [None, [], 'team/app:1'], ids=['unset', 'empty', 'a-string'])
def test_the_warm_cache_playbook_needs_images(tmp_path, images):
    host_vars = dict(dtr_cache_warm_url='https://localhost:1')
    if images is not None:
        host_vars['dtr_cache_warm_images'] = images
    done = run_warm_cache(tmp_path, host_vars)
    assert done.returncode != 0
    assert 'site-x: dtr_cache_warm_images is' in done.stdout and 'set it to the list of images' in done.stdout, done.stdout
    assert 'Pull the images' not in done.stdout


def test_the_warm_cache_playbook_needs_a_url_it_can_compute(tmp_path):
    done = run_warm_cache(tmp_path, dict(dtr_cache_external_host='cache.example.com', dtr_cache_warm_images=['team/app:1']))
    assert done.returncode != 0
    assert 'set dtr_cache_warm_url' in done.stdout and 'https://cache.example.com:30443' in done.stdout, done.stdout
