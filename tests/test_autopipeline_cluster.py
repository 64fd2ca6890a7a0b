"""Automatic pipelining on a real Redis Cluster (asyncio face): the operations that concurrent
tasks send go as one batch per node, and each keeps its own semantics.

Each test has a cluster client of its own that never sends a command again (like the default
cluster client), reads what Redis holds with a blocking cluster client, and records the
non-transactional cluster pipelines the library executes (the batches) with the node that
serves each of their keys.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio.cluster
import redis.cluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.cluster import LoadBalancingStrategy

from redis_pydantic import BaseRedisModel, configure_autopipeline
from redis_pydantic._async import connection
from redis_pydantic._autopipeline import async_command_sender
from redis_pydantic._paths import _tag_of_slot, hash_slot
from redis_pydantic.errors import KeyNotFoundError, RedisClusterError, RedisCommandError, RedisConnectionError
from tests.conftest import installed
from tests.faults import until_blocked
from tests.randomized_run import Expected, plan, run_async_steps


class Tally(BaseRedisModel):
    events: list[str] = []
    counter: int = 0
    label: str = ""
    seen: dict[str, int] = {}


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_PYDANTIC_AUTOPIPELINE", raising=False)
    monkeypatch.delenv("REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH", raising=False)


def no_retry_cluster(url: str, **options: Any) -> redis.asyncio.cluster.RedisCluster:
    """A cluster client that never sends a command again (like the default cluster client)."""
    return redis.asyncio.cluster.RedisCluster.from_url(url, retry=Retry(NoBackoff(), 0), **options)


@pytest.fixture(scope="module")
def raw(cluster_url: str) -> Iterator[redis.cluster.RedisCluster]:
    """A blocking cluster client of the test's own, to read what Redis holds."""
    reader = redis.cluster.RedisCluster.from_url(cluster_url)
    yield reader
    reader.close()


@pytest.fixture
async def client(cluster_url: str, raw: redis.cluster.RedisCluster) -> AsyncIterator[Any]:
    """A no-retry asyncio cluster client, its slot map loaded, installed as every model's client."""
    raw.flushdb()
    cluster = no_retry_cluster(cluster_url)
    await cluster.initialize()
    with installed(connection, cluster):
        yield cluster
    await cluster.aclose()


class Batch:
    """One non-transactional cluster pipeline the library executed: its commands, and the node
    that served each command's key when the batch was made."""

    def __init__(self, commands: list[tuple[Any, ...]], nodes: list[str]) -> None:
        self.commands = commands
        self.nodes = nodes

    @property
    def names(self) -> list[str]:
        return [str(command[0]) for command in self.commands]

    def __repr__(self) -> str:
        return f"Batch({self.names}, {self.nodes})"


def key_of(command: tuple[Any, ...]) -> str:
    return str(command[3] if command[0] in ("EVALSHA", "EVAL") else command[1])


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch, raw: redis.cluster.RedisCluster) -> list[Batch]:
    return record_batches(monkeypatch, raw)


def record_batches(monkeypatch: pytest.MonkeyPatch, reader: redis.cluster.RedisCluster) -> list[Batch]:
    """Record every cluster pipeline executed, with the node that serves each key (``reader``'s
    slot map)."""
    seen: list[Batch] = []
    queued: dict[int, list[tuple[Any, ...]]] = {}
    cls = redis.asyncio.cluster.ClusterPipeline
    original_command, original_execute = cls.execute_command, cls.execute

    def execute_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        queued.setdefault(id(self), []).append(args)
        return original_command(self, *args, **kwargs)

    async def execute(self: Any, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        commands = queued.pop(id(self), [])
        seen.append(Batch(commands, [reader.get_node_from_key(key_of(c)).name for c in commands]))
        return await original_execute(self, raise_on_error, allow_redirections)

    monkeypatch.setattr(cls, "execute_command", execute_command)
    monkeypatch.setattr(cls, "execute", execute)
    return seen


def stored(reader: Any, key: str) -> Any:
    reply = reader.execute_command("JSON.GET", key, "$")
    return None if reply is None else json.loads(reply)[0]


def node_of(reader: redis.cluster.RedisCluster, key: str) -> str:
    return str(reader.get_node_from_key(key).name)


def pks_per_node(reader: redis.cluster.RedisCluster, per_node: int) -> dict[str, list[str]]:
    """``per_node`` pks of Tally documents served by each primary."""
    found: dict[str, list[str]] = {}
    primaries = len(primary_names(reader))
    for i in range(100_000):
        pk = f"p{i}"
        mine = found.setdefault(node_of(reader, f"Tally:{pk}"), [])
        if len(mine) < per_node:
            mine.append(pk)
        if len(found) == primaries and all(len(pks) == per_node for pks in found.values()):
            return found
    raise AssertionError("no pks for every primary")


def node_client(name: str) -> redis.Redis:
    host, port = name.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), socket_timeout=10)


