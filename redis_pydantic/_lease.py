"""Keeping a lock's lease alive while the body of ``model.lock()`` runs.

This has no line-by-line sync form, so it is a pair: an asyncio task for the asyncio face and a
thread for the blocking face. ``setup_unasync.py`` turns ``AsyncLeaseKeeper`` into
``SyncLeaseKeeper``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import redis.exceptions


class AsyncLeaseKeeper:
    """Calls ``lock.reacquire()`` every ``interval`` seconds until stopped or the lock is lost."""

    def __init__(self, lock: Any, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self.lost: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.lock.reacquire()
            except (redis.exceptions.LockError, redis.exceptions.RedisError) as exc:
                self.lost = exc
                return

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class SyncLeaseKeeper:
    """Calls ``lock.reacquire()`` every ``interval`` seconds from a daemon thread until stopped."""

    def __init__(self, lock: Any, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self.lost: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.lock.reacquire()
            except (redis.exceptions.LockError, redis.exceptions.RedisError) as exc:
                self.lost = exc
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="redis-pydantic-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
