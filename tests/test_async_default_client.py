"""The asyncio face's default client: REDIS_PYDANTIC_URL, made lazily, one per event loop."""

from __future__ import annotations

import asyncio

import pytest
import redis

from redis_pydantic import BaseRedisModel
from redis_pydantic._async import connection


class Memo(BaseRedisModel):
    text: str = ""


@pytest.fixture
def default_client_env(monkeypatch, real_redis_url):
    """No override, no Meta.redis: models fall back to the client made from REDIS_PYDANTIC_URL."""
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    previous = connection.override_client(None)
    try:
        yield real_redis_url
    finally:
        connection.override_client(previous)


@pytest.fixture
def raw(real_redis_url):
    """A blocking client on the same server, to read what the models wrote."""
    client = redis.Redis.from_url(real_redis_url)
    try:
        yield client
    finally:
        client.close()


def test_default_url_comes_from_redis_pydantic_url(monkeypatch):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", "redis://example.invalid:1234/5")
    assert connection.default_url() == "redis://example.invalid:1234/5"
    monkeypatch.delenv("REDIS_PYDANTIC_URL")
    assert connection.default_url() == "redis://localhost:6379/0"


async def test_a_model_without_a_client_uses_redis_pydantic_url(default_client_env, raw):
    memo = Memo(text="hello")
    await memo.save()
    try:
        assert raw.execute_command("JSON.GET", memo.key, "$") == b'[{"text":"hello"}]'
        assert (await Memo.get(memo.key)).text == "hello"
        kwargs = connection.default_client().connection_pool.connection_kwargs
        assert f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}" == default_client_env
    finally:
        raw.delete(memo.key)


async def test_the_default_client_is_made_once_per_event_loop(default_client_env):
    assert connection.default_client() is connection.default_client()


def test_the_default_client_works_across_two_asyncio_runs(default_client_env, raw):
    clients = []

    async def main(text):
        memo = Memo(text=text)
        await memo.save()
        loaded = await Memo.get(memo.key)
        clients.append(connection.default_client())
        await Memo.try_delete(memo.key)
        await connection.default_client().aclose()
        return loaded.text

    assert asyncio.run(main("first")) == "first"
    assert asyncio.run(main("second")) == "second"
    assert clients[0] is not clients[1]


# Two tests in a row, each on pytest-asyncio's own function-scoped loop: the second must not
# reuse the first one's client (bound to a closed loop).
_clients_seen = []


@pytest.mark.parametrize("turn", ["first", "second"])
async def test_the_default_client_works_across_pytest_per_test_loops(default_client_env, raw, turn):
    memo = Memo(text=turn)
    await memo.save()
    try:
        assert (await Memo.get(memo.key)).text == turn
        await memo.text.set(turn + "!")
        assert raw.execute_command("JSON.GET", memo.key, "$.text") == f'["{turn}!"]'.encode()
    finally:
        await Memo.try_delete(memo.key)
    current = connection.default_client()
    assert all(seen is not current for seen in _clients_seen)
    _clients_seen.append(current)
    await current.aclose()


def test_the_default_client_is_closed_when_its_loop_shuts_down(default_client_env):
    seen = []

    async def main() -> None:
        await Memo(text="x").save()
        seen.append(connection.default_client())

    asyncio.run(main())
    client = seen[0]
    # asyncio.run() finalizes async generators before closing the loop; that closed the client.
    assert all(conn.is_connected is False for conn in client.connection_pool._available_connections)
    assert not client.connection_pool._in_use_connections
