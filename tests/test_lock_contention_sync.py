"""Mutual exclusion of ``lock()`` in the blocking face: threads and processes, real Redis."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from tests._lock_worker import Counter, increment_under_lock
from tests._twins import SyncRedis

WORKERS = 6
ROUNDS = 15
PROCESSES = 4
PROCESS_ROUNDS = 15


def stored_value(client: SyncRedis, key: str) -> int:
    return int(client.execute_command("JSON.GET", key, "$.value")[1:-1])


def run_threads(target: Callable[[], None], count: int) -> None:
    """Run ``target`` in ``count`` threads at once; re-raise the first error any of them hit."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body() -> None:
        try:
            start.wait()
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def test_threads_incrementing_under_the_lock_lose_no_update(real_sync_client):
    counter = Counter().save()

    def worker() -> None:
        mine = Counter(pk=counter.pk)  # each thread has its own instance of the same document
        for _ in range(ROUNDS):
            with mine.lock("count", blocking_timeout=30) as locked:
                current = int(locked.value)
                time.sleep(0.001)
                locked.value = current + 1

    run_threads(worker, WORKERS)
    assert stored_value(real_sync_client, counter.key) == WORKERS * ROUNDS
    assert not real_sync_client.exists("{" + counter.key + "}/count")


def test_threads_incrementing_under_the_lock_on_a_cluster_lose_no_update(cluster_sync_client):
    counter = Counter().save()

    def worker() -> None:
        mine = Counter(pk=counter.pk)
        for _ in range(ROUNDS):
            with mine.lock("count", blocking_timeout=30) as locked:
                current = int(locked.value)
                time.sleep(0.001)
                locked.value = current + 1

    run_threads(worker, WORKERS)
    assert stored_value(cluster_sync_client, counter.key) == WORKERS * ROUNDS
    assert not cluster_sync_client.exists("{" + counter.key + "}/count")


def test_threads_incrementing_without_the_lock_lose_updates(real_sync_client):
    # The control experiment: the same read-modify-write without the lock does race.
    counter = Counter().save()

    def worker() -> None:
        mine = Counter(pk=counter.pk)
        for _ in range(ROUNDS):
            mine.load()
            current = int(mine.value)
            time.sleep(0.002)
            mine.value.set(current + 1)

    run_threads(worker, WORKERS)
    assert stored_value(real_sync_client, counter.key) < WORKERS * ROUNDS


@contextlib.contextmanager
def spawned_processes(count: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``count`` 'spawn' processes. Unlike multiprocessing.Pool, a child that dies
    raises BrokenProcessPool instead of hanging the test."""
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def test_processes_incrementing_under_the_lock_lose_no_update(real_sync_client, real_redis_url):
    counter = Counter().save()
    with spawned_processes(PROCESSES) as pool:
        futures = [
            pool.submit(increment_under_lock, real_redis_url, counter.pk, PROCESS_ROUNDS)
            for _ in range(PROCESSES)
        ]
        done = [future.result(timeout=120) for future in futures]
    assert done == [PROCESS_ROUNDS] * PROCESSES
    assert stored_value(real_sync_client, counter.key) == PROCESSES * PROCESS_ROUNDS
    assert not real_sync_client.exists("{" + counter.key + "}/count")


def test_a_process_waits_for_the_lock_another_process_holds(real_sync_client, real_redis_url):
    counter = Counter().save()
    with spawned_processes(1) as pool:
        with Counter(pk=counter.pk).lock("count") as locked:
            pending = pool.submit(increment_under_lock, real_redis_url, counter.pk, 1)
            time.sleep(1.5)  # the child starts and blocks on the lock meanwhile
            assert not pending.done()
            locked.value = 100
        assert pending.result(timeout=60) == 1
    # The child ran after our release and saw our saved value.
    assert stored_value(real_sync_client, counter.key) == 101
