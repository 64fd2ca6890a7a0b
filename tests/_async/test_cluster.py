"""Redis Cluster: what changes when documents live in different hash slots, on a real cluster.

Pipelines are one atomic step per hash slot and one round trip per node, ``pipeline(atomic=True)``
refuses a second slot, ``duplicate_many`` writes per slot (or colocated), scripts are loaded per
node, and errors name their node. The shared modules (models, field operations, lock, pipeline,
duplicate) also run on this cluster: see the ``cluster`` marker in tests/conftest.py.
"""

from __future__ import annotations

import decimal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from redis_pydantic import _cluster, _paths
from redis_pydantic._async import connection, executor
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._scripts import BATCH, MAX_BATCH_COMMAND_ARGS
from redis_pydantic.errors import (
    CrossSlotError,
    InvalidArgumentError,
    PartialWriteError,
    PipelineError,
    RedisClusterError,
    RedisCommandError,
)
from tests._async.conftest import Stored, recording
from tests._twins import AsyncRedisCluster
from tests.conftest import installed


class Item(BaseRedisModel):
    name: str = ""
    tags: list[str] = []
    count: int = 0
    price: decimal.Decimal = decimal.Decimal("0")


@pytest.fixture
def stored(cluster_client: Any) -> Stored:
    return Stored(cluster_client)


def node_of(client: Any, key: str) -> str:
    return str(client.get_node_from_key(key).name)


def pks_on_every_primary(client: Any) -> list[str]:
    """One pk per primary: Items whose keys are served by three different nodes."""
    found: dict[str, str] = {}
    for i in range(10_000):
        found.setdefault(node_of(client, f"Item:n{i}"), f"n{i}")
        if len(found) == 3:
            return list(found.values())
    raise AssertionError("the cluster does not have three primaries")


async def saved_items(client: Any, pks: list[str]) -> list[Item]:
    items = [Item(pk=pk, name=pk, tags=["t"]) for pk in pks]
    for item in items:
        await item.save()
    return items


