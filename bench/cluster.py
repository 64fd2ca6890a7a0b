"""Redis Cluster beside one node: the operations that touch several keys.

``duplicate_many(100)`` and a ``pipeline()`` of 10 writes over 10 models are timed on one Redis
node and on a Redis Cluster (3 primaries, 3 replicas, on this machine), in each face, in the same
run. Their keys are random, so on the cluster they fall in many hash slots: the library sends one
atomic step per slot with one round trip per node. The colocated variants (copies in the
original's slot, models sharing a hash tag) are one atomic command on either deployment.

The raw side sends the same writes by hand with redis-py: on one node one JSON.MSET, or MULTI/EXEC
of the 10 JSON.SET; on the cluster a ``ClusterPipeline`` (transaction=False) of one JSON.MSET per
slot, or of the 10 JSON.SET (one round trip per node, not atomic per slot).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from bench.models import document, ours_user_class
from redis_pydantic._paths import hash_slot

DEPLOYMENTS = ("one node", "cluster")
#: name -> (relative batch size, what both sides do)
OPS = {
    "duplicate_many(100)": (
        0.1,
        "100 copies under random keys: one JSON.MSET; on the cluster one per hash slot",
    ),
    "duplicate_many(100, colocate=True)": (0.1, "100 copies in the original's hash slot: one JSON.MSET"),
    "pipeline(10 models)": (0.25, "one write to each of 10 models with random keys"),
    "pipeline(10 models, one hash tag)": (0.25, "one write to each of 10 models whose pks share a hash tag"),
}


@dataclass
class Row:
    op: str
    face: str
    deployment: str
    samples: dict[str, list[float]] = field(default_factory=dict)  # side -> µs per op, per round


@contextmanager
def cluster_url(url: str | None) -> Iterator[str | None]:
    """``url``, or a throwaway cluster's (None when redis-cli or redis-server is missing)."""
    if url:
        yield url
        return
    from tests.redis_cluster import RedisCluster, redis_cli_available
    from tests.redis_server import find_rejson, redis_server_available

    if not (redis_cli_available() and redis_server_available() and find_rejson()):
        yield None
        return
    with RedisCluster() as cluster:
        yield cluster.url


class Side:
    """One face on one deployment: its client, its models and its documents."""

    def __init__(self, face: str, deployment: str, url: str, run_id: str) -> None:
        self.face = face
        self.is_async = face == "async"
        self.cluster = deployment == "cluster"
        if self.cluster:
            self.client: Any = (
                redis.asyncio.cluster.RedisCluster if self.is_async else redis.cluster.RedisCluster
            ).from_url(url)
            self.admin: Any = redis.cluster.RedisCluster.from_url(url)
        else:
            self.client = (redis.asyncio.Redis if self.is_async else redis.Redis).from_url(url)
            self.admin = redis.Redis.from_url(url)
        if self.is_async:
            from redis_pydantic import BaseRedisModel
        else:
            from redis_pydantic.sync import BaseRedisModel  # type: ignore[assignment]
        self.prefix = f"{run_id}{face[0]}{'c' if self.cluster else 'n'}"
        self.User = ours_user_class(BaseRedisModel, f"{self.prefix}U", self.client)
        self.payload = json.dumps(document())
        self.original: Any = None
        self.models: list[Any] = []
        self.tagged: list[Any] = []

    def reset(self) -> None:
        """Untimed: remove what earlier rounds wrote, then store the documents the ops start from."""
        self.cleanup()
        keys = [f"{self.User.Meta.key_prefix}:{pk}" for pk in ("original", *self.pks(), *self.tagged_pks())]
        for key in keys:
            self.admin.execute_command("JSON.SET", key, "$", self.payload)

    def pks(self) -> list[str]:
        return [f"m{i}" for i in range(10)]

    def tagged_pks(self) -> list[str]:
        return [f"{{t}}m{i}" for i in range(10)]

    def cleanup(self) -> None:
        if self.cluster:
            keys = list(self.admin.scan_iter(match=f"{self.prefix}*", count=1000))
            with self.admin.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.unlink(key)
                pipe.execute()
        else:
            keys = list(self.admin.scan_iter(match=f"{self.prefix}*", count=1000))
            for i in range(0, len(keys), 1000):
                self.admin.unlink(*keys[i : i + 1000])

    # -- raw redis-py --------------------------------------------------------------------------
    def raw_duplicate(self, colocate: bool) -> list[tuple[Any, ...]]:
        tag = "{" + f"{self.prefix}raw:original" + "}" if colocate else ""
        keys = [f"{self.prefix}raw:{tag}{uuid.uuid4().hex}" for _ in range(100)]
        if not self.cluster:
            return [("JSON.MSET", *[part for key in keys for part in (key, "$", self.payload)])]
        by_slot: dict[int, list[str]] = {}
        for key in keys:
            by_slot.setdefault(hash_slot(key), []).append(key)
        return [
            ("JSON.MSET", *[part for key in group for part in (key, "$", self.payload)])
            for group in by_slot.values()
        ]

    def raw_pipeline(self, tagged: bool, n: int) -> list[tuple[Any, ...]]:
        pks = self.tagged_pks() if tagged else self.pks()
        return [("JSON.SET", f"{self.User.Meta.key_prefix}:{pk}", "$.score", str(n)) for pk in pks]

    def atomic_by_hand(self, commands: list[tuple[Any, ...]]) -> bool:
        """MULTI/EXEC when it can be had: always on one node, within one hash slot on the cluster."""
        return not self.cluster or len({hash_slot(command[1]) for command in commands}) == 1

    def close(self) -> None:
        self.cleanup()
        self.admin.close()


