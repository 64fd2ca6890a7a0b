"""Fixtures of the asyncio test suite (the blocking suite is generated from this file)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import fakeredis
import pytest

from redis_pydantic._async import connection
from redis_pydantic._ops import fakeredis_get, is_fakeredis
from tests._twins import AsyncFakeRedis, AsyncRedis
from tests.conftest import real_client_options


@pytest.fixture
async def client(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A Redis client for the test's backend, flushed, and installed as every model's client."""
    if backend == "fake":
        redis_client = AsyncFakeRedis(server=fakeredis.FakeServer())
    else:
        url = request.getfixturevalue("real_redis_url")
        redis_client = AsyncRedis.from_url(url, **real_client_options(backend))
    await redis_client.flushdb()
    previous = connection.override_client(redis_client)
    try:
        yield redis_client
    finally:
        connection.override_client(previous)
        await redis_client.aclose()


class Stored:
    """Reads what Redis holds, bypassing the library."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def doc(self, key: str, path: str = "$") -> Any:
        """The JSON value at ``path`` of ``key`` (None when the key is missing)."""
        if path != "$" and is_fakeredis(self.client):
            raw = fakeredis_get(await self.client.execute_command("JSON.GET", key, path, path), path)
        else:
            raw = await self.client.execute_command("JSON.GET", key, path)
        if raw is None:
            return None
        values = json.loads(raw)
        return values[0] if values else None

    async def exists(self, key: str) -> bool:
        return bool(await self.client.exists(key))


@pytest.fixture
def stored(client: Any) -> Stored:
    return Stored(client)
