# This file is generated from tests/_async/test_expiry.py by setup_unasync.py. Do not edit it by hand.
"""Expiry: ``Meta.ttl``, ``expire()``/``ttl()``/``persist()``, ``Meta.refresh_ttl``, and documents
that expire. Expiries are read from Redis with PTTL."""

from __future__ import annotations

import datetime
import decimal
import json
import math

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._scripts import BATCH, WRITE_DOCUMENTS
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    NotAttachedError,
    PipelineError,
    RedisCommandError,
)
from tests._sync.conftest import recording
from tests._twins import sync_sleep

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


class Profile(BaseModel):
    title: str = ""
    skills: list[str] = Field(default_factory=list)


class Stats(BaseRedisModel):
    visits: int = 0


class Plain(BaseRedisModel):
    """No Meta.ttl: documents keep whatever expiry they are given."""

    name: str = "p"
    tags: list[str] = ["a", "b", "c"]
    meta: dict[str, str] = {"a": "1", "b": "2"}
    count: int = 0
    price: decimal.Decimal = decimal.Decimal("1.50")
    profile: Profile = Field(default_factory=Profile)
    stats: Stats = Field(default_factory=Stats)


class Session(BaseRedisModel):
    user_id: str = "u"
    tags: list[str] = ["a", "b", "c"]
    meta: dict[str, str] = {"a": "1", "b": "2"}
    hits: int = 0
    price: decimal.Decimal = decimal.Decimal("1.50")
    profile: Profile = Field(default_factory=Profile)

    class Meta:
        ttl = 3600


class Cart(BaseRedisModel):
    items: list[str] = ["a", "b", "c"]
    meta: dict[str, str] = {"a": "1", "b": "2"}
    hits: int = 0
    price: decimal.Decimal = decimal.Decimal("1.50")
    profile: Profile = Field(default_factory=Profile)

    class Meta:
        ttl = datetime.timedelta(days=1)
        refresh_ttl = True


class Bag(BaseRedisModel):
    """The fields of Cart, with Meta.ttl but without refresh_ttl."""

    items: list[str] = ["a", "b", "c"]
    meta: dict[str, str] = {"a": "1", "b": "2"}
    hits: int = 0
    price: decimal.Decimal = decimal.Decimal("1.50")
    profile: Profile = Field(default_factory=Profile)

    class Meta:
        ttl = 60


@pytest.fixture
def loaded(client):
    """The scripts loaded, so a call of one is one EVALSHA (the first call ever adds EVAL)."""
    client.script_load(BATCH.source)
    client.script_load(WRITE_DOCUMENTS.source)
    return client


def pttl(client, key: str) -> int:
    return int(client.pttl(key))


def assert_near(ms: int, expected: int) -> None:
    """An expiry just set to ``expected`` ms, read back a moment later."""
    assert expected - 5000 < ms <= expected


# -- Meta.ttl ---------------------------------------------------------------------------------


def test_save_gives_the_document_its_meta_ttl(client):
    session = Session().save()
    assert_near(pttl(client, session.key), HOUR_MS)


def test_a_timedelta_meta_ttl_is_applied_in_milliseconds(client):
    cart = Cart().save()
    assert_near(pttl(client, cart.key), DAY_MS)


def test_save_writes_the_document_and_its_expiry_in_one_atomic_call(loaded, client, monkeypatch):
    session = Session()
    sent, pipelines = recording(client, monkeypatch)
    session.save()
    assert pipelines == []
    # One script call: the document, then its expiry.
    assert len(sent) == 1 and sent[0][:4] == ("EVALSHA", WRITE_DOCUMENTS.sha, 1, session.key)
    assert json.loads(sent[0][4]) == session.redis_dump() and sent[0][5:] == (HOUR_MS,)


def test_save_gives_back_the_full_meta_ttl_to_a_document_that_has_less(client):
    session = Session().save()
    session.expire(5)
    session.save()
    assert_near(pttl(client, session.key), HOUR_MS)


