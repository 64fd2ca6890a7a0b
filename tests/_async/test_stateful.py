"""State machine test: random sequences of operations on a stored model agree with a mirror.

Each step applies one operation (a field write, a list, dict, number or nested-model operation,
a model ``aupdate``, a ``pipeline()``, a ``lock()`` block, a ``duplicate()``) to a stored model,
and the same change to a mirror made of plain dicts and lists. The mirror also predicts the
operation's error: ``IndexError`` and ``KeyError`` as a list or dict raises them, and
``FieldValidationError`` when the result would break a constraint of the model (``level >= 0``,
at most 3 ``short`` items); then nothing may change. After every step the local model, a fresh
``get()`` and the mirror must be equal, value types included.

hypothesis drives state machines synchronously: every call of the face goes through ``drive``
(an event loop for the asyncio face; in the generated blocking twin the call has already run).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from pydantic import BaseModel, Field

from redis_pydantic import plain
from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError
from tests._drivers import AsyncDriver
from tests._twins import AsyncFakeRedis, AsyncRedis
from tests.conftest import backend_client, installed

MACHINE_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Inner(BaseModel):
    note: str = ""
    hits: int = 0
    marks: list[int] = Field(default_factory=list)
    attrs: dict[str, bytes] = Field(default_factory=dict)


class Doc(BaseRedisModel):
    count: int = 0
    ratio: float = 0.0
    amount: Decimal = Decimal("0")
    name: str = ""
    blob: bytes = b""
    maybe: int | None = None
    either: int | str = 0
    words: list[str] = []
    blobs: list[bytes] = []
    table: dict[str, int] = {}
    notes: dict[str, str | None] = {}
    level: int = Field(default=0, ge=0)
    short: list[int] = Field(default_factory=list, max_length=3)
    inner: Inner = Field(default_factory=Inner)
    spare: Inner | None = None


def empty_inner() -> dict[str, Any]:
    return {"note": "", "hits": 0, "marks": [], "attrs": {}}


def default_mirror() -> dict[str, Any]:
    """A new ``Doc()`` as plain values, written out by hand."""
    return {
        "count": 0,
        "ratio": 0.0,
        "amount": Decimal("0"),
        "name": "",
        "blob": b"",
        "maybe": None,
        "either": 0,
        "words": [],
        "blobs": [],
        "table": {},
        "notes": {},
        "level": 0,
        "short": [],
        "inner": empty_inner(),
        "spare": None,
    }


def breaks_constraints(doc: dict[str, Any]) -> bool:
    """Whether the mirror breaks ``level: int = Field(ge=0)`` or ``short: ... max_length=3``."""
    return doc["level"] < 0 or len(doc["short"]) > 3


def comparable(value: Any) -> Any:
    """``value`` with every scalar tagged with its type, and dicts as their sorted items.

    Dict key order is not compared: RedisJSON's JSON.DEL moves an object's last member into the
    place of the one deleted (test_write_guarantees checks the order itself).
    """
    if isinstance(value, dict):
        return sorted((key, comparable(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    return (type(value).__name__, value)


Path = tuple[str, ...]


def mirror_parent(doc: dict[str, Any], where: Path) -> dict[str, Any]:
    for name in where[:-1]:
        doc = doc[name]
    return doc


def model_at(model: Any, where: Path) -> Any:
    for name in where:
        model = getattr(model, name)
    return model


# -- values -------------------------------------------------------------------------------

#: Dict keys that RedisJSON paths, Lua and JSON escaping find hard, and a few plain ones.
HOSTILE_KEYS = [
    "",
    ".",
    "'",
    '"',
    "\\",
    "[",
    "]",
    "$",
    " ",
    " lead",
    "a b",
    "\x00",
    "🙂",
    "a'b\"c",
    "$.x",
    "[0]",
    '\\"',
    "x",
    "y",
]
keys = st.sampled_from(HOSTILE_KEYS) | st.text(max_size=3)
texts = st.text(max_size=6)
ints = st.integers(-1000, 1000)
small = st.integers(-5, 5)
#: Floats that RedisJSON reads back exactly (it may parse other floats one unit in the last
#: place off, which test_write_guarantees covers), with sums that stay such floats.
floats = st.integers(-4000, 4000).map(lambda n: n / 4)
decimals = st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False)
blobs = st.binary(max_size=6)
inners = st.builds(
    lambda note, hits, marks, attrs: {"note": note, "hits": hits, "marks": marks, "attrs": attrs},
    texts,
    ints,
    st.lists(ints, max_size=3),
    st.dictionaries(keys, blobs, max_size=3),
)

SCALARS: dict[Path, st.SearchStrategy[Any]] = {
    ("count",): ints,
    ("ratio",): floats,
    ("amount",): decimals,
    ("name",): texts,
    ("blob",): blobs,
    ("maybe",): st.none() | ints,
    ("either",): ints | texts,
    ("level",): st.integers(-3, 10),
    ("inner", "note"): texts,
    ("inner", "hits"): ints,
    ("spare", "note"): texts,
    ("spare", "hits"): ints,
}
NUMBERS: dict[Path, st.SearchStrategy[Any]] = {
    ("count",): ints,
    ("ratio",): ints | floats,
    ("amount",): ints | decimals,
    ("maybe",): ints,
    ("level",): small,
    ("inner", "hits"): ints,
    ("spare", "hits"): ints,
}
LISTS: dict[Path, st.SearchStrategy[Any]] = {
    ("words",): texts,
    ("blobs",): blobs,
    ("short",): small,
    ("inner", "marks"): ints,
    ("spare", "marks"): ints,
}
#: Several items for aextend() and set(): up to 3 items, or 5 for the list of at most 3.
LIST_RUNS = {
    where: st.lists(items, max_size=5 if where == ("short",) else 3) for where, items in LISTS.items()
}
DICTS: dict[Path, st.SearchStrategy[Any]] = {
    ("table",): ints,
    ("notes",): st.none() | texts,
    ("inner", "attrs"): blobs,
    ("spare", "attrs"): blobs,
}
#: Fields given to the model's aupdate(), with their values (some break a constraint).
AUPDATES = {
    "count": ints,
    "name": texts,
    "amount": decimals,
    "blob": blobs,
    "maybe": st.none() | ints,
    "either": ints | texts,
    "words": st.lists(texts, max_size=3),
    "table": st.dictionaries(keys, ints, max_size=3),
    "level": st.integers(-2, 5),
    "short": st.lists(small, max_size=5),
    "spare": st.none() | inners,
}
#: What a lock() block may assign with ``=`` (level -1 makes the exit refuse the block).
LOCK_ASSIGNMENTS: dict[Path, st.SearchStrategy[Any]] = {
    ("name",): texts,
    ("count",): ints,
    ("either",): ints | texts,
    ("maybe",): st.none() | ints,
    ("table",): st.dictionaries(keys, ints, max_size=3),
    ("level",): st.integers(-1, 5),
    ("inner", "note"): texts,
}


def field_and(fields: dict[Path, st.SearchStrategy[Any]], *more: st.SearchStrategy[Any]) -> Any:
    """A strategy of ``(path, value, *more)`` with a value of the path's own strategy."""
    return st.sampled_from(sorted(fields)).flatmap(
        lambda where: st.tuples(st.just(where), fields[where], *more)
    )


