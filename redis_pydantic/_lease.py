"""Keeping a lock's lease alive while the body of ``model.lock()`` runs.

The lease is renewed every third of it. A renewal that fails for a transient reason (Redis
unreachable, a timeout, a busy server) is tried again, soon and repeatedly, until the lease has
really run out; only an answer that the lock is no longer ours (or a lease that has run out)
stops the renewals. Stopping a keeper drops it from every queue at once, so a released lock
holds no memory.

This has no line-by-line sync form, so it is a pair: timer callbacks on the event loop for the
asyncio face, and, for the blocking face, one renewal thread per Redis client (starting a thread
per lock would cost more than the lock itself, and one thread for every client would let a
stalled server delay the renewals of locks on healthy ones). ``setup_unasync.py`` turns
``AsyncLeaseKeeper`` into ``SyncLeaseKeeper``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
import weakref
from typing import Any

import redis.exceptions

#: Failures after which another renewal may still succeed (LockError, a RedisError too, is not:
#: see _Lease.failed).
_TRANSIENT = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, OSError)
#: How long a failed renewal waits before the next try, at most (seconds).
_MAX_RETRY_DELAY = 0.5
#: How long an idle renewal thread of the blocking face waits for new locks before it ends.
_IDLE_SECONDS = 30.0


class _Lease:
    """When to renew a lease next, from the outcome of the last renewal (no I/O)."""

    __slots__ = ("lease", "interval", "retry_delay", "ends_by", "lost", "last_error")

    def __init__(self, lease: float) -> None:
        self.lease = lease
        self.interval = lease / 3
        self.retry_delay = min(self.interval / 4, _MAX_RETRY_DELAY)
        #: A time by which the lease has surely run out unless renewed: the lease counted from
        #: after the last successful acquire or renewal returned (the server set it earlier).
        self.ends_by = time.monotonic() + lease
        #: Why the lock is known to be lost (the renewals stopped), else None.
        self.lost: BaseException | None = None
        self.last_error: BaseException | None = None

    def renewed(self) -> float:
        self.ends_by = time.monotonic() + self.lease
        self.last_error = None
        return self.interval

    def failed(self, error: BaseException) -> float | None:
        """The delay before the next try, or None when the lock is lost for good."""
        if isinstance(error, redis.exceptions.LockError) or not isinstance(error, _TRANSIENT):
            # The lock is no longer ours, or renewing cannot work (a bug, not a network hiccup).
            self.lost = error
            return None
        self.last_error = error
        left = self.ends_by - time.monotonic()
        if left <= 0:  # the lease has run out while Redis could not be reached
            self.lost = error
            return None
        return min(self.retry_delay, left)


class AsyncLeaseKeeper:
    """Calls ``lock.reacquire()`` every third of ``lease`` seconds until stopped or the lock is lost."""

    def __init__(self, lock: Any, lease: float) -> None:
        self.lock = lock
        self._lease = _Lease(lease)
        self._stopped = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def lost(self) -> BaseException | None:
        """Why renewing stopped before the block ended (None while the lock is kept)."""
        return self._lease.lost

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(self._lease.interval, self._due)

    def _due(self) -> None:
        if not self._stopped and self._loop is not None:
            self._task = self._loop.create_task(self._renew())

    async def _renew(self) -> None:
        try:
            await self.lock.reacquire()
        except Exception as exc:  # noqa: BLE001 - recorded: _Lease decides whether to try again
            delay = self._lease.failed(exc)
        else:
            delay = self._lease.renewed()
        if delay is not None and not self._stopped and self._loop is not None:
            self._handle = self._loop.call_later(delay, self._due)

    async def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()  # the loop drops the callback, and with it this keeper
            self._handle = None
        task = self._task
        if task is not None and not task.done():
            # Let a renewal already on the wire finish: cancelling it would drop the connection.
            await asyncio.shield(task)
        self._task = None


class _Renewer:
    """One daemon thread that renews the leases of the blocking-face locks of one client.

    The queue is a heap of ``(due time, sequence number)``; the keepers themselves live in a dict
    by sequence number, so stopping one removes it (and its lock) at once. Stale heap entries
    are two numbers each, and the heap is rebuilt when they outnumber the live ones.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._keepers: dict[int, SyncLeaseKeeper] = {}
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, keeper: SyncLeaseKeeper, delay: float) -> None:
        with self._cond:
            if not keeper._active:
                return
            seq = next(self._seq)
            keeper._seq = seq
            self._keepers[seq] = keeper
            heapq.heappush(self._heap, (time.monotonic() + delay, seq))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="redis-pydantic-leases", daemon=True)
                self._thread.start()
            self._cond.notify()

    def cancel(self, keeper: SyncLeaseKeeper) -> None:
        """Stop renewing ``keeper`` and drop it from the queue."""
        with self._cond:
            keeper._active = False
            self._keepers.pop(keeper._seq, None)
            if len(self._heap) > 2 * len(self._keepers) + 16:
                self._heap = [entry for entry in self._heap if entry[1] in self._keepers]
                heapq.heapify(self._heap)

    def __len__(self) -> int:
        """How many locks are queued for renewal."""
        with self._cond:
            return len(self._keepers)

    def _next(self) -> SyncLeaseKeeper | None:
        """Wait for the next renewal that is due; None when the thread has been idle too long."""
        with self._cond:
            while True:
                heap = self._heap
                while heap and heap[0][1] not in self._keepers:
                    heapq.heappop(heap)
                if not heap:
                    if not self._cond.wait(_IDLE_SECONDS) and not self._heap:
                        self._thread = None
                        return None
                    continue
                due, seq = heap[0]
                delay = due - time.monotonic()
                if delay <= 0:
                    heapq.heappop(heap)
                    return self._keepers.pop(seq)
                self._cond.wait(delay)

    def _run(self) -> None:
        while True:
            keeper = self._next()
            if keeper is None:
                return
            delay = keeper.renew_once()
            if delay is not None:
                self.schedule(keeper, delay)
            del keeper  # while waiting for the next one, hold no lock that may be released