def test_save_without_meta_ttl_keeps_the_expiry_the_document_has(client, stored):
    plain = Plain().save()
    plain.expire(600)
    plain.name = "changed"
    plain.save()
    assert_near(pttl(client, plain.key), 600_000)
    assert (stored.doc(plain.key))["name"] == "changed"


def test_a_model_without_meta_ttl_saves_documents_that_never_expire(client):
    plain = Plain().save()
    assert pttl(client, plain.key) == -1
    assert plain.ttl() is None


FIRST_WRITES = {
    "list aappend": lambda m: m.tags.aappend("x"),
    "list ainsert at 1 [lua]": lambda m: m.tags.ainsert(1, "x"),
    "list apop at 1 [lua]": lambda m: m.tags.apop(1),
    "dict aset_item": lambda m: m.meta.aset_item("c", "3"),
    "dict aupdate [lua]": lambda m: m.meta.aupdate(c="3", d="4"),
    "dict apop [lua]": lambda m: m.meta.apop("a"),
    "aincrease": lambda m: m.hits.aincrease(2),
    "Decimal aincrease (check-and-set)": lambda m: m.price.aincrease(decimal.Decimal("1")),
    "model aupdate": lambda m: m.aupdate(user_id="v", hits=3),
    "field set": lambda m: m.user_id.set("v"),
    "nested aappend": lambda m: m.profile.skills.aappend("s"),
}


@pytest.mark.parametrize("op", FIRST_WRITES.values(), ids=FIRST_WRITES.keys())
def test_a_first_write_creates_the_document_with_its_meta_ttl(client, stored, op):
    session = Session()
    op(session)
    assert stored.exists(session.key)
    assert_near(pttl(client, session.key), HOUR_MS)


def test_a_first_write_inside_a_pipeline_creates_the_document_with_its_meta_ttl(client, stored):
    session = Session()
    with session.pipeline():
        session.tags.aappend("x")
        session.hits.set(4)
    assert (stored.doc(session.key))["hits"] == 4
    assert_near(pttl(client, session.key), HOUR_MS)


def test_a_first_write_leaves_the_expiry_of_a_document_that_already_exists(client, stored):
    existing = Session(pk="same").save()
    existing.persist()
    fresh = Session(pk="same")  # never saved by this instance: its first write creates if missing
    fresh.tags.aappend("x")
    assert pttl(client, fresh.key) == -1
    assert (stored.doc(fresh.key))["tags"] == ["a", "b", "c", "x"]


def test_duplicates_get_the_meta_ttl_in_the_same_atomic_call(loaded, client, monkeypatch):
    session = Session().save()
    sent, _ = recording(client, monkeypatch)
    copies = session.duplicate_many(3)
    assert len(sent) == 1 and sent[0][1] == WRITE_DOCUMENTS.sha
    for copy in copies:
        assert_near(pttl(client, copy.key), HOUR_MS)
    assert_near(pttl(client, (session.duplicate()).key), HOUR_MS)


def test_duplicates_of_a_model_without_meta_ttl_do_not_expire(client):
    plain = Plain().save()
    plain.expire(60)  # this document's own expiry, not the model's
    (copy,) = plain.duplicate_many(1)
    assert pttl(client, copy.key) == -1


# -- field operations keep the expiry -----------------------------------------------------------

FIELD_OPS = {
    "list aappend": lambda m: m.tags.aappend("x"),
    "list aextend": lambda m: m.tags.aextend(["x", "y"]),
    "list ainsert at 0": lambda m: m.tags.ainsert(0, "x"),
    "list ainsert at 1 [lua]": lambda m: m.tags.ainsert(1, "x"),
    "list apop": lambda m: m.tags.apop(),
    "list apop at 1 [lua]": lambda m: m.tags.apop(1),
    "list aclear": lambda m: m.tags.aclear(),
    "list load": lambda m: m.tags.load(),
    "dict aset_item": lambda m: m.meta.aset_item("c", "3"),
    "dict aset_item of a key with both quotes [lua]": lambda m: m.meta.aset_item("'\"", "3"),
    "dict aupdate [lua]": lambda m: m.meta.aupdate(c="3", d="4"),
    "dict adel_item [lua]": lambda m: m.meta.adel_item("a"),
    "dict apop [lua]": lambda m: m.meta.apop("a"),
    "dict apopitem [lua]": lambda m: m.meta.apopitem(),
    "dict aclear": lambda m: m.meta.aclear(),
    "aincrease": lambda m: m.count.aincrease(2),
    "Decimal aincrease (check-and-set)": lambda m: m.price.aincrease(decimal.Decimal("1")),
    "field set": lambda m: m.name.set("n"),
    "field load": lambda m: m.name.load(),
    "model aupdate": lambda m: m.aupdate(name="n", count=3),
    "model load": lambda m: m.load(),
    "nested aappend": lambda m: m.profile.skills.aappend("s"),
    "nested field set": lambda m: m.profile.title.set("T"),
    "nested model set": lambda m: m.profile.set({"title": "T", "skills": []}),
    "nested stored model field set": lambda m: m.stats.visits.set(4),
}


