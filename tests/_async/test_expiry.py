"""Expiry: ``Meta.ttl``, ``expire()``/``ttl()``/``persist()``, ``Meta.refresh_ttl``, and documents
that expire. Expiries are read from Redis with PTTL."""

from __future__ import annotations

import datetime
import decimal
import json
import math

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._scripts import BATCH, WRITE_DOCUMENTS
from redis_pydantic.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    NotAttachedError,
    PipelineError,
    RedisCommandError,
)
from tests._async.conftest import recording
from tests._twins import async_sleep

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
async def loaded(client):
    """The scripts loaded, so a call of one is one EVALSHA (the first call ever adds EVAL)."""
    await client.script_load(BATCH.source)
    await client.script_load(WRITE_DOCUMENTS.source)
    return client


async def pttl(client, key: str) -> int:
    return int(await client.pttl(key))


def assert_near(ms: int, expected: int) -> None:
    """An expiry just set to ``expected`` ms, read back a moment later."""
    assert expected - 5000 < ms <= expected


# -- Meta.ttl ---------------------------------------------------------------------------------


async def test_save_gives_the_document_its_meta_ttl(client):
    session = await Session().save()
    assert_near(await pttl(client, session.key), HOUR_MS)


async def test_a_timedelta_meta_ttl_is_applied_in_milliseconds(client):
    cart = await Cart().save()
    assert_near(await pttl(client, cart.key), DAY_MS)


async def test_save_writes_the_document_and_its_expiry_in_one_atomic_call(loaded, client, monkeypatch):
    session = Session()
    sent, pipelines = recording(client, monkeypatch)
    await session.save()
    assert pipelines == []
    # One script call: the document, then its expiry.
    assert len(sent) == 1 and sent[0][:4] == ("EVALSHA", WRITE_DOCUMENTS.sha, 1, session.key)
    assert json.loads(sent[0][4]) == session.redis_dump() and sent[0][5:] == (HOUR_MS,)


async def test_save_gives_back_the_full_meta_ttl_to_a_document_that_has_less(client):
    session = await Session().save()
    await session.expire(5)
    await session.save()
    assert_near(await pttl(client, session.key), HOUR_MS)


async def test_save_without_meta_ttl_keeps_the_expiry_the_document_has(client, stored):
    plain = await Plain().save()
    await plain.expire(600)
    plain.name = "changed"
    await plain.save()
    assert_near(await pttl(client, plain.key), 600_000)
    assert (await stored.doc(plain.key))["name"] == "changed"


async def test_a_model_without_meta_ttl_saves_documents_that_never_expire(client):
    plain = await Plain().save()
    assert await pttl(client, plain.key) == -1
    assert await plain.ttl() is None


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
async def test_a_first_write_creates_the_document_with_its_meta_ttl(client, stored, op):
    session = Session()
    await op(session)
    assert await stored.exists(session.key)
    assert_near(await pttl(client, session.key), HOUR_MS)


async def test_a_first_write_inside_a_pipeline_creates_the_document_with_its_meta_ttl(client, stored):
    session = Session()
    async with session.pipeline():
        await session.tags.aappend("x")
        await session.hits.set(4)
    assert (await stored.doc(session.key))["hits"] == 4
    assert_near(await pttl(client, session.key), HOUR_MS)


async def test_a_first_write_leaves_the_expiry_of_a_document_that_already_exists(client, stored):
    existing = await Session(pk="same").save()
    await existing.persist()
    fresh = Session(pk="same")  # never saved by this instance: its first write creates if missing
    await fresh.tags.aappend("x")
    assert await pttl(client, fresh.key) == -1
    assert (await stored.doc(fresh.key))["tags"] == ["a", "b", "c", "x"]


async def test_duplicates_get_the_meta_ttl_in_the_same_atomic_call(loaded, client, monkeypatch):
    session = await Session().save()
    sent, _ = recording(client, monkeypatch)
    copies = await session.duplicate_many(3)
    assert len(sent) == 1 and sent[0][1] == WRITE_DOCUMENTS.sha
    for copy in copies:
        assert_near(await pttl(client, copy.key), HOUR_MS)
    assert_near(await pttl(client, (await session.duplicate()).key), HOUR_MS)


