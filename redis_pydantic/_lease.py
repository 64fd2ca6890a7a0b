"""Keeping a lock's lease alive while the body of ``model.lock()`` runs.

This has no line-by-line sync form, so it is a pair: timer callbacks on the event loop for the
asyncio face, and one shared renewal thread for the blocking face (starting a thread per lock
would cost more than the lock itself). ``setup_unasync.py`` turns ``AsyncLeaseKeeper`` into
``SyncLeaseKeeper``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from typing import Any

import redis.exceptions

_RENEW_ERRORS = (redis.exceptions.LockError, redis.exceptions.RedisError, OSError)


class AsyncLeaseKeeper:
    """Calls ``lock.reacquire()`` every ``interval`` seconds until stopped or the lock is lost."""

    def __init__(self, lock: Any, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self.lost: BaseException | None = None
        self._stopped = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(self.interval, self._due)

    def _due(self) -> None:
        if not self._stopped and self._loop is not None:
            self._task = self._loop.create_task(self._renew())

    async def _renew(self) -> None:
        try:
            await self.lock.reacquire()
        except _RENEW_ERRORS as exc:
            self.lost = exc
            return
        if not self._stopped and self._loop is not None:
            self._handle = self._loop.call_later(self.interval, self._due)

    async def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
        task = self._task
        if task is not None and not task.done():
            # Let a renewal already on the wire finish: cancelling it would drop the connection.
            await asyncio.shield(task)


class _Renewer:
    """One daemon thread that renews the leases of every blocking-face lock in the process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, SyncLeaseKeeper]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, keeper: SyncLeaseKeeper) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + keeper.interval, next(self._seq), keeper))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="redis-pydantic-leases", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due, _, keeper = self._heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            if keeper.renew_if_active():
                self.schedule(keeper)


_RENEWER = _Renewer()


class SyncLeaseKeeper:
    """Has the shared renewal thread call ``lock.reacquire()`` every ``interval`` seconds."""

    def __init__(self, lock: Any, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self.lost: BaseException | None = None
        self._active = False
        self._busy = threading.Lock()

    def start(self) -> None:
        self._active = True
        _RENEWER.schedule(self)

    def renew_if_active(self) -> bool:
        """Renew once; True when the keeper should be scheduled again."""
        with self._busy:
            if not self._active:
                return False
            try:
                self.lock.reacquire()
            except _RENEW_ERRORS as exc:
                self.lost = exc
                return False
            return True

    def stop(self) -> None:
        # Taking _busy waits for a renewal in progress, so none runs after stop() returns.
        with self._busy:
            self._active = False
