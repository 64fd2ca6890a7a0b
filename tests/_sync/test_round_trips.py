# This file is generated from tests/_async/test_round_trips.py by setup_unasync.py. Do not edit it by hand.
"""Every atomic field operation is one round trip to Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._scripts import BATCH, DICT_OPS, LIST_INSERT, LIST_POP
from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import PipelineError
from tests.conftest import installed


class CountingClient:
    """Wraps a client and counts round trips: single commands (scripts included) and pipelines."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.trips = 0

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        self.trips += 1
        return self.inner.execute_command(*args, **kwargs)

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        self.trips += 1
        return self.inner.pipeline(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def counting(client) -> Iterator[CountingClient]:
    # Scripts the server already knows run by EVALSHA alone; the first call ever also sends EVAL.
    for script in (DICT_OPS, LIST_INSERT, LIST_POP, BATCH):
        client.script_load(script.source)
    with installed(connection, CountingClient(client)) as proxy:
        yield proxy


class Profile(BaseModel):
    skills: list[str] = Field(default_factory=list)


class Thing(BaseRedisModel):
    name: str = "t"
    items: list[str] = ["a", "b", "c"]
    meta: dict[str, str] = {"a": "1", "b": "2"}
    count: int = 0
    profile: Profile = Field(default_factory=Profile)


WRITES = {
    "list aappend": lambda t: t.items.aappend("x"),
    "list aextend": lambda t: t.items.aextend(["x", "y"]),
    "list ainsert at 0": lambda t: t.items.ainsert(0, "x"),
    "list ainsert at 1": lambda t: t.items.ainsert(1, "x"),
    "list apop": lambda t: t.items.apop(),
    "list apop at 1": lambda t: t.items.apop(1),
    "list aclear": lambda t: t.items.aclear(),
    "dict aset_item": lambda t: t.meta.aset_item("c", "3"),
    "dict aset_item of a key with both quotes": lambda t: t.meta.aset_item("'\"", "3"),
    "dict aupdate": lambda t: t.meta.aupdate(c="3", d="4"),
    "dict adel_item": lambda t: t.meta.adel_item("a"),
    "dict apop": lambda t: t.meta.apop("a"),
    "dict apopitem": lambda t: t.meta.apopitem(),
    "dict aclear": lambda t: t.meta.aclear(),
    "aincrease": lambda t: t.count.aincrease(2),
    "model aupdate": lambda t: t.aupdate(name="n", count=3),
    "field set": lambda t: t.name.set("n"),
    "nested aappend": lambda t: t.profile.skills.aappend("s"),
}
READS = {
    "list load": lambda t: t.items.load(),
    "dict load": lambda t: t.meta.load(),
    "nested model load": lambda t: t.profile.load(),
}
OPS = {**WRITES, **READS}


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_an_op_on_a_saved_model_takes_one_round_trip(counting, stored, op):
    thing = Thing()
    thing.save()
    counting.trips = 0
    op(thing)
    assert counting.trips == 1


@pytest.mark.parametrize("op", WRITES.values(), ids=WRITES.keys())
def test_an_op_on_a_never_saved_model_creates_it_in_the_same_round_trip(counting, stored, op):
    thing = Thing()
    op(thing)
    assert counting.trips == 1
    assert stored.exists(thing.key)


class RefreshedThing(Thing):
    """Thing whose reads and writes also extend its expiry (sent with the operation)."""

    class Meta:
        ttl = 3600
        refresh_ttl = True


def _outcome(thing: Thing, op: Any, stored: Any) -> tuple[Any, Any, Any]:
    """The operation's result, then the local model and the document in Redis."""
    result = op(thing)
    if isinstance(result, BaseModel):
        result = result.model_dump()
    return result, thing.model_dump(), stored.doc(thing.key)


@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_an_op_has_the_same_outcome_however_it_is_sent(client, stored, op):
    # Sent at once (a stored model), with the expiry refresh, and (writes) with the document
    # created first: the same result, local model and document in Redis.
    saved = Thing()
    saved.save()
    at_once = _outcome(saved, op, stored)
    assert at_once[1] == at_once[2]
    refreshed = RefreshedThing()
    refreshed.save()
    client.expire(refreshed.key, 60)
    assert _outcome(refreshed, op, stored) == at_once
    assert client.ttl(refreshed.key) > 3000  # extended by the operation
    if op in WRITES.values():
        assert _outcome(Thing(), op, stored) == at_once


VALUE_RETURNING = ("list apop", "list apop at 1", "dict apop", "dict apopitem", "aincrease")


@pytest.mark.parametrize("op", WRITES.values(), ids=WRITES.keys())
def test_a_write_queued_in_pipeline_has_the_outcome_of_one_sent_at_once(client, stored, op):
    saved, queued = Thing(), Thing()
    saved.save()
    queued.save()
    _, local, document = _outcome(saved, op, stored)
    if op in [WRITES[name] for name in VALUE_RETURNING]:
        with pytest.raises(PipelineError):  # they return a value read from Redis
            with queued.pipeline():
                op(queued)
        assert queued.model_dump() == stored.doc(queued.key) == Thing().model_dump()
        return
    with queued.pipeline():
        op(queued)
    assert (queued.model_dump(), stored.doc(queued.key)) == (local, document)
