"""Automatic pipelining (asyncio face): operations that concurrent tasks send while others are in
flight share round trips, and each keeps its own semantics.

The tests read what Redis holds with a client of their own, and record the non-transactional
redis-py pipelines the library writes (the batches), to show that the operations were coalesced.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.client
import redis.asyncio.cluster
from pydantic import Field

from redis_pydantic import BaseRedisModel, configure_autopipeline
from redis_pydantic._async import connection
from redis_pydantic._autopipeline import async_command_sender
from redis_pydantic.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    PipelineError,
    RedisCommandError,
    RedisConnectionError,
)
from redis_pydantic.testing._fake import FakeAsyncRedis
from tests.conftest import installed
from tests.faults import until_blocked
from tests.randomized_run import Expected, plan, run_async_steps


class Account(BaseRedisModel):
    events: list[str] = []
    counter: int = 0
    label: str = ""
    seen: dict[str, int] = {}


class Stock(BaseRedisModel):
    units: int = Field(default=0, ge=0)  # changed by check-and-set (WATCH, MULTI/EXEC)


class Quiet(BaseRedisModel):
    """A model whose operations never share a round trip with other tasks' operations."""

    events: list[str] = []
    seen: dict[str, int] = {}

    class Meta:
        autopipeline = False


class QuietChild(Quiet):
    """Inherits ``autopipeline = False``."""


class LoudChild(Quiet):
    class Meta:
        autopipeline = True


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_PYDANTIC_AUTOPIPELINE", raising=False)
    monkeypatch.delenv("REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH", raising=False)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The command names of every non-transactional pipeline executed (one list per batch)."""
    return record_pipelines(monkeypatch, lambda args: [str(args[0])])


def record_pipelines(monkeypatch: pytest.MonkeyPatch, describe: Any) -> list[list[str]]:
    """What ``describe(args)`` lists for the commands of every non-transactional pipeline
    executed (one list per batch)."""
    seen: list[list[str]] = []
    original = redis.asyncio.client.Pipeline.execute

    async def execute(self: Any, raise_on_error: bool = True) -> Any:
        if not self.is_transaction:
            seen.append([item for args, _ in self.command_stack for item in describe(args)])
        return await original(self, raise_on_error)

    monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", execute)
    return seen


@pytest.fixture
async def client(real_redis_url: str) -> AsyncIterator[Any]:
    """A plain asyncio client on the real server, flushed, installed as every model's client."""
    redis_client = redis.asyncio.Redis.from_url(real_redis_url)
    await redis_client.flushdb()
    with installed(connection, redis_client):
        yield redis_client
    await redis_client.aclose()


@pytest.fixture
def raw(real_redis_url: str) -> Iterator[redis.Redis]:
    reader = redis.Redis.from_url(real_redis_url)
    yield reader
    reader.close()


def stored(reader: redis.Redis, key: str) -> Any:
    reply = reader.execute_command("JSON.GET", key, "$")
    return None if reply is None else json.loads(reply)[0]