# --------------------------------------------------------------------------- batches per node


async def test_concurrent_operations_go_as_one_batch_per_node(client, batches, raw):
    per_node = pks_per_node(raw, 10)
    tallies = [await Tally(pk=pk).save() for pks in per_node.values() for pk in pks]
    await asyncio.gather(*(t.counter.aincrease(i + 1) for i, t in enumerate(tallies)))
    # The first is sent at once (nothing else in flight); the others go at the end of the loop
    # iteration, as one batch per node, each holding only commands whose keys that node serves.
    assert sorted(len(batch.commands) for batch in batches) == sorted(
        [10, 10, 9] if len(per_node) == 3 else [len(p) for p in per_node.values()]
    )
    assert all(len(set(batch.nodes)) == 1 for batch in batches), batches
    assert len({batch.nodes[0] for batch in batches}) == len(per_node)
    assert all(batch.names == ["JSON.NUMINCRBY"] * len(batch.commands) for batch in batches)
    assert [stored(raw, t.key)["counter"] for t in tallies] == list(range(1, len(tallies) + 1))
    assert [t.counter for t in tallies] == list(range(1, len(tallies) + 1))


async def test_each_operation_of_a_node_batch_gets_its_own_reply_or_error(client, batches, raw):
    # Every key in one hash slot: one node serves them all, and they share one batch.
    tag = "{" + _tag_of_slot(hash_slot("Tally:errors")) + "}"
    tallies = [await Tally(pk=f"{tag}{i}").save() for i in range(4)]
    broken = await Tally(pk=f"{tag}broken").save()
    raw.execute_command("JSON.SET", broken.key, "$.counter", '"not a number"')
    wrong_type = f"Tally:{tag}plain"
    raw.set(wrong_type, "a plain string, not a JSON document")
    missing = f"Tally:{tag}missing"

    results = await asyncio.gather(
        tallies[0].events.aappend("sent at once"),
        tallies[1].events.aappend("a"),
        broken.counter.aincrease(1),  # Redis answers [nil]: refused, only here
        Tally.get(missing),  # nil: KeyNotFoundError, only here
        Tally.get(wrong_type),  # an error reply (wrong type), only here
        tallies[2].counter.aincrease(5),
        tallies[3].label.set("x"),
        Tally.get(tallies[3].key),
        return_exceptions=True,
    )
    assert [len(batch.commands) for batch in batches] == [7]
    assert len(set(batches[0].nodes)) == 1
    assert results[:2] == [None, None]
    assert isinstance(results[2], RedisCommandError) and "not a number" in str(results[2])
    assert isinstance(results[3], KeyNotFoundError)
    assert isinstance(results[4], RedisCommandError) and "wrong Redis type" in str(results[4])
    assert results[5] == 5
    assert results[6] is None
    assert isinstance(results[7], Tally) and results[7].key == tallies[3].key
    assert stored(raw, tallies[0].key)["events"] == ["sent at once"]
    assert stored(raw, tallies[1].key)["events"] == ["a"]
    assert stored(raw, tallies[2].key)["counter"] == 5
    assert stored(raw, tallies[3].key)["label"] == "x"
    assert stored(raw, broken.key)["counter"] == "not a number"
    assert broken.counter == 0


