"""A primary of a real Redis Cluster is killed while both faces keep operating.

Operations on the other primaries' slots keep working; those on the dead primary's slots fail
with the library's errors (naming that node) until its replica takes over, then work again with
the same clients; no acknowledged write is lost. The cluster runs with
``cluster-require-full-coverage no`` (see docs/cluster.md: with Redis's default, every slot
stops until the failover is done) and a ``cluster-node-timeout`` of 2 s.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis.cluster

import redis_pydantic
import redis_pydantic.sync
from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from redis_pydantic.errors import RedisClusterError, RedisConnectionError, RedisPydanticError
from tests.redis_cluster import RedisCluster, redis_cli_available
from tests.redis_server import find_rejson, redis_server_available

#: How long the dead primary's slots may stay unavailable (failure detection, then election).
RESUME_WITHIN = 20.0
#: Documents per face, spread over the slots of every primary.
DOCUMENTS = 12


class AsyncLog(redis_pydantic.BaseRedisModel):
    entries: list[str] = []


class SyncLog(redis_pydantic.sync.BaseRedisModel):
    entries: list[str] = []


@pytest.fixture
def cluster(monkeypatch) -> Iterator[RedisCluster]:
    """A cluster of its own (one of its primaries will die), used through the default clients."""
    if not redis_server_available() or not redis_cli_available() or find_rejson() is None:
        pytest.skip("REAL REDIS BACKEND SKIPPED: redis-server, redis-cli or rejson.so is not installed")
    with RedisCluster(extra_args=["--cluster-require-full-coverage", "no"]) as own:
        monkeypatch.setenv("REDIS_PYDANTIC_URL", own.url)
        monkeypatch.delenv("REDIS_PYDANTIC_CLUSTER", raising=False)
        for connection in (async_connection, sync_connection):
            monkeypatch.setattr(connection, "_defaults", weakref.WeakKeyDictionary())
            monkeypatch.setattr(connection, "_cluster_urls", {})
            monkeypatch.setattr(connection, "_override", None)
        try:
            yield own
        finally:
            for client, _closer in list(sync_connection._defaults.values()):
                client.close()
            # Shown by pytest when the test fails: what each node said.
            for server in own.servers:
                print(f"--- log of the node on port {server.port} ---\n{server.read_log()}")


@dataclass
class Run:
    """What one face did: per document, the entries Redis acknowledged, and every failure."""

    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    failures: list[tuple[str, float, BaseException]] = field(default_factory=list)
    #: Per document, when its last acknowledged write was made.
    last_success: dict[str, float] = field(default_factory=dict)
    error: BaseException | None = None


def record(run: Run, key: str, entry: str, started: float, error: BaseException | None) -> None:
    if error is None:
        run.acknowledged.setdefault(key, []).append(entry)
        run.last_success[key] = started
    else:
        run.failures.append((key, started, error))


def run_blocking(docs: list[SyncLog], until: threading.Event, run: Run) -> None:
    try:
        n = 0
        while not until.is_set():
            for doc in docs:
                n += 1
                started = time.monotonic()
                try:
                    doc.entries.aappend(f"s{n}")
                except RedisPydanticError as exc:
                    record(run, doc.key, f"s{n}", started, exc)
                else:
                    record(run, doc.key, f"s{n}", started, None)
            time.sleep(0.005)
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        run.error = exc


async def run_asyncio(docs: list[AsyncLog], until: threading.Event, run: Run) -> None:
    n = 0
    while not until.is_set():
        for doc in docs:
            n += 1
            started = time.monotonic()
            try:
                await doc.entries.aappend(f"a{n}")
            except RedisPydanticError as exc:
                record(run, doc.key, f"a{n}", started, exc)
            else:
                record(run, doc.key, f"a{n}", started, None)
        await asyncio.sleep(0.005)


def resumed(run: Run, keys: set[str], after: float) -> bool:
    return all(run.last_success.get(key, 0.0) > after for key in keys)


def test_a_killed_primary_stops_only_its_slots_which_resume_on_its_replica_with_no_acknowledged_write_lost(
    cluster,
):
    admin = redis.cluster.RedisCluster.from_url(cluster.url)
    try:
        sync_docs = [SyncLog(pk=f"s{i}") for i in range(DOCUMENTS)]
        for doc in sync_docs:
            doc.save()
        victim_port = cluster.primary_for_slot(admin.keyslot(sync_docs[0].key))
        victim = f"127.0.0.1:{victim_port}"

        def on_victim(key: str) -> bool:
            return cluster.primary_for_slot(admin.keyslot(key)) == victim_port

        async def scenario() -> tuple[Run, Run, float, set[str]]:
            async_docs = [AsyncLog(pk=f"a{i}") for i in range(DOCUMENTS)]
            for doc in async_docs:
                await doc.save()
            lost_keys = {doc.key for doc in [*sync_docs, *async_docs] if on_victim(doc.key)}
            assert lost_keys and len(lost_keys) < 2 * DOCUMENTS  # both kinds of slots are exercised
            until = threading.Event()
            sync_run, async_run = Run(), Run()
            blocking = threading.Thread(target=run_blocking, args=(sync_docs, until, sync_run))
            blocking.start()
            loop = asyncio.create_task(run_asyncio(async_docs, until, async_run))
            try:
                await asyncio.sleep(0.5)  # both faces are writing everywhere
                killed_at = time.monotonic()
                cluster.server_at(victim_port).kill()  # SIGKILL, by pid
                while time.monotonic() - killed_at < RESUME_WITHIN:
                    await asyncio.sleep(0.2)
                    sync_keys = {doc.key for doc in sync_docs} & lost_keys
                    async_keys = {doc.key for doc in async_docs} & lost_keys
                    if resumed(sync_run, sync_keys, killed_at) and resumed(async_run, async_keys, killed_at):
                        await asyncio.sleep(0.5)  # and they keep working
                        break
            finally:
                until.set()
                await loop
                blocking.join(timeout=30)
            assert sync_run.error is None, sync_run.error
            # After the failover, a pipeline and duplicate_many reach every slot again.
            async with async_docs[0].pipeline(refresh=False):
                for doc in async_docs:
                    await doc.entries.aappend("after")
            await async_docs[0].duplicate_many(5)
            await async_connection.default_client().aclose()
            return sync_run, async_run, killed_at, lost_keys

        sync_run, async_run, killed_at, lost_keys = asyncio.run(scenario())
        with sync_docs[0].pipeline(refresh=False):
            for doc in sync_docs:
                doc.entries.aappend("after")
        sync_docs[0].duplicate_many(5)
    finally:
        admin.close()

    cluster.wait_until_ok()
    reader = redis.cluster.RedisCluster.from_url(cluster.url)
    try:
        for face, run in (("blocking", sync_run), ("asyncio", async_run)):
            # The other slots kept working: not one failure there.
            assert [(key, str(error)) for key, _, error in run.failures if key not in lost_keys] == [], face
            # The dead primary's slots failed for a while, with errors naming it, then resumed.
            assert run.failures, face
            assert all(key in lost_keys for key, _, _ in run.failures), face
            unexpected = [
                str(e)
                for _, _, e in run.failures
                if not isinstance(e, RedisConnectionError | RedisClusterError)
            ]
            assert unexpected == [], face
            assert all(started >= killed_at - 0.1 for _, started, _ in run.failures), face
            assert any(victim in str(error) for _, _, error in run.failures), face
            for key in lost_keys & set(run.acknowledged):
                assert run.last_success[key] > killed_at, (face, key)
            # No acknowledged write is lost, and each document got its write after the failover.
            for key, entries in run.acknowledged.items():
                held = json.loads(reader.execute_command("JSON.GET", key, "$.entries"))[0]
                assert set(entries) <= set(held), (face, key)
                assert held[-1] == "after", (face, key)
    finally:
        reader.close()
