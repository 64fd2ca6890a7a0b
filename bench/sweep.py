"""The concurrency sweep (``python -m bench --sweep``): throughput and latency at 1, 10, 100 and
1000 operations in flight on one event loop, redis-pydantic against raw redis-py.

Contenders, each on its own documents, in the same rounds (the order rotates every round):

- ``ours``: redis-pydantic as it comes (automatic pipelining on), on a client made like raw
  redis-py's (``Redis.from_url(url)``: redis-py's default pool, at most 100 connections);
- ``ours off``: the same with automatic pipelining turned off (``configure_autopipeline``), on a
  client of its own with the same default pool: what coalescing changes;
- ``raw``: raw redis-py sending the same commands (``bench.ops``), on the same client as ``ours``;
- ``raw big pool``: raw redis-py with a connection for every operation in flight (a
  ``ConnectionPool`` of ``in_flight`` connections; the same as ``raw`` up to 100 in flight, so
  only run above);
- ``raw blocking pool``: raw redis-py on a ``BlockingConnectionPool`` of ``--tuned-pool``
  connections (tasks wait for a free connection instead of opening one each).

The two tuned pools are the best raw redis-py did without pipelining among the pools tried on
the machine of docs/performance.md: a connection per operation had the best latency, a small
blocking pool the best throughput at 1000 in flight. *Best raw* is, per row, the raw contender
with the most ops/s.

On a Redis Cluster (``--sweep --cluster``) the contenders are ``ours``, ``ours off``, ``raw`` and
``raw big pool``, on cluster clients made like the library's default cluster client
(``RedisCluster.from_url(url)`` that never sends a command again; redis-py's default of at most
100 connections per node, or ``in_flight`` per node for ``raw big pool``). redis-py's cluster
client has no blocking pool. The documents' random keys spread them over every primary; the
library sends one batch per node.

Every task runs ``per_task`` operations one after the other, on its own document; a round times
``in_flight`` such tasks started together. Each operation's latency is the time its ``await``
took. Throughput ratios are medians of per-round ratios, raw ops/s ÷ ours ops/s (below 1 means
ours is faster); latency percentiles are taken per round, and the median over rounds reported.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bench import ops
from bench.models import ours_user_class

#: The operations of the sweep (names of bench.ops.ALIASES).
SWEEP_OPS = ("save", "get", "field_set", "aappend", "aincrease")
LEVELS = (1, 10, 100, 1000)
OURS = ("ours", "ours off")
RAWS = ("raw", "raw big pool", "raw blocking pool")
CONTENDERS = OURS + RAWS
#: The contenders on a Redis Cluster (redis-py's cluster client has no blocking pool).
CLUSTER_CONTENDERS = ("ours", "ours off", "raw", "raw big pool")
#: Connections of the blocking pool of ``raw blocking pool``: of 8, 16, 32, 64 and 128 the best
#: throughput at 1000 in flight (larger ones spend more client CPU per command waiting).
DEFAULT_TUNED_POOL = 16
#: redis-py's default pool holds at most this many connections.
REDIS_PY_DEFAULT_POOL = 100


@dataclass
class SweepSettings:
    rounds: int = 7
    #: Operations per contender per round (each task does at least ``min_per_task``).
    ops_per_round: int = 1500
    min_per_task: int = 4
    levels: tuple[int, ...] = LEVELS
    tuned_pool: int = DEFAULT_TUNED_POOL
    smoke: bool = False
    #: Whether the server is a node of a Redis Cluster (the contenders use cluster clients).
    cluster: bool = False

    @classmethod
    def for_smoke(cls) -> SweepSettings:
        return cls(rounds=1, ops_per_round=20, min_per_task=1, levels=(1, 10), smoke=True)

    def per_task(self, level: int) -> int:
        return max(self.min_per_task, self.ops_per_round // level)


@dataclass
class Cell:
    """One op at one level: per contender, ops/s per round, every latency (µs), and failures."""

    op: ops.Op
    level: int
    per_task: int
    throughput: dict[str, list[float]] = field(default_factory=dict)
    #: Per contender, per round: (p50, p99) of that round's operations, in µs.
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def ops_per_s(self, name: str) -> float | None:
        values = self.throughput.get(name)
        return statistics.median(values) if values and name not in self.failures else None

    def best_raw(self) -> str | None:
        measured = [(self.ops_per_s(name), name) for name in RAWS if self.ops_per_s(name) is not None]
        return max(measured)[1] if measured else None


class Side:
    """What ``bench.ops`` thunks need of one contender: its client, model class, documents."""

    def __init__(self, name: str, client: Any, prefix: str, model: Any = None) -> None:
        self.name = name
        self.client = client
        self.ex = client.execute_command
        self.prefix = prefix
        self.User = model
        self.users: list[Any] = []
        self.is_async = True

    def ours_key(self, i: int) -> str:
        return f"{self.prefix}:d{i}"

    raw_key = ours_key

    def thunk(self, op: ops.Op, i: int) -> ops.Thunk:
        return op.ours(self, i) if self.User is not None else op.raw(self, i)

    def ours_sent(self, op: ops.Op, command: str) -> bool:
        return False


async def _reset(admin: Any, sides: list[Side], op: ops.Op, docs: int, n: int) -> None:
    """Untimed: fresh documents for every contender; our instances loaded from them."""
    payload = json.dumps(op.doc(n))
    with admin.pipeline(transaction=False) as pipe:
        for side in sides:
            for i in range(docs):
                pipe.execute_command("JSON.SET", side.ours_key(i), "$", payload)
        pipe.execute()
    for side in sides:
        if side.User is not None:
            side.users = []
            for start in range(0, docs, 50):  # within any pool
                chunk = range(start, min(docs, start + 50))
                side.users += await asyncio.gather(*(side.User.get(side.ours_key(i)) for i in chunk))


async def _task(thunk: ops.Thunk, n: int, latencies: list[float]) -> None:
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        await thunk()
        latencies.append((clock() - t0) / 1000)


async def _one_round(side: Side, op: ops.Op, level: int, n: int, cell: Cell, timed: bool) -> None:
    thunks = [side.thunk(op, i) for i in range(level)]
    latencies: list[float] = []
    gc.collect()
    t0 = time.perf_counter_ns()
    results = await asyncio.gather(*(_task(t, n, latencies) for t in thunks), return_exceptions=True)
    elapsed = time.perf_counter_ns() - t0
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        cell.failures.setdefault(side.name, f"{type(errors[0]).__name__}: {errors[0]}")
        return
    if timed:
        cell.throughput.setdefault(side.name, []).append(level * n / (elapsed / 1e9))
        cell.latencies.setdefault(side.name, []).append((_pct(latencies, 0.5), _pct(latencies, 0.99)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def cluster_client(url: str, max_connections: int = REDIS_PY_DEFAULT_POOL) -> Any:
    """An asyncio cluster client made like the library's default one: it never sends a command
    again (so the library coalesces on it); ``max_connections`` per node.

    It loads its slot map before the rounds: redis-py 8.1's asyncio cluster client without
    retries fails some of the commands sent concurrently while it loads it.
    """
    client = redis.asyncio.cluster.RedisCluster.from_url(
        url, retry=Retry(NoBackoff(), 0), max_connections=max_connections
    )
    await client.initialize()
    return client


async def run_sweep(url: str, run_id: str, op_list: list[ops.Op], s: SweepSettings) -> list[Cell]:
    from redis_pydantic import BaseRedisModel, configure_autopipeline

    prefix = f"{run_id}s"
    if s.cluster:
        admin: Any = redis.cluster.RedisCluster.from_url(url)
        shared: Any = await cluster_client(url)  # for ours and raw
        off: Any = await cluster_client(url)
    else:
        admin = redis.Redis.from_url(url)
        shared = redis.asyncio.Redis.from_url(url)  # redis-py's default pool, for ours and raw
        off = redis.asyncio.Redis.from_url(url)
    configure_autopipeline(off, enabled=False)
    sides = [
        Side("ours", shared, f"{prefix}o", ours_user_class(BaseRedisModel, f"{prefix}o", shared)),
        Side("ours off", off, f"{prefix}f", ours_user_class(BaseRedisModel, f"{prefix}f", off)),
        Side("raw", shared, f"{prefix}r"),
    ]
    clients = [shared, off]
    if not s.cluster:
        blocking = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=s.tuned_pool)
        )
        sides.append(Side("raw blocking pool", blocking, f"{prefix}t"))
        clients.append(blocking)
    cells: list[Cell] = []
    try:
        for level in s.levels:
            big = None
            if level > REDIS_PY_DEFAULT_POOL:
                if s.cluster:
                    big_client: Any = await cluster_client(url, max_connections=level)
                else:
                    pool = redis.asyncio.ConnectionPool.from_url(url, max_connections=level)
                    big_client = redis.asyncio.Redis(connection_pool=pool)
                big = Side("raw big pool", big_client, f"{prefix}b")
            in_round = sides if big is None else [*sides, big]
            for op in op_list:
                n = s.per_task(level)
                cell = Cell(op, level, n)
                _say(f"sweep {op.name} × {level} in flight ({n} each)")
                for r in range(-1, s.rounds):  # round -1 warms up (connections, scripts)
                    await _reset(admin, in_round, op, level, n)
                    k = r % len(in_round)
                    for side in in_round[k:] + in_round[:k]:
                        if side.name not in cell.failures:
                            await _one_round(side, op, level, n, cell, timed=r >= 0)
                cells.append(cell)
            if big is not None:
                await big.client.aclose()
    finally:
        keys = list(admin.scan_iter(match=f"{prefix}*", count=1000))  # every primary, on a cluster
        for i in range(0, len(keys), 1000):
            admin.unlink(*keys[i : i + 1000])  # split per slot by redis-py's cluster client
        admin.close()
        for client in clients:
            await client.aclose()
    cells.sort(key=lambda c: (op_list.index(c.op), c.level))
    return cells


# --------------------------------------------------------------------------- report


def _ratio(cell: Cell, other: str | None) -> str:
    ours = cell.throughput.get("ours")
    theirs = cell.throughput.get(other) if other is not None else None
    if not ours or not theirs or "ours" in cell.failures or other in cell.failures:
        return "–"
    return f"{statistics.median(t / o for o, t in zip(ours, theirs, strict=False)):.2f}×"


def _ops_cell(cell: Cell, name: str) -> str:
    if name in cell.failures:
        return "fails"
    if name == "raw big pool" and cell.level <= REDIS_PY_DEFAULT_POOL:
        return "= raw"
    value = cell.ops_per_s(name)
    return "–" if value is None else f"{value:,.0f}"


def _lat_cell(cell: Cell, name: str) -> str:
    rounds = cell.latencies.get(name)
    if name in cell.failures or not rounds:
        return "= raw" if name == "raw big pool" and cell.level <= REDIS_PY_DEFAULT_POOL else "–"
    p50 = statistics.median(p for p, _ in rounds)
    p99 = statistics.median(p for _, p in rounds)
    return f"{p50:,.0f} / {p99:,.0f}"


_SHORT = {"raw big pool": "big pool", "raw blocking pool": "blocking pool"}


def sweep_tables(cells: list[Cell], s: SweepSettings) -> list[str]:
    if s.cluster:
        return cluster_sweep_tables(cells, s)
    lines = [
        "## Concurrency sweep (asyncio)",
        "",
        f"{s.rounds} timed rounds (+1 warm-up) per op and level; each round, every contender runs "
        f"*in flight* tasks of *per task* operations each (at least {s.ops_per_round} operations "
        "in all), the order of the contenders rotating every round. *ours*: redis-pydantic with "
        "automatic pipelining (the default); *ours off*: with it turned off; *raw*: raw redis-py "
        "sending the same commands, default pool (at most 100 connections); *big pool*: raw with a "
        "connection for every operation in flight (the same as *raw* up to 100); *blocking pool*: "
        f"raw on a BlockingConnectionPool of {s.tuned_pool} connections. *ops/s*: median over "
        "rounds. *÷ raw*: median of the per-round ratios raw ops/s ÷ ours ops/s (below 1: ours is "
        "faster); *÷ best raw*: the same against the raw contender with the most ops/s in that row; "
        "*÷ ours off*: against redis-pydantic without automatic pipelining (what the feature itself "
        "changes). "
        "*fails*: its operations raised (listed below)."
        + (" SMOKE RUN, numbers are meaningless." if s.smoke else ""),
        "",
        "| op | in flight | per task | ours ops/s | ours off | raw | big pool | blocking pool "
        "| ÷ raw | ÷ best raw | ÷ ours off |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += _throughput_rows(cells, CONTENDERS)
    lines += [
        "",
        "Latency of one operation in µs: p50 / p99 of each round's operations, median over rounds "
        "(a stall of the machine during one round moves one round's figures, not the row's):",
        "",
        "| op | in flight | ours | ours off | raw | big pool | blocking pool |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += _latency_rows(cells, CONTENDERS)
    lines += _failure_lines(cells)
    lines.append("")
    return lines


def _throughput_rows(cells: list[Cell], contenders: tuple[str, ...]) -> list[str]:
    rows = []
    for c in cells:
        best = c.best_raw()
        best_cell = "–" if best is None else f"{_ratio(c, best)} ({_SHORT.get(best, best)})"
        rows.append(
            f"| {c.op.name} | {c.level} | {c.per_task} | "
            + " | ".join(_ops_cell(c, name) for name in contenders)
            + f" | {_ratio(c, 'raw')} | {best_cell} | {_ratio(c, 'ours off')} |"
        )
    return rows


def _latency_rows(cells: list[Cell], contenders: tuple[str, ...]) -> list[str]:
    return [
        f"| {c.op.name} | {c.level} | " + " | ".join(_lat_cell(c, name) for name in contenders) + " |"
        for c in cells
    ]


def _failure_lines(cells: list[Cell]) -> list[str]:
    failures: dict[tuple[str, str], list[str]] = {}
    for c in cells:
        for name, why in c.failures.items():
            failures.setdefault((name, why.split(" (for the default client")[0]), []).append(
                f"{c.op.name} × {c.level}"
            )
    if not failures:
        return []
    return [
        "",
        "Failures:",
        "",
        *(f"- {name} ({', '.join(where)}): {why}" for (name, why), where in failures.items()),
    ]


def cluster_sweep_tables(cells: list[Cell], s: SweepSettings) -> list[str]:
    """The sweep's report on a Redis Cluster (no blocking pool: redis-py's cluster client has none)."""
    lines = [
        "## Concurrency sweep on a Redis Cluster (asyncio)",
        "",
        f"{s.rounds} timed rounds (+1 warm-up) per op and level; each round, every contender runs "
        f"*in flight* tasks of *per task* operations each (at least {s.ops_per_round} operations "
        "in all), on documents whose random keys spread them over every primary, the order of the "
        "contenders rotating every round. Every contender uses a cluster client made like the "
        "library's default cluster client (it never sends a command again), with redis-py's default "
        "of at most 100 connections per node. *ours*: redis-pydantic with automatic pipelining (one "
        "batch per node); *ours off*: with it turned off; *raw*: raw redis-py sending the same "
        "commands on the same client as *ours*; *big pool*: raw with a connection per node for every "
        "operation in flight (the same as *raw* up to 100). *ops/s*: median over rounds. *÷ raw*: "
        "median of the per-round ratios raw ops/s ÷ ours ops/s (below 1: ours is faster); *÷ best "
        "raw*: the same against the raw contender with the most ops/s in that row; *÷ ours off*: "
        "against redis-pydantic without automatic pipelining. *fails*: its operations raised (listed "
        "below)." + (" SMOKE RUN, numbers are meaningless." if s.smoke else ""),
        "",
        "| op | in flight | per task | ours ops/s | ours off | raw | big pool | ÷ raw | ÷ best raw | ÷ ours off |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += _throughput_rows(cells, CLUSTER_CONTENDERS)
    lines += [
        "",
        "Latency of one operation in µs: p50 / p99 of each round's operations, median over rounds:",
        "",
        "| op | in flight | ours | ours off | raw | big pool |",
        "|---|---|---|---|---|---|",
    ]
    lines += _latency_rows(cells, CLUSTER_CONTENDERS)
    lines += _failure_lines(cells)
    lines.append("")
    return lines
