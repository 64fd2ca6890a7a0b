"""The library's own error types where pydantic, redis-py or Python errors used to escape raw.

A document another program left in a shape the model refuses, a value too deep to write as JSON,
Redis Cluster refusals, and arguments of the wrong type or value.
"""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from redis.backoff import NoBackoff

from redis_pydantic import _paths
from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import (
    DocumentValidationError,
    FieldValidationError,
    InvalidArgumentError,
    NotAttachedError,
    RedisClusterError,
    RedisCommandError,
    RedisPydanticError,
    UnknownFieldError,
    ValueNotSerializableError,
)
from tests._twins import AsyncRedis, AsyncRedisCluster, AsyncRetry
from tests.conftest import installed


class Address(BaseModel):
    city: str = ""


class Account(BaseRedisModel):
    name: str
    balance: int = 0
    address: Address = Address()
    history: list[Any] = []
    data: Any = None


async def corrupted(client: Any) -> Account:
    """A stored account whose balance another program replaced by text."""
    account = Account(name="Ada")
    await account.save()
    await client.execute_command("JSON.SET", account.key, "$.balance", '"lots"')
    return account


def assert_names_the_document(error: DocumentValidationError, key: str) -> None:
    assert error.key == key
    assert key in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error, RedisPydanticError)
    assert isinstance(error.validation_error, ValidationError)
    assert error.errors()[0]["loc"][-1] == "balance"


# -- documents that do not fit the model ---------------------------------------------------------


async def test_get_of_a_corrupted_document_raises_document_validation_error(client):
    account = await corrupted(client)
    with pytest.raises(DocumentValidationError) as raised:
        await Account.get(account.key)
    assert_names_the_document(raised.value, account.key)


async def test_load_of_a_corrupted_document_raises_and_keeps_the_local_values(client):
    account = await corrupted(client)
    account.name = "local"
    with pytest.raises(DocumentValidationError) as raised:
        await account.load()
    assert_names_the_document(raised.value, account.key)
    assert account.name == "local"
    assert account.balance == 0


async def test_lock_on_a_corrupted_document_raises_and_releases_the_lock(client, stored):
    account = await corrupted(client)
    with pytest.raises(DocumentValidationError) as raised:
        async with account.lock():
            pytest.fail("the body must not run")
    assert_names_the_document(raised.value, account.key)
    assert not await stored.exists(_paths.lock_key_for(account.key, "default"))


async def test_a_field_load_of_a_corrupted_field_raises_document_validation_error(client):
    account = await corrupted(client)
    with pytest.raises(DocumentValidationError, match=r"\$\.balance") as raised:
        await account.balance.load()
    assert raised.value.key == account.key
    assert account.balance == 0


async def test_a_nested_load_of_a_corrupted_nested_model_names_its_path(client):
    account = Account(name="Ada")
    await account.save()
    await client.execute_command("JSON.SET", account.key, "$.address.city", "42")
    with pytest.raises(DocumentValidationError, match=r"\$\.address") as raised:
        await account.address.load()
    assert raised.value.key == account.key


# -- values too deep for JSON --------------------------------------------------------------------


