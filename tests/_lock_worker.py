"""A counter model and a lock worker importable by ``multiprocessing`` 'spawn' children."""

from __future__ import annotations

import time

from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from tests._twins import SyncRedis


class Counter(BaseRedisModel):
    value: int = 0


def increment_under_lock(url: str, pk: str, rounds: int, pause: float = 0.002) -> int:
    """Read-modify-write ``Counter(pk).value`` ``rounds`` times under its lock; returns ``rounds``.

    Uses the blocking face with its own client and its own instance, as a separate process would.
    """
    client = SyncRedis.from_url(url)
    previous = connection.override_client(client)
    try:
        counter = Counter(pk=pk)
        for _ in range(rounds):
            with counter.lock("count", blocking_timeout=60) as locked:
                current = int(locked.value)
                time.sleep(pause)  # widen the window a lost update would need
                locked.value = current + 1
    finally:
        connection.override_client(previous)
        client.close()
    return rounds
