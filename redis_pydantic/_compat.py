"""Pairs of names that differ between the asyncio face and the blocking face.

``setup_unasync.py`` rewrites each ``Async*``/``async_*`` name used in ``_async/`` into its
``Sync*``/``sync_*`` twin below. Keep this module small: everything else is shared.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.lock
import redis.lock

AsyncRedis = redis.asyncio.Redis
SyncRedis = redis.Redis

AsyncLock = redis.asyncio.lock.Lock
SyncLock = redis.lock.Lock

async_sleep = asyncio.sleep
sync_sleep = time.sleep


#: What a default client is cached per: the running event loop, or the whole process.
class _Process:
    """Weak-referenceable stand-in for 'the whole process'."""


_PROCESS = _Process()


def async_loop_key() -> Any:
    return asyncio.get_running_loop()


def sync_loop_key() -> Any:
    return _PROCESS


AsyncEvent = asyncio.Event
SyncEvent = threading.Event
