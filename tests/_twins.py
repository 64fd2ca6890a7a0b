"""Test-side names that differ between the faces (see setup_unasync.py's replacement map)."""

import fakeredis
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.retry

from redis_pydantic._compat import AsyncRedis, SyncRedis, async_sleep, sync_sleep

AsyncFakeRedis = fakeredis.FakeAsyncRedis
SyncFakeRedis = fakeredis.FakeRedis
AsyncRedisCluster = redis.asyncio.cluster.RedisCluster
SyncRedisCluster = redis.cluster.RedisCluster
AsyncRetry = redis.asyncio.retry.Retry
SyncRetry = redis.retry.Retry

__all__ = [
    "AsyncFakeRedis",
    "AsyncRedis",
    "AsyncRedisCluster",
    "AsyncRetry",
    "SyncFakeRedis",
    "SyncRedis",
    "SyncRedisCluster",
    "SyncRetry",
    "async_sleep",
    "sync_sleep",
]
