"""Fault injection for tests that need a slow or stopped Redis: servers the tests start themselves.

A fault server is a private ``redis-server`` with RedisJSON and ``DEBUG`` enabled. :func:`stall`
makes it stop answering everyone for a while (``DEBUG SLEEP``), the way a busy or paused server
does, without blocking the test's own thread.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.redis_server import RedisServer, find_rejson, redis_server_available


def start_fault_server() -> RedisServer:
    """A new server with RedisJSON on which DEBUG SLEEP is allowed (skipped without redis-server)."""
    if not redis_server_available() or find_rejson() is None:
        pytest.skip("REAL REDIS BACKEND SKIPPED: redis-server or rejson.so is not installed")
    return RedisServer(rejson=True, extra_args=["--enable-debug-command", "local"]).start()


@contextlib.contextmanager
def stall(url: str, seconds: float) -> Iterator[None]:
    """Make the server at ``url`` answer nobody for ``seconds`` from now; wait for it on exit.

    The block runs while the server sleeps. On exit, this waits until the server answers again.
    """
    address = urlparse(url)
    sock = socket.create_connection((address.hostname, address.port), timeout=seconds + 5)
    try:
        sock.sendall(f"DEBUG SLEEP {seconds}\r\n".encode())
        time.sleep(0.05)  # the server has read the command and sleeps
        yield
        assert sock.recv(64).startswith(b"+OK")
    finally:
        sock.close()
