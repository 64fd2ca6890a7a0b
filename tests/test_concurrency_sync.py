"""Atomic ops under concurrency (blocking face): many threads, each with its OWN instance of one
stored document, lose no update."""

from __future__ import annotations

import decimal
import json
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis.client
import redis.exceptions
from pydantic import Field

from redis_pydantic import _ops
from redis_pydantic._ops import RETRY_PAUSE_BASE, RETRY_PAUSE_CAP, retry_pause
from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import ConflictError
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


class Account(BaseRedisModel):
    balance: decimal.Decimal = decimal.Decimal("0")  # aincrease is a check-and-set
    stock: int = Field(default=0, ge=0)  # bounded: a check-and-set too


CAS_THREADS = 32


def test_many_concurrent_check_and_set_writers_of_one_document_all_succeed(client):
    account = Account().save()

    def writer(worker: int) -> None:
        mine = Account.get(account.key)
        for _ in range(3):
            mine.balance.aincrease(decimal.Decimal("0.01"))
            mine.stock.aincrease(1)

    with ThreadPoolExecutor(max_workers=CAS_THREADS) as pool:
        list(pool.map(writer, range(CAS_THREADS)))
    doc = held(client, account.key)
    assert decimal.Decimal(doc["balance"]) == decimal.Decimal("0.01") * CAS_THREADS * 3
    assert doc["stock"] == CAS_THREADS * 3


def test_retry_pauses_are_random_below_a_limit_that_doubles_up_to_the_cap():
    for attempt in range(70):
        limit = min(RETRY_PAUSE_CAP, RETRY_PAUSE_BASE * 2**attempt)
        pauses = [retry_pause(attempt) for _ in range(200)]
        assert all(0 <= pause <= limit for pause in pauses)
        assert max(pauses) > limit / 2  # spread over the range, not a fixed pause
        assert len(set(pauses)) > 100


def test_a_check_and_set_that_always_loses_raises_conflict_error_after_every_try(client, monkeypatch):
    account = Account(balance=decimal.Decimal("5")).save()
    tries = []

    def lose(self, *args, **kwargs):  # another client wrote between the read and EXEC
        tries.append(1)
        self.reset()
        raise redis.exceptions.WatchError("Watched variable changed.")

    monkeypatch.setattr(redis.client.Pipeline, "execute", lose)
    monkeypatch.setattr(_ops, "RETRY_PAUSE_CAP", 0.0001)
    with pytest.raises(ConflictError, match=f"gave up after {_ops.OPTIMISTIC_ATTEMPTS} attempts"):
        account.balance.aincrease(decimal.Decimal("1"))
    assert len(tries) == _ops.OPTIMISTIC_ATTEMPTS
    assert account.balance == decimal.Decimal("5")  # the local value is unchanged


def test_retry_pauses_do_not_follow_the_random_modules_seed():
    # A program (or every forked worker) that seeds random must not give its writers the same
    # pauses: they would collide again together.
    random.seed(0)
    first = [retry_pause(6) for _ in range(5)]
    random.seed(0)
    assert [retry_pause(6) for _ in range(5)] != first
