"""Atomic ops under concurrency (blocking face): many threads, each with its OWN instance of one
stored document, lose no update."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from tests._twins import SyncFakeRedis, SyncRedis
from tests.conftest import backend_client, installed

THREADS = 8
ROUNDS = 15


class Tally(BaseRedisModel):
    events: list[str] = []
    hits: int = 0
    total: float = 0.0
    seen: dict[str, int] = {}


@pytest.fixture(params=["real", "fake"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    redis_client = backend_client(request, request.param, SyncRedis, SyncFakeRedis)
    redis_client.flushdb()
    with installed(connection, redis_client):
        yield redis_client
    redis_client.close()


def held(client: Any, key: str) -> Any:
    return json.loads(client.execute_command("JSON.GET", key, "$"))[0]


def in_threads(work: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(work, range(THREADS)))


def appender(key: str) -> Callable[[int], Tally]:
    def work(worker: int) -> Tally:
        mine = Tally.get(key)  # every thread has its own instance of the same document
        for i in range(ROUNDS):
            mine.events.aappend(f"{worker}-{i}")
            mine.hits.aincrease()
            mine.total.aincrease(0.5)
        return mine

    return work


def test_concurrent_aappend_and_aincrease_lose_no_update(client):
    tally = Tally().save()
    in_threads(appender(tally.key))
    doc = held(client, tally.key)
    expected = {f"{w}-{i}" for w in range(THREADS) for i in range(ROUNDS)}
    assert len(doc["events"]) == THREADS * ROUNDS
    assert set(doc["events"]) == expected
    assert doc["hits"] == THREADS * ROUNDS
    assert doc["total"] == THREADS * ROUNDS * 0.5
    tally.load()
    assert (len(tally.events), tally.hits) == (THREADS * ROUNDS, THREADS * ROUNDS)


def test_each_instance_sees_exactly_what_redis_held_after_its_last_op(client):
    tally = Tally().save()
    instances = in_threads(appender(tally.key))
    doc = held(client, tally.key)
    for worker, instance in enumerate(instances):
        # Items are only appended, so what Redis held after the instance's last append is a prefix
        # of the final list; the local list must be exactly that prefix, ending past its own item.
        assert list(instance.events) == doc["events"][: len(instance.events)]
        assert f"{worker}-{ROUNDS - 1}" in instance.events
        assert instance.hits <= doc["hits"]


def test_concurrent_apop_hands_out_every_item_exactly_once(client):
    items = [str(i) for i in range(THREADS * ROUNDS)]
    tally = Tally(events=items).save()

    def work(worker: int) -> list[str]:
        mine = Tally.get(tally.key)
        popped = []
        while True:
            try:
                popped.append(mine.events.apop(0))
            except IndexError:
                return popped

    popped = [item for result in in_threads(work) for item in result]
    assert sorted(popped, key=int) == items
    assert held(client, tally.key)["events"] == []


def test_concurrent_dict_writes_lose_no_key(client):
    tally = Tally().save()

    def work(worker: int) -> None:
        mine = Tally.get(tally.key)
        for i in range(ROUNDS):
            mine.seen.aset_item(f"{worker}:{i}", i)
        mine.seen.aupdate({f"{worker}:extra": -1, f"{worker}:more": -2})

    in_threads(work)
    seen = held(client, tally.key)["seen"]
    assert len(seen) == THREADS * (ROUNDS + 2)
    assert all(seen[f"{w}:{i}"] == i for w in range(THREADS) for i in range(ROUNDS))
