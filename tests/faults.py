"""Fault injection for tests that need a slow or stopped Redis: servers the tests start themselves.

A fault server is a private ``redis-server`` with RedisJSON and ``DEBUG`` enabled. :func:`stall`
makes it stop answering everyone for a while (``DEBUG SLEEP``), the way a busy or paused server
does, without blocking the test's own thread (or event loop) while it sleeps.
"""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlparse

import pytest
import redis

from tests.redis_server import RedisServer, find_rejson, redis_server_available


def start_fault_server() -> RedisServer:
    """A new server with RedisJSON on which DEBUG SLEEP is allowed (skipped without redis-server)."""
    if not redis_server_available() or find_rejson() is None:
        pytest.skip("REAL REDIS BACKEND SKIPPED: redis-server or rejson.so is not installed")
    return RedisServer(rejson=True, extra_args=["--enable-debug-command", "local"]).start()


def stall(url: str, seconds: float) -> None:
    """Make the server at ``url`` answer nobody for ``seconds``, starting now; returns at once.

    The server keeps what clients send meanwhile and runs it when it wakes up, even for clients
    that gave up and closed their connection.
    """
    address = urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(f"DEBUG SLEEP {seconds}\r\n".encode())
        time.sleep(0.05)  # the server has read the command and sleeps; closing does not wake it


def wait_until_awake(url: str) -> None:
    """Return once the server at ``url`` answers again."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        client.ping()
    finally:
        client.close()


def blocked_clients(admin: redis.Redis) -> list[dict[str, str]]:
    """The connections whose command waits at the server or node of ``admin`` (CLIENT PAUSE WRITE)."""
    clients = []
    for line in admin.execute_command("CLIENT", "LIST").decode().splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        if "b" in fields["flags"]:
            clients.append(fields)
    return clients


async def until_blocked(admin: redis.Redis, count: int) -> list[dict[str, str]]:
    """Wait (up to 5 s) until ``count`` connections wait at ``admin``'s server, and return them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        clients = blocked_clients(admin)
        if len(clients) >= count:
            return clients
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} connections waiting at the server, got {blocked_clients(admin)}")
