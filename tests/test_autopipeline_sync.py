"""The blocking face under concurrency: threads share no event loop, so nothing is coalesced;
every command is sent at once on a connection of its own, and each operation keeps the semantics
the asyncio face's batches keep (see test_autopipeline_async.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from redis_pydantic._autopipeline import sync_command_sender
from redis_pydantic._sync import connection
from redis_pydantic.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    RedisCommandError,
    RedisConnectionError,
)
from redis_pydantic.sync import BaseRedisModel
from tests.conftest import installed
from tests.randomized_run import Expected, Step, plan


class Account(BaseRedisModel):
    events: list[str] = []
    counter: int = 0
    label: str = ""
    seen: dict[str, int] = {}


@pytest.fixture
def client(real_redis_url: str) -> Iterator[redis.Redis]:
    redis_client = redis.Redis.from_url(real_redis_url)
    redis_client.flushdb()
    with installed(connection, redis_client):
        yield redis_client
    redis_client.close()


def stored(reader: redis.Redis, key: str) -> Any:
    reply = reader.execute_command("JSON.GET", key, "$")
    return None if reply is None else json.loads(reply)[0]


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in a thread of its own, all at once; each one's result or exception."""

    def outcome(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the test looks at each thread's own outcome
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(outcome, calls))


def test_the_blocking_face_sends_every_command_at_once(client, monkeypatch):
    accounts = [Account().save() for _ in range(20)]
    assert sync_command_sender(client) == client.execute_command
    sent: list[str] = []
    original = redis.Redis.execute_command

    def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    in_threads([lambda a=a: a.events.aappend("x") for a in accounts])
    assert sent == ["JSON.ARRAPPEND"] * 20  # one by one, each on a connection of its own
    assert all(stored(client, a.key)["events"] == ["x"] for a in accounts)


def test_each_thread_gets_its_own_reply_or_error(client):
    accounts = [Account().save() for _ in range(3)]
    broken = Account().save()
    client.execute_command("JSON.SET", broken.key, "$.counter", '"not a number"')
    wrong_type = f"{Account.Meta.key_prefix}:plain"
    client.set(wrong_type, "a plain string, not a JSON document")
    missing = f"{Account.Meta.key_prefix}:missing"
    results = in_threads(
        [
            lambda: accounts[0].events.aappend("a"),
            lambda: broken.counter.aincrease(1),
            lambda: Account.get(missing),
            lambda: Account.get(wrong_type),
            lambda: accounts[1].counter.aincrease(5),
            lambda: accounts[2].label.set("x"),
        ]
    )
    assert results[0] is None
    assert isinstance(results[1], RedisCommandError) and "not a number" in str(results[1])
    assert isinstance(results[2], KeyNotFoundError)
    assert isinstance(results[3], RedisCommandError) and "wrong Redis type" in str(results[3])
    assert results[4:] == [5, None]
    assert stored(client, accounts[0].key)["events"] == ["a"]
    assert stored(client, accounts[1].key)["counter"] == 5
    assert stored(client, accounts[2].key)["label"] == "x"
    assert broken.counter == 0


def test_the_writes_of_one_thread_keep_their_order(client):
    shared = Account().save()

    def writer(worker: int) -> None:
        mine = Account.get(shared.key)
        for i in range(40):
            mine.events.aappend(f"{worker}-{i}")
            mine.seen.aset_item(str(worker), i)

    in_threads([lambda w=w: writer(w) for w in range(10)])
    doc = stored(client, shared.key)
    for worker in range(10):
        assert [e for e in doc["events"] if e.startswith(f"{worker}-")] == [
            f"{worker}-{i}" for i in range(40)
        ]
    assert doc["seen"] == {str(w): 39 for w in range(10)}


