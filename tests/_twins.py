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
    "async_sleep",
    "sync_sleep",
]
