"""Lease renewal decisions and the blocking face's renewal queue, without a server.

The fault tests (tests/_async/test_lock_faults.py and its blocking twin) check the same behaviour
against a real server that stalls.
"""

from __future__ import annotations

import threading
import time

import redis.exceptions

from redis_pydantic import _lease


class FakeLock:
    """Stands for redis-py's Lock: ``reacquire`` answers from a script of outcomes."""

    def __init__(self, outcomes: list[BaseException | None] | None = None) -> None:
        self.redis = self  # the client the keeper groups renewals by
        self.outcomes = list(outcomes or [])
        self.calls = 0
        self.renewed = threading.Event()

    def reacquire(self) -> bool:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.renewed.set()
        return True


def test_a_renewed_lease_is_renewed_again_after_a_third_of_it():
    lease = _lease._Lease(3.0)
    assert lease.renewed() == 1.0
    assert lease.lost is None


def test_a_transient_failure_is_tried_again_soon_while_the_lease_lasts():
    lease = _lease._Lease(3.0)
    delay = lease.failed(redis.exceptions.TimeoutError("Timeout reading"))
    assert delay is not None and 0 < delay <= 0.25
    assert lease.lost is None
    assert lease.failed(ConnectionResetError()) is not None


def test_a_transient_failure_after_the_lease_ran_out_loses_the_lock():
    lease = _lease._Lease(3.0)
    lease.ends_by = time.monotonic() - 0.01
    error = redis.exceptions.ConnectionError("refused")
    assert lease.failed(error) is None
    assert lease.lost is error


def test_a_lock_that_is_no_longer_ours_is_lost_at_once():
    lease = _lease._Lease(3.0)
    error = redis.exceptions.LockNotOwnedError("Cannot reacquire a lock that's no longer owned")
    assert lease.failed(error) is None
    assert lease.lost is error


def test_an_unexpected_failure_stops_the_renewals():
    lease = _lease._Lease(3.0)
    error = ValueError("bug")
    assert lease.failed(error) is None
    assert lease.lost is error


def test_the_blocking_keeper_renews_again_after_failures():
    lock = FakeLock([redis.exceptions.TimeoutError("t"), redis.exceptions.ConnectionError("c")])
    keeper = _lease.SyncLeaseKeeper(lock, 0.3)  # renewed every 0.1 s
    keeper.start()
    try:
        assert lock.renewed.wait(2)
    finally:
        keeper.stop()
    assert lock.calls >= 3
    assert keeper.lost is None


def test_stopped_keepers_leave_the_renewal_queue_at_once():
    lock = FakeLock()
    keepers = [_lease.SyncLeaseKeeper(lock, 3600) for _ in range(3001)]
    for keeper in keepers:
        keeper.start()
    renewer = _lease.renewer_for(lock)
    assert len(renewer) == 3001
    for keeper in keepers:
        keeper.stop()
    assert len(renewer) == 0
    assert len(renewer._heap) <= 16  # only a few stale (time, number) pairs stay
    assert lock.calls == 0


def test_each_client_has_its_own_renewal_thread():
    first, second = FakeLock(), FakeLock()
    assert _lease.renewer_for(first) is _lease.renewer_for(first)
    assert _lease.renewer_for(first) is not _lease.renewer_for(second)