def _pipeline(m):
    with m.pipeline():
        m.tags.aappend("x")
        m.meta.aset_item("'\"", "3")
        m.name.set("n")


def _lock(m):
    with m.lock() as locked:
        locked.name = "n"
        locked.tags.append("x")


def _nested_save(m):
    m.stats.visits = 7
    m.stats.save()


FIELD_OPS.update({"pipeline block": _pipeline, "lock block": _lock, "nested save": _nested_save})


@pytest.mark.parametrize("op", FIELD_OPS.values(), ids=FIELD_OPS.keys())
def test_field_operations_keep_the_expiry_of_the_document(client, op):
    plain = Plain().save()
    plain.expire(600)
    op(plain)
    assert_near(pttl(client, plain.key), 600_000)


@pytest.mark.parametrize("op", FIELD_OPS.values(), ids=FIELD_OPS.keys())
def test_field_operations_leave_a_document_without_expiry_without_one(client, op):
    plain = Plain().save()
    op(plain)
    assert pttl(client, plain.key) == -1


# -- expire(), ttl(), persist() -----------------------------------------------------------------


def test_expire_sets_the_expiry_in_seconds_or_as_a_timedelta(client):
    plain = Plain().save()
    plain.expire(90)
    assert_near(pttl(client, plain.key), 90_000)
    plain.expire(datetime.timedelta(minutes=3))
    assert_near(pttl(client, plain.key), 180_000)
    plain.expire(1.5)
    assert_near(pttl(client, plain.key), 1500)


def test_expire_replaces_a_longer_expiry(client):
    session = Session().save()
    session.expire(2)
    assert_near(pttl(client, session.key), 2000)


def test_ttl_gives_the_seconds_left_or_none(client):
    plain = Plain().save()
    assert plain.ttl() is None
    plain.expire(120)
    left = plain.ttl()
    assert left is not None and 115 < left <= 120


def test_persist_removes_the_expiry(client):
    session = Session().save()
    session.persist()
    assert pttl(client, session.key) == -1
    assert session.ttl() is None
    session.persist()  # nothing to remove: still fine
    assert pttl(client, session.key) == -1


@pytest.mark.parametrize(
    "call",
    [lambda m: m.expire(10), lambda m: m.ttl(), lambda m: m.persist()],
    ids=["expire", "ttl", "persist"],
)
def test_expiry_methods_raise_key_not_found_without_a_document(client, stored, call):
    session = Session()
    with pytest.raises(KeyNotFoundError) as info:
        call(session)
    assert info.value.key == session.key
    assert not stored.exists(session.key)
    session.tags.aappend("x")  # still never saved: its first write creates the document
    assert (stored.doc(session.key))["tags"] == ["a", "b", "c", "x"]


@pytest.mark.parametrize(
    "bad", [0, -1, -0.5, math.nan, math.inf, "10", None, True, datetime.timedelta(0), 2**70]
)
def test_expire_refuses_a_bad_expiry_and_changes_nothing(client, bad):
    plain = Plain().save()
    plain.expire(600)
    with pytest.raises(InvalidArgumentError):
        plain.expire(bad)
    assert_near(pttl(client, plain.key), 600_000)


