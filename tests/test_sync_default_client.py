"""The blocking face's default client: REDIS_PYDANTIC_URL, made lazily, one per process."""

from __future__ import annotations

import threading
import weakref

import pytest
import redis

from redis_pydantic._sync import connection
from redis_pydantic.sync import BaseRedisModel


class Memo(BaseRedisModel):
    text: str = ""


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
