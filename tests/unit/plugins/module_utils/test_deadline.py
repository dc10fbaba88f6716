# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time

import pytest

from ansible_collections.dtr.cache.plugins.module_utils import deadline as deadlines
from ansible_collections.dtr.cache.plugins.module_utils import tls
from ansible_collections.dtr.cache.tests.unit.tls_servers import text_app


def test_budget_is_the_time_left_and_raises_after():
    deadline = deadlines.Deadline(0.3)
    assert 0.2 < deadline.budget() <= 0.3
    assert not deadline.expired()
    time.sleep(0.35)
    assert deadline.expired()
    with pytest.raises(socket.timeout, match='the deadline of 0.3 seconds passed'):
        deadline.budget()


def test_sooner_keeps_the_earlier_deadline():
    overall = deadlines.Deadline(1)
    assert overall.sooner(10).remaining() <= 1
    assert overall.sooner(0.1).remaining() <= 0.1


def _armed_client(pki, port, deadline):
    context = deadlines.arm(tls.ca_context(pki.root.pem), deadline)
    sock = socket.create_connection(('127.0.0.1', port), timeout=30)
    return context.wrap_socket(sock, server_hostname='localhost')


def test_armed_socket_stops_a_trickling_server_at_the_deadline(pki, servers):
    # Each byte comes within the 30 s socket timeout; only the armed deadline ends the reading.
    trickling = servers.trickling(b'x' * 100, pki.server, interval=0.2)
    started = time.monotonic()
    client = _armed_client(pki, trickling.port, deadlines.Deadline(1))
    received = b''
    with pytest.raises(socket.timeout):
        try:
            client.sendall(b'GET / HTTP/1.1\r\n\r\n')
            while True:
                received += client.recv(10)
        finally:
            client.close()
    assert 0.9 < time.monotonic() - started < 1.6
    assert 2 <= len(received) <= 6


def test_armed_socket_bounds_the_handshake(pki, servers):
    silent = servers.silent()
    started = time.monotonic()
    with pytest.raises(socket.timeout):
        _armed_client(pki, silent.port, deadlines.Deadline(0.5))
    assert time.monotonic() - started < 1.2


def test_armed_socket_works_normally_before_the_deadline(pki, servers):
    server = servers.https(text_app('hello'), pki.server)
    client = _armed_client(pki, server.port, deadlines.Deadline(5))
    try:
        assert isinstance(client, ssl.SSLSocket)
        client.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
        answer = b''
        while b'hello' not in answer:
            chunk = client.recv(4096)
            assert chunk
            answer += chunk
    finally:
        client.close()
    assert answer.startswith(b'HTTP/1.1 200')
