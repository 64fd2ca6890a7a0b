"""Pairs of names that differ between the asyncio face and the blocking face.

``setup_unasync.py`` rewrites each ``Async*``/``async_*`` name used in ``_async/`` into its
``Sync*``/``sync_*`` twin below. Keep this module small: everything else is shared.
"""

from __future__ import annotations

import asyncio
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


async def _close_at_shutdown(client: Any) -> Any:
    try:
        yield
    finally:
        await client.aclose()


def async_close_with_loop(client: Any) -> Any:
    """Close ``client`` when its event loop shuts down (``asyncio.run`` and pytest runners do).

    A started async generator is finalized by ``loop.shutdown_asyncgens()``, so its ``finally``
    closes the client on the loop it belongs to. The caller keeps the returned generator alive
    as long as the client.
    """
    closer = _close_at_shutdown(client)
    asyncio.get_running_loop().create_task(closer.__anext__())
    return closer


def sync_close_with_loop(client: Any) -> Any:
    """Blocking clients live as long as the process; nothing to arrange."""
    return None
