# This file is generated from tests/_async/test_duplicate.py by setup_unasync.py. Do not edit it by hand.
"""``duplicate()`` and ``duplicate_many(n)``: copies of a stored model under new pks."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from redis_pydantic import _paths
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, InvalidArgumentError, KeyNotFoundError
from tests._sync.conftest import Stored, recording

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Skill(BaseModel):
    name: str
    tags: list[str] = []


class Profile(BaseModel):
    bio: str = ""
    skills: list[Skill] = []
    settings: dict[str, bool] = {}


class Stats(BaseRedisModel):
    visits: int = 0
    history: list[int] = []


class User(BaseRedisModel):
    name: str
    tags: list[str] = []
    profile: Profile = Profile()
    stats: Stats = Stats()


def saved_user() -> User:
    user = User(
        name="Ada",
        tags=["admin"],
        profile=Profile(
            bio="math", skills=[Skill(name="analysis", tags=["engines"])], settings={"dark": True}
        ),
        stats=Stats(visits=3, history=[1, 2]),
    )
    user.save()
    return user


def raw_without_key(client, key: str) -> str:
    """The stored JSON text of ``key``, as Redis answers it."""
    raw = client.execute_command("JSON.GET", key, "$")
    return raw.decode() if isinstance(raw, bytes) else raw


def stored_keys(client) -> list[str]:
    """Every key in the database (of every primary of a cluster), as sorted str."""
    return Stored(client).keys()


def test_duplicate_stores_a_copy_under_a_new_pk(client, stored):
    user = saved_user()
    copy = user.duplicate()
    assert copy.pk != user.pk
    assert copy.key != user.key
    assert copy.key == f"User:{copy.pk}"
    assert raw_without_key(client, copy.key) == raw_without_key(client, user.key)
    assert copy.model_dump() == user.model_dump()


def test_duplicate_copies_nested_models_and_nested_redis_models(client, stored):
    user = saved_user()
    copy = user.duplicate()
    assert (stored.doc(copy.key))["profile"] == {
        "bio": "math",
        "skills": [{"name": "analysis", "tags": ["engines"]}],
        "settings": {"dark": True},
    }
    assert (stored.doc(copy.key))["stats"] == {"visits": 3, "history": [1, 2]}
    assert copy.stats.visits == 3
    assert copy.profile.skills[0].tags == ["engines"]


def test_duplicate_leaves_the_original_unchanged(client, stored):
    user = saved_user()
    before = stored.doc(user.key)
    pk = user.pk
    user.duplicate()
    assert user.pk == pk
    assert stored.doc(user.key) == before


def test_duplicate_of_a_never_saved_model_stores_only_the_copy(client, stored):
    user = User(name="Draft", tags=["x"])
    copy = user.duplicate()
    assert stored.doc(copy.key) == {
        "name": "Draft",
        "tags": ["x"],
        "profile": {"bio": "", "skills": [], "settings": {}},
        "stats": {"visits": 0, "history": []},
    }
    assert not stored.exists(user.key)


def test_duplicate_many_stores_n_copies_with_distinct_pks(client, stored):
    user = saved_user()
    copies = user.duplicate_many(5)
    assert len(copies) == 5
    assert len({c.pk for c in copies} | {user.pk}) == 6
    original = raw_without_key(client, user.key)
    for copy in copies:
        assert raw_without_key(client, copy.key) == original
        assert copy.model_dump() == user.model_dump()
    assert stored_keys(client) == sorted([user.key, *(c.key for c in copies)])


@pytest.mark.parametrize("n", [10, 40])
def test_duplicate_many_is_one_command_per_hash_slot(client, stored, backend, monkeypatch, n):
    user = saved_user()
    if backend == "fake":  # no INFO commandstats: watch the client instead
        sent, pipelines = recording(client, monkeypatch)
        copies = user.duplicate_many(n)
        monkeypatch.undo()
        assert len({copy.pk for copy in copies}) == n
        assert [args[0] for args in sent] == ["JSON.MSET"] and pipelines == []
    else:
        stored.reset_command_calls()
        copies = user.duplicate_many(n)
        # On a cluster: one JSON.MSET per hash slot of the copies (their slots are random).
        slots = {_paths.hash_slot(copy.key) for copy in copies} if backend == "cluster" else {0}
        assert stored.command_calls() == {"json.mset": len(slots)}
    assert len(stored_keys(client)) == n + 1


def test_duplicate_many_zero_stores_nothing(client, stored):
    user = saved_user()
    assert user.duplicate_many(0) == []
    assert stored_keys(client) == [user.key]


def test_duplicate_on_a_nested_model_raises_runtime_error(client, stored):
    user = saved_user()
    with pytest.raises(RuntimeError, match="Can only duplicate from top level model"):
        user.profile.duplicate()
    with pytest.raises(RuntimeError, match="Can only duplicate from top level model"):
        user.profile.duplicate_many(2)
    assert stored_keys(client) == [user.key]


def test_duplicate_on_a_nested_redis_model_raises_runtime_error(client, stored):
    user = saved_user()
    with pytest.raises(RuntimeError, match="Can only duplicate from top level model"):
        user.stats.duplicate()
    with pytest.raises(RuntimeError, match="Can only duplicate from top level model"):
        user.stats.duplicate_many(2)
    assert stored_keys(client) == [user.key]


def test_duplicate_shares_no_mutable_state_locally(client, stored):
    user = saved_user()
    copy = user.duplicate()
    copy.tags.append("local")
    copy.profile.skills[0].tags.append("local")
    copy.profile.settings["local"] = False
    copy.stats.history.append(99)
    assert user.tags == ["admin"]
    assert user.profile.skills[0].tags == ["engines"]
    assert user.profile.settings == {"dark": True}
    assert user.stats.history == [1, 2]


def test_duplicate_many_copies_share_no_mutable_state_with_each_other(client, stored):
    user = saved_user()
    first, second = user.duplicate_many(2)
    first.tags.append("first")
    first.profile.skills[0].tags.append("first")
    assert second.tags == ["admin"]
    assert second.profile.skills[0].tags == ["engines"]
    assert user.tags == ["admin"]


def test_duplicate_shares_no_state_in_redis(client, stored):
    user = saved_user()
    before = stored.doc(user.key)
    copy = user.duplicate()
    copy.tags.aappend("copy")
    copy.profile.settings.aset_item("copy", True)
    copy.stats.history.aappend(3)
    copy.name.set("Copy")
    assert stored.doc(user.key) == before
    assert user.tags == ["admin"]
    copy_doc = stored.doc(copy.key)
    assert copy_doc["name"] == "Copy"
    assert copy_doc["tags"] == ["admin", "copy"]
    assert copy_doc["profile"]["settings"] == {"dark": True, "copy": True}
    assert copy_doc["stats"]["history"] == [1, 2, 3]


def test_duplicate_copy_is_loadable_with_get(client, stored):
    user = saved_user()
    copy = user.duplicate()
    loaded = User.get(copy.key)
    assert loaded.pk == copy.pk
    assert loaded.model_dump() == user.model_dump()


class Bounded(BaseRedisModel):
    count: int = Field(default=0, ge=0)


def test_duplicate_many_of_a_model_that_no_longer_validates_writes_nothing(client, stored):
    model = Bounded(count=1)
    model.save()
    model.count = -1  # plain assignment is not validated
    with pytest.raises(FieldValidationError):
        model.duplicate_many(3)
    assert stored_keys(client) == [model.key]


def test_duplicate_many_copies_are_stored_models(client, stored):
    user = saved_user()
    copies = user.duplicate_many(3)
    copies[2].stats.visits.aincrease(1)  # a stored model: the op needs no NX create
    assert stored.doc(copies[2].key, "$.stats.visits") == 4
    User.try_delete(copies[1].key)
    with pytest.raises(KeyNotFoundError):
        copies[1].tags.aappend("gone")  # stored models never re-create a deleted document
    assert stored_keys(client) == sorted([user.key, copies[0].key, copies[2].key])


def test_duplicate_many_inside_a_pipeline_is_stored_on_exit(client, stored):
    user = saved_user()
    with user.pipeline():
        copies = user.duplicate_many(2)
        assert stored_keys(client) == [user.key]
    assert stored_keys(client) == sorted([user.key, *(copy.key for copy in copies)])
    copies[0].name.set("Copy")
    assert stored.doc(copies[0].key, "$.name") == "Copy"


def test_duplicate_many_colocated_puts_every_copy_in_the_originals_hash_slot(client, stored):
    user = saved_user()
    copies = user.duplicate_many(4, colocate=True)
    tag = "{" + user.key + "}"  # the key has no hash tag of its own: the whole key is the tag
    assert all(copy.pk.startswith(tag) and len(copy.pk) == len(tag) + 32 for copy in copies)
    assert {_paths.hash_slot(copy.key) for copy in copies} == {_paths.hash_slot(user.key)}
    assert stored_keys(client) == sorted([user.key, *(copy.key for copy in copies)])
    assert stored.doc(copies[0].key) == stored.doc(user.key)
    single = user.duplicate(colocate=True)
    assert _paths.hash_slot(single.key) == _paths.hash_slot(user.key)


def test_duplicate_many_colocated_keeps_a_hash_tag_of_the_key_prefix_or_pk(client, stored):
    tagged = User(pk="{acme}ada", name="Ada")
    tagged.save()
    (copy,) = tagged.duplicate_many(1, colocate=True)
    assert copy.pk.startswith("{acme}")
    assert _paths.hash_slot(copy.key) == _paths.hash_slot("acme")


class Unclosed(BaseRedisModel):
    name: str = ""

    class Meta:
        key_prefix = "a{b"


def test_duplicate_many_colocated_refuses_a_prefix_whose_brace_swallows_the_tag(client, stored):
    model = Unclosed(name="x")
    model.save()
    with pytest.raises(InvalidArgumentError, match="no '}' closes"):
        model.duplicate_many(2, colocate=True)
    assert stored_keys(client) == [model.key]