def sends_per_node(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Record each sending of commands per node: how many commands went to each node."""
    calls: list[dict[str, int]] = []
    original = executor.async_send_per_node

    async def send(client: Any, keys: Any, commands: Any) -> list[Any]:
        counts: dict[str, int] = {}
        for key in keys:
            name = node_of(client, key)
            counts[name] = counts.get(name, 0) + 1
        calls.append(counts)
        return await original(client, keys, commands)

    monkeypatch.setattr(executor, "async_send_per_node", send)
    return calls


@asynccontextmanager
async def out_of_memory(client: Any, key: str) -> AsyncIterator[str]:
    """The primary serving ``key`` refuses every write (a maxmemory of 1 byte) while the block runs."""
    node = client.get_node_from_key(key)
    await client.execute_command("CONFIG", "SET", "maxmemory", "1", target_nodes=node)
    try:
        yield str(node.name)
    finally:
        await client.execute_command("CONFIG", "SET", "maxmemory", "0", target_nodes=node)


# -- pipeline ------------------------------------------------------------------------------------


async def test_a_pipeline_within_one_hash_slot_is_one_atomic_script_call(cluster_client, stored, monkeypatch):
    first, second = await saved_items(cluster_client, ["{acme}first", "{acme}second"])
    await cluster_client.script_load(BATCH.source)
    sent, _pipelines = recording(cluster_client, monkeypatch)
    per_node = sends_per_node(monkeypatch)
    async with first.pipeline(refresh=False):
        await first.tags.aappend("a")
        await second.count.set(2)
    assert [args[:5] for args in sent] == [("EVALSHA", BATCH.sha, 2, first.key, second.key)]
    assert per_node == []
    assert await stored.doc(first.key, "$.tags") == ["t", "a"]
    assert await stored.doc(second.key, "$.count") == 2


async def test_a_pipeline_over_many_slots_is_one_atomic_step_per_slot_and_one_round_trip_per_node(
    cluster_client, stored, monkeypatch
):
    items = await saved_items(cluster_client, [f"i{n}" for n in range(10)])
    await cluster_client.script_load(BATCH.source)
    sent, _pipelines = recording(cluster_client, monkeypatch)
    per_node = sends_per_node(monkeypatch)
    async with items[0].pipeline(refresh=False):
        for n, item in enumerate(items):
            await item.tags.aappend(f"x{n}")
            await item.count.set(n)
    slots_per_node: dict[str, set[int]] = {}
    for item in items:
        slots_per_node.setdefault(node_of(cluster_client, item.key), set()).add(_paths.hash_slot(item.key))
    # One sending, one pipeline per node, one call (of the batch script) per slot in it.
    assert per_node == [{node: len(slots) for node, slots in slots_per_node.items()}]
    assert sent == []
    for n, item in enumerate(items):
        assert await stored.doc(item.key) == {
            "name": f"i{n}",
            "tags": ["t", f"x{n}"],
            "count": n,
            "price": "0",
        }
        assert item.tags == ["t", f"x{n}"]
        assert item.count == n


async def test_replies_come_back_in_queue_order_with_each_failure_in_its_place(cluster_client, stored):
    a, b, c = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    await cluster_client.execute_command("JSON.SET", b.key, "$.tags", '"not a list"')
    with pytest.raises(PipelineError) as raised:
        async with a.pipeline(refresh=False):
            await a.tags.aappend("x")
            await b.tags.ainsert(1, "x")  # Redis refuses it: the path holds no list
            await c.tags.aappend("x")
            await b.count.set(5)
    (failure,) = raised.value.failures
    position, command, error = failure
    assert position == 1
    assert (command.script.name, command.keys) == ("list_insert", (b.key,))
    assert isinstance(error, RedisCommandError)
    assert "is not a list" in str(error)
    assert node_of(cluster_client, b.key) in str(error)
    # No rollback: everything else ran, in every slot (b's other command too).
    assert await stored.doc(a.key, "$.tags") == ["t", "x"]
    assert await stored.doc(c.key, "$.tags") == ["t", "x"]
    assert await stored.doc(b.key) == {"name": b.pk, "tags": "not a list", "count": 5, "price": "0"}
    # The models involved were reloaded.
    assert a.tags == ["t", "x"]
    assert c.tags == ["t", "x"]


async def test_a_node_that_refuses_writes_fails_only_the_commands_of_its_slots(cluster_client, stored):
    a, b, c = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    async with out_of_memory(cluster_client, b.key) as refusing:
        with pytest.raises(PipelineError) as raised:
            async with a.pipeline(refresh=False):
                await a.count.set(1)
                await b.count.set(2)
                await b.name.set("B")
                await c.count.set(3)
    assert [(position, command[1]) for position, command, _ in raised.value.failures] == [
        (1, b.key),
        (2, b.key),
    ]
    for _position, _command, error in raised.value.failures:
        assert refusing in str(error)
        assert "maxmemory" in str(error)
    assert await stored.doc(a.key, "$.count") == 1
    assert await stored.doc(b.key) == {"name": b.pk, "tags": ["t"], "count": 0, "price": "0"}
    assert await stored.doc(c.key, "$.count") == 3


async def test_each_node_loads_the_batch_script_when_it_lacks_it(cluster_client, stored):
    items = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    await cluster_client.script_flush()
    async with items[0].pipeline(refresh=False):
        for item in items:
            await item.tags.aappend("x")
            await item.count.set(7)
    for item in items:
        assert await stored.doc(item.key, "$.tags") == ["t", "x"]
        assert await stored.script_loaded(BATCH.sha, item.key)


async def test_a_slot_whose_batch_is_too_long_for_a_script_goes_by_multi_exec(cluster_client, stored):
    a, b, _c = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    n = MAX_BATCH_COMMAND_ARGS // 3 + 1
    async with a.pipeline(refresh=False):
        copies = await a.duplicate_many(n, colocate=True)  # one JSON.MSET too long for the script
        await a.tags.aappend("x")
        await b.tags.aappend("y")
    assert await stored.doc(a.key, "$.tags") == ["t", "x"]
    assert await stored.doc(b.key, "$.tags") == ["t", "y"]
    assert await stored.doc(copies[-1].key, "$.tags") == ["t"]
    assert len(await stored.keys("Item:*")) == 3 + n


async def test_an_atomic_pipeline_refuses_a_second_hash_slot_and_sends_nothing(cluster_client, stored):
    a, b, _c = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    with pytest.raises(CrossSlotError) as raised:
        async with a.pipeline(atomic=True):
            await a.name.set("changed")
            await b.name.set("changed")
    assert set(raised.value.slots) == {_paths.hash_slot(a.key), _paths.hash_slot(b.key)}
    assert await stored.doc(a.key, "$.name") == a.pk
    assert await stored.doc(b.key, "$.name") == b.pk
    assert a.name == a.pk


async def test_an_atomic_pipeline_over_models_with_one_hash_tag_is_one_script_call(
    cluster_client, stored, monkeypatch
):
    first, second = await saved_items(cluster_client, ["{acme}1", "{acme}2"])
    sent, _pipelines = recording(cluster_client, monkeypatch)
    async with first.pipeline(atomic=True, refresh=False):
        await first.name.set("one")
        await second.name.set("two")
    assert [args[0] for args in sent][-1] in ("EVALSHA", "EVAL")
    assert len([args for args in sent if args[0] == "EVALSHA"]) == 1
    assert await stored.doc(first.key, "$.name") == "one"
    assert await stored.doc(second.key, "$.name") == "two"


# -- duplicate_many ------------------------------------------------------------------------------


async def test_duplicate_many_writes_one_json_mset_per_slot_in_one_round_trip_per_node(
    cluster_client, stored, monkeypatch
):
    (original,) = await saved_items(cluster_client, ["original"])
    per_node = sends_per_node(monkeypatch)
    await stored.reset_command_calls()
    copies = await original.duplicate_many(100)
    slots = {_paths.hash_slot(copy.key) for copy in copies}
    assert await stored.command_calls() == {"json.mset": len(slots)}
    assert len(per_node) == 1
    assert sum(per_node[0].values()) == len(slots)
    assert len(await stored.keys("Item:*")) == 101
    assert await stored.doc(copies[-1].key) == await stored.doc(original.key)


async def test_duplicate_many_reports_the_copies_stored_when_a_node_refuses_its_slots(cluster_client, stored):
    (original,) = await saved_items(cluster_client, ["original"])
    a, b, _c = pks_on_every_primary(cluster_client)
    async with out_of_memory(cluster_client, f"Item:{b}") as refusing:
        with pytest.raises(PartialWriteError) as raised:
            await original.duplicate_many(30)
    error = raised.value
    assert error.stored and error.failed
    assert len(error.stored) + len(error.failed) == 30
    assert {node_of(cluster_client, copy.key) for copy in error.failed} == {refusing}
    assert all(refusing in str(e) for e in error.errors)
    assert refusing in str(error)
    held = set(await stored.keys("Item:*"))
    assert {copy.key for copy in error.stored} <= held
    assert not {copy.key for copy in error.failed} & held
    # The copies stored are stored models; the others were never saved.
    await error.stored[0].count.aincrease(1)
    assert await stored.doc(error.stored[0].key, "$.count") == 1


async def test_duplicate_many_colocated_is_one_atomic_command_in_the_originals_slot(cluster_client, stored):
    (original,) = await saved_items(cluster_client, ["original"])
    await stored.reset_command_calls()
    copies = await original.duplicate_many(20, colocate=True)
    assert await stored.command_calls() == {"json.mset": 1}
    assert {_paths.hash_slot(copy.key) for copy in copies} == {_paths.hash_slot(original.key)}
    assert all(copy.pk.startswith("{" + original.key + "}") for copy in copies)
    # All or nothing: a refusing node stores none of them.
    async with out_of_memory(cluster_client, original.key):
        with pytest.raises(RedisCommandError, match="maxmemory"):
            await original.duplicate_many(5, colocate=True)
    assert len(await stored.keys("Item:*")) == 21


# -- transactions, scripts, clients --------------------------------------------------------------


async def test_a_decimal_aincrease_is_a_check_and_set_transaction_on_the_cluster(cluster_client, stored):
    (item,) = await saved_items(cluster_client, ["priced"])
    assert await item.price.aincrease(decimal.Decimal("1.25")) == decimal.Decimal("1.25")
    other = await Item.get(item.key)
    await other.price.aincrease(decimal.Decimal("0.75"))
    assert await item.price.aincrease(1) == decimal.Decimal("3.00")
    assert await stored.doc(item.key, "$.price") == "3.00"


async def test_a_redis_py_without_cluster_transactions_is_refused_clearly(
    cluster_client, stored, monkeypatch
):
    a, b, _c = await saved_items(cluster_client, pks_on_every_primary(cluster_client))
    monkeypatch.setattr(_cluster, "REDIS_PY_VERSION", (6, 0))
    with pytest.raises(RedisClusterError, match=r"redis-py supports from 6\.\d on"):
        await a.price.aincrease(1)
    with pytest.raises(RedisClusterError, match="too long for a script"):
        async with a.pipeline(refresh=False):
            await a.duplicate_many(MAX_BATCH_COMMAND_ARGS // 3 + 1, colocate=True)
    assert await stored.doc(a.key, "$.price") == "0"
    assert len(await stored.keys("Item:*")) == 3
    # What needs no transaction still works.
    async with a.pipeline(refresh=False):
        await a.count.set(1)
        await b.count.set(2)
    assert await stored.doc(b.key, "$.count") == 2


async def test_a_cluster_client_with_json_reply_callbacks_is_refused_clearly(cluster_url):
    own = AsyncRedisCluster.from_url(cluster_url)
    try:
        own.json()  # registers reply callbacks for the JSON commands on every node
        with installed(connection, own):
            with pytest.raises(InvalidArgumentError, match=r"json\(\)"):
                await Item(name="x").save()
    finally:
        await own.aclose()


async def test_a_refused_command_names_the_node_of_its_key(cluster_client):
    (item,) = await saved_items(cluster_client, ["named"])
    await cluster_client.execute_command("JSON.SET", item.key, "$.tags", '"text"')
    with pytest.raises(RedisCommandError, match="is not a list") as raised:
        await item.tags.ainsert(1, "x")
    assert node_of(cluster_client, item.key) in str(raised.value)


async def test_a_lock_and_its_document_share_a_slot_so_the_save_script_runs(cluster_client, stored):
    (item,) = await saved_items(cluster_client, ["locked"])
    lock_key = _paths.lock_key_for(item.key, "edit")
    assert _paths.hash_slot(lock_key) == _paths.hash_slot(item.key)
    async with item.lock("edit") as locked:
        assert await stored.exists(lock_key)
        locked.count = 9
    assert await stored.doc(item.key, "$.count") == 9
    assert not await stored.exists(lock_key)
