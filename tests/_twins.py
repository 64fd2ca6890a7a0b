"""Test-side names that differ between the faces (see setup_unasync.py's replacement map)."""

import fakeredis
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.retry

from redis_pydantic._compat import AsyncRedis, SyncRedis, async_sleep, sync_sleep
from redis_pydantic.testing._fake import FakeAsyncRedis as AsyncFakeRedis
from redis_pydantic.testing._fake import FakeRedis as SyncFakeRedis

AsyncRedisCluster = redis.asyncio.cluster.RedisCluster
SyncRedisCluster = redis.cluster.RedisCluster


async def async_release_client(client: object) -> None:
    """End a test's use of a backend client: close it, except the session's shared cluster
    client, which only drops its connections (they belong to the test's event loop)."""
    if isinstance(client, AsyncRedisCluster):
        # The nodes the client found and the ones it started from (redis-py keeps both).
        for node in (*client.get_nodes(), *client.nodes_manager.startup_nodes.values()):
            await node.disconnect()
    else:
        await client.aclose()  # type: ignore[attr-defined]


def sync_release_client(client: object) -> None:
    """End a test's use of a backend client: close it, except the session's shared cluster client."""
    if not isinstance(client, SyncRedisCluster):
        client.close()  # type: ignore[attr-defined]


AsyncRetry = redis.asyncio.retry.Retry
SyncRetry = redis.retry.Retry
#: fakeredis's own clients, without the testing helper's RedisJSON-like replies.
AsyncRawFakeRedis = fakeredis.FakeAsyncRedis
SyncRawFakeRedis = fakeredis.FakeRedis

__all__ = [
    "AsyncFakeRedis",
    "AsyncRawFakeRedis",
    "AsyncRedis",
    "AsyncRedisCluster",
    "AsyncRetry",
    "SyncFakeRedis",
    "SyncRawFakeRedis",
    "SyncRedis",
    "SyncRedisCluster",
    "SyncRetry",
    "async_release_client",
    "async_sleep",
    "sync_release_client",
    "sync_sleep",
]