async def test_scripts_and_first_writes_route_to_the_node_of_their_keys(client, batches, raw):
    per_node = pks_per_node(raw, 4)
    saved = [await Tally(pk=pk).save() for pks in per_node.values() for pk in pks[:2]]
    fresh = [Tally(pk=pk) for pks in per_node.values() for pk in pks[2:]]  # never saved
    raw.script_flush()  # every node: the scripts go by EVALSHA, are missing, and go again by EVAL

    async def block(tally: Tally) -> None:
        async with tally.pipeline(refresh=False):
            await tally.events.aappend("p")
            await tally.counter.set(2)

    await asyncio.gather(
        saved[0].label.set("sent at once"),
        *(t.seen.aupdate({"a": i}) for i, t in enumerate(saved)),  # a script per operation
        *(block(t) for t in saved),  # one script call per block
        *(t.events.aappend("first") for t in fresh),  # creates the document: one script call
    )
    # Each batch holds the commands of one node, scripts (EVALSHA, then EVAL) included.
    assert all(len(set(batch.nodes)) == 1 for batch in batches), batches
    assert {"EVALSHA", "EVAL"} <= {name for batch in batches for name in batch.names}
    for i, tally in enumerate(saved):
        doc = stored(raw, tally.key)
        assert doc["seen"] == {"a": i} and doc["events"] == ["p"] and doc["counter"] == 2
    assert stored(raw, saved[0].key)["label"] == "sent at once"
    for tally in fresh:
        assert stored(raw, tally.key)["events"] == ["first"]


async def test_commands_without_a_known_key_are_sent_alone(client, raw, monkeypatch):
    tally = await Tally().save()
    sent: list[tuple[Any, ...]] = []
    original = redis.asyncio.cluster.RedisCluster.execute_command

    async def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        sent.append(args)
        return await original(self, *args, **options)

    monkeypatch.setattr(redis.asyncio.cluster.RedisCluster, "execute_command", execute_command)
    # The class's execute_command is patched after the client was checked: a batch would skip it.
    send = async_command_sender(client)
    replies = await asyncio.gather(
        send("JSON.GET", tally.key, "$.counter"),  # sent at once: nothing in flight
        send("PING"),  # no key: routed by redis-py
        send("EVAL", "return 1", 0),  # a script without keys: any node
        send("JSON.DEBUG", "MEMORY", tally.key),  # its key is not first: routed by redis-py
        send("EXISTS", tally.key, "Tally:elsewhere"),  # keys of two slots: refused alone
        send("JSON.GET", tally.key, "$.label"),
        send("JSON.GET", tally.key, "$.events"),
        return_exceptions=True,
    )
    assert hash_slot(tally.key) != hash_slot("Tally:elsewhere")
    names = [args[0] for args in sent]
    assert names[:5] == ["JSON.GET", "PING", "EVAL", "JSON.DEBUG", "EXISTS"]
    assert "JSON.GET" not in names[1:]  # the last two went together, as a batch
    assert replies[1] is True and replies[2] == 1 and isinstance(replies[3], int)
    assert isinstance(replies[4], redis.exceptions.RedisClusterException)
    assert [json.loads(r) for r in (replies[0], replies[5], replies[6])] == [[0], [""], [[]]]


# --------------------------------------------------------------------------- cancellation


@pytest.mark.parametrize("cancelled", [1, 2], ids=["the-task-that-sends-the-batches", "another"])
async def test_a_task_cancelled_before_its_batch_is_written_sends_nothing(client, batches, raw, cancelled):
    tag = "{" + _tag_of_slot(hash_slot("Tally:cancel")) + "}"
    tallies = [await Tally(pk=f"{tag}{i}").save() for i in range(4)]
    tasks = [asyncio.create_task(t.events.aappend("x")) for t in tallies]
    await asyncio.sleep(0)  # the first is on the wire; the second waits to send the others
    tasks[cancelled].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[cancelled], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != cancelled] == [None] * 3
    assert [batch.names for batch in batches] == [["JSON.ARRAPPEND"] * 2]
    assert [stored(raw, t.key)["events"] for t in tallies] == [
        [] if i == cancelled else ["x"] for i in range(4)
    ]


async def test_a_task_cancelled_while_its_node_batch_is_on_the_wire_disturbs_no_other(client, batches, raw):
    per_node = pks_per_node(raw, 3)
    (paused, paused_pks), (other, other_pks), (alone_node, alone_pks) = list(per_node.items())[:3]
    on_paused = [await Tally(pk=pk).save() for pk in paused_pks]
    on_other = [await Tally(pk=pk).save() for pk in other_pks]
    alone = await Tally(pk=alone_pks[0]).save()
    admin = node_client(paused)
    admin.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")  # writes wait at that node
    try:
        first = asyncio.create_task(alone.events.aappend("sent at once"))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(t.events.aappend("x")) for t in on_paused]
        going = [asyncio.create_task(t.events.aappend("y")) for t in on_other]
        await until_blocked(admin, 1)  # the batch of the paused node
        # The other node's batch is not held up by the paused one.
        assert await asyncio.gather(first, *going) == [None] * 4
        waiting[1].cancel()
        await asyncio.sleep(0.05)
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[0] is None and results[2] is None
    assert sorted(batch.nodes[0] for batch in batches) == sorted([paused, other])
    # The cancelled task's command had been written: Redis ran it; its reply was dropped.
    assert [stored(raw, t.key)["events"] for t in on_paused] == [["x"]] * 3
    assert on_paused[1].events == []
    assert [stored(raw, t.key)["events"] for t in on_other] == [["y"]] * 3
    # Every reply of the batch was read: the connections give later commands their own.
    loaded = await asyncio.gather(*(Tally.get(t.key) for t in (on_paused + on_other) * 10))
    assert [m.key for m in loaded] == [t.key for t in (on_paused + on_other) * 10]