async def _athunks(side: Side) -> dict[str, dict[str, Callable[[], Any]]]:
    side.reset()
    original = await side.User.get(f"{side.User.Meta.key_prefix}:original")
    models = [await side.User.get(f"{side.User.Meta.key_prefix}:{pk}") for pk in side.pks()]
    tagged = [await side.User.get(f"{side.User.Meta.key_prefix}:{pk}") for pk in side.tagged_pks()]
    client = side.client
    counter = iter(range(10**9))

    def pipelined(group: list[Any]) -> Callable[[], Any]:
        async def thunk() -> None:
            n = next(counter)
            async with group[0].pipeline(refresh=False):
                for model in group:
                    await model.score.set(n)

        return thunk

    def raw(commands: Callable[[], list[tuple[Any, ...]]]) -> Callable[[], Any]:
        async def thunk() -> None:
            todo = commands()
            if len(todo) == 1:
                await client.execute_command(*todo[0])
                return
            pipe = client.pipeline(transaction=side.atomic_by_hand(todo))
            for command in todo:
                pipe.execute_command(*command)
            await pipe.execute()

        return thunk

    return {
        "duplicate_many(100)": {
            "ours": lambda: original.duplicate_many(100),
            "raw": raw(lambda: side.raw_duplicate(False)),
        },
        "duplicate_many(100, colocate=True)": {
            "ours": lambda: original.duplicate_many(100, colocate=True),
            "raw": raw(lambda: side.raw_duplicate(True)),
        },
        "pipeline(10 models)": {
            "ours": pipelined(models),
            "raw": raw(lambda: side.raw_pipeline(False, 1)),
        },
        "pipeline(10 models, one hash tag)": {
            "ours": pipelined(tagged),
            "raw": raw(lambda: side.raw_pipeline(True, 1)),
        },
    }


def _thunks(side: Side) -> dict[str, dict[str, Callable[[], Any]]]:
    side.reset()
    original = side.User.get(f"{side.User.Meta.key_prefix}:original")
    models = [side.User.get(f"{side.User.Meta.key_prefix}:{pk}") for pk in side.pks()]
    tagged = [side.User.get(f"{side.User.Meta.key_prefix}:{pk}") for pk in side.tagged_pks()]
    client = side.client
    counter = iter(range(10**9))

    def pipelined(group: list[Any]) -> Callable[[], Any]:
        def thunk() -> None:
            n = next(counter)
            with group[0].pipeline(refresh=False):
                for model in group:
                    model.score.set(n)

        return thunk

    def raw(commands: Callable[[], list[tuple[Any, ...]]]) -> Callable[[], Any]:
        def thunk() -> None:
            todo = commands()
            if len(todo) == 1:
                client.execute_command(*todo[0])
                return
            pipe = client.pipeline(transaction=side.atomic_by_hand(todo))
            for command in todo:
                pipe.execute_command(*command)
            pipe.execute()

        return thunk

    return {
        "duplicate_many(100)": {
            "ours": lambda: original.duplicate_many(100),
            "raw": raw(lambda: side.raw_duplicate(False)),
        },
        "duplicate_many(100, colocate=True)": {
            "ours": lambda: original.duplicate_many(100, colocate=True),
            "raw": raw(lambda: side.raw_duplicate(True)),
        },
        "pipeline(10 models)": {"ours": pipelined(models), "raw": raw(lambda: side.raw_pipeline(False, 1))},
        "pipeline(10 models, one hash tag)": {
            "ours": pipelined(tagged),
            "raw": raw(lambda: side.raw_pipeline(True, 1)),
        },
    }