def test_expire_and_persist_are_refused_inside_a_pipeline(client):
    plain = Plain().save()
    with plain.pipeline():
        with pytest.raises(PipelineError):
            plain.expire(10)
        with pytest.raises(PipelineError):
            plain.persist()
    assert pttl(client, plain.key) == -1


def test_expiry_methods_take_one_round_trip(loaded, client, monkeypatch):
    plain = Plain().save()
    sent, pipelines = recording(client, monkeypatch)
    plain.expire(10)
    plain.ttl()
    plain.persist()
    assert len(sent) == 3 and pipelines == []


# -- Meta options -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -5, "60", math.inf, True, datetime.timedelta(seconds=-1)])
def test_a_bad_meta_ttl_is_refused_when_the_class_is_defined(bad):
    with pytest.raises(InvalidArgumentError, match="Meta.ttl"):

        class Bad(BaseRedisModel):
            name: str = ""

            class Meta:
                ttl = bad


def test_refresh_ttl_needs_a_ttl_and_a_bool():
    with pytest.raises(InvalidArgumentError, match="refresh_ttl"):

        class NoTtl(BaseRedisModel):
            class Meta:
                refresh_ttl = True

    with pytest.raises(InvalidArgumentError, match="refresh_ttl"):

        class NotBool(BaseRedisModel):
            class Meta:
                ttl = 5
                refresh_ttl = "yes"


def test_a_subclass_inherits_the_meta_ttl(client):
    class Child(Session):
        pass

    assert Child.Meta.ttl == 3600
    child = Child().save()
    assert child.key.startswith("Child:")
    assert_near(pttl(client, child.key), HOUR_MS)


# -- Meta.refresh_ttl ---------------------------------------------------------------------------

REFRESHING = {
    "get": lambda m: type(m).get(m.key),
    "get_many": lambda m: type(m).get_many([m.key]),
    "model load": lambda m: m.load(),
    "list load": lambda m: m.items.load(),
    "list aappend": lambda m: m.items.aappend("x"),
    "list ainsert at 1 [lua]": lambda m: m.items.ainsert(1, "x"),
    "dict aupdate [lua]": lambda m: m.meta.aupdate(c="3", d="4"),
    "dict apop [lua]": lambda m: m.meta.apop("a"),
    "aincrease": lambda m: m.hits.aincrease(1),
    "Decimal aincrease (check-and-set)": lambda m: m.price.aincrease(decimal.Decimal("1")),
    "model aupdate": lambda m: m.aupdate(hits=5),
    "nested aappend": lambda m: m.profile.skills.aappend("s"),
    "nested model load": lambda m: m.profile.load(),
}


def _refresh_pipeline(m):
    with m.pipeline():
        m.items.aappend("x")


def _refresh_lock(m):
    with m.lock() as locked:
        locked.hits = 9


REFRESHING.update({"pipeline block": _refresh_pipeline, "lock block": _refresh_lock})


@pytest.mark.parametrize("op", REFRESHING.values(), ids=REFRESHING.keys())
def test_refresh_ttl_reads_and_writes_extend_the_expiry_to_meta_ttl(client, op):
    cart = Cart().save()
    client.pexpire(cart.key, 5000)
    op(cart)
    assert_near(pttl(client, cart.key), DAY_MS)


@pytest.mark.parametrize(
    "op",
    [REFRESHING["get"], REFRESHING["list aappend"], REFRESHING["nested model load"]],
    ids=["get", "list aappend", "nested model load"],
)
def test_refresh_ttl_adds_no_round_trip(loaded, client, monkeypatch, op):
    cart = Cart().save()
    client.pexpire(cart.key, 5000)
    sent, pipelines = recording(client, monkeypatch)
    op(cart)
    assert len(sent) == 1 and pipelines == []
    assert sent[0][1] == BATCH.sha


def test_refresh_ttl_leaves_a_persisted_document_persistent(client):
    cart = Cart().save()
    cart.persist()
    cart.items.aappend("x")
    Cart.get(cart.key)
    assert pttl(client, cart.key) == -1


