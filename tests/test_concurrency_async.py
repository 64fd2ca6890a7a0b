"""Atomic ops under concurrency (asyncio face): many tasks, each with its OWN instance of one
stored document, lose no update."""

from __future__ import annotations

import asyncio
import decimal
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio.client
import redis.exceptions
from pydantic import Field

from redis_pydantic import _ops
from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import ConflictError
from tests._twins import AsyncFakeRedis, AsyncRedis
from tests.conftest import backend_client, installed

TASKS = 12
ROUNDS = 15


class Tally(BaseRedisModel):
    events: list[str] = []
    hits: int = 0
    total: float = 0.0
    seen: dict[str, int] = {}


@pytest.fixture(params=["real", "fake"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    redis_client = backend_client(request, request.param, AsyncRedis, AsyncFakeRedis)
    await redis_client.flushdb()
    with installed(connection, redis_client):
        yield redis_client
    await redis_client.aclose()


async def held(client: Any, key: str) -> Any:
    return json.loads(await client.execute_command("JSON.GET", key, "$"))[0]


async def appender(key: str, worker: int) -> Tally:
    mine = await Tally.get(key)  # every task has its own instance of the same document
    for i in range(ROUNDS):
        await mine.events.aappend(f"{worker}-{i}")
        await mine.hits.aincrease()
        await mine.total.aincrease(0.5)
    return mine


async def test_concurrent_aappend_and_aincrease_lose_no_update(client):
    tally = await Tally().save()
    await asyncio.gather(*(appender(tally.key, w) for w in range(TASKS)))
    doc = await held(client, tally.key)
    expected = {f"{w}-{i}" for w in range(TASKS) for i in range(ROUNDS)}
    assert len(doc["events"]) == TASKS * ROUNDS
    assert set(doc["events"]) == expected
    assert doc["hits"] == TASKS * ROUNDS
    assert doc["total"] == TASKS * ROUNDS * 0.5
    await tally.load()
    assert (len(tally.events), tally.hits) == (TASKS * ROUNDS, TASKS * ROUNDS)


async def test_each_instance_sees_exactly_what_redis_held_after_its_last_op(client):
    tally = await Tally().save()
    instances = await asyncio.gather(*(appender(tally.key, w) for w in range(TASKS)))
    doc = await held(client, tally.key)
    for worker, instance in enumerate(instances):
        # Items are only appended, so what Redis held after the instance's last append is a prefix
        # of the final list; the local list must be exactly that prefix, ending past its own item.
        assert list(instance.events) == doc["events"][: len(instance.events)]
        assert f"{worker}-{ROUNDS - 1}" in instance.events
        assert instance.hits <= doc["hits"]


async def popper(key: str) -> list[str]:
    mine = await Tally.get(key)
    popped = []
    while True:
        try:
            popped.append(await mine.events.apop(0))
        except IndexError:
            return popped


async def test_concurrent_apop_hands_out_every_item_exactly_once(client):
    items = [str(i) for i in range(TASKS * ROUNDS)]
    tally = await Tally(events=items).save()
    results = await asyncio.gather(*(popper(tally.key) for _ in range(TASKS)))
    popped = [item for result in results for item in result]
    assert sorted(popped, key=int) == items
    assert (await held(client, tally.key))["events"] == []


async def dict_writer(key: str, worker: int) -> None:
    mine = await Tally.get(key)
    for i in range(ROUNDS):
        await mine.seen.aset_item(f"{worker}:{i}", i)
    await mine.seen.aupdate({f"{worker}:extra": -1, f"{worker}:more": -2})


async def test_concurrent_dict_writes_lose_no_key(client):
    tally = await Tally().save()
    await asyncio.gather(*(dict_writer(tally.key, w) for w in range(TASKS)))
    seen = (await held(client, tally.key))["seen"]
    assert len(seen) == TASKS * (ROUNDS + 2)
    assert all(seen[f"{w}:{i}"] == i for w in range(TASKS) for i in range(ROUNDS))


class Account(BaseRedisModel):
    balance: decimal.Decimal = decimal.Decimal("0")  # aincrease is a check-and-set
    stock: int = Field(default=0, ge=0)  # bounded: a check-and-set too


# Enough writers of one document that, trying again at once, many lost every one of the 64
# tries (110 of 300 increases raised ConflictError): the tries are now spread out.
CAS_TASKS = 100


async def test_many_concurrent_check_and_set_writers_of_one_document_all_succeed(client):
    account = await Account().save()

    async def writer(worker: int) -> None:
        mine = await Account.get(account.key)
        await mine.balance.aincrease(decimal.Decimal("0.01"))
        await mine.stock.aincrease(1)

    await asyncio.gather(*(writer(w) for w in range(CAS_TASKS)))
    doc = await held(client, account.key)
    assert decimal.Decimal(doc["balance"]) == decimal.Decimal("0.01") * CAS_TASKS
    assert doc["stock"] == CAS_TASKS


async def test_a_check_and_set_that_always_loses_raises_conflict_error_after_every_try(client, monkeypatch):
    account = await Account(balance=decimal.Decimal("5")).save()
    tries = []

    async def lose(self, *args, **kwargs):  # another client wrote between the read and EXEC
        tries.append(1)
        await self.reset()
        raise redis.exceptions.WatchError("Watched variable changed.")

    monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", lose)
    monkeypatch.setattr(_ops, "RETRY_PAUSE_CAP", 0.0001)
    with pytest.raises(ConflictError, match=f"gave up after {_ops.OPTIMISTIC_ATTEMPTS} attempts"):
        await account.balance.aincrease(decimal.Decimal("1"))
    assert len(tries) == _ops.OPTIMISTIC_ATTEMPTS
    assert account.balance == decimal.Decimal("5")  # the local value is unchanged
