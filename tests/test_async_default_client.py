"""The asyncio face's default client: REDIS_PYDANTIC_URL, made lazily, one per event loop."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import weakref

import pytest
import redis
import redis.asyncio

from redis_pydantic import BaseRedisModel
from redis_pydantic._async import connection
from redis_pydantic.errors import ConnectionPoolExhaustedError, InvalidArgumentError, RedisConnectionError
from tests.faults import stall, wait_until_awake


class Memo(BaseRedisModel):
    text: str = ""


class Counter(BaseRedisModel):
    hits: int = 0


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


def test_201_asyncio_runs_leave_no_event_loop_and_no_client_behind(default_client_env):
    loops, clients = [], []

    async def main() -> None:
        memo = Memo(text="x")
        await memo.save()
        await Memo.try_delete(memo.key)
        loops.append(weakref.ref(asyncio.get_running_loop()))
        clients.append(weakref.ref(connection.default_client()))

    for _ in range(201):
        asyncio.run(main())
    gc.collect()
    # Each loop and its client used to stay alive: about 27 KiB each.
    assert [loop for loop in loops if loop() is not None] == []
    assert [client for client in clients if client() is not None] == []


def test_a_default_client_entry_of_a_loop_closed_without_shutdown_is_dropped(default_client_env):
    async def use_and_close() -> None:
        await Memo.try_delete("Memo:missing")
        await connection.default_client().aclose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(use_and_close())
    finally:
        loop.close()  # without shutdown_asyncgens(): its closer never ran
    gone = weakref.ref(loop)
    del loop
    asyncio.run(Memo.try_delete("Memo:missing"))  # making another loop's client drops closed loops
    gc.collect()
    assert gone() is None


async def test_150_concurrent_operations_on_the_default_client_all_succeed(default_client_env, raw):
    memo = Memo(text="x")
    await memo.save()
    try:
        loaded = await asyncio.gather(*(Memo.get(memo.key) for _ in range(150)))
        assert [m.text for m in loaded] == ["x"] * 150
        await asyncio.gather(*(Memo(text=str(i)).save() for i in range(150)))
        pool = connection.default_client().connection_pool
        assert pool.max_connections == connection.DEFAULT_MAX_CONNECTIONS
        assert len(pool._in_use_connections) == 0
    finally:
        for key in raw.keys("Memo:*"):
            raw.delete(key)


async def test_an_exhausted_default_pool_raises_connection_pool_exhausted_error(
    default_client_env, monkeypatch
):
    monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", "1")
    monkeypatch.setenv("REDIS_PYDANTIC_POOL_TIMEOUT", "0.2")
    pool = connection.default_client().connection_pool
    held = await pool.get_connection()
    try:
        started = time.monotonic()
        with pytest.raises(ConnectionPoolExhaustedError) as raised:
            await Memo.get("Memo:missing")
        assert 0.15 < time.monotonic() - started < 2  # it waited for a free connection
    finally:
        await pool.release(held)
    message = str(raised.value)
    assert "max_connections=1" in message
    assert "REDIS_PYDANTIC_MAX_CONNECTIONS" in message
    assert "cannot reach" not in message
    assert isinstance(raised.value, RedisConnectionError)
    assert await Memo.try_delete("Memo:missing") is False  # a free connection: it works again


async def test_a_users_client_at_its_pool_limit_raises_connection_pool_exhausted_error(real_redis_url):
    client = redis.asyncio.Redis.from_url(real_redis_url, max_connections=1)
    previous = connection.override_client(client)
    held = await client.connection_pool.get_connection()
    try:
        with pytest.raises(ConnectionPoolExhaustedError, match="max_connections=1"):
            await Memo.get("Memo:missing")
    finally:
        await client.connection_pool.release(held)
        connection.override_client(previous)
        await client.aclose()


def test_pool_settings_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("REDIS_PYDANTIC_MAX_CONNECTIONS", raising=False)
    monkeypatch.delenv("REDIS_PYDANTIC_POOL_TIMEOUT", raising=False)
    assert connection.pool_settings() == (50, 10.0)
    monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", "200")
    monkeypatch.setenv("REDIS_PYDANTIC_POOL_TIMEOUT", "none")
    assert connection.pool_settings() == (200, None)
    for size, wait in [("0", "1"), ("ten", "1"), ("5", "-1"), ("5", "soon")]:
        monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", size)
        monkeypatch.setenv("REDIS_PYDANTIC_POOL_TIMEOUT", wait)
        with pytest.raises(InvalidArgumentError, match="REDIS_PYDANTIC_MAX_CONNECTIONS"):
            connection.pool_settings()


async def test_a_timed_out_aincrease_on_the_default_client_is_applied_once(fault_server, monkeypatch):
    # redis-py would send the command again after the timeout (once the server answers again).
    monkeypatch.setenv("REDIS_PYDANTIC_URL", fault_server.url + "?socket_timeout=0.3&retry_on_timeout=true")
    previous = connection.override_client(None)
    reader = redis.Redis.from_url(fault_server.url)
    try:
        counter = Counter()
        await counter.save()
        stall(fault_server.url, 0.5)
        with pytest.raises(RedisConnectionError, match="Timeout"):
            await counter.hits.aincrease(1)
        wait_until_awake(fault_server.url)  # it then runs what it received while asleep
        assert json.loads(reader.execute_command("JSON.GET", counter.key, "$.hits")) == [1]
    finally:
        connection.override_client(previous)
        reader.close()