async def test_duplicates_of_a_model_without_meta_ttl_do_not_expire(client):
    plain = await Plain().save()
    await plain.expire(60)  # this document's own expiry, not the model's
    (copy,) = await plain.duplicate_many(1)
    assert await pttl(client, copy.key) == -1


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


async def _pipeline(m):
    async with m.pipeline():
        await m.tags.aappend("x")
        await m.meta.aset_item("'\"", "3")
        await m.name.set("n")


async def _lock(m):
    async with m.lock() as locked:
        locked.name = "n"
        locked.tags.append("x")


async def _nested_save(m):
    m.stats.visits = 7
    await m.stats.save()


FIELD_OPS.update({"pipeline block": _pipeline, "lock block": _lock, "nested save": _nested_save})


@pytest.mark.parametrize("op", FIELD_OPS.values(), ids=FIELD_OPS.keys())
async def test_field_operations_keep_the_expiry_of_the_document(client, op):
    plain = await Plain().save()
    await plain.expire(600)
    await op(plain)
    assert_near(await pttl(client, plain.key), 600_000)


@pytest.mark.parametrize("op", FIELD_OPS.values(), ids=FIELD_OPS.keys())
async def test_field_operations_leave_a_document_without_expiry_without_one(client, op):
    plain = await Plain().save()
    await op(plain)
    assert await pttl(client, plain.key) == -1


# -- expire(), ttl(), persist() -----------------------------------------------------------------


async def test_expire_sets_the_expiry_in_seconds_or_as_a_timedelta(client):
    plain = await Plain().save()
    await plain.expire(90)
    assert_near(await pttl(client, plain.key), 90_000)
    await plain.expire(datetime.timedelta(minutes=3))
    assert_near(await pttl(client, plain.key), 180_000)
    await plain.expire(1.5)
    assert_near(await pttl(client, plain.key), 1500)


async def test_expire_replaces_a_longer_expiry(client):
    session = await Session().save()
    await session.expire(2)
    assert_near(await pttl(client, session.key), 2000)


async def test_ttl_gives_the_seconds_left_or_none(client):
    plain = await Plain().save()
    assert await plain.ttl() is None
    await plain.expire(120)
    left = await plain.ttl()
    assert left is not None and 115 < left <= 120


async def test_persist_removes_the_expiry(client):
    session = await Session().save()
    await session.persist()
    assert await pttl(client, session.key) == -1
    assert await session.ttl() is None
    await session.persist()  # nothing to remove: still fine
    assert await pttl(client, session.key) == -1


@pytest.mark.parametrize(
    "call",
    [lambda m: m.expire(10), lambda m: m.ttl(), lambda m: m.persist()],
    ids=["expire", "ttl", "persist"],
)
async def test_expiry_methods_raise_key_not_found_without_a_document(client, stored, call):
    session = Session()
    with pytest.raises(KeyNotFoundError) as info:
        await call(session)
    assert info.value.key == session.key
    assert not await stored.exists(session.key)
    await session.tags.aappend("x")  # still never saved: its first write creates the document
    assert (await stored.doc(session.key))["tags"] == ["a", "b", "c", "x"]


@pytest.mark.parametrize(
    "bad", [0, -1, -0.5, math.nan, math.inf, "10", None, True, datetime.timedelta(0), 2**70]
)
async def test_expire_refuses_a_bad_expiry_and_changes_nothing(client, bad):
    plain = await Plain().save()
    await plain.expire(600)
    with pytest.raises(InvalidArgumentError):
        await plain.expire(bad)
    assert_near(await pttl(client, plain.key), 600_000)


async def test_expire_and_persist_are_refused_inside_a_pipeline(client):
    plain = await Plain().save()
    async with plain.pipeline():
        with pytest.raises(PipelineError):
            await plain.expire(10)
        with pytest.raises(PipelineError):
            await plain.persist()
    assert await pttl(client, plain.key) == -1


async def test_expiry_methods_take_one_round_trip(loaded, client, monkeypatch):
    plain = await Plain().save()
    sent, pipelines = recording(client, monkeypatch)
    await plain.expire(10)
    await plain.ttl()
    await plain.persist()
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


async def test_a_subclass_inherits_the_meta_ttl(client):
    class Child(Session):
        pass

    assert Child.Meta.ttl == 3600
    child = await Child().save()
    assert child.key.startswith("Child:")
    assert_near(await pttl(client, child.key), HOUR_MS)


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


