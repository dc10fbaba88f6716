# -*- coding: utf-8 -*-

# Copyright (c) dtr.cache contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An overall deadline for network work, enforced on every read and write of a TLS socket.

A socket timeout bounds each read, not the exchange: a server that sends one byte a second never
trips it and can hold a module forever. ``arm(context, deadline)`` makes every TLS socket that
``context`` wraps set its timeout to the time left before each handshake step, read and write, so
the whole exchange (headers included, which urllib reads before the caller sees the response)
ends at the deadline. It works with ``ansible.module_utils.urls`` through its ``context`` argument.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time


class DeadlineExceeded(socket.timeout):
    """Raised instead of waiting past the deadline; a ``socket.timeout`` so callers classify it as one."""


class Deadline(object):
    """A point in time, ``seconds`` from now on the monotonic clock."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def remaining(self):
        """Seconds left; zero or negative once the deadline passed."""
        return self.expires - time.monotonic()

    def expired(self):
        return self.remaining() <= 0

    def budget(self):
        """Seconds left, for a socket timeout; raises DeadlineExceeded when none are."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded('the deadline of {0} seconds passed'.format(self.seconds))
        return left

    def sooner(self, seconds):
        """A deadline ``seconds`` from now, or this one if it comes first."""
        deadline = Deadline(seconds)
        deadline.expires = min(deadline.expires, self.expires)
        return deadline


def _socket_class(deadline):
    """An SSLSocket class whose blocking calls never wait past ``deadline``."""

    class DeadlineSSLSocket(ssl.SSLSocket):
        def _arm(self):
            self.settimeout(deadline.budget())

        def do_handshake(self, *args, **kwargs):
            self._arm()
            return ssl.SSLSocket.do_handshake(self, *args, **kwargs)

        def recv(self, *args, **kwargs):
            self._arm()
            return ssl.SSLSocket.recv(self, *args, **kwargs)

        def recv_into(self, *args, **kwargs):
            self._arm()
            return ssl.SSLSocket.recv_into(self, *args, **kwargs)

        def send(self, *args, **kwargs):
            # sendall() loops over send(), so this bounds it too.
            self._arm()
            return ssl.SSLSocket.send(self, *args, **kwargs)

    return DeadlineSSLSocket


def arm(context, deadline):
    """Make the TLS sockets that ``context`` wraps from now on honour ``deadline``; returns ``context``.

    Re-arming the same context with a later deadline (a new attempt) affects only new connections.
    """
    context.sslsocket_class = _socket_class(deadline)
    return context
