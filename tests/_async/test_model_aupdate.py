"""Model-level ``aupdate(**fields)``: several top-level fields set atomically in one round trip."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Address(BaseModel):
    street: str
    city: str


class Customer(BaseRedisModel):
    name: str
    age: int = 0
    nickname: str | None = "nick"
    tags: list[str] = []
    address: Address | None = None


async def saved_customer(**fields) -> Customer:
    customer = Customer(name="Ada", **fields)
    await customer.save()
    return customer


async def test_aupdate_sets_several_fields_in_redis_and_locally(client, stored):
    customer = await saved_customer(age=36)
    await customer.aupdate(name="Grace", age=45)
    assert await stored.doc(customer.key) == {
        "name": "Grace",
        "age": 45,
        "nickname": "nick",
        "tags": [],
        "address": None,
    }
    assert (customer.name, customer.age) == ("Grace", 45)


async def test_aupdate_leaves_the_other_fields_alone(client, stored):
    customer = await saved_customer(tags=["x"])
    await customer.aupdate(age=1)
    held = await stored.doc(customer.key)
    assert (held["name"], held["tags"], held["age"]) == ("Ada", ["x"], 1)


async def test_aupdate_accepts_none_for_an_optional_field(client, stored):
    customer = await saved_customer()
    await customer.aupdate(nickname=None, age=2)
    held = await stored.doc(customer.key)
    assert (held["nickname"], held["age"]) == (None, 2)
    assert customer.nickname == None  # noqa: E711 - a bound None compares with ==
    assert customer.model_dump()["nickname"] is None


async def test_aupdate_stores_lists_and_models_as_json(client, stored):
    customer = await saved_customer()
    await customer.aupdate(tags=["a", "b"], address=Address(street="1 Main", city="Oslo"))
    held = await stored.doc(customer.key)
    assert held["tags"] == ["a", "b"]
    assert held["address"] == {"street": "1 Main", "city": "Oslo"}
    assert customer.tags == ["a", "b"]
    assert customer.address.city == "Oslo"


async def test_list_ops_work_on_a_list_set_by_aupdate(client, stored):
    customer = await saved_customer()
    await customer.aupdate(tags=["a"])
    await customer.tags.aappend("b")
    assert (await stored.doc(customer.key))["tags"] == ["a", "b"]
    assert customer.tags == ["a", "b"]


async def test_aupdate_with_an_invalid_value_raises_and_writes_nothing(client, stored):
    customer = await saved_customer(age=36)
    with pytest.raises(FieldValidationError) as info:
        await customer.aupdate(name="Grace", age="old")
    assert isinstance(info.value, TypeError)
    held = await stored.doc(customer.key)
    assert (held["name"], held["age"]) == ("Ada", 36)
    assert (customer.name, customer.age) == ("Ada", 36)


async def test_aupdate_with_none_for_a_required_field_raises_and_writes_nothing(client, stored):
    customer = await saved_customer()
    with pytest.raises(FieldValidationError):
        await customer.aupdate(name=None)
    assert (await stored.doc(customer.key))["name"] == "Ada"
    assert customer.name == "Ada"


async def test_aupdate_of_an_unknown_field_raises_and_writes_nothing(client, stored):
    customer = await saved_customer(age=36)
    with pytest.raises(AttributeError):
        await customer.aupdate(age=1, shoe_size=44)
    assert (await stored.doc(customer.key))["age"] == 36
    assert customer.age == 36


async def test_aupdate_with_no_fields_changes_nothing(client, stored):
    customer = await saved_customer(age=36)
    await customer.aupdate()
    assert (await stored.doc(customer.key))["age"] == 36


async def test_aupdate_is_seen_by_another_instance(client, stored):
    customer = await saved_customer()
    await customer.aupdate(name="Grace", age=45)
    other = await Customer.get(customer.key)
    assert (other.name, other.age) == ("Grace", 45)