# --------------------------------------------------------------------------- connection failures


async def test_a_connection_killed_mid_batch_fails_only_the_commands_on_it(client, batches, raw):
    per_node = pks_per_node(raw, 3)
    (victim_node, victim_pks), (other, other_pks), (_, alone_pks) = list(per_node.items())[:3]
    killed = await Tally(pk=victim_pks[0]).save()
    read_first = await Tally(pk=victim_pks[1], label="read").save()
    on_other = [await Tally(pk=pk).save() for pk in other_pks]
    alone = await Tally(pk=alone_pks[0]).save()
    admin = node_client(victim_node)
    long_item = "L" * 2000
    admin.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")
    try:
        tasks = [asyncio.create_task(alone.events.aappend("sent at once"))]
        await asyncio.sleep(0)
        tasks += [
            # The victim node's batch: a read (the node answers it), then writes that wait.
            asyncio.create_task(Tally.get(read_first.key)),
            asyncio.create_task(killed.counter.aincrease(1)),
            asyncio.create_task(killed.events.aappend(long_item)),
            # Another node's batch.
            asyncio.create_task(on_other[0].events.aappend("b")),
            asyncio.create_task(on_other[1].counter.aincrease(2)),
            asyncio.create_task(on_other[2].label.set("kept")),
        ]
        (victim,) = await until_blocked(admin, 1)
        admin.execute_command("CLIENT", "KILL", "ID", victim["id"])
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(len(batch.commands) for batch in batches) == [3, 3]
    assert results[0] is None
    # Each command of the killed connection has its own outcome: the read was answered before
    # the connection died; the writes got no reply.
    assert isinstance(results[1], Tally) and results[1].label == "read"
    assert all(isinstance(r, RedisConnectionError) for r in results[2:4]), results
    assert victim_node in str(results[2])  # the error names the node
    assert results[4:] == [None, 2, None]
    # The node never ran the writes of the killed connection, and nothing was sent again.
    assert stored(raw, killed.key) == {"events": [], "counter": 0, "label": "", "seen": {}}
    assert (killed.events, killed.counter) == ([], 0)
    assert [stored(raw, t.key) for t in on_other] == [
        {"events": ["b"], "counter": 0, "label": "", "seen": {}},
        {"events": [], "counter": 2, "label": "", "seen": {}},
        {"events": [], "counter": 0, "label": "kept", "seen": {}},
    ]
    assert stored(raw, alone.key)["events"] == ["sent at once"]
    # The client goes on: the dead connection is not handed out again.
    await asyncio.gather(*(killed.counter.aincrease(1) for _ in range(10)))
    assert stored(raw, killed.key)["counter"] == 10


def cluster_nodes(reader: redis.cluster.RedisCluster) -> list[str]:
    """The lines of CLUSTER NODES, as a primary knows the cluster."""
    admin = node_client(reader.get_primaries()[0].name)
    try:
        return list(admin.execute_command("CLUSTER", "NODES").decode().splitlines())
    finally:
        admin.close()


def every_node(reader: redis.cluster.RedisCluster) -> list[str]:
    """The addresses of every node of the cluster."""
    return [line.split()[1].split("@")[0] for line in cluster_nodes(reader)]


def primary_names(reader: redis.cluster.RedisCluster) -> list[str]:
    """The addresses of the primaries that serve slots."""
    lines = cluster_nodes(reader)
    return [
        line.split()[1].split("@")[0]
        for line in lines
        if "master" in line.split()[2] and "fail" not in line.split()[2] and len(line.split()) > 8
    ]


