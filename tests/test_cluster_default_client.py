"""The default client of both faces on Redis Cluster: found out from REDIS_PYDANTIC_URL, or forced
with REDIS_PYDANTIC_CLUSTER."""

from __future__ import annotations

import asyncio
import json
import weakref

import pytest
import redis
import redis.asyncio.cluster
import redis.cluster

import redis_pydantic
import redis_pydantic.sync
from redis_pydantic import _paths
from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from redis_pydantic.errors import InvalidArgumentError, RedisClusterError, RedisConnectionError
from tests.redis_server import free_port

SAVES = 30


class Note(redis_pydantic.BaseRedisModel):
    text: str = ""
    tags: list[str] = []


class SyncNote(redis_pydantic.sync.BaseRedisModel):
    text: str = ""
    tags: list[str] = []


@pytest.fixture
def defaults(monkeypatch):
    """No override, no Meta.redis, no cached default client or cluster answer in either face."""
    monkeypatch.delenv("REDIS_PYDANTIC_CLUSTER", raising=False)
    made = []
    for connection in (async_connection, sync_connection):
        monkeypatch.setattr(connection, "_defaults", weakref.WeakKeyDictionary())
        monkeypatch.setattr(connection, "_cluster_urls", {})
        previous = connection.override_client(None)
        made.append((connection, previous))
    try:
        yield
    finally:
        for connection, previous in made:
            connection.override_client(previous)
            for client, _closer in list(connection._defaults.values()):
                if connection is sync_connection:
                    client.close()


@pytest.fixture
def raw_cluster(cluster_url):
    client = redis.cluster.RedisCluster.from_url(cluster_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


def held(client, key: str):
    return json.loads(client.execute_command("JSON.GET", key, "$"))[0]


def test_the_blocking_default_client_of_a_cluster_node_is_a_cluster_client(
    defaults, monkeypatch, cluster_url, raw_cluster
):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", cluster_url)
    assert isinstance(sync_connection.default_client(), redis.cluster.RedisCluster)
    notes = [SyncNote(text=str(i)) for i in range(SAVES)]
    for note in notes:
        note.save()  # keys of every node: none may be refused with MOVED
    assert len({raw_cluster.get_node_from_key(note.key).name for note in notes}) == 3
    with notes[0].pipeline(refresh=False):
        for note in notes:
            note.tags.aappend("piped")
    copies = notes[0].duplicate_many(10)
    with notes[1].lock() as locked:
        locked.text = "locked"
    assert [held(raw_cluster, note.key)["tags"] for note in notes] == [["piped"]] * SAVES
    assert held(raw_cluster, notes[1].key)["text"] == "locked"
    assert all(held(raw_cluster, copy.key)["text"] == "0" for copy in copies)


async def test_the_asyncio_default_client_of_a_cluster_node_is_a_cluster_client(
    defaults, monkeypatch, cluster_url, raw_cluster
):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", cluster_url)
    client = async_connection.default_client()
    assert isinstance(client, redis.asyncio.cluster.RedisCluster)
    try:
        notes = [Note(text=str(i)) for i in range(SAVES)]
        for note in notes:
            await note.save()
        async with notes[0].pipeline(refresh=False):
            for note in notes:
                await note.tags.aappend("piped")
        copies = await notes[0].duplicate_many(10)
        async with notes[1].lock() as locked:
            locked.text = "locked"
    finally:
        await client.aclose()
    assert [held(raw_cluster, note.key)["tags"] for note in notes] == [["piped"]] * SAVES
    assert held(raw_cluster, notes[1].key)["text"] == "locked"
    assert all(held(raw_cluster, copy.key)["text"] == "0" for copy in copies)


def test_the_server_is_asked_once_per_url(defaults, monkeypatch, cluster_url):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", cluster_url)
    asked = []
    probe = async_connection.probe_cluster

    def counting(url: str) -> bool:
        asked.append(url)
        return probe(url)

    monkeypatch.setattr(async_connection, "probe_cluster", counting)

    async def make() -> None:
        await async_connection.default_client().aclose()

    asyncio.run(make())
    asyncio.run(make())  # a new event loop gets a new client, made without asking again
    assert asked == [cluster_url]


def test_a_plain_server_gets_a_plain_default_client(defaults, monkeypatch, real_redis_url):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    assert type(sync_connection.default_client()) is redis.Redis


def test_cluster_no_forces_a_plain_client_whose_redirections_name_the_node(
    defaults, monkeypatch, cluster_url, raw_cluster
):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", cluster_url)
    monkeypatch.setenv("REDIS_PYDANTIC_CLUSTER", "no")
    assert type(sync_connection.default_client()) is redis.Redis
    url_node = cluster_url.removeprefix("redis://").removesuffix("/0")
    elsewhere = next(
        f"SyncNote:{i}"
        for i in range(1000)
        if raw_cluster.get_node_from_key(f"SyncNote:{i}").name != url_node
    )
    with pytest.raises(RedisClusterError, match="REDIS_PYDANTIC_CLUSTER") as raised:
        SyncNote(pk=elsewhere.removeprefix("SyncNote:")).save()
    assert raised.value.node == raw_cluster.get_node_from_key(elsewhere).name
    assert raised.value.node in str(raised.value)
    assert _paths.hash_slot(elsewhere) == raw_cluster.keyslot(elsewhere)


def test_cluster_yes_forces_a_cluster_client(defaults, monkeypatch, real_redis_url):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    monkeypatch.setenv("REDIS_PYDANTIC_CLUSTER", "yes")
    # redis-py's cluster client asks the node for its slots when it is made: a single Redis
    # without cluster mode says so.
    with pytest.raises(RedisClusterError, match="Cluster mode is not enabled"):
        SyncNote(text="x").save()

    async def save() -> None:
        # The asyncio face's cluster client asks on its first command.
        try:
            await Note(text="x").save()
        finally:
            await async_connection.default_client().aclose()

    with pytest.raises(RedisClusterError, match="Cluster mode is not enabled"):
        asyncio.run(save())


def test_a_bad_cluster_setting_is_refused(defaults, monkeypatch, real_redis_url):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    monkeypatch.setenv("REDIS_PYDANTIC_CLUSTER", "maybe")
    with pytest.raises(InvalidArgumentError, match="REDIS_PYDANTIC_CLUSTER"):
        SyncNote(text="x").save()


def test_an_unreachable_server_raises_a_connection_error_and_is_asked_again(defaults, monkeypatch):
    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("REDIS_PYDANTIC_URL", url)
    for _ in range(2):
        with pytest.raises(RedisConnectionError, match=url):
            SyncNote(text="x").save()
    assert sync_connection._cluster_urls == {}
