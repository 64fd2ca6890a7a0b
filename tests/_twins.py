"""Test-side names that differ between the faces (see setup_unasync.py's replacement map)."""

import fakeredis

from redis_pydantic._compat import AsyncRedis, SyncRedis, async_sleep, sync_sleep

AsyncFakeRedis = fakeredis.FakeAsyncRedis
SyncFakeRedis = fakeredis.FakeRedis

__all__ = ["AsyncFakeRedis", "AsyncRedis", "SyncFakeRedis", "SyncRedis", "async_sleep", "sync_sleep"]