lists_and_item = field_and(LISTS)
dicts_and_item = field_and(DICTS, keys)
initial_documents = st.fixed_dictionaries(
    {},
    optional={
        "words": st.lists(texts, max_size=3),
        "blobs": st.lists(blobs, max_size=2),
        "table": st.dictionaries(keys, ints, max_size=4),
        "notes": st.dictionaries(keys, st.none() | texts, max_size=3),
        "either": ints | texts,
        "maybe": st.none() | ints,
        "inner": inners,
        "spare": st.none() | inners,
    },
)


# -- writes queued in a pipeline() ----------------------------------------------------------

Write = tuple[Callable[[dict[str, Any]], Any], Callable[[Any], Any]]


def queued_write(kind: str, value: Any, key: str) -> Write:
    """A write that cannot fail, as (change of the mirror, call on the model)."""
    if kind == "aappend":
        return (lambda doc: doc["words"].append(key)), (lambda model: model.words.aappend(key))
    if kind == "aset_item":
        return (lambda doc: doc["table"].__setitem__(key, value)), (
            lambda model: model.table.aset_item(key, value)
        )
    if kind == "set":
        return (lambda doc: doc.__setitem__("count", value)), (lambda model: model.count.set(value))
    if kind == "aextend":
        return (lambda doc: doc["inner"]["marks"].extend([value, value])), (
            lambda model: model.inner.marks.aextend([value, value])
        )
    return (lambda doc: doc.update(count=value, name=key)), (
        lambda model: model.aupdate(count=value, name=key)
    )


