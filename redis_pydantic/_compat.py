"""Pairs of names that differ between the asyncio face and the blocking face.

``setup_unasync.py`` rewrites each ``Async*``/``async_*`` name used in ``_async/`` into its
``Sync*``/``sync_*`` twin below. Keep this module small: everything else is shared.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.lock
import redis.asyncio.retry
import redis.backoff
import redis.cluster
import redis.lock
import redis.retry

from redis_pydantic.errors import BlockingCallInEventLoopWarning

AsyncRedis = redis.asyncio.Redis
SyncRedis = redis.Redis

AsyncLock = redis.asyncio.lock.Lock
SyncLock = redis.lock.Lock

_T = TypeVar("_T")
#: The return type of a field operation: the asyncio face returns the operation's own coroutine
#: (no coroutine of its own around it: one frame less on every await and resume), the blocking
#: face returns the result.
AsyncResult = Coroutine[Any, Any, _T]
SyncResult = Annotated[_T, "the result"]

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


def async_default_client(url: str, max_connections: int, timeout: float | None) -> Any:
    """A default client: waits up to ``timeout`` seconds for one of ``max_connections``
    connections, and never sends a command again after a failure (no automatic retry)."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0),
    )
    return redis.asyncio.Redis.from_pool(pool)


def sync_default_client(url: str, max_connections: int, timeout: float | None) -> Any:
    """A default client: waits up to ``timeout`` seconds for one of ``max_connections``
    connections, and never sends a command again after a failure (no automatic retry)."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )
    return redis.Redis.from_pool(pool)


def async_default_cluster_client(url: str, max_connections: int, timeout: float | None) -> Any:
    """A default client of the Redis Cluster that the node at ``url`` belongs to.

    ``max_connections`` connections per node; redis-py's asyncio cluster client has no waiting
    pool, so one more operation in flight fails at once (``timeout`` is not used). No automatic
    resend after a failure; MOVED and ASK are still followed.
    """
    return redis.asyncio.cluster.RedisCluster.from_url(
        url,
        max_connections=max_connections,
        retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0),
    )


def sync_default_cluster_client(url: str, max_connections: int, timeout: float | None) -> Any:
    """A default client of the Redis Cluster that the node at ``url`` belongs to: a bounded pool of
    ``max_connections`` per node that waits up to ``timeout`` seconds, no automatic resend after
    a failure (MOVED and ASK are still followed)."""
    return redis.cluster.RedisCluster.from_url(
        url,
        max_connections=max_connections,
        connection_pool_class=functools.partial(redis.BlockingConnectionPool, timeout=timeout),
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )


async def _close_at_shutdown(client: Any, on_close: Callable[[], None]) -> Any:
    try:
        yield
    finally:
        try:
            await client.aclose()
        finally:
            on_close()


def async_close_with_loop(client: Any, on_close: Callable[[], None]) -> Any:
    """Close ``client`` when its event loop shuts down (``asyncio.run`` and pytest runners do),
    then call ``on_close()`` on that loop.

    A started async generator is finalized by ``loop.shutdown_asyncgens()``, so its ``finally``
    closes the client on the loop it belongs to. The caller keeps the returned generator alive
    as long as the client.
    """
    closer = _close_at_shutdown(client, on_close)
    asyncio.get_running_loop().create_task(closer.__anext__())
    return closer


def sync_close_with_loop(client: Any, on_close: Callable[[], None]) -> Any:
    """Blocking clients live as long as the process; nothing to arrange."""
    return None


#: Whether a face's calls block their thread: the blocking face warns (once) when it is called
#: inside a running event loop, see sync_check_blocking_call(). A constant per face, so the
#: asyncio face skips the check without a call.
async_face_blocks = False
sync_face_blocks = True
#: asyncio's get_running_loop() without the RuntimeError (both are in asyncio's __all__): it
#: runs before every blocking call, where raising costs more.
running_loop = asyncio._get_running_loop


#: Who holds a lock taken by a ``lock()`` block: the asyncio task, or the thread of the blocking
#: face (a block nested in one of the same action, by the same holder, would wait for itself).
async_lock_holder: Callable[[], Any] = asyncio.current_task
sync_lock_holder: Callable[[], Any] = threading.get_ident


def async_check_blocking_call() -> None:
    """The asyncio face belongs in an event loop: nothing to check."""


_blocking_call_warned = False


def sync_check_blocking_call() -> None:
    """Warn once per process that the blocking face was called inside a running event loop (its
    caller found the loop with :data:`running_loop`)."""
    global _blocking_call_warned
    if _blocking_call_warned:
        return
    _blocking_call_warned = True
    # Point the warning at the first frame outside the library: the caller's own line.
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("redis_pydantic"):
        level, frame = level + 1, frame.f_back
    warnings.warn(
        "a blocking redis-pydantic call (redis_pydantic.sync) ran inside a running asyncio event "
        "loop: it holds up the loop until Redis answers. In async code use the asyncio face "
        "(from redis_pydantic import BaseRedisModel) and await it, or asyncio.to_thread(). "
        "This warning is shown once.",
        BlockingCallInEventLoopWarning,
        stacklevel=level,
    )