def nested_lists(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


async def test_a_value_too_deep_to_serialize_raises_value_not_serializable_and_writes_nothing(client, stored):
    deep = nested_lists(600)
    account = Account(name="Ada")
    await account.save()
    before = await stored.doc(account.key)
    with pytest.raises(ValueNotSerializableError, match="Account.data") as raised:
        await account.aupdate(data=deep)  # data holds None: the model sets it
    assert isinstance(raised.value, ValueError)
    with pytest.raises(ValueNotSerializableError, match=r"Account.history\[item\]"):
        await account.history.aappend(deep)
    unsaved = Account(name="Deep", data=deep)
    with pytest.raises(ValueNotSerializableError, match="Account"):
        await unsaved.save()
    with pytest.raises(ValueNotSerializableError):
        await account.aupdate(data=deep)
    assert await stored.doc(account.key) == before
    assert not await stored.exists(unsaved.key)


# -- Redis Cluster -------------------------------------------------------------------------------


def key_in_unserved_slot() -> str:
    """A key of Account whose hash slot the cluster node does not serve (it serves 0 to 100)."""
    pk = next(str(n) for n in range(1000) if _paths.hash_slot(f"Account:{n}") > 100)
    return f"Account:{pk}"


async def test_a_slot_no_node_serves_raises_redis_cluster_error_naming_the_node(cluster_node_url):
    client = AsyncRedis.from_url(cluster_node_url)
    node = cluster_node_url.removeprefix("redis://").removesuffix("/0")
    try:
        with installed(connection, client):
            with pytest.raises(RedisClusterError, match="ClusterDownError") as raised:
                await Account.get(key_in_unserved_slot())
    finally:
        await client.aclose()
    assert raised.value.node == node
    assert node in str(raised.value)
    assert isinstance(raised.value, RedisPydanticError)


async def test_a_cluster_client_on_an_uncovered_slot_raises_redis_cluster_error(cluster_node_url):
    host, port = cluster_node_url.removeprefix("redis://").removesuffix("/0").split(":")
    client = AsyncRedisCluster(
        host=host, port=int(port), require_full_coverage=False, retry=AsyncRetry(NoBackoff(), 0)
    )
    try:
        with installed(connection, client):
            # redis-py's blocking cluster client says SlotNotCoveredError, its asyncio one
            # ClusterDownError (after asking the node again).
            with pytest.raises(RedisClusterError, match="SlotNotCoveredError|ClusterDownError") as raised:
                await Account.get(key_in_unserved_slot())
    finally:
        await client.aclose()
    assert raised.value.node == f"{host}:{port}"


# -- arguments -----------------------------------------------------------------------------------


async def test_arguments_of_the_wrong_type_or_value_raise_library_errors(client):
    account = Account(name="Ada")
    await account.save()
    with pytest.raises(InvalidArgumentError) as raised:
        account.pk = 3  # type: ignore[assignment]
    assert isinstance(raised.value, TypeError)
    with pytest.raises(InvalidArgumentError) as raised:
        await account.duplicate_many(-1)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(InvalidArgumentError, match="save"):
        await account.set(account)
    with pytest.raises(UnknownFieldError) as unknown:
        await account.aupdate(nickname="x")
    assert isinstance(unknown.value, AttributeError)


async def test_operations_that_need_a_stored_model_raise_not_attached_error(client):
    account = Account(name="Ada", history=[])
    await account.save()
    loose = account.address.model_copy()
    with pytest.raises(NotAttachedError) as raised:
        await loose.city.set("Paris")
    assert isinstance(raised.value, RuntimeError)
    with pytest.raises(NotAttachedError):
        await account.address.duplicate()


class Ledger(BaseRedisModel):
    amounts: list[int] = []
    notes: dict[str, int] = {}


@pytest.mark.parametrize("index", [-1, 0, 1, -2])
async def test_apop_of_an_item_the_model_cannot_read_keeps_it_and_raises_a_typed_error(client, stored, index):
    ledger = Ledger(amounts=[1, 2, 3])
    await ledger.save()
    position = index % 3
    await client.execute_command("JSON.SET", ledger.key, f"$.amounts[{position}]", '"lots"')
    before = await stored.doc(ledger.key, "$.amounts")
    with pytest.raises(DocumentValidationError) as raised:
        await ledger.amounts.apop(index)
    assert raised.value.key == ledger.key
    assert await stored.doc(ledger.key, "$.amounts") == before  # put back where it was


async def test_dict_apop_and_apopitem_of_a_value_the_model_cannot_read_keep_it(client, stored):
    ledger = Ledger(notes={"a": 1, "b": 2})
    await ledger.save()
    await client.execute_command("JSON.SET", ledger.key, '$.notes["b"]', '"lots"')
    with pytest.raises(DocumentValidationError):
        await ledger.notes.apop("b")
    assert await stored.doc(ledger.key, "$.notes") == {"a": 1, "b": "lots"}
    with pytest.raises(DocumentValidationError):
        await ledger.notes.apopitem()
    assert await stored.doc(ledger.key, "$.notes") == {"a": 1, "b": "lots"}


class Shelf(BaseModel):
    labels: list[str] = []


class Room(BaseModel):
    name: str = ""
    shelf: Shelf = Shelf()


class House(BaseRedisModel):
    room: Room | None = None
    price: decimal.Decimal = decimal.Decimal("1.00")


@pytest.mark.parametrize(
    "held, operation",
    [
        (lambda h: h.room, lambda v: v.name.set("x")),
        (lambda h: h.room.shelf, lambda v: v.labels.aappend("x")),
        (lambda h: h.room.shelf.labels, lambda v: v.aappend("x")),
    ],
    ids=["one level down", "two levels down", "a list two levels down"],
)
async def test_an_operation_through_a_value_whose_holder_became_none_raises_not_attached_error(
    client, stored, held, operation
):
    house = House(room=Room())
    await house.save()
    value = held(house)
    await house.aupdate(room=None)
    with pytest.raises(NotAttachedError):
        await operation(value)
    assert await stored.doc(house.key) == {"room": None, "price": "1.00"}
    assert house.room is None


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
async def test_a_decimal_amount_that_is_not_a_finite_number_raises_field_validation_error(
    client, stored, amount
):
    house = House()
    await house.save()
    with pytest.raises(FieldValidationError, match="finite"):
        await house.price.aincrease(decimal.Decimal(amount))
    assert (await stored.doc(house.key))["price"] == "1.00" and house.price == decimal.Decimal("1.00")


async def test_loading_a_field_of_a_nested_model_another_client_set_to_null_raises_and_changes_nothing(
    client, stored
):
    house = House(room=Room(name="hall", shelf=Shelf(labels=["a"])))
    await house.save()
    await client.execute_command("JSON.SET", house.key, "$.room", "null")
    with pytest.raises(RedisCommandError, match=r"\$\.room does not hold an object"):
        await house.room.name.load()
    with pytest.raises(RedisCommandError, match=r"\$\.room\.shelf does not hold an object"):
        await house.room.shelf.labels.load()
    assert house.room.name == "hall" and house.room.shelf.labels == ["a"]  # unchanged locally


async def test_loading_a_field_the_document_does_not_hold_yet_gives_its_default(client, stored):
    # A document written before the field was added to the model: top level and nested.
    house = House(room=Room(name="hall"))
    await house.save()
    await client.execute_command("JSON.DEL", house.key, "$.room.name")
    await client.execute_command("JSON.DEL", house.key, "$.price")
    assert await house.room.name.load() == ""
    assert await house.price.load() == decimal.Decimal("1.00")
    assert house.room.name == ""