def slot_map_loads(reader: redis.cluster.RedisCluster) -> int:
    """How many times the nodes were asked for the slot map (CLUSTER SLOTS) since they started."""
    total = 0
    for name in every_node(reader):
        admin = node_client(name)
        try:
            total += int(admin.info("commandstats").get("cmdstat_cluster|slots", {}).get("calls", 0))
        finally:
            admin.close()
    return total


async def test_a_node_batch_that_gets_no_answer_makes_the_client_reload_its_slot_map(cluster_url, raw):
    # A node that does not answer may have died: redis-py reloads its slot map after one of its
    # own commands fails that way (to find a replica that took over), not after a pipeline does.
    raw.flushdb()
    cluster = no_retry_cluster(cluster_url, socket_timeout=0.25)
    await cluster.initialize()
    per_node = pks_per_node(raw, 3)
    (silent, silent_pks), (_, alone_pks) = list(per_node.items())[:2]
    try:
        with installed(connection, cluster):
            on_silent = [await Tally(pk=pk).save() for pk in silent_pks]
            alone = await Tally(pk=alone_pks[0]).save()
            loads = slot_map_loads(raw)
            admin = node_client(silent)
            admin.execute_command("CLIENT", "PAUSE", 1000, "ALL")  # answers no one for a second
            admin.close()
            results = await asyncio.gather(
                alone.events.aappend("sent at once"),
                *(Tally.get(t.key) for t in on_silent),  # one batch, which gets no answer
                return_exceptions=True,
            )
            assert results[0] is None
            # The first read timed out, which closed the connection: no reply came for the others.
            assert "Timeout reading" in str(results[1])
            assert all(isinstance(r, RedisConnectionError) and silent in str(r) for r in results[1:]), results
            await asyncio.sleep(1.0)  # the node answers again
            assert [(await Tally.get(t.key)).key for t in on_silent] == [t.key for t in on_silent]
            assert slot_map_loads(raw) > loads
    finally:
        await cluster.aclose()


# --------------------------------------------------------------------------- redirections


def node_id(name: str) -> str:
    admin = node_client(name)
    try:
        return str(admin.execute_command("CLUSTER", "MYID").decode())
    finally:
        admin.close()


def error_count(name: str, error: str) -> int:
    """How many ``error`` replies (MOVED, ASK) the node gave since it started."""
    admin = node_client(name)
    try:
        stats = admin.info("errorstats")
    finally:
        admin.close()
    return int(stats.get(f"errorstat_{error}", {}).get("count", 0))


def begin_migration(slot: int, source: str, target: str) -> None:
    """Mark ``slot`` as leaving ``source`` for ``target`` (its keys stay until moved)."""
    target_admin, source_admin = node_client(target), node_client(source)
    try:
        target_admin.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source))
        source_admin.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target))
    finally:
        target_admin.close()
        source_admin.close()


def move_keys(slot: int, source: str, target: str, keys: list[str] | None = None) -> None:
    """Move ``keys`` (default: every key of ``slot``) from ``source`` to ``target`` (MIGRATE)."""
    source_admin = node_client(source)
    host, port = target.rsplit(":", 1)
    try:
        if keys is None:
            keys = [k.decode() for k in source_admin.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)]
        if keys:
            source_admin.execute_command("MIGRATE", host, int(port), "", 0, 5000, "KEYS", *keys)
    finally:
        source_admin.close()


def end_migration(slot: int, target: str, nodes: list[str]) -> None:
    """Give ``slot`` to ``target``, on every primary."""
    target_id = node_id(target)
    for name in [target, *(n for n in nodes if n != target)]:
        admin = node_client(name)
        try:
            admin.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        finally:
            admin.close()


def migrate_slot(slot: int, source: str, target: str, nodes: list[str]) -> None:
    begin_migration(slot, source, target)
    move_keys(slot, source, target)
    end_migration(slot, target, nodes)