async def _time_async(side: Side, settings: Any, rows: list[Row]) -> None:
    for op, (weight, _what) in OPS.items():
        row = Row(op, side.face, "cluster" if side.cluster else "one node")
        n = max(1, round(settings.batch * weight))
        for r in range(-settings.warmup, settings.rounds):
            thunks = (await _athunks(side))[op]
            names = list(thunks)
            for name in names[r % 2 :] + names[: r % 2]:
                gc.collect()
                started = time.perf_counter_ns()
                for _ in range(n):
                    await thunks[name]()
                if r >= 0:
                    row.samples.setdefault(name, []).append((time.perf_counter_ns() - started) / n / 1000)
        rows.append(row)


def _time_sync(side: Side, settings: Any, rows: list[Row]) -> None:
    for op, (weight, _what) in OPS.items():
        row = Row(op, side.face, "cluster" if side.cluster else "one node")
        n = max(1, round(settings.batch * weight))
        for r in range(-settings.warmup, settings.rounds):
            thunks = _thunks(side)[op]
            names = list(thunks)
            for name in names[r % 2 :] + names[: r % 2]:
                gc.collect()
                started = time.perf_counter_ns()
                for _ in range(n):
                    thunks[name]()
                if r >= 0:
                    row.samples.setdefault(name, []).append((time.perf_counter_ns() - started) / n / 1000)
        rows.append(row)


def run(
    faces: list[str], node_url: str, url: str, run_id: str, settings: Any, say: Callable[[str], None]
) -> list[Row]:
    """Time every op of :data:`OPS` in each face on the node at ``node_url`` and on the cluster
    of ``url``."""
    rows: list[Row] = []
    for face in faces:
        for deployment, where in (("one node", node_url), ("cluster", url)):
            say(f"{face:5} {deployment}: {', '.join(OPS)}")
            side = Side(face, deployment, where, run_id)
            try:
                if side.is_async:

                    async def timed(side: Side = side) -> None:
                        try:
                            await _time_async(side, settings, rows)
                        finally:
                            await side.client.aclose()

                    asyncio.run(timed())
                else:
                    try:
                        _time_sync(side, settings, rows)
                    finally:
                        side.client.close()
            finally:
                side.close()
    return rows


def _us(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def report(rows: list[Row], cluster_info: str) -> list[str]:
    lines = [
        "## Redis Cluster beside one node",
        "",
        f"{cluster_info} µs per operation: median over rounds (min–max). *cluster ÷ one node* "
        "compares our side's medians. Raw: the same writes by hand with redis-py (see bench/cluster.py: "
        "on the cluster a ClusterPipeline without transaction, so not atomic per slot).",
        "",
        "| op | face | one node: ours µs | one node: raw µs | cluster: ours µs | cluster: raw µs "
        "| cluster ÷ one node |",
        "|---|---|---|---|---|---|---|",
    ]
    by_key = {(r.op, r.face, r.deployment): r for r in rows}
    for op in OPS:
        for face in dict.fromkeys(r.face for r in rows):
            node, cluster = by_key.get((op, face, "one node")), by_key.get((op, face, "cluster"))
            if node is None or cluster is None:
                continue
            ratio = statistics.median(cluster.samples["ours"]) / statistics.median(node.samples["ours"])
            lines.append(
                f"| {op} | {face} | {_us(node.samples['ours'])} | {_us(node.samples['raw'])} "
                f"| {_us(cluster.samples['ours'])} | {_us(cluster.samples['raw'])} | {ratio:.2f}× |"
            )
    lines += ["", *(f"- **{op}**: {what}" for op, (_weight, what) in OPS.items()), ""]
    return lines
