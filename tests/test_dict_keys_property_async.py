"""Property test (asyncio face): any string is a dict key that survives every dict operation.

hypothesis cannot drive ``async def`` tests, so each example runs on an event loop owned by the
``run`` fixture, with its own client for the backend under test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from tests._twins import AsyncFakeRedis, AsyncRedis
from tests.conftest import BACKENDS, backend_client, installed

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
keys = st.text()
values = st.text()

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


class PropertyBag(BaseRedisModel):
    data: dict[str, str] = {}
    lists: dict[str, list[str]] = {}


@pytest.fixture(params=BACKENDS)
def run(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """Run a coroutine to completion on a private loop whose models talk to the backend."""
    loop = asyncio.new_event_loop()
    client = backend_client(request, request.param, AsyncRedis, AsyncFakeRedis)
    try:
        with installed(connection, client):
            yield loop.run_until_complete
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


async def held(bag: PropertyBag) -> Any:
    client = connection.client_for(PropertyBag)
    raw = await client.execute_command("JSON.GET", bag.key, "$")
    return json.loads(raw)[0]["data"]


async def check_aupdate_get_and_load(items: dict[str, str]) -> None:
    bag = PropertyBag()
    await bag.save()
    await bag.data.aupdate(items)
    assert await held(bag) == items
    assert bag.data == items
    assert (await PropertyBag.get(bag.key)).data == items
    other = await PropertyBag.get(bag.key)
    await bag.data.aupdate({k: v + "!" for k, v in items.items()})
    assert await other.data.load() == {k: v + "!" for k, v in items.items()}


async def check_single_key_ops(key: str, value: str, other_key: str) -> None:
    bag = PropertyBag(data={other_key: "other"})
    await bag.save()
    await bag.data.aset_item(key, value)
    expected = {other_key: "other", key: value}
    assert await held(bag) == expected
    assert bag.data == expected
    assert await bag.data.apop(key) == value
    assert await bag.data.apop(key, None) is None
    with pytest.raises(KeyError):
        await bag.data.apop(key)
    await bag.data.aupdate({key: value})
    await bag.data.adel_item(key)
    with pytest.raises(KeyError):
        await bag.data.adel_item(key)
    assert await held(bag) == {other_key: "other"}
    assert bag.data == {other_key: "other"}


async def check_apopitem(items: dict[str, str]) -> None:
    bag = PropertyBag(data=items)
    await bag.save()
    popped = {}
    for _ in items:
        key, value = await bag.data.apopitem()
        popped[key] = value
    assert popped == items
    assert await held(bag) == {}
    assert bag.data == {}
    with pytest.raises(KeyError):
        await bag.data.apopitem()


async def check_list_values(key: str, items: list[str], other_key: str) -> None:
    bag = PropertyBag(lists={other_key: ["other"]})
    await bag.save()
    await bag.lists.aset_item(key, items)
    assert (await PropertyBag.get(bag.key)).lists == {other_key: ["other"], key: items}
    assert await bag.lists.apop(key) == items
    await bag.lists.aupdate({key: items, other_key: []})
    assert await bag.lists.apopitem() == (key, items)
    assert await bag.lists.load() == {other_key: []}


@PROPERTY_SETTINGS
@given(items=st.dictionaries(keys, values, max_size=6))
def test_any_keys_round_trip_through_aupdate_get_and_load(run, items):
    run(check_aupdate_get_and_load(items))


@PROPERTY_SETTINGS
@given(key=keys, value=values, other_key=keys)
def test_any_key_round_trips_through_aset_item_apop_and_adel_item(run, key, value, other_key):
    if key == other_key:
        other_key += "x"
    run(check_single_key_ops(key, value, other_key))


@PROPERTY_SETTINGS
@given(items=st.dictionaries(keys, values, max_size=5))
def test_apopitem_returns_every_key_exactly(run, items):
    run(check_apopitem(items))


@PROPERTY_SETTINGS
@given(key=keys, items=st.lists(values, max_size=4), other_key=keys)
def test_any_key_holding_a_list_round_trips(run, key, items, other_key):
    if key == other_key:
        other_key += "x"
    run(check_list_values(key, items, other_key))