def wait_for_agreement(raw: redis.cluster.RedisCluster, slot: int, owner: str) -> None:
    """Return once every node says ``owner`` serves ``slot`` (replicas learn it by gossip)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answers = set()
        for name in every_node(raw):
            admin = node_client(name)
            try:
                for start, end, primary, *_ in admin.execute_command("CLUSTER", "SLOTS"):
                    if int(start) <= slot <= int(end):
                        answers.add(f"{primary[0].decode()}:{primary[1]}")
            finally:
                admin.close()
        if answers == {owner}:
            return
        time.sleep(0.05)
    raise AssertionError(f"the nodes do not agree that {owner} serves slot {slot}")


class SlotMoves:
    """The slots a test moves from one primary to another; each is given back at the end."""

    def __init__(self, raw: redis.cluster.RedisCluster) -> None:
        self.raw = raw
        self.primaries = primary_names(raw)
        #: (slot, original owner, other node, whether the move is only begun)
        self.moves: list[tuple[int, str, str, bool]] = []

    def move(self, slot: int, source: str, target: str) -> None:
        """Give ``slot`` and its keys to ``target``."""
        self.moves.append((slot, source, target, False))
        migrate_slot(slot, source, target, self.primaries)
        wait_for_agreement(self.raw, slot, target)

    def begin(self, slot: int, source: str, target: str, keys: list[str]) -> None:
        """Begin moving ``slot`` to ``target``, and move only ``keys`` (ASK for them then)."""
        self.moves.append((slot, source, target, True))
        begin_migration(slot, source, target)
        move_keys(slot, source, target, keys)

    def give_back(self) -> None:
        for slot, owner, other, begun in reversed(self.moves):
            if begun:  # finished first: the keys already moved can only come back with the slot
                move_keys(slot, owner, other)
                end_migration(slot, other, self.primaries)
            migrate_slot(slot, other, owner, self.primaries)
            wait_for_agreement(self.raw, slot, owner)
        self.raw.nodes_manager.initialize()


@pytest.fixture
def slot_moves(raw: redis.cluster.RedisCluster) -> Iterator[SlotMoves]:
    moves = SlotMoves(raw)
    yield moves
    moves.give_back()


async def test_moved_commands_of_a_batch_run_once_on_the_new_node(client, batches, raw, slot_moves):
    primaries = primary_names(raw)
    slot = hash_slot("Tally:moving")
    tag = "{" + _tag_of_slot(slot) + "}"
    source = node_of(raw, f"Tally:{tag}")
    target = next(name for name in primaries if name != source)
    moving = [await Tally(pk=f"{tag}{i}").save() for i in range(4)]
    fresh = [Tally(pk=f"{tag}new{i}") for i in range(2)]  # created by a script call
    per_node = pks_per_node(raw, 2)
    staying = [await Tally(pk=pk).save() for pk in per_node[source]]
    await Tally.get(moving[0].key)  # the client's slot map says the source serves the slot
    slot_moves.move(slot, source, target)  # behind the client's back
    moved_before = error_count(source, "MOVED")

    await asyncio.gather(
        staying[0].label.set("sent at once"),
        *(t.events.aappend("x") for t in moving),
        *(t.seen.aset_item("k", i) for i, t in enumerate(moving)),  # a script (EVALSHA) each
        *(t.events.aappend("first") for t in fresh),
        *(t.events.aappend("stays") for t in staying),
    )
    # The source node's batch held the moved commands: it answered MOVED for each, and redis-py
    # sent each again through the cluster client, to the new node; it ran there once.
    assert error_count(source, "MOVED") - moved_before >= len(moving) * 2 + len(fresh)
    source_batch = [b for b in batches if b.nodes[0] == source and b.names.count("JSON.ARRAPPEND") >= 4]
    assert source_batch, batches
    raw.nodes_manager.initialize()
    for i, tally in enumerate(moving):
        assert node_of(raw, tally.key) == target
        doc = stored(raw, tally.key)
        assert doc["events"] == ["x"] and doc["seen"] == {"k": i}, doc
    for tally in fresh:
        assert stored(raw, tally.key)["events"] == ["first"]
    assert [stored(raw, t.key)["events"] for t in staying] == [["stays"], ["stays"]]
    assert stored(raw, staying[0].key)["label"] == "sent at once"
    # The client has learnt the new owner: the next batch goes to it directly.
    batches.clear()
    await asyncio.gather(*(t.counter.aincrease(1) for t in moving * 2))
    assert {node for batch in batches for node in batch.nodes} == {target}
    assert [stored(raw, t.key)["counter"] for t in moving] == [2] * 4


async def test_asked_commands_of_a_batch_run_once_on_the_importing_node(client, batches, raw, slot_moves):
    primaries = primary_names(raw)
    slot = hash_slot("Tally:asking")
    tag = "{" + _tag_of_slot(slot) + "}"
    source = node_of(raw, f"Tally:{tag}")
    target = next(name for name in primaries if name != source)
    tallies = [await Tally(pk=f"{tag}{i}").save() for i in range(6)]
    fresh = Tally(pk=f"{tag}new")
    slot_moves.begin(slot, source, target, [t.key for t in tallies[3:]])  # half the documents move
    asked_before = error_count(source, "ASK")

    # Every command of the slot goes to the source node, as one batch (after the first, sent at
    # once): the source runs those whose document it still holds, and answers ASK for the others
    # (and for the new document), which redis-py sends to the importing node (ASKING first).
    await asyncio.gather(
        *(t.events.aappend("x") for t in tallies),
        *(t.counter.aincrease(i) for i, t in enumerate(tallies)),
        fresh.events.aappend("first"),
    )
    assert error_count(source, "ASK") - asked_before >= 6 + 1
    assert any(b.nodes[0] == source and len(b.commands) >= 6 for b in batches), batches
    for i, tally in enumerate(tallies):
        doc = read_on(source if i < 3 else target, tally.key)
        assert doc["events"] == ["x"] and doc["counter"] == i, (i, doc)
    assert read_on(target, fresh.key)["events"] == ["first"]


def read_on(name: str, key: str) -> Any:
    """The document at ``key`` as node ``name`` holds it (ASKING: the node may be importing it)."""
    admin = node_client(name)
    try:
        with admin.pipeline(transaction=False) as pipe:  # one connection: ASKING applies to it
            pipe.execute_command("ASKING")
            pipe.execute_command("JSON.GET", key, "$")
            return json.loads(pipe.execute()[1])[0]
    finally:
        admin.close()


# --------------------------------------------------------------------------- a randomized run


async def test_no_write_is_lost_or_duplicated_in_a_randomized_run(client, batches, raw):
    per_node = pks_per_node(raw, 6)
    docs = [await Tally(pk=pk).save() for pks in per_node.values() for pk in pks]
    steps = plan(seed=161, workers=60, per_worker=100, docs=len(docs))  # 6,000 operations
    missing = "Tally:missing"

    await asyncio.gather(*(run_async_steps(Tally, docs, s, missing) for s in steps))
    Expected.of(steps, len(docs)).check([stored(raw, d.key) for d in docs])
    coalesced = sum(len(batch.commands) for batch in batches)
    assert coalesced > 3000 and max(len(batch.commands) for batch in batches) > 15
    assert all(len(set(batch.nodes)) == 1 for batch in batches)
    assert len({batch.nodes[0] for batch in batches}) == len(per_node)


# --------------------------------------------------------------------------- which cluster clients


async def test_cluster_clients_that_retry_or_read_from_replicas_send_every_command_at_once(cluster_url):
    candidates = [
        redis.asyncio.cluster.RedisCluster.from_url(cluster_url),  # redis-py's default: 3 retries
        no_retry_cluster(cluster_url, load_balancing_strategy=LoadBalancingStrategy.ROUND_ROBIN),
    ]
    batching = no_retry_cluster(cluster_url)
    try:
        for candidate in candidates:
            assert async_command_sender(candidate) == candidate.execute_command
        assert async_command_sender(batching) != batching.execute_command
    finally:
        for each in (*candidates, batching):
            await each.aclose()


async def test_a_cluster_client_whose_retry_changes_later_sends_every_command_at_once(client, batches, raw):
    tallies = [await Tally().save() for _ in range(12)]
    await asyncio.gather(*(t.events.aappend("a") for t in tallies))
    assert batches  # coalesced
    client.set_retry(Retry(NoBackoff(), 2))
    batches.clear()
    await asyncio.gather(*(t.events.aappend("b") for t in tallies))
    assert batches == []
    assert async_command_sender(client) == client.execute_command  # no more waiting for company
    assert all(stored(raw, t.key)["events"] == ["a", "b"] for t in tallies)


async def test_configure_autopipeline_turns_it_off_for_a_cluster_client(client, batches, raw):
    tag = "{" + _tag_of_slot(hash_slot("Tally:configured")) + "}"  # one node: batches can form
    tallies = [await Tally(pk=f"{tag}{i}").save() for i in range(13)]
    configure_autopipeline(client, enabled=False)
    await asyncio.gather(*(t.events.aappend("x") for t in tallies))
    assert batches == []
    configure_autopipeline(client, max_batch=2)
    await asyncio.gather(*(t.events.aappend("y") for t in tallies))
    assert [len(batch.commands) for batch in batches] == [2] * 6  # after the first, sent at once
    assert all(stored(raw, t.key)["events"] == ["x", "y"] for t in tallies)


# --------------------------------------------------------------------------- a primary dies


@pytest.fixture
def own_cluster() -> Iterator[Any]:
    """A cluster of the test's own (one of its primaries will die)."""
    from tests.redis_cluster import RedisCluster, redis_cli_available
    from tests.redis_server import find_rejson, redis_server_available

    if not redis_server_available() or not redis_cli_available() or find_rejson() is None:
        pytest.skip("REAL REDIS BACKEND SKIPPED: redis-server, redis-cli or rejson.so is not installed")
    with RedisCluster(extra_args=["--cluster-require-full-coverage", "no"]) as own:
        try:
            yield own
        finally:  # shown by pytest when the test fails
            for server in own.servers:
                print(f"--- log of the node on port {server.port} ---\n{server.read_log()}")


