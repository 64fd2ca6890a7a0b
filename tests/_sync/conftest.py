# This file is generated from tests/_async/conftest.py by setup_unasync.py. Do not edit it by hand.
"""Fixtures of the asyncio test suite (the blocking suite is generated from this file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest

from redis_pydantic._ops import fakeredis_get, is_fakeredis
from redis_pydantic._sync import connection
from tests._twins import SyncFakeRedis, SyncRedis
from tests.conftest import real_client_options


@pytest.fixture
def client(backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A Redis client for the test's backend, flushed, and installed as every model's client."""
    if backend == "fake":
        redis_client = SyncFakeRedis(server=fakeredis.FakeServer())
    else:
        url = request.getfixturevalue("real_redis_url")
        redis_client = SyncRedis.from_url(url, **real_client_options(backend))
    redis_client.flushdb()
    previous = connection.override_client(redis_client)
    try:
        yield redis_client
    finally:
        connection.override_client(previous)
        redis_client.close()


class Stored:
    """Reads what Redis holds, bypassing the library."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def doc(self, key: str, path: str = "$") -> Any:
        """The JSON value at ``path`` of ``key`` (None when the key is missing)."""
        if path != "$" and is_fakeredis(self.client):
            raw = fakeredis_get(self.client.execute_command("JSON.GET", key, path, path), path)
        else:
            raw = self.client.execute_command("JSON.GET", key, path)
        if raw is None:
            return None
        values = json.loads(raw)
        return values[0] if values else None

    def exists(self, key: str) -> bool:
        return bool(self.client.exists(key))


@pytest.fixture
def stored(client: Any) -> Stored:
    return Stored(client)