def no_retry_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """A client that never sends a command again after a dropped connection (like the default
    client): a failure shows as it happened."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.asyncio.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)


# --------------------------------------------------------------------------- sending


async def test_one_operation_alone_is_sent_at_once(client, batches, raw, monkeypatch):
    account = await Account().save()
    loop = asyncio.get_running_loop()
    others_ran: list[bool] = []
    sent_before_others: list[bool] = []
    original = redis.asyncio.Redis.execute_command

    async def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        sent_before_others.append(not others_ran)
        return await original(self, *args, **options)

    monkeypatch.setattr(redis.asyncio.Redis, "execute_command", execute_command)
    for i in range(5):
        loop.call_soon(others_ran.append, True)  # due before anything that waits a loop iteration
        await account.events.aappend(str(i))
        others_ran.clear()
    assert sent_before_others == [True] * 5  # no wait for a batch to fill
    assert batches == []
    assert stored(raw, account.key)["events"] == ["0", "1", "2", "3", "4"]


async def test_an_operation_that_failed_at_once_leaves_the_next_ones_sent_at_once(client, batches, raw):
    account, other = await Account().save(), await Account().save()
    raw.set(other.key, "not a JSON document")  # Redis refuses JSON commands on it (WRONGTYPE)
    for _ in range(5):
        with pytest.raises(RedisCommandError):
            await other.counter.aincrease(1)  # one command
        with pytest.raises(RedisCommandError):
            await other.seen.aupdate(a=1, b=2)  # a script call
    await account.events.aappend("a")
    await asyncio.gather(*(a.counter.aincrease(1) for a in [await Account().save() for _ in range(3)]))
    # Nothing stays counted in flight after a failure: the first of the three concurrent ones is
    # sent at once, and the two sent while it is in flight share one round trip.
    assert batches == [["JSON.NUMINCRBY"] * 2]
    assert stored(raw, account.key)["events"] == ["a"]


async def test_concurrent_operations_share_round_trips(client, batches, raw):
    accounts = [await Account().save() for _ in range(50)]
    await asyncio.gather(*(a.counter.aincrease(i) for i, a in enumerate(accounts)))
    # The first is sent at once (nothing else in flight); the 49 sent while it is in flight go
    # together at the end of the loop iteration.
    assert batches == [["JSON.NUMINCRBY"] * 49]
    assert [stored(raw, a.key)["counter"] for a in accounts] == list(range(50))
    assert [a.counter for a in accounts] == list(range(50))


async def test_two_tasks_taking_turns_are_not_made_to_wait(client, batches, raw):
    accounts = [await Account().save() for _ in range(2)]

    async def worker(account: Account) -> None:
        for i in range(20):
            await account.events.aappend(str(i))

    await asyncio.gather(*(worker(a) for a in accounts))
    # The first command sent while the other was in flight waited for company and found none:
    # from then on both are sent at once, with no batch.
    assert batches == []
    assert all(stored(raw, a.key)["events"] == [str(i) for i in range(20)] for a in accounts)


async def test_each_operation_of_a_batch_gets_its_own_reply_or_error(client, batches, raw):
    accounts = [await Account().save() for _ in range(4)]
    broken = await Account().save()
    raw.execute_command("JSON.SET", broken.key, "$.counter", '"not a number"')
    wrong_type = f"{Account.Meta.key_prefix}:plain"
    raw.set(wrong_type, "a plain string, not a JSON document")
    missing = f"{Account.Meta.key_prefix}:missing"

    results = await asyncio.gather(
        accounts[0].events.aappend("sent at once"),
        accounts[1].events.aappend("a"),
        broken.counter.aincrease(1),  # Redis answers [nil]: refused, only here
        Account.get(missing),  # nil: KeyNotFoundError, only here
        Account.get(wrong_type),  # an error reply (wrong type), only here
        accounts[2].counter.aincrease(5),
        accounts[3].label.set("x"),
        Account.get(accounts[3].key),
        return_exceptions=True,
    )
    assert len(batches) == 1 and len(batches[0]) == 7
    assert results[:2] == [None, None]
    assert isinstance(results[2], RedisCommandError) and "not a number" in str(results[2])
    assert isinstance(results[3], KeyNotFoundError)
    assert isinstance(results[4], RedisCommandError) and "wrong Redis type" in str(results[4])
    assert results[5] == 5
    assert results[6] is None
    assert isinstance(results[7], Account) and results[7].key == accounts[3].key
    assert stored(raw, accounts[0].key)["events"] == ["sent at once"]
    assert stored(raw, accounts[1].key)["events"] == ["a"]
    assert stored(raw, accounts[2].key)["counter"] == 5
    assert stored(raw, accounts[3].key)["label"] == "x"
    assert stored(raw, broken.key)["counter"] == "not a number"
    assert broken.counter == 0  # the failed operation changed nothing locally


async def test_the_writes_of_one_task_keep_their_order(client, batches, raw):
    shared = await Account().save()

    async def writer(worker: int) -> None:
        mine = await Account.get(shared.key)
        for i in range(40):
            await mine.events.aappend(f"{worker}-{i}")
            await mine.seen.aset_item(str(worker), i)

    await asyncio.gather(*(writer(w) for w in range(25)))
    doc = stored(raw, shared.key)
    for worker in range(25):
        mine = [e for e in doc["events"] if e.startswith(f"{worker}-")]
        assert mine == [f"{worker}-{i}" for i in range(40)]
    assert doc["seen"] == {str(w): 39 for w in range(25)}
    assert max(len(batch) for batch in batches) > 10


async def test_no_write_is_lost_or_duplicated_in_a_randomized_run(client, batches, raw):
    docs = [await Account().save() for _ in range(20)]
    steps = plan(seed=16, workers=100, per_worker=100, docs=len(docs))  # 10,000 operations
    missing = f"{Account.Meta.key_prefix}:missing"

    await asyncio.gather(*(run_async_steps(Account, docs, s, missing) for s in steps))
    Expected.of(steps, len(docs)).check([stored(raw, d.key) for d in docs])
    coalesced = sum(len(batch) for batch in batches)
    assert coalesced > 5000 and max(len(batch) for batch in batches) > 50


# --------------------------------------------------------------------------- atomic steps


async def test_pipeline_blocks_and_first_writes_are_one_entry_of_a_batch(client, batches, raw):
    saved = [await Account().save() for _ in range(10)]
    fresh = [Account() for _ in range(10)]  # never saved: the first write creates the document
    broken = await Account().save()
    raw.execute_command("JSON.SET", broken.key, "$.events", '"not a list"')

    async def block(account: Account) -> None:
        async with account.pipeline(refresh=False):
            await account.events.aappend("p")
            await account.counter.set(2)
            await account.label.set("in a block")

    results = await asyncio.gather(
        *(block(a) for a in saved),
        *(a.events.aappend("first") for a in fresh),
        block(broken),
        return_exceptions=True,
    )
    assert results[:20] == [None] * 20
    assert isinstance(results[20], PipelineError)
    # Every block and every first write is one script call (one atomic step) in the batch; the
    # failed block then reloads its model (JSON.GET).
    assert [command for batch in batches for command in batch if command != "JSON.GET"] == ["EVALSHA"] * 20
    for account in saved:
        assert stored(raw, account.key) == {"events": ["p"], "counter": 2, "label": "in a block", "seen": {}}
    for account in fresh:
        assert stored(raw, account.key) == {"events": ["first"], "counter": 0, "label": "", "seen": {}}
    # The failed block's other writes ran (Redis does not roll back), and nothing else was touched.
    assert stored(raw, broken.key)["counter"] == 2


async def test_scripts_missing_from_the_server_are_sent_again_per_operation(client, batches, raw):
    accounts = [await Account().save() for _ in range(20)]
    raw.script_flush()
    await asyncio.gather(
        accounts[0].label.set("sent at once"),
        *(a.seen.aupdate({"a": i, "b": -i}) for i, a in enumerate(accounts)),
    )
    assert [stored(raw, a.key)["seen"] for a in accounts] == [{"a": i, "b": -i} for i in range(20)]
    # Every EVALSHA of the batch found no script, and its task sent it again by EVAL: the first
    # at once (nothing else was in flight by then), the others in the next batch.
    assert batches == [["EVALSHA"] * 20, ["EVAL"] * 19]


async def test_check_and_set_operations_are_never_coalesced(client, batches, raw):
    stock = await Stock().save()

    async def buyer() -> None:
        mine = await Stock.get(stock.key)
        for _ in range(5):
            await mine.units.aincrease(1)

    await asyncio.gather(*(buyer() for _ in range(8)))
    assert stored(raw, stock.key)["units"] == 40
    assert all(command == "JSON.GET" for batch in batches for command in batch)  # the get()s only


# --------------------------------------------------------------------------- cancellation


@pytest.mark.parametrize("cancelled", [1, 2], ids=["the-task-that-sends-the-batch", "another"])
async def test_a_task_cancelled_before_its_batch_is_written_sends_nothing(client, batches, raw, cancelled):
    accounts = [await Account().save() for _ in range(4)]
    tasks = [asyncio.create_task(a.events.aappend("x")) for a in accounts]
    # Each task ran once: the first is on the wire; the second waits for the end of the loop
    # iteration to send the batch of the others.
    await asyncio.sleep(0)
    tasks[cancelled].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[cancelled], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != cancelled] == [None] * 3
    assert batches == [["JSON.ARRAPPEND"] * 2]
    events = [stored(raw, a.key)["events"] for a in accounts]
    assert events == [[] if i == cancelled else ["x"] for i in range(4)]
    assert accounts[cancelled].events == []


async def test_a_task_cancelled_while_its_batch_is_on_the_wire_disturbs_no_other(fault_server, batches):
    client = no_retry_client(fault_server.url)
    admin = redis.Redis.from_url(fault_server.url)
    try:
        with installed(connection, client):
            accounts = [await Account().save() for _ in range(4)]
            admin.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")  # writes wait at the server
            try:
                tasks = [asyncio.create_task(a.events.aappend("x")) for a in accounts]
                await until_blocked(admin, 2)  # the first, sent at once, and the batch of the others
                tasks[2].cancel()
                await asyncio.sleep(0.05)
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert isinstance(results[2], asyncio.CancelledError)
            assert results[:2] == [None, None] and results[3] is None
            assert batches == [["JSON.ARRAPPEND"] * 3]
            # The cancelled task's command had been written: Redis ran it; its reply was dropped.
            assert [stored(admin, a.key)["events"] for a in accounts] == [["x"]] * 4
            assert accounts[2].events == []
            # Every reply of the batch was read: the connections give later commands their own.
            loaded = await asyncio.gather(*(Account.get(a.key) for a in accounts * 10))
            assert [m.key for m in loaded] == [a.key for a in accounts * 10]
    finally:
        admin.close()
        await client.aclose()


# --------------------------------------------------------------------------- connection failures


async def test_a_connection_killed_mid_batch_fails_only_the_operations_on_it(fault_server, batches):
    client = no_retry_client(fault_server.url)
    configure_autopipeline(client, max_batch=3)
    admin = redis.Redis.from_url(fault_server.url)
    long_item = "L" * 2000  # makes the killed batch the one with the most bytes waiting at the server
    try:
        with installed(connection, client):
            alone, killed, other = await Account().save(), await Account().save(), await Account().save()
            admin.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")
            try:
                tasks = [
                    asyncio.create_task(alone.events.aappend("sent at once")),
                    # Batch 1: a read (Redis answers it), then writes that wait at the server.
                    asyncio.create_task(Account.get(killed.key)),
                    asyncio.create_task(killed.counter.aincrease(1)),
                    asyncio.create_task(killed.events.aappend(long_item)),
                    # Batch 2, on another connection.
                    asyncio.create_task(other.events.aappend("b")),
                    asyncio.create_task(other.counter.aincrease(2)),
                    asyncio.create_task(other.label.set("kept")),
                ]
                waiting = await until_blocked(admin, 3)
                victim = max(waiting, key=lambda c: int(c["qbuf"]))
                admin.execute_command("CLIENT", "KILL", "ID", victim["id"])
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert len(batches) == 2
            assert results[0] is None
            assert all(isinstance(r, RedisConnectionError) for r in results[1:4]), results
            assert results[4:] == [None, 2, None]
            assert stored(admin, killed.key) == {"events": [], "counter": 0, "label": "", "seen": {}}
            assert (killed.events, killed.counter) == ([], 0)
            assert stored(admin, other.key) == {"events": ["b"], "counter": 2, "label": "kept", "seen": {}}
            assert stored(admin, alone.key)["events"] == ["sent at once"]
            # The client goes on: the dead connection is not handed out again.
            await asyncio.gather(*(killed.counter.aincrease(1) for _ in range(10)))
            assert stored(admin, killed.key)["counter"] == 10
    finally:
        admin.close()
        await client.aclose()


# --------------------------------------------------------------------------- configuration


async def test_configure_autopipeline_off_sends_every_operation_on_its_own(client, batches, raw):
    configure_autopipeline(client, enabled=False)
    accounts = [await Account().save() for _ in range(30)]
    await asyncio.gather(*(a.events.aappend("x") for a in accounts))
    assert batches == []
    assert all(stored(raw, a.key)["events"] == ["x"] for a in accounts)


@pytest.fixture
def batch_keys(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The keys of the commands of every non-transactional pipeline executed (one list per batch)."""
    return record_pipelines(monkeypatch, lambda args: [str(key) for key in keys_of(args)])