async def test_batches_to_a_dead_primary_fail_alone_and_resume_on_its_replica(own_cluster, monkeypatch):
    reader = redis.cluster.RedisCluster.from_url(own_cluster.url)
    batches = record_batches(monkeypatch, reader)
    cluster = no_retry_cluster(own_cluster.url)
    await cluster.initialize()
    docs_per_node = pks_per_node(reader, 4)
    victim = next(iter(docs_per_node))
    lost = {f"Tally:{pk}" for pk in docs_per_node[victim]}
    acknowledged: dict[str, list[str]] = {}
    failures: list[tuple[str, float, BaseException]] = []
    races: list[tuple[str, Exception]] = []
    last_success: dict[str, float] = {}
    stop = asyncio.Event()

    async def writer(w: int, tallies: list[Tally]) -> None:
        n = 0
        while not stop.is_set():
            for tally in tallies:
                n += 1
                entry, started = f"{w}.{n}", time.monotonic()
                try:
                    await tally.events.aappend(entry)
                except (RedisConnectionError, RedisClusterError) as exc:
                    failures.append((tally.key, started, exc))
                    await asyncio.sleep(0.01)
                except (AttributeError, TypeError) as exc:
                    # redis-py 8.1's asyncio cluster client, after a command fails to reach a
                    # node, disconnects that node's free connections while another task may be
                    # taking one to write on it; that task gets this AttributeError (or, from
                    # Python 3.12's transport closed under it, "TypeError: 'NoneType' object is
                    # not callable"), with automatic pipelining or without it. Only the dead
                    # node's operations see it.
                    races.append((tally.key, exc))
                    await asyncio.sleep(0.01)
                else:
                    acknowledged.setdefault(tally.key, []).append(entry)
                    last_success[tally.key] = started

    try:
        with installed(connection, cluster):
            tallies = [await Tally(pk=pk).save() for pks in docs_per_node.values() for pk in pks]
            writers = [asyncio.create_task(writer(w, tallies[w % 3 :: 3])) for w in range(24)]
            await asyncio.sleep(0.5)  # every node busy with batches
            killed_at = time.monotonic()
            own_cluster.server_at(int(victim.rsplit(":", 1)[1])).kill()
            while time.monotonic() - killed_at < 20:
                await asyncio.sleep(0.2)
                if all(last_success.get(key, 0.0) > killed_at for key in lost):
                    await asyncio.sleep(0.5)  # and they keep working
                    break
            stop.set()
            await asyncio.gather(*writers)
    finally:
        await cluster.aclose()
    own_cluster.wait_until_ok()
    reader.nodes_manager.initialize()
    try:
        assert all(last_success.get(key, 0.0) > killed_at for key in lost), "the lost slots did not resume"
        # The other nodes' batches never failed; the dead node's failed with errors naming it.
        assert [(key, str(exc)) for key, _, exc in failures if key not in lost] == []
        assert failures and any(victim in str(exc) for _, _, exc in failures)
        assert [key for key, _ in races if key not in lost] == [], races
        assert len(batches) > 100 and all(len(set(batch.nodes)) == 1 for batch in batches)
        # No acknowledged write is lost, and none is there twice.
        for key, entries in acknowledged.items():
            held = json.loads(reader.execute_command("JSON.GET", key, "$.events"))[0]
            assert set(entries) <= set(held), key
            assert len(held) == len(set(held)), key
    finally:
        reader.close()
