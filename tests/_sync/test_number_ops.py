# This file is generated from tests/_async/test_number_ops.py by setup_unasync.py. Do not edit it by hand.
"""aincrease on int and float fields (issue #3): added in Redis, local updated, new value returned."""

from __future__ import annotations

import pytest

from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisCommandError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Counter(BaseRedisModel):
    hits: int = 0
    balance: float = 0.0


def saved_counter(**fields) -> Counter:
    counter = Counter(**fields)
    counter.save()
    return counter


def test_aincrease_adds_one_by_default(client, stored):
    counter = saved_counter(hits=41)
    assert counter.hits.aincrease() == 42
    assert (stored.doc(counter.key))["hits"] == 42
    assert counter.hits == 42


def test_aincrease_adds_the_amount_and_returns_the_new_value(client, stored):
    counter = saved_counter(hits=10)
    assert counter.hits.aincrease(5) == 15
    assert counter.hits.aincrease(-20) == -5
    assert (stored.doc(counter.key))["hits"] == -5
    assert counter.hits == -5


def test_aincrease_keeps_an_int_field_an_int(client, stored, backend):
    counter = saved_counter(hits=1)
    result = counter.hits.aincrease(2)
    assert type(result) is int
    assert isinstance(counter.hits, int)
    assert counter.model_dump()["hits"] == 3
    assert type(counter.model_dump()["hits"]) is int
    held = (stored.doc(counter.key))["hits"]
    assert held == 3
    if backend != "fake":  # fakeredis stores the sum as 3.0; real RedisJSON keeps an integer
        assert type(held) is int
    assert type((Counter.get(counter.key)).model_dump()["hits"]) is int


def test_aincrease_on_a_float_field_adds_a_float(client, stored):
    counter = saved_counter(balance=1.25)
    assert counter.balance.aincrease(0.5) == 1.75
    assert (stored.doc(counter.key))["balance"] == 1.75
    assert counter.balance == 1.75


def test_aincrease_on_a_float_field_accepts_an_int_amount_and_stays_a_float(client, stored):
    counter = saved_counter(balance=0.5)
    result = counter.balance.aincrease(2)
    assert result == 2.5
    assert type(result) is float
    assert type(counter.model_dump()["balance"]) is float
    assert (stored.doc(counter.key))["balance"] == 2.5


def test_aincrease_of_an_int_field_by_a_float_raises_and_writes_nothing(client, stored):
    counter = saved_counter(hits=1)
    with pytest.raises(FieldValidationError) as info:
        counter.hits.aincrease(1.5)
    assert isinstance(info.value, TypeError)
    assert (stored.doc(counter.key))["hits"] == 1
    assert counter.hits == 1


@pytest.mark.parametrize("amount", ["1", True, None])
def test_aincrease_by_a_value_that_is_not_a_number_raises_and_writes_nothing(client, stored, amount):
    counter = saved_counter(hits=1, balance=1.0)
    with pytest.raises(FieldValidationError):
        counter.hits.aincrease(amount)
    with pytest.raises(FieldValidationError):
        counter.balance.aincrease(amount)
    assert stored.doc(counter.key) == {"hits": 1, "balance": 1.0}
    assert (counter.hits, counter.balance) == (1, 1.0)


def test_aincrease_returns_what_redis_holds_after_another_client_increased(client, stored):
    counter = saved_counter(hits=0)
    other = Counter.get(counter.key)
    other.hits.aincrease(10)
    assert counter.hits.aincrease(1) == 11
    assert (stored.doc(counter.key))["hits"] == 11
    assert counter.hits == 11


def test_load_reads_the_number_increased_by_another_instance(client, stored):
    counter = saved_counter(hits=0)
    other = Counter.get(counter.key)
    other.hits.aincrease(7)
    assert counter.hits.load() == 7
    assert counter.hits == 7


def test_aincrease_on_a_path_that_is_no_longer_a_number_raises_and_keeps_local(client, stored):
    counter = saved_counter(hits=3)
    client.execute_command("JSON.SET", counter.key, "$.hits", '"three"')
    with pytest.raises(RedisCommandError):
        counter.hits.aincrease()
    assert (stored.doc(counter.key))["hits"] == "three"
    assert counter.hits == 3
