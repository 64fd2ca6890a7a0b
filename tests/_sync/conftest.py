# This file is generated from tests/_async/conftest.py by setup_unasync.py. Do not edit it by hand.
"""Fixtures of the asyncio test suite (the blocking suite is generated from this file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from redis_pydantic._sync import connection
from tests._twins import (
    SyncFakeRedis,
    SyncRawFakeRedis,
    SyncRedis,
    SyncRedisCluster,
    sync_release_client,
)
from tests.conftest import CLUSTER, backend_client, installed


@pytest.fixture
def client(backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A Redis client for the test's backend, flushed, and installed as every model's client."""
    redis_client = backend_client(request, backend, SyncRedis, SyncFakeRedis, SyncRedisCluster)
    redis_client.flushdb()  # on a cluster: every primary
    with installed(connection, redis_client):
        yield redis_client
    sync_release_client(redis_client)


@pytest.fixture
def cluster_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's client of the real Redis Cluster, flushed, installed as every model's client."""
    redis_client = backend_client(request, CLUSTER, SyncRedis, SyncFakeRedis, SyncRedisCluster)
    redis_client.flushdb()
    with installed(connection, redis_client):
        yield redis_client
    sync_release_client(redis_client)


def recording(client: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """Record the commands sent outside pipelines and the redis-py pipelines opened on ``client``."""
    sent: list[Any] = []
    pipelines: list[Any] = []
    original_execute = client.execute_command
    original_pipeline = client.pipeline

    def execute_command(*args: Any, **kwargs: Any) -> Any:
        sent.append(args)
        return original_execute(*args, **kwargs)

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipelines.append(kwargs.get("transaction", args[0] if args else True))
        return original_pipeline(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", execute_command)
    monkeypatch.setattr(client, "pipeline", pipeline)
    return sent, pipelines


class Stored:
    """Reads what Redis holds, bypassing the library."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def doc(self, key: str, path: str = "$") -> Any:
        """The JSON value at ``path`` of ``key`` (None when the key is missing)."""
        # Asking for the path twice gets {path: [matches]} from real RedisJSON and fakeredis
        # alike (fakeredis answers a single path differently), through fakeredis's own class.
        send = SyncRawFakeRedis.execute_command if isinstance(self.client, SyncFakeRedis) else None
        args = ("JSON.GET", key, path, path)
        raw = send(self.client, *args) if send is not None else self.client.execute_command(*args)
        if raw is None:
            return None
        values = json.loads(raw)[path]
        return values[0] if values else None

    def exists(self, key: str) -> bool:
        return bool(self.client.exists(key))

    def keys(self, pattern: str = "*") -> list[str]:
        """The keys matching ``pattern`` (on every primary of a cluster), as sorted str."""
        if isinstance(self.client, SyncRedisCluster):
            found = self.client.keys(pattern, target_nodes=SyncRedisCluster.PRIMARIES)
        else:
            found = self.client.keys(pattern)
        return sorted(key.decode() if isinstance(key, bytes) else key for key in found)

    def script_loaded(self, sha: str, key: str) -> bool:
        """Whether the server (the cluster node) holding ``key`` has the script ``sha`` cached."""
        if isinstance(self.client, SyncRedisCluster):  # each node has its own script cache
            node = self.client.get_node_from_key(key)
            reply = self.client.execute_command("SCRIPT", "EXISTS", sha, target_nodes=node)
            return bool(reply[0])
        return (self.client.script_exists(sha)) == [True]

    def command_calls(self) -> dict[str, int]:
        """Calls per command since the last :meth:`reset_command_calls` (of every primary of a
        cluster), from INFO commandstats, without INFO and CONFIG themselves, what replicas
        send (REPLCONF, PING) and the handshake of a new connection (HELLO, CLIENT SETINFO):
        whether an operation finds an idle connection to a node depends on the tests before."""
        if isinstance(self.client, SyncRedisCluster):
            per_node = list(
                (self.client.info("commandstats", target_nodes=SyncRedisCluster.PRIMARIES)).values()
            )
        else:
            per_node = [self.client.info("commandstats")]
        calls: dict[str, int] = {}
        for stats in per_node:
            for name, row in stats.items():
                name = name.removeprefix("cmdstat_")
                if not name.startswith(("info", "config", "replconf", "ping", "hello", "client|setinfo")):
                    calls[name] = calls.get(name, 0) + int(row["calls"])
        return calls

    def reset_command_calls(self) -> None:
        if isinstance(self.client, SyncRedisCluster):
            self.client.config_resetstat(target_nodes=SyncRedisCluster.PRIMARIES)
        else:
            self.client.config_resetstat()


@pytest.fixture
def stored(client: Any) -> Stored:
    return Stored(client)