def test_no_write_is_lost_or_duplicated_in_a_randomized_run(client):
    docs = [Account().save() for _ in range(20)]
    steps = plan(seed=16, workers=20, per_worker=500, docs=len(docs))  # 10,000 operations
    missing = f"{Account.Meta.key_prefix}:missing"

    def worker(worker_steps: list[Step]) -> None:
        mine: dict[int, Account] = {}
        for step in worker_steps:
            key = docs[step.doc].key
            account = mine.get(step.doc)
            if account is None:
                account = mine[step.doc] = Account.get(key)
            if step.kind == "append":
                account.events.aappend(step.token)
            elif step.kind == "increase":
                account.counter.aincrease(step.amount)
            elif step.kind == "set_item":
                account.seen.aset_item(str(step.worker), step.index)
            elif step.kind == "set_label":
                account.label.set(step.token)
            elif step.kind == "get":
                assert Account.get(key).key == key
            elif step.kind == "pipeline":
                with account.pipeline(refresh=False):
                    account.events.aappend(step.token + "p")
                    account.seen.aset_item(f"p{step.worker}", step.index)
            else:
                with pytest.raises(KeyNotFoundError):
                    Account.get(missing)

    results = in_threads([lambda s=s: worker(s) for s in steps])
    assert results == [None] * len(steps)
    Expected.of(steps, len(docs)).check([stored(client, d.key) for d in docs])


def test_a_connection_killed_while_its_command_waits_fails_only_that_operation(fault_server):
    client = redis.Redis.from_url(fault_server.url, retry=Retry(NoBackoff(), 0))  # never resends
    admin = redis.Redis.from_url(fault_server.url)
    try:
        with installed(connection, client):
            accounts = [Account().save() for _ in range(3)]
            admin.execute_command("CLIENT", "PAUSE", 10_000, "WRITE")  # writes wait at the server
            results: list[Any] = []
            try:
                items = ["a", "L" * 2000, "c"]  # the long one: the most memory at the server
                threads = [
                    threading.Thread(target=lambda a=a, item=item: results.append(run(a, item)))
                    for a, item in zip(accounts, items, strict=True)
                ]
                for thread in threads:
                    thread.start()
                waiting = until_blocked(admin, 3)
                victim = max(waiting, key=lambda c: int(c["argv-mem"]))
                admin.execute_command("CLIENT", "KILL", "ID", victim["id"])
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
            for thread in threads:
                thread.join()
            outcomes = dict(results)
            assert outcomes["a"] is None and outcomes["c"] is None
            assert isinstance(outcomes["L" * 2000], RedisConnectionError)
            assert [stored(admin, a.key)["events"] for a in accounts] == [["a"], [], ["c"]]
            assert accounts[1].events == []
            accounts[1].events.aappend("again")  # the client goes on
            assert stored(admin, accounts[1].key)["events"] == ["again"]
    finally:
        admin.close()
        client.close()


def run(account: Account, item: str) -> tuple[str, Any]:
    try:
        account.events.aappend(item)
    except RedisConnectionError as exc:
        return item, exc
    return item, None


def until_blocked(admin: redis.Redis, count: int) -> list[dict[str, str]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        clients = []
        for line in admin.execute_command("CLIENT", "LIST").decode().splitlines():
            fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
            if "b" in fields["flags"]:
                clients.append(fields)
        if len(clients) >= count:
            return clients
        time.sleep(0.01)
    raise AssertionError(f"expected {count} connections waiting at the server")


class Quiet(BaseRedisModel):
    events: list[str] = []

    class Meta:
        autopipeline = False


def test_meta_autopipeline_is_accepted_and_checked_in_the_blocking_face(client):
    # Nothing is coalesced in this face: the option changes nothing, and is checked the same way.
    quiet = [Quiet().save() for _ in range(5)]
    in_threads([lambda q=q: q.events.aappend("x") for q in quiet])
    assert all(stored(client, q.key)["events"] == ["x"] for q in quiet)
    with pytest.raises(InvalidArgumentError, match=r"Sometimes.Meta.autopipeline must be a bool"):

        class Sometimes(BaseRedisModel):
            name: str = ""

            class Meta:
                autopipeline = 0
