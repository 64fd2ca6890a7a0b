"""An in-process Redis for your own tests: fakeredis with the JSON and Lua commands.

No server is needed. Point every model (both faces) at a fresh fake server::

    from redis_pydantic.testing import use_fake_redis

    def test_signup():
        with use_fake_redis() as fake:
            user = User(name="Ada")       # a redis_pydantic.sync model
            user.save()
            assert fake.sync_client.exists(user.key)

With pytest, request the ``redis_pydantic_fake`` fixture instead (install the ``fake`` extra;
the plugin is registered automatically and does nothing until a test asks for the fixture)::

    async def test_signup(redis_pydantic_fake):
        user = User(name="Ada")           # a redis_pydantic (asyncio) model
        await user.save()

Models are pointed at the fake server even when their ``Meta.redis`` names another client. Use
these clients rather than fakeredis's own: they answer ``JSON.GET`` on a single path as real
RedisJSON does.
fakeredis differs from a real RedisJSON server in a few places; see the "Testing your app" page
of the documentation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection

__all__ = ["FakeRedis", "fake_async_client", "fake_sync_client", "use_fake_redis"]


def _fakeredis() -> Any:
    try:
        import fakeredis
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "redis_pydantic.testing needs fakeredis with JSON and Lua: pip install 'redis-pydantic[fake]'"
        ) from exc
    return fakeredis


def fake_async_client(server: Any = None, **kwargs: Any) -> Any:
    """A ``redis.asyncio`` client backed by an in-process fake server (a new one by default)."""
    fakeredis = _fakeredis()
    from redis_pydantic.testing._fake import FakeAsyncRedis

    return FakeAsyncRedis(server=server or fakeredis.FakeServer(), **kwargs)


def fake_sync_client(server: Any = None, **kwargs: Any) -> Any:
    """A blocking ``redis.Redis`` client backed by an in-process fake server (a new one by default)."""
    fakeredis = _fakeredis()
    from redis_pydantic.testing._fake import FakeRedis as FakeSyncRedis

    return FakeSyncRedis(server=server or fakeredis.FakeServer(), **kwargs)


@dataclass
class FakeRedis:
    """The fake server and the two clients (one per face) that share it."""

    server: Any
    async_client: Any
    sync_client: Any

    def flush(self) -> None:
        """Remove every key from the fake server."""
        self.sync_client.flushall()


@contextlib.contextmanager
def use_fake_redis(**client_kwargs: Any) -> Iterator[FakeRedis]:
    """Point every model of both faces at one new fake server for the duration of the block.

    ``client_kwargs`` go to both clients (for example ``decode_responses=True``). The previous
    clients are restored on exit, and the fake server is dropped with its data.
    """
    server = _fakeredis().FakeServer()
    fake = FakeRedis(
        server=server,
        async_client=fake_async_client(server, **client_kwargs),
        sync_client=fake_sync_client(server, **client_kwargs),
    )
    previous_async = async_connection.override_client(fake.async_client)
    previous_sync = sync_connection.override_client(fake.sync_client)
    try:
        yield fake
    finally:
        async_connection.override_client(previous_async)
        sync_connection.override_client(previous_sync)
        fake.sync_client.close()