def keys_of(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The keys a command of the library names (a script declares them after their count)."""
    if args[0] in ("EVALSHA", "EVAL"):
        return args[3 : 3 + int(args[2])]
    return args[1:2]


async def test_a_model_with_meta_autopipeline_off_is_never_coalesced(client, batch_keys, raw):
    quiet = [await Quiet().save() for _ in range(20)]
    children = [await QuietChild().save() for _ in range(5)]
    loud = [await LoudChild().save() for _ in range(5)]
    fresh = [Quiet() for _ in range(5)]  # the first write creates the document
    accounts = [await Account().save() for _ in range(10)]

    async def block(model: Quiet) -> None:
        async with model.pipeline(refresh=False):
            await model.events.aappend("p")
            await model.seen.aset_item("p", 1)

    async def locked(model: Quiet) -> None:
        async with model.lock("edit"):
            model.seen["l"] = 2

    await asyncio.gather(
        accounts[0].label.set("sent at once"),
        *(a.events.aappend("a") for a in accounts),
        *(q.events.aappend("q") for q in quiet + children),
        *(q.seen.aset_item("k", 1) for q in quiet),  # a script call each
        *(f.events.aappend("first") for f in fresh),  # creates the document: one script call
        *(block(q) for q in quiet[:3]),
        *(locked(q) for q in quiet[3:13]),  # the script that saves and releases, on exit
        Quiet.get_many([q.key for q in quiet]),
        *(Quiet.get(q.key) for q in quiet),
        *(m.events.aappend("l") for m in loud),
    )
    batched = {key for batch in batch_keys for key in batch}
    # The operations of Account and LoudChild (which turns it back on) share round trips; those
    # of Quiet and QuietChild (which inherits the option) never do.
    assert {a.key for a in accounts[1:]} <= batched and {m.key for m in loud} <= batched
    assert not [key for key in batched if "Quiet" in key]  # documents and locks
    for q in quiet[:3]:  # two tasks wrote each: in either order
        doc = stored(raw, q.key)
        assert sorted(doc["events"]) == ["p", "q"] and doc["seen"] == {"k": 1, "p": 1}
    assert all(stored(raw, q.key) == {"events": ["q"], "seen": {"k": 1, "l": 2}} for q in quiet[3:13])
    assert all(stored(raw, q.key) == {"events": ["q"], "seen": {"k": 1}} for q in quiet[13:])
    assert all(stored(raw, c.key)["events"] == ["q"] for c in children)
    assert all(stored(raw, f.key)["events"] == ["first"] for f in fresh)
    assert all(stored(raw, m.key)["events"] == ["l"] for m in loud)
    assert all(stored(raw, a.key)["events"] == ["a"] for a in accounts)


def test_meta_autopipeline_must_be_a_bool():
    with pytest.raises(InvalidArgumentError, match=r"Sometimes.Meta.autopipeline must be a bool"):

        class Sometimes(BaseRedisModel):
            name: str = ""

            class Meta:
                autopipeline = "no"

    assert Quiet.Meta.autopipeline is False and QuietChild.Meta.autopipeline is False
    assert LoudChild.Meta.autopipeline is True and Account.Meta.autopipeline is True


async def test_no_batch_holds_more_than_max_batch_commands(client, batches, raw):
    configure_autopipeline(client, max_batch=4)
    accounts = [await Account().save() for _ in range(41)]
    await asyncio.gather(*(a.counter.aincrease(1) for a in accounts))
    assert [len(batch) for batch in batches] == [4] * 10  # after the first, sent at once
    assert all(stored(raw, a.key)["counter"] == 1 for a in accounts)


async def test_the_environment_turns_it_off_or_caps_the_batches(real_redis_url, batches, monkeypatch):
    for setting, value, expected in (
        ("REDIS_PYDANTIC_AUTOPIPELINE", "off", []),
        ("REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH", "5", [5] * 4),
    ):
        monkeypatch.setenv(setting, value)
        redis_client = redis.asyncio.Redis.from_url(real_redis_url)  # read on its first use
        try:
            with installed(connection, redis_client):
                accounts = [await Account().save() for _ in range(21)]
                batches.clear()
                await asyncio.gather(*(a.label.set("x") for a in accounts))
                assert [len(batch) for batch in batches] == expected
        finally:
            await redis_client.aclose()
        monkeypatch.delenv(setting)


async def test_bad_settings_are_refused_with_nothing_written(client, raw, monkeypatch):
    account = await Account().save()
    fresh = redis.asyncio.Redis(connection_pool=client.connection_pool)
    monkeypatch.setenv("REDIS_PYDANTIC_AUTOPIPELINE", "sometimes")
    try:
        with installed(connection, fresh), pytest.raises(InvalidArgumentError, match="AUTOPIPELINE"):
            await account.label.set("never")
    finally:
        await fresh.aclose(close_connection_pool=False)
    assert stored(raw, account.key)["label"] == ""
    monkeypatch.setenv("REDIS_PYDANTIC_AUTOPIPELINE", "on")
    monkeypatch.setenv("REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH", "0")
    other = redis.asyncio.Redis(connection_pool=client.connection_pool)
    with installed(connection, other), pytest.raises(InvalidArgumentError, match="MAX_BATCH"):
        await account.label.set("never")
    for bad in ({"max_batch": 0}, {"max_batch": 2.5}, {"enabled": "no"}):
        with pytest.raises(InvalidArgumentError):
            configure_autopipeline(client, **bad)
    with pytest.raises(InvalidArgumentError):
        configure_autopipeline(redis.Redis())


async def test_it_applies_to_the_companion_of_a_client_with_json_callbacks(client, batches, raw):
    client.json()  # registers JSON callbacks: the library sends through a companion client
    accounts = [await Account().save() for _ in range(10)]
    await asyncio.gather(*(a.events.aappend("x") for a in accounts))
    assert batches == [["JSON.ARRAPPEND"] * 9]
    configure_autopipeline(client, enabled=False)  # the companion shares the pool: it obeys too
    batches.clear()
    await asyncio.gather(*(a.events.aappend("y") for a in accounts))
    assert batches == []
    assert all(stored(raw, a.key)["events"] == ["x", "y"] for a in accounts)


async def test_the_default_client_coalesces(real_redis_url, batches, raw, monkeypatch):
    monkeypatch.setenv("REDIS_PYDANTIC_URL", real_redis_url)
    previous = connection.override_client(None)
    try:
        accounts = [await Account().save() for _ in range(10)]
        await asyncio.gather(*(a.events.aappend("x") for a in accounts))
        assert batches == [["JSON.ARRAPPEND"] * 9]
        assert all(stored(raw, a.key)["events"] == ["x"] for a in accounts)
    finally:
        connection.override_client(previous)


class OwnClient(redis.asyncio.Redis):
    """A user's client class with its own execute_command: a pipeline would skip it."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await super().execute_command(*args, **options)


async def test_clients_a_pipeline_would_change_send_every_command_at_once(real_redis_url, cluster_node_url):
    candidates = [
        OwnClient.from_url(real_redis_url),
        redis.asyncio.Redis.from_url(real_redis_url, single_connection_client=True),
        FakeAsyncRedis(),  # the testing helper's client answers JSON.GET its own way
        redis.asyncio.cluster.RedisCluster.from_url(cluster_node_url),  # it retries (redis-py's default)
    ]
    plain = redis.asyncio.Redis.from_url(real_redis_url)
    candidates.append(plain.pipeline(transaction=True))  # WATCH, MULTI/EXEC: never coalesced
    for candidate in candidates:
        assert async_command_sender(candidate) == candidate.execute_command, candidate
    assert async_command_sender(plain) != plain.execute_command
    for candidate in (*candidates, plain):
        await candidate.aclose()


async def test_a_subclassed_client_still_gets_every_command(real_redis_url, raw):
    class Counting(redis.asyncio.Redis):
        sent = 0

        async def execute_command(self, *args: Any, **options: Any) -> Any:
            type(self).sent += 1
            return await super().execute_command(*args, **options)

    counting = Counting.from_url(real_redis_url)
    try:
        with installed(connection, counting):
            accounts = [await Account().save() for _ in range(10)]
            Counting.sent = 0
            await asyncio.gather(*(a.events.aappend("x") for a in accounts))
            assert Counting.sent == 10
    finally:
        await counting.aclose()