#: The renewer of each client. A client that is garbage collected drops its renewer, whose
#: thread then ends when idle.
_renewers: weakref.WeakKeyDictionary[Any, _Renewer] = weakref.WeakKeyDictionary()
_renewers_lock = threading.Lock()


def renewer_for(client: Any) -> _Renewer:
    """The renewer of ``client``'s locks, made on first use."""
    with _renewers_lock:
        renewer = _renewers.get(client)
        if renewer is None:
            renewer = _renewers[client] = _Renewer()
        return renewer


class SyncLeaseKeeper:
    """Has its client's renewal thread call ``lock.reacquire()`` every third of ``lease`` seconds."""

    def __init__(self, lock: Any, lease: float) -> None:
        self.lock = lock
        self._lease = _Lease(lease)
        self._active = False
        self._seq = -1
        self._busy = threading.Lock()
        self._renewer = renewer_for(lock.redis)

    @property
    def lost(self) -> BaseException | None:
        """Why renewing stopped before the block ended (None while the lock is kept)."""
        return self._lease.lost

    def start(self) -> None:
        self._active = True
        self._renewer.schedule(self, self._lease.interval)

    def renew_once(self) -> float | None:
        """Renew once; the delay before the next renewal, or None to stop."""
        with self._busy:
            if not self._active:
                return None
            try:
                self.lock.reacquire()
            except Exception as exc:  # noqa: BLE001 - the thread renews other locks too: it must go on
                return self._lease.failed(exc)
            return self._lease.renewed()

    def stop(self) -> None:
        # Taking _busy waits for a renewal in progress, so none runs after stop() returns.
        with self._busy:
            self._renewer.cancel(self)
