"""Property test (blocking face): any string is a dict key that survives every dict operation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from tests._twins import SyncFakeRedis, SyncRedis
from tests.conftest import BACKENDS, backend_client, installed

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
keys = st.text()
values = st.text()


class PropertyBag(BaseRedisModel):
    data: dict[str, str] = {}
    lists: dict[str, list[str]] = {}


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client for the backend, installed as every blocking model's client."""
    redis_client = backend_client(request, request.param, SyncRedis, SyncFakeRedis)
    with installed(connection, redis_client):
        yield redis_client
    redis_client.close()


def held(client: Any, bag: PropertyBag) -> Any:
    return json.loads(client.execute_command("JSON.GET", bag.key, "$"))[0]["data"]


@PROPERTY_SETTINGS
@given(items=st.dictionaries(keys, values, max_size=6))
def test_any_keys_round_trip_through_aupdate_get_and_load(client, items):
    bag = PropertyBag()
    bag.save()
    bag.data.aupdate(items)
    assert held(client, bag) == items
    assert bag.data == items
    assert PropertyBag.get(bag.key).data == items
    other = PropertyBag.get(bag.key)
    bag.data.aupdate({k: v + "!" for k, v in items.items()})
    assert other.data.load() == {k: v + "!" for k, v in items.items()}


@PROPERTY_SETTINGS
@given(key=keys, value=values, other_key=keys)
def test_any_key_round_trips_through_aset_item_apop_and_adel_item(client, key, value, other_key):
    if key == other_key:
        other_key += "x"
    bag = PropertyBag(data={other_key: "other"})
    bag.save()
    bag.data.aset_item(key, value)
    expected = {other_key: "other", key: value}
    assert held(client, bag) == expected
    assert bag.data == expected
    assert bag.data.apop(key) == value
    assert bag.data.apop(key, None) is None
    with pytest.raises(KeyError):
        bag.data.apop(key)
    bag.data.aupdate({key: value})
    bag.data.adel_item(key)
    with pytest.raises(KeyError):
        bag.data.adel_item(key)
    assert held(client, bag) == {other_key: "other"}
    assert bag.data == {other_key: "other"}


@PROPERTY_SETTINGS
@given(items=st.dictionaries(keys, values, max_size=5))
def test_apopitem_returns_every_key_exactly(client, items):
    bag = PropertyBag(data=items)
    bag.save()
    popped = {}
    for _ in items:
        key, value = bag.data.apopitem()
        popped[key] = value
    assert popped == items
    assert held(client, bag) == {}
    assert bag.data == {}
    with pytest.raises(KeyError):
        bag.data.apopitem()


@PROPERTY_SETTINGS
@given(key=keys, items=st.lists(values, max_size=4), other_key=keys)
def test_any_key_holding_a_list_round_trips(client, key, items, other_key):
    if key == other_key:
        other_key += "x"
    bag = PropertyBag(lists={other_key: ["other"]})
    bag.save()
    bag.lists.aset_item(key, items)
    assert PropertyBag.get(bag.key).lists == {other_key: ["other"], key: items}
    assert bag.lists.apop(key) == items
    bag.lists.aupdate({key: items, other_key: []})
    assert bag.lists.apopitem() == (key, items)
    assert bag.lists.load() == {other_key: []}
