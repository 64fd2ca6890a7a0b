"""The blocking face's default client: REDIS_PYDANTIC_URL, made lazily, one per process."""

from __future__ import annotations

import json
import threading
import time
import weakref

import pytest
import redis

from redis_pydantic._sync import connection
from redis_pydantic.errors import ConnectionPoolExhaustedError, InvalidArgumentError, RedisConnectionError
from redis_pydantic.sync import BaseRedisModel
from tests.faults import stall, wait_until_awake


class Memo(BaseRedisModel):
    text: str = ""


class Counter(BaseRedisModel):
    hits: int = 0


@pytest.fixture
def default_client_env(monkeypatch, real_redis_url):
    """No override, no Meta.redis, no cached default client: REDIS_PYDANTIC_URL decides."""
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    defaults = weakref.WeakKeyDictionary()
    monkeypatch.setattr(connection, "_defaults", defaults)
    previous = connection.override_client(None)
    try:
        yield real_redis_url
    finally:
        connection.override_client(previous)
        for client, _closer in list(defaults.values()):
            client.close()


@pytest.fixture
def raw(real_redis_url):
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


def test_a_model_without_a_client_uses_redis_pydantic_url(default_client_env, raw):
    memo = Memo(text="hello")
    memo.save()
    try:
        assert raw.execute_command("JSON.GET", memo.key, "$") == b'[{"text":"hello"}]'
        assert Memo.get(memo.key).text == "hello"
        memo.text.set("bye")
        assert raw.execute_command("JSON.GET", memo.key, "$.text") == b'["bye"]'
        client = connection.default_client()
        assert isinstance(client, redis.Redis)
        kwargs = client.connection_pool.connection_kwargs
        assert f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}" == default_client_env
    finally:
        raw.delete(memo.key)


def test_the_default_client_is_made_on_first_use(default_client_env):
    assert len(connection._defaults) == 0
    Memo(text="x")  # making a model does not connect either
    assert len(connection._defaults) == 0
    connection.default_client()
    assert len(connection._defaults) == 1


def test_the_default_client_is_shared_by_threads(default_client_env):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(connection.default_client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(client is seen[0] for client in seen)
    assert connection.default_client() is seen[0]


@pytest.fixture
def default_client_on(monkeypatch):
    """Make models use a new default client for the URL given (no override, no cached client)."""
    defaults = weakref.WeakKeyDictionary()
    monkeypatch.setattr(connection, "_defaults", defaults)
    previous = connection.override_client(None)

    def use(url):
        monkeypatch.setenv("REDIS_PYDANTIC_URL", url)

    try:
        yield use
    finally:
        connection.override_client(previous)
        for client, _closer in list(defaults.values()):
            client.close()


def test_150_threads_in_flight_on_the_default_client_all_succeed(fault_server, default_client_on):
    default_client_on(fault_server.url)
    memo = Memo(text="x")
    memo.save()
    results, errors = [], []

    def get() -> None:
        try:
            results.append(Memo.get(memo.key).text)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=get) for _ in range(150)]
    stall(fault_server.url, 0.3)  # every thread's command waits for the server
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == ["x"] * 150
    assert connection.default_client().connection_pool.max_connections == connection.DEFAULT_MAX_CONNECTIONS


def test_an_exhausted_default_pool_raises_connection_pool_exhausted_error(
    real_redis_url, default_client_on, monkeypatch
):
    default_client_on(real_redis_url)
    monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", "1")
    monkeypatch.setenv("REDIS_PYDANTIC_POOL_TIMEOUT", "0.2")
    pool = connection.default_client().connection_pool
    held = pool.get_connection()
    try:
        started = time.monotonic()
        with pytest.raises(ConnectionPoolExhaustedError) as raised:
            Memo.get("Memo:missing")
        assert 0.15 < time.monotonic() - started < 2  # it waited for a free connection
    finally:
        pool.release(held)
    message = str(raised.value)
    assert "max_connections=1" in message
    assert "cannot reach" not in message
    assert isinstance(raised.value, RedisConnectionError)
    assert Memo.try_delete("Memo:missing") is False


def test_a_users_client_at_its_pool_limit_raises_connection_pool_exhausted_error(real_redis_url):
    client = redis.Redis.from_url(real_redis_url, max_connections=1)
    previous = connection.override_client(client)
    held = client.connection_pool.get_connection()
    try:
        with pytest.raises(ConnectionPoolExhaustedError, match="max_connections=1"):
            Memo.get("Memo:missing")
    finally:
        client.connection_pool.release(held)
        connection.override_client(previous)
        client.close()


def test_pool_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", "7")
    monkeypatch.setenv("REDIS_PYDANTIC_POOL_TIMEOUT", "2.5")
    assert connection.pool_settings() == (7, 2.5)
    monkeypatch.setenv("REDIS_PYDANTIC_MAX_CONNECTIONS", "-3")
    with pytest.raises(InvalidArgumentError):
        connection.pool_settings()


def test_a_timed_out_aincrease_on_the_default_client_is_applied_once(fault_server, default_client_on):
    # redis-py would send the command again after the timeout (once the server answers again).
    default_client_on(fault_server.url + "?socket_timeout=0.3&retry_on_timeout=true")
    reader = redis.Redis.from_url(fault_server.url)
    try:
        counter = Counter()
        counter.save()
        stall(fault_server.url, 0.5)
        with pytest.raises(RedisConnectionError, match="Timeout"):
            counter.hits.aincrease(1)
        wait_until_awake(fault_server.url)  # it then runs what it received while asleep
        assert json.loads(reader.execute_command("JSON.GET", counter.key, "$.hits")) == [1]
    finally:
        reader.close()
