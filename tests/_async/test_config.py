"""Model options in the inner ``Meta`` class: the client, the key prefix, and inheritance."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import fakeredis
import pytest

from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from tests._twins import AsyncFakeRedis, AsyncRedis
from tests.conftest import real_client_options

SENTINEL_CLIENT = object()


class Parent(BaseRedisModel):
    name: str = ""

    class Meta:
        key_prefix = "parent"
        redis = SENTINEL_CLIENT
        ttl = 60


class Child(Parent):
    pass


class OwnMeta(Parent):
    class Meta:
        key_prefix = "own"
        ttl = 5


class Plain(BaseRedisModel):
    name: str = ""


@pytest.fixture
async def other_client(backend, request):
    """A second client whose data the ``client`` fixture cannot see (another server or db)."""
    if backend == "fake":
        other = AsyncFakeRedis(server=fakeredis.FakeServer())
    else:
        url = urlsplit(request.getfixturevalue("real_redis_url"))
        other = AsyncRedis.from_url(urlunsplit(url._replace(path="/1")), **real_client_options(backend))
    await other.flushdb()
    try:
        yield other
    finally:
        await other.flushdb()
        await other.aclose()


@pytest.fixture
def no_override(client):
    """Remove the ``client`` fixture's override for the test, so Meta.redis decides."""
    previous = connection.override_client(None)
    try:
        yield
    finally:
        connection.override_client(previous)


def test_key_prefix_defaults_to_the_class_name():
    assert Plain.Meta.key_prefix == "Plain"
    plain = Plain()
    assert plain.key == "Plain:" + plain.pk


def test_meta_key_prefix_sets_the_key_prefix():
    parent = Parent()
    assert parent.key == "parent:" + parent.pk


async def test_meta_key_prefix_is_the_prefix_of_the_stored_key(client, stored):
    other = OwnMeta(name="x")
    await other.save()
    assert await stored.doc("own:" + other.pk) == {"name": "x"}
    assert (await OwnMeta.get("own:" + other.pk)).name == "x"


async def test_meta_redis_is_the_client_of_the_class(client, stored, other_client, no_override):
    class Pinned(BaseRedisModel):
        name: str = ""

        class Meta:
            redis = other_client

    pinned = Pinned(name="Ada")
    await pinned.save()
    assert await other_client.exists(pinned.key)
    assert not await stored.exists(pinned.key)
    assert (await Pinned.get(pinned.key)).name == "Ada"
    await pinned.name.set("Grace")
    assert await pinned.name.load() == "Grace"
    assert await Pinned.try_delete(pinned.key) is True
    assert not await other_client.exists(pinned.key)


async def test_a_subclass_uses_its_parents_meta_redis(client, stored, other_client, no_override):
    class Pinned(BaseRedisModel):
        name: str = ""

        class Meta:
            redis = other_client

    class PinnedChild(Pinned):
        extra: int = 0

    child = PinnedChild(name="Ada")
    await child.save()
    assert child.key.startswith("PinnedChild:")
    assert await other_client.exists(child.key)
    assert not await stored.exists(child.key)


async def test_override_client_takes_precedence_over_meta_redis(client, stored, other_client):
    class Pinned(BaseRedisModel):
        name: str = ""

        class Meta:
            redis = other_client

    pinned = Pinned(name="Ada")
    await pinned.save()
    assert await stored.exists(pinned.key)
    assert not await other_client.exists(pinned.key)


def test_a_subclass_inherits_meta_options_except_key_prefix():
    assert Child.Meta.redis is SENTINEL_CLIENT
    assert Child.Meta.ttl == 60
    assert Child.Meta.key_prefix == "Child"
    child = Child()
    assert child.key == "Child:" + child.pk


def test_a_subclass_meta_overrides_only_what_it_sets():
    assert OwnMeta.Meta.key_prefix == "own"
    assert OwnMeta.Meta.ttl == 5
    assert OwnMeta.Meta.redis is SENTINEL_CLIENT


def test_a_subclass_with_its_own_meta_changes_nothing_on_the_parent():
    assert Parent.Meta.key_prefix == "parent"
    assert Parent.Meta.ttl == 60
    assert Parent.Meta.redis is SENTINEL_CLIENT


def test_meta_objects_are_not_shared():
    assert Child.Meta is not Parent.Meta
    assert Plain.Meta is not BaseRedisModel.Meta
    replacement = object()
    try:
        Child.Meta.redis = replacement
        assert Parent.Meta.redis is SENTINEL_CLIENT
        assert OwnMeta.Meta.redis is SENTINEL_CLIENT
    finally:
        Child.Meta.redis = SENTINEL_CLIENT
    try:
        Plain.Meta.redis = replacement
        assert BaseRedisModel.Meta.redis is None
    finally:
        Plain.Meta.redis = None


def test_a_model_without_meta_has_no_client_of_its_own():
    assert Plain.Meta.redis is None
