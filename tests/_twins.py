"""Test-side names that differ between the faces (see setup_unasync.py's replacement map)."""

import fakeredis
import redis.asyncio.cluster
import redis.cluster

from redis_pydantic._compat import AsyncRedis, SyncRedis, async_sleep, sync_sleep

AsyncFakeRedis = fakeredis.FakeAsyncRedis
SyncFakeRedis = fakeredis.FakeRedis

AsyncRedisCluster = redis.asyncio.cluster.RedisCluster
SyncRedisCluster = redis.cluster.RedisCluster

__all__ = [
    "AsyncFakeRedis",
    "AsyncRedis",
    "AsyncRedisCluster",
    "SyncFakeRedis",
    "SyncRedis",
    "SyncRedisCluster",
    "async_sleep",
    "sync_sleep",
]