async def _refresh_pipeline(m):
    async with m.pipeline():
        await m.items.aappend("x")


async def _refresh_lock(m):
    async with m.lock() as locked:
        locked.hits = 9


REFRESHING.update({"pipeline block": _refresh_pipeline, "lock block": _refresh_lock})


@pytest.mark.parametrize("op", REFRESHING.values(), ids=REFRESHING.keys())
async def test_refresh_ttl_reads_and_writes_extend_the_expiry_to_meta_ttl(client, op):
    cart = await Cart().save()
    await client.pexpire(cart.key, 5000)
    await op(cart)
    assert_near(await pttl(client, cart.key), DAY_MS)


@pytest.mark.parametrize(
    "op",
    [REFRESHING["get"], REFRESHING["list aappend"], REFRESHING["nested model load"]],
    ids=["get", "list aappend", "nested model load"],
)
async def test_refresh_ttl_adds_no_round_trip(loaded, client, monkeypatch, op):
    cart = await Cart().save()
    await client.pexpire(cart.key, 5000)
    sent, pipelines = recording(client, monkeypatch)
    await op(cart)
    assert len(sent) == 1 and pipelines == []
    assert sent[0][1] == BATCH.sha


async def test_refresh_ttl_leaves_a_persisted_document_persistent(client):
    cart = await Cart().save()
    await cart.persist()
    await cart.items.aappend("x")
    await Cart.get(cart.key)
    assert await pttl(client, cart.key) == -1


async def test_ttl_and_expire_do_not_refresh(client):
    cart = await Cart().save()
    await cart.expire(5)
    left = await cart.ttl()
    assert left is not None and left <= 5
    assert await pttl(client, cart.key) <= 5000


# -- expired documents behave like deleted ones -------------------------------------------------


async def expired(client, model) -> None:
    await client.pexpire(model.key, 1)
    await async_sleep(0.02)


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
async def test_an_expired_document_raises_key_not_found_and_is_never_recreated(
    client, stored, backend, cls, name
):
    model = await cls().save()
    await expired(client, model)
    before = model.model_dump()
    if backend == "fake" and name in FAKE_ACCEPTS:
        await AFTER_EXPIRY[name](model)
    else:
        with pytest.raises(KeyNotFoundError) as info:
            await AFTER_EXPIRY[name](model)
        assert info.value.key == model.key
        assert model.model_dump() == before
    assert not await stored.exists(model.key)


async def test_save_writes_an_expired_document_again_with_its_ttl(client, stored):
    cart = await Cart().save()
    await expired(client, cart)
    await cart.save()
    assert await stored.exists(cart.key)
    assert_near(await pttl(client, cart.key), DAY_MS)


async def test_save_inside_a_pipeline_writes_the_document_and_its_expiry_together(client, stored):
    session = Session()
    async with session.pipeline():
        await session.save()
        assert not await stored.exists(session.key)
    assert_near(await pttl(client, session.key), HOUR_MS)


async def test_expiry_methods_of_a_stored_model_nested_in_another_are_refused(client):
    plain = await Plain().save()
    with pytest.raises(NotAttachedError):
        await plain.stats.expire(10)
    with pytest.raises(NotAttachedError):
        await plain.stats.ttl()
    assert await pttl(client, plain.key) == -1


# -- a key that holds another Redis type ------------------------------------------------------


@pytest.mark.cluster
@pytest.mark.parametrize("how", ["save", "save_many", "save_many of two"])
async def test_a_write_refused_on_a_key_of_another_type_sets_no_expiry_on_it(
    client, stored, backend, request, how
):
    if backend == "fake":
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="fakeredis writes JSON over a key of another type")
        )
    # Another program's key must be left exactly as it was: no document, and no expiry that
    # would delete it later.
    session = Session(pk="taken")
    await client.set(session.key, "another program's value")
    other = Session()
    with pytest.raises(RedisCommandError, match="(?i)wrong"):
        if how == "save":
            await session.save()
        elif how == "save_many":
            await Session.save_many([session])
        else:
            await Session.save_many([other, session])
    assert await client.get(session.key) in (b"another program's value", "another program's value")
    assert await client.pttl(session.key) == -1
    if backend != "cluster":  # (a cluster writes each hash slot's documents on their own)
        assert not await stored.exists(other.key)  # one atomic step: none of the batch is written
