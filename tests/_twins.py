"""Test-side names that differ between the faces (see setup_unasync.py's replacement map)."""

import fakeredis

from redis_pydantic._compat import AsyncRedis, SyncRedis, async_sleep, sync_sleep
from redis_pydantic.testing._fake import FakeAsyncRedis as AsyncFakeRedis
from redis_pydantic.testing._fake import FakeRedis as SyncFakeRedis

#: fakeredis's own clients, without the testing helper's RedisJSON-like replies.
AsyncRawFakeRedis = fakeredis.FakeAsyncRedis
SyncRawFakeRedis = fakeredis.FakeRedis

__all__ = [
    "AsyncRawFakeRedis",
    "SyncRawFakeRedis",
    "AsyncFakeRedis",
    "AsyncRedis",
    "SyncFakeRedis",
    "SyncRedis",
    "async_sleep",
    "sync_sleep",
]
