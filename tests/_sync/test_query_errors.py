# This file is generated from tests/_async/test_query_errors.py by setup_unasync.py. Do not edit it by hand.
"""Queries and indexes where they cannot work: a server without the search module, a Redis
Cluster client, and index declarations that cannot be indexed. Each fails with a typed error;
none returns an empty result."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import fakeredis
import pytest
import redis
from pydantic import BaseModel

from redis_pydantic import F, Indexed
from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import (
    ClusterNotSupportedError,
    IndexDefinitionError,
    SearchNotAvailableError,
)
from tests._twins import SyncFakeRedis, SyncRedis, SyncRedisCluster
from tests.conftest import installed


class Item(BaseRedisModel):
    name: Annotated[str, Indexed()] = ""
    price: Annotated[float, Indexed()] = 0.0


def every_query_and_index_call() -> list[Any]:
    """Run every call that needs the search module; return what each raised."""
    raised: list[Any] = []
    query = Item.find(F(Item).name == "x")
    calls = [
        query.all,
        query.first,
        query.count,
        query.limit(0).all,
        query.limit(0).first,
        Item.find().all,
        Item.create_index,
        Item.drop_index,
        Item.migrate_index,
    ]
    for call in calls:
        with pytest.raises(Exception) as caught:  # noqa: B017 - each type is checked below
            call()
        raised.append(caught.value)
    with pytest.raises(Exception) as caught:  # noqa: B017
        for _ in Item.find():
            pass
    raised.append(caught.value)
    return raised


@pytest.fixture(params=["fakeredis", "redis-without-search"])
def no_search_client(request: pytest.FixtureRequest) -> Any:
    """fakeredis, or a real Redis server with RedisJSON and without the search module."""
    if request.param == "fakeredis":
        client = SyncFakeRedis(server=fakeredis.FakeServer())
    else:
        client = SyncRedis.from_url(request.getfixturevalue("real_redis_url"))
    client.flushdb()
    yield client
    client.close()


def test_without_the_search_module_every_call_says_how_to_get_it(no_search_client):
    with installed(connection, no_search_client):
        Item(name="x").save()  # documents are there, the search commands are not
        raised = every_query_and_index_call()
    for error in raised:
        assert isinstance(error, SearchNotAvailableError), error
        assert "Redis 8" in str(error) and "Redis Stack" in str(error)


def test_a_cluster_client_is_refused_before_anything_is_sent(cluster_redis_url):
    client = SyncRedisCluster.from_url(cluster_redis_url)
    admin = redis.Redis.from_url(cluster_redis_url)
    try:
        admin.config_resetstat()
        with installed(connection, client):
            raised = every_query_and_index_call()
        sent = [
            name
            for name in admin.info("commandstats")
            if not name.startswith(("cmdstat_config", "cmdstat_info"))
        ]
        refused = admin.info("errorstats")
    finally:
        admin.close()
        client.close()
    for error in raised:
        assert isinstance(error, ClusterNotSupportedError), error
        assert "coordinator" in str(error)
    assert sent == [] and refused == {}  # nothing reached the server


def test_a_type_that_cannot_be_indexed_is_refused_naming_the_field():
    class Bag(BaseRedisModel):
        counts: Annotated[dict[str, int], Indexed()] = {}

    with pytest.raises(IndexDefinitionError, match=r"Bag\.counts"):
        F(Bag).counts == {}  # noqa: B015 - the reference is built when compared


def test_index_declarations_that_cannot_work_are_refused_before_anything_is_sent():
    class Place(BaseModel):
        city: str = ""

    class TextNumber(BaseRedisModel):
        n: Annotated[int, Indexed(text=True)] = 0

    class SortedList(BaseRedisModel):
        tags: Annotated[list[str], Indexed(sortable=True)] = []

    class MarkedNested(BaseRedisModel):
        place: Annotated[Place, Indexed()] = Place()

    class Dates(BaseRedisModel):
        days: Annotated[list[datetime.date], Indexed()] = []

    cases = [
        (TextNumber, r"TextNumber\.n: Indexed\(text=True\) is for str"),
        (SortedList, r"SortedList\.tags: a list cannot be sortable"),
        (MarkedNested, r"MarkedNested\.place is a nested model"),
        (Dates, r"Dates\.days: a field of type"),
    ]
    for model, message in cases:
        with pytest.raises(IndexDefinitionError, match=message):
            model.create_index()