pipeline_writes = st.tuples(
    st.sampled_from(["aappend", "aset_item", "set", "aextend", "aupdate"]), ints, keys
)


class DocMachine(RuleBasedStateMachine):
    """One stored ``Doc`` and its mirror."""

    def __init__(self, drive: Any) -> None:
        super().__init__()
        self.drive = drive
        self.doc: Any = None
        self.mirror: dict[str, Any] = {}

    @initialize(start=initial_documents)
    def create(self, start):
        self.mirror = default_mirror() | copy.deepcopy(start)
        self.doc = Doc(**start)
        self.drive(self.doc.save())

    def teardown(self):
        if self.doc is not None:
            self.drive(self.doc.delete())

    @invariant()
    def local_model_fresh_get_and_mirror_agree(self):
        expected = comparable(self.mirror)
        assert comparable(self.doc.model_dump()) == expected
        fresh = self.drive(Doc.get(self.doc.key))
        assert comparable(fresh.model_dump()) == expected

    # -- the check of one operation ---------------------------------------------------------

    def reachable(self, where: Path) -> bool:
        """Whether the field exists now (fields of ``spare`` only while it holds a model)."""
        return where[0] != "spare" or self.mirror["spare"] is not None

    def check(
        self, where: Path, on_mirror: Callable[[dict[str, Any], str], Any], call: Callable[[], Any]
    ) -> None:
        """Predict the operation on a copy of the mirror, run it, and compare the outcomes."""
        expected = copy.deepcopy(self.mirror)
        error: type[BaseException] | None = None
        try:
            result = on_mirror(mirror_parent(expected, where), where[-1])
        except (IndexError, KeyError) as exc:
            error = type(exc)
        else:
            if breaks_constraints(expected):
                error = FieldValidationError
        if error is not None:
            with pytest.raises(error) as raised:
                self.drive(call())
            assert raised.type is error
            return
        assert comparable(self.drive(call())) == comparable(result)
        self.mirror = expected

    def field(self, where: Path) -> Any:
        return model_at(self.doc, where)

    # -- scalars and numbers ----------------------------------------------------------------

    @rule(change=field_and(SCALARS))
    def set_value(self, change):
        where, value = change
        if not self.reachable(where):
            return
        owner, name = model_at(self.doc, where[:-1]), where[-1]

        def call():
            current = getattr(owner, name)
            if current is None:  # a None field reads as None itself: set it through aupdate
                return owner.aupdate(**{name: value})
            return current.set(value)

        self.check(where, lambda parent, name: parent.__setitem__(name, value), call)

    @rule(change=field_and(NUMBERS))
    def aincrease(self, change):
        where, amount = change
        if not self.reachable(where) or mirror_parent(self.mirror, where)[where[-1]] is None:
            return

        def on_mirror(parent, name):
            parent[name] += amount
            return parent[name]

        self.check(where, on_mirror, lambda: self.field(where).aincrease(amount))

    # -- lists ------------------------------------------------------------------------------

    @rule(change=lists_and_item)
    def list_aappend(self, change):
        where, item = change
        if self.reachable(where):
            self.check(
                where, lambda parent, name: parent[name].append(item), lambda: self.field(where).aappend(item)
            )

    @rule(change=field_and(LIST_RUNS))
    def list_aextend(self, change):
        where, items = change
        if self.reachable(where):
            self.check(
                where,
                lambda parent, name: parent[name].extend(items),
                lambda: self.field(where).aextend(items),
            )

    @rule(change=lists_and_item, index=st.integers(-5, 5))
    def list_ainsert(self, change, index):
        where, item = change
        if self.reachable(where):
            self.check(
                where,
                lambda parent, name: parent[name].insert(index, item),
                lambda: self.field(where).ainsert(index, item),
            )

    @rule(where=st.sampled_from(sorted(LISTS)), index=st.none() | st.integers(-4, 4))
    def list_apop(self, where, index):
        if not self.reachable(where):
            return
        if index is None:
            self.check(where, lambda parent, name: parent[name].pop(), lambda: self.field(where).apop())
        else:
            self.check(
                where, lambda parent, name: parent[name].pop(index), lambda: self.field(where).apop(index)
            )

    @rule(where=st.sampled_from(sorted(LISTS)))
    def list_aclear(self, where):
        if self.reachable(where):
            self.check(where, lambda parent, name: parent[name].clear(), lambda: self.field(where).aclear())

    @rule(change=field_and(LIST_RUNS))
    def list_set(self, change):
        where, items = change
        if self.reachable(where):
            self.check(
                where,
                lambda parent, name: parent.__setitem__(name, list(items)),
                lambda: self.field(where).set(items),
            )

    @rule(where=st.sampled_from(sorted(SCALARS | LISTS | DICTS)))
    def field_load(self, where):
        if not self.reachable(where) or mirror_parent(self.mirror, where)[where[-1]] is None:
            return  # a None field reads as None itself, without load()
        loaded = plain(self.drive(self.field(where).load()))  # a field value reads as its Redis* class
        assert comparable(loaded) == comparable(mirror_parent(self.mirror, where)[where[-1]])

    # -- dicts ------------------------------------------------------------------------------

    @rule(change=dicts_and_item)
    def dict_aset_item(self, change):
        where, value, key = change
        if self.reachable(where):
            self.check(
                where,
                lambda parent, name: parent[name].__setitem__(key, value),
                lambda: self.field(where).aset_item(key, value),
            )

    @rule(where=st.sampled_from(sorted(DICTS)), data=st.data())
    def dict_aupdate(self, where, data):
        if not self.reachable(where):
            return
        items = data.draw(st.dictionaries(keys, DICTS[where], min_size=1, max_size=4))
        self.check(
            where, lambda parent, name: parent[name].update(items), lambda: self.field(where).aupdate(items)
        )

    def draw_key(self, data: Any, where: Path) -> str:
        """A key the dict holds now (half of the time, when it holds any), or any key."""
        held = list(mirror_parent(self.mirror, where)[where[-1]])
        key: str = data.draw(st.sampled_from(held) | keys if held else keys)
        return key

    @rule(where=st.sampled_from(sorted(DICTS)), data=st.data())
    def dict_adel_item(self, where, data):
        if not self.reachable(where):
            return
        key = self.draw_key(data, where)
        self.check(
            where,
            lambda parent, name: parent[name].__delitem__(key),
            lambda: self.field(where).adel_item(key),
        )

    @rule(where=st.sampled_from(sorted(DICTS)), data=st.data())
    def dict_apop(self, where, data):
        if not self.reachable(where):
            return
        key = self.draw_key(data, where)
        self.check(where, lambda parent, name: parent[name].pop(key), lambda: self.field(where).apop(key))

    @rule(where=st.sampled_from(sorted(DICTS)), data=st.data())
    def dict_apop_with_default(self, where, data):
        if not self.reachable(where):
            return
        key = self.draw_key(data, where)
        default = data.draw(DICTS[where])
        self.check(
            where,
            lambda parent, name: parent[name].pop(key, default),
            lambda: self.field(where).apop(key, default),
        )

    @rule(where=st.sampled_from(sorted(DICTS)))
    def dict_apopitem(self, where):
        if not self.reachable(where):
            return
        held = mirror_parent(self.mirror, where)[where[-1]]
        if not held:
            self.check(
                where, lambda parent, name: parent[name].popitem(), lambda: self.field(where).apopitem()
            )
            return
        # Which pair is "last" depends on the key order, which the mirror does not predict.
        key, value = self.drive(self.field(where).apopitem())
        assert key in held
        assert comparable(value) == comparable(held.pop(key))

    @rule(where=st.sampled_from(sorted(DICTS)))
    def dict_aclear(self, where):
        if self.reachable(where):
            self.check(where, lambda parent, name: parent[name].clear(), lambda: self.field(where).aclear())

    @rule(where=st.sampled_from(sorted(DICTS)), data=st.data())
    def dict_set(self, where, data):
        if not self.reachable(where):
            return
        items = data.draw(st.dictionaries(keys, DICTS[where], max_size=4))
        self.check(
            where,
            lambda parent, name: parent.__setitem__(name, dict(items)),
            lambda: self.field(where).set(items),
        )

    # -- models -----------------------------------------------------------------------------

    @rule(values=st.fixed_dictionaries({}, optional=AUPDATES))
    def model_aupdate(self, values):
        expected = copy.deepcopy(self.mirror) | copy.deepcopy(values)
        if breaks_constraints(expected):
            with pytest.raises(FieldValidationError):
                self.drive(self.doc.aupdate(**values))
            return
        self.drive(self.doc.aupdate(**values))
        self.mirror = expected

    @rule(where=st.sampled_from([("inner",), ("spare",)]), note=st.none() | texts, hits=st.none() | ints)
    def nested_aupdate(self, where, note, hits):
        if not self.reachable(where):
            return
        values = {name: v for name, v in (("note", note), ("hits", hits)) if v is not None}
        self.check(
            where,
            lambda parent, name: parent[name].update(values),
            lambda: self.field(where).aupdate(**values),
        )

    @rule(where=st.sampled_from([("inner",), ("spare",)]), value=inners, as_model=st.booleans())
    def nested_set(self, where, value, as_model):
        if not self.reachable(where):
            return
        given = Inner(**value) if as_model else value
        self.check(
            where,
            lambda parent, name: parent.__setitem__(name, copy.deepcopy(value)),
            lambda: self.field(where).set(given),
        )

    @rule(where=st.sampled_from([(), ("inner",), ("spare",)]))
    def model_load(self, where):
        if where and not self.reachable(where):
            return
        self.drive(model_at(self.doc, where).load())

    # -- pipeline(), lock(), duplicate() ----------------------------------------------------

    async def in_pipeline(self, calls: list[Callable[[Any], Any]]) -> None:
        async with self.doc.pipeline() as piped:
            for call in calls:
                await call(piped)

    @rule(
        writes=st.lists(pipeline_writes, min_size=1, max_size=4),
        refused=st.sampled_from([False] * 4 + [True]),
    )
    def pipeline(self, writes, refused):
        expected = copy.deepcopy(self.mirror)
        calls = []
        for kind, value, key in writes:
            on_mirror, call = queued_write(kind, value, key)
            on_mirror(expected)
            calls.append(call)
        if refused:  # a queued write refused before anything is sent: the block sends nothing
            calls.append(lambda model: model.level.set(-1))
            with pytest.raises(FieldValidationError):
                self.drive(self.in_pipeline(calls))
            return
        self.drive(self.in_pipeline(calls))
        self.mirror = expected

    async def in_lock(
        self, increase: int | None, assignments: list[tuple[Path, Any]], word: str | None
    ) -> None:
        async with self.doc.lock() as locked:
            if increase is not None:
                await locked.count.aincrease(increase)
            for where, value in assignments:
                setattr(model_at(locked, where[:-1]), where[-1], copy.deepcopy(value))
            if word is not None:
                locked.words.append(word)  # an in-place change, written on exit

    @rule(
        increase=st.none() | small,
        assignments=st.lists(field_and(LOCK_ASSIGNMENTS), max_size=3),
        word=st.none() | texts,
    )
    def lock(self, increase, assignments, word):
        applied = copy.deepcopy(self.mirror)
        if increase is not None:
            applied["count"] += increase
        expected = copy.deepcopy(applied)
        for where, value in assignments:
            mirror_parent(expected, where)[where[-1]] = copy.deepcopy(value)
        if word is not None:
            expected["words"].append(word)
        if breaks_constraints(expected):
            with pytest.raises(FieldValidationError):
                self.drive(self.in_lock(increase, assignments, word))
            # The operation inside the block was applied; the assignments were not written, and
            # the local model, which still holds them, is read again.
            self.mirror = applied
            self.drive(self.doc.load())
            return
        self.drive(self.in_lock(increase, assignments, word))
        self.mirror = expected

    @rule(word=texts)
    def duplicate(self, word):
        copied = self.drive(self.doc.duplicate())
        assert copied.key != self.doc.key
        assert comparable(copied.model_dump()) == comparable(self.mirror)
        assert comparable(self.drive(Doc.get(copied.key)).model_dump()) == comparable(self.mirror)
        self.drive(copied.words.aappend(word))  # the copy shares nothing with the original
        assert self.drive(Doc.get(copied.key)).words == [*self.mirror["words"], word]
        self.drive(copied.delete())


@pytest.fixture
def drive(backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Calls of this face on a flushed client of the backend, installed as every model's client."""
    driver = AsyncDriver()
    client = backend_client(request, backend, AsyncRedis, AsyncFakeRedis)
    try:
        driver(client.flushdb())
        with installed(connection, client):
            yield driver
        driver(client.aclose())
    finally:
        driver.close()


def test_random_operations_agree_with_a_plain_python_mirror(drive):
    run_state_machine_as_test(lambda: DocMachine(drive), settings=MACHINE_SETTINGS)
