"""A randomized mix of operations on a few documents, and what Redis must hold after it.

Both faces run the same plan (asyncio tasks in one, threads in the other); the checks are the
same: no write lost or applied twice, and the writes of each worker in the order it made them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from redis_pydantic.errors import KeyNotFoundError

#: The kinds of step, with their weights.
KINDS = (
    ("append", 30),
    ("increase", 20),
    ("set_item", 15),
    ("set_label", 10),
    ("get", 10),
    ("pipeline", 8),
    ("missing", 7),
)


@dataclass(frozen=True)
class Step:
    kind: str
    doc: int
    worker: int
    index: int
    amount: int = 0

    @property
    def token(self) -> str:
        return f"{self.worker}.{self.index}"


def plan(seed: int, workers: int, per_worker: int, docs: int) -> list[list[Step]]:
    """Each worker's steps: ``workers * per_worker`` operations in all."""
    rng = random.Random(seed)
    names = [name for name, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    return [
        [
            Step(kind, rng.randrange(docs), w, i, rng.randint(1, 9))
            for i, kind in enumerate(rng.choices(names, weights, k=per_worker))
        ]
        for w in range(workers)
    ]


@dataclass
class Expected:
    """What the plan's steps must have left in each document."""

    events: list[list[str]]
    counters: list[int]
    seen: list[dict[str, int]]
    labels: list[set[str]] = field(default_factory=list)

    @classmethod
    def of(cls, steps: list[list[Step]], docs: int) -> Expected:
        expected = cls([[] for _ in range(docs)], [0] * docs, [{} for _ in range(docs)])
        expected.labels = [{""} for _ in range(docs)]
        for worker_steps in steps:
            for step in worker_steps:
                d = step.doc
                if step.kind == "append":
                    expected.events[d].append(step.token)
                elif step.kind == "increase":
                    expected.counters[d] += step.amount
                elif step.kind == "set_item":
                    expected.seen[d][str(step.worker)] = step.index  # the worker's last write wins
                elif step.kind == "set_label":
                    expected.labels[d].add(step.token)
                elif step.kind == "pipeline":
                    expected.events[d].append(step.token + "p")
                    expected.seen[d][f"p{step.worker}"] = step.index
        return expected

    def check(self, stored: list[dict[str, Any]]) -> None:
        """Compare with what Redis holds (one JSON document per doc); AssertionError if wrong."""
        for d, doc in enumerate(stored):
            events = doc["events"]
            lost = Counter(self.events[d]) - Counter(events)
            extra = Counter(events) - Counter(self.events[d])
            assert not lost and not extra, f"doc {d}: lost {dict(lost)}, extra or twice {dict(extra)}"
            by_worker: dict[str, list[int]] = {}
            for token in events:
                worker, index = token.rstrip("p").split(".")
                by_worker.setdefault(worker, []).append(int(index))
            for worker, indexes in by_worker.items():
                assert indexes == sorted(indexes), f"doc {d}: worker {worker}'s appends out of order"
            assert doc["counter"] == self.counters[d], f"doc {d}: counter"
            assert doc["seen"] == self.seen[d], f"doc {d}: seen"
            assert doc["label"] in self.labels[d], f"doc {d}: label {doc['label']!r}"


async def run_async_steps(model: Any, docs: Sequence[Any], steps: list[Step], missing: str) -> None:
    """One asyncio worker: ``steps`` on the saved ``docs`` of class ``model`` (its own instance
    of each, read with ``get()``). ``missing`` is a key that holds no document."""
    mine: dict[int, Any] = {}
    for step in steps:
        key = docs[step.doc].key
        instance = mine.get(step.doc)
        if instance is None:
            instance = mine[step.doc] = await model.get(key)
        if step.kind == "append":
            await instance.events.aappend(step.token)
        elif step.kind == "increase":
            await instance.counter.aincrease(step.amount)
        elif step.kind == "set_item":
            await instance.seen.aset_item(str(step.worker), step.index)
        elif step.kind == "set_label":
            await instance.label.set(step.token)
        elif step.kind == "get":
            assert (await model.get(key)).key == key
        elif step.kind == "pipeline":  # an atomic step, one entry of a batch
            async with instance.pipeline(refresh=False):
                await instance.events.aappend(step.token + "p")
                await instance.seen.aset_item(f"p{step.worker}", step.index)
        else:
            with pytest.raises(KeyNotFoundError):
                await model.get(missing)