def test_ttl_and_expire_do_not_refresh(client):
    cart = Cart().save()
    cart.expire(5)
    left = cart.ttl()
    assert left is not None and left <= 5
    assert pttl(client, cart.key) <= 5000


# -- expired documents behave like deleted ones -------------------------------------------------


def expired(client, model) -> None:
    client.pexpire(model.key, 1)
    sync_sleep(0.02)


AFTER_EXPIRY = {
    "list aappend": lambda m: m.items.aappend("x"),
    "list ainsert at 1 [lua]": lambda m: m.items.ainsert(1, "x"),
    "list apop at 1 [lua]": lambda m: m.items.apop(1),
    "list aclear": lambda m: m.items.aclear(),
    "dict aset_item": lambda m: m.meta.aset_item("c", "3"),
    "dict aupdate [lua]": lambda m: m.meta.aupdate(c="3", d="4"),
    "dict apop [lua]": lambda m: m.meta.apop("a"),
    "aincrease": lambda m: m.hits.aincrease(1),
    "Decimal aincrease (check-and-set)": lambda m: m.price.aincrease(decimal.Decimal("1")),
    "model aupdate": lambda m: m.aupdate(hits=5),
    "nested aappend": lambda m: m.profile.skills.aappend("s"),
    "list load": lambda m: m.items.load(),
    "model load": lambda m: m.load(),
    "get": lambda m: type(m).get(m.key),
    "get_many": lambda m: type(m).get_many([m.key]),
}


#: Writes fakeredis answers OK on a missing key (a documented fakeredis deviation): no error there.
FAKE_ACCEPTS = {"list aclear", "dict aset_item", "model aupdate"}


@pytest.mark.parametrize("cls", [Cart, Bag], ids=["refresh_ttl", "ttl only"])
@pytest.mark.parametrize("name", AFTER_EXPIRY)
def test_an_expired_document_raises_key_not_found_and_is_never_recreated(client, stored, backend, cls, name):
    model = cls().save()
    expired(client, model)
    before = model.model_dump()
    if backend == "fake" and name in FAKE_ACCEPTS:
        AFTER_EXPIRY[name](model)
    else:
        with pytest.raises(KeyNotFoundError) as info:
            AFTER_EXPIRY[name](model)
        assert info.value.key == model.key
        assert model.model_dump() == before
    assert not stored.exists(model.key)


def test_save_writes_an_expired_document_again_with_its_ttl(client, stored):
    cart = Cart().save()
    expired(client, cart)
    cart.save()
    assert stored.exists(cart.key)
    assert_near(pttl(client, cart.key), DAY_MS)


def test_save_inside_a_pipeline_writes_the_document_and_its_expiry_together(client, stored):
    session = Session()
    with session.pipeline():
        session.save()
        assert not stored.exists(session.key)
    assert_near(pttl(client, session.key), HOUR_MS)


def test_expiry_methods_of_a_stored_model_nested_in_another_are_refused(client):
    plain = Plain().save()
    with pytest.raises(NotAttachedError):
        plain.stats.expire(10)
    with pytest.raises(NotAttachedError):
        plain.stats.ttl()
    assert pttl(client, plain.key) == -1


# -- a key that holds another Redis type ------------------------------------------------------


@pytest.mark.cluster
@pytest.mark.parametrize("how", ["save", "save_many", "save_many of two"])
def test_a_write_refused_on_a_key_of_another_type_sets_no_expiry_on_it(client, stored, backend, request, how):
    if backend == "fake":
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="fakeredis writes JSON over a key of another type")
        )
    # Another program's key must be left exactly as it was: no document, and no expiry that
    # would delete it later.
    session = Session(pk="taken")
    client.set(session.key, "another program's value")
    other = Session()
    with pytest.raises(RedisCommandError, match="(?i)wrong"):
        if how == "save":
            session.save()
        elif how == "save_many":
            Session.save_many([session])
        else:
            Session.save_many([other, session])
    assert client.get(session.key) in (b"another program's value", "another program's value")
    assert client.pttl(session.key) == -1
    if backend != "cluster":  # (a cluster writes each hash slot's documents on their own)
        assert not stored.exists(other.key)  # one atomic step: none of the batch is written
