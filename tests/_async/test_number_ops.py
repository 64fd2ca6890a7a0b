"""aincrease on int and float fields (issue #3): added in Redis, local updated, new value returned."""

from __future__ import annotations

import pytest

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisCommandError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Counter(BaseRedisModel):
    hits: int = 0
    balance: float = 0.0


async def saved_counter(**fields) -> Counter:
    counter = Counter(**fields)
    await counter.save()
    return counter


async def test_aincrease_adds_one_by_default(client, stored):
    counter = await saved_counter(hits=41)
    assert await counter.hits.aincrease() == 42
    assert (await stored.doc(counter.key))["hits"] == 42
    assert counter.hits == 42


async def test_aincrease_adds_the_amount_and_returns_the_new_value(client, stored):
    counter = await saved_counter(hits=10)
    assert await counter.hits.aincrease(5) == 15
    assert await counter.hits.aincrease(-20) == -5
    assert (await stored.doc(counter.key))["hits"] == -5
    assert counter.hits == -5


async def test_aincrease_keeps_an_int_field_an_int(client, stored, backend):
    counter = await saved_counter(hits=1)
    result = await counter.hits.aincrease(2)
    assert type(result) is int
    assert isinstance(counter.hits, int)
    assert counter.model_dump()["hits"] == 3
    assert type(counter.model_dump()["hits"]) is int
    held = (await stored.doc(counter.key))["hits"]
    assert held == 3
    if backend != "fake":  # fakeredis stores the sum as 3.0; real RedisJSON keeps an integer
        assert type(held) is int
    assert type((await Counter.get(counter.key)).model_dump()["hits"]) is int


async def test_aincrease_on_a_float_field_adds_a_float(client, stored):
    counter = await saved_counter(balance=1.25)
    assert await counter.balance.aincrease(0.5) == 1.75
    assert (await stored.doc(counter.key))["balance"] == 1.75
    assert counter.balance == 1.75


async def test_aincrease_on_a_float_field_accepts_an_int_amount_and_stays_a_float(client, stored):
    counter = await saved_counter(balance=0.5)
    result = await counter.balance.aincrease(2)
    assert result == 2.5
    assert type(result) is float
    assert type(counter.model_dump()["balance"]) is float
    assert (await stored.doc(counter.key))["balance"] == 2.5


async def test_aincrease_of_an_int_field_by_a_float_raises_and_writes_nothing(client, stored):
    counter = await saved_counter(hits=1)
    with pytest.raises(FieldValidationError) as info:
        await counter.hits.aincrease(1.5)
    assert isinstance(info.value, TypeError)
    assert (await stored.doc(counter.key))["hits"] == 1
    assert counter.hits == 1


@pytest.mark.parametrize("amount", ["1", True, None])
async def test_aincrease_by_a_value_that_is_not_a_number_raises_and_writes_nothing(client, stored, amount):
    counter = await saved_counter(hits=1, balance=1.0)
    with pytest.raises(FieldValidationError):
        await counter.hits.aincrease(amount)
    with pytest.raises(FieldValidationError):
        await counter.balance.aincrease(amount)
    assert await stored.doc(counter.key) == {"hits": 1, "balance": 1.0}
    assert (counter.hits, counter.balance) == (1, 1.0)


async def test_aincrease_returns_what_redis_holds_after_another_client_increased(client, stored):
    counter = await saved_counter(hits=0)
    other = await Counter.get(counter.key)
    await other.hits.aincrease(10)
    assert await counter.hits.aincrease(1) == 11
    assert (await stored.doc(counter.key))["hits"] == 11
    assert counter.hits == 11


async def test_load_reads_the_number_increased_by_another_instance(client, stored):
    counter = await saved_counter(hits=0)
    other = await Counter.get(counter.key)
    await other.hits.aincrease(7)
    assert await counter.hits.load() == 7
    assert counter.hits == 7


async def test_aincrease_on_a_path_that_is_no_longer_a_number_raises_and_keeps_local(client, stored):
    counter = await saved_counter(hits=3)
    await client.execute_command("JSON.SET", counter.key, "$.hits", '"three"')
    with pytest.raises(RedisCommandError):
        await counter.hits.aincrease()
    assert (await stored.doc(counter.key))["hits"] == "three"
    assert counter.hits == 3
