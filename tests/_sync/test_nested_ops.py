# This file is generated from tests/_async/test_nested_ops.py by setup_unasync.py. Do not edit it by hand.
"""Field operations on nested models, at any depth, inside the parent's one document."""

from __future__ import annotations

import datetime

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisCommandError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class UserProfile(BaseModel):
    bio: str = ""
    skills: list[str] = Field(default_factory=list)
    settings: dict[str, bool] = Field(default_factory=dict)
    visits: int = 0


class User(BaseRedisModel):
    name: str
    profile: UserProfile = Field(default_factory=UserProfile)


class InnerModel(BaseModel):
    items: list[str] = Field(default_factory=list)
    counter: int = 0


class MiddleModel(BaseModel):
    inner: InnerModel = Field(default_factory=InnerModel)
    tags: list[str] = Field(default_factory=list)


class OuterModel(BaseRedisModel):
    middle: MiddleModel = Field(default_factory=MiddleModel)
    data: dict[str, int] = Field(default_factory=dict)


class UserStats(BaseRedisModel):
    login_count: int = 0
    preferences: dict[str, bool] = Field(default_factory=dict)
    badges: list[str] = Field(default_factory=list)


class Member(BaseRedisModel):
    name: str
    stats: UserStats = Field(default_factory=UserStats)


class Blob(BaseModel):
    data: bytes = b""
    when: datetime.datetime | None = None
    chunks: list[bytes] = Field(default_factory=list)
    stamps: list[datetime.datetime] = Field(default_factory=list)
    named: dict[str, bytes] = Field(default_factory=dict)


class Vault(BaseRedisModel):
    data: bytes = b""
    when: datetime.datetime | None = None
    chunks: list[bytes] = Field(default_factory=list)
    stamps: list[datetime.datetime] = Field(default_factory=list)
    named: dict[str, bytes] = Field(default_factory=dict)
    blob: Blob = Field(default_factory=Blob)


def saved_user() -> User:
    user = User(name="John")
    user.save()
    return user


def saved_outer() -> OuterModel:
    outer = OuterModel()
    outer.save()
    return outer


# -- one level -----------------------------------------------------------------------------------


def test_nested_list_aappend_and_aextend_write_inside_the_parent_document(client, stored):
    user = saved_user()
    user.profile.skills.aappend("Python")
    user.profile.skills.aextend(["Redis", "SyncIO"])
    assert (stored.doc(user.key))["profile"]["skills"] == ["Python", "Redis", "SyncIO"]
    assert user.profile.skills == ["Python", "Redis", "SyncIO"]


def test_nested_list_ainsert_and_apop(client, stored):
    user = saved_user()
    user.profile.skills.aextend(["a", "b"])
    user.profile.skills.ainsert(0, "Leadership")
    assert user.profile.skills.apop() == "b"
    assert user.profile.skills.apop(0) == "Leadership"
    assert (stored.doc(user.key))["profile"]["skills"] == ["a"]
    assert user.profile.skills == ["a"]


def test_nested_list_aclear(client, stored):
    user = saved_user()
    user.profile.skills.aextend(["a", "b"])
    user.profile.skills.aclear()
    assert (stored.doc(user.key))["profile"]["skills"] == []
    assert user.profile.skills == []


def test_nested_dict_ops_write_inside_the_parent_document(client, stored):
    user = saved_user()
    user.profile.settings.aupdate(dark_mode=True, notifications=False)
    user.profile.settings.aset_item("email_updates", True)
    user.profile.settings.adel_item("notifications")
    assert user.profile.settings.apop("dark_mode") is True
    assert (stored.doc(user.key))["profile"]["settings"] == {"email_updates": True}
    assert user.profile.settings == {"email_updates": True}
    assert user.profile.settings.apopitem() == ("email_updates", True)
    user.profile.settings.aset_item("x", False)
    user.profile.settings.aclear()
    assert (stored.doc(user.key))["profile"]["settings"] == {}
    assert user.profile.settings == {}


def test_nested_aincrease(client, stored):
    user = saved_user()
    assert user.profile.visits.aincrease(3) == 3
    assert (stored.doc(user.key))["profile"]["visits"] == 3
    assert user.profile.visits == 3


def test_nested_model_aupdate_sets_several_nested_fields(client, stored):
    user = saved_user()
    user.profile.aupdate(bio="hello", visits=9)
    held = (stored.doc(user.key))["profile"]
    assert (held["bio"], held["visits"]) == ("hello", 9)
    assert (user.profile.bio, user.profile.visits) == ("hello", 9)


def test_nested_item_of_a_wrong_type_raises_and_writes_nothing(client, stored):
    user = saved_user()
    with pytest.raises(FieldValidationError):
        user.profile.skills.aappend(3)
    with pytest.raises(FieldValidationError):
        user.profile.settings.aset_item("x", "yes")
    assert (stored.doc(user.key))["profile"] == {"bio": "", "skills": [], "settings": {}, "visits": 0}
    assert (user.profile.skills, user.profile.settings) == ([], {})


def test_nested_list_load_reads_what_another_instance_wrote(client, stored):
    user = saved_user()
    other = User.get(user.key)
    other.profile.skills.aextend(["JavaScript", "TypeScript"])
    assert user.profile.skills.load() == ["JavaScript", "TypeScript"]
    assert user.profile.skills == ["JavaScript", "TypeScript"]


def test_a_partial_instance_with_the_same_pk_loads_and_changes_nested_fields(client, stored):
    user1 = saved_user()
    user1.profile.skills.aextend(["JavaScript", "TypeScript"])
    user2 = User()
    user2.pk = user1.pk
    assert user2.profile.skills.load() == ["JavaScript", "TypeScript"]
    user2.profile.skills.aappend("React")
    user1.profile.skills.load()
    assert user1.profile.skills == ["JavaScript", "TypeScript", "React"]
    assert (stored.doc(user1.key))["name"] == "John"


def test_nested_list_ops_refused_when_the_path_is_no_longer_a_list(client, stored):
    user = saved_user()
    client.execute_command("JSON.SET", user.key, "$.profile.skills", "{}")
    with pytest.raises(RedisCommandError):
        user.profile.skills.aappend("x")
    with pytest.raises(RedisCommandError):
        user.profile.skills.apop()
    assert (stored.doc(user.key))["profile"]["skills"] == {}
    assert user.profile.skills == []


# -- deep nesting ------------------------------------------------------------------------------


def test_deeply_nested_list_ops_and_load(client, stored):
    outer = saved_outer()
    outer.middle.inner.items.aappend("deep_item")
    outer.middle.inner.items.ainsert(0, "first")
    outer.middle.tags.aextend(["tag1", "tag2"])
    held = stored.doc(outer.key)
    assert held["middle"]["inner"]["items"] == ["first", "deep_item"]
    assert held["middle"]["tags"] == ["tag1", "tag2"]
    other = OuterModel.get(outer.key)
    assert other.middle.inner.items.load() == ["first", "deep_item"]
    assert other.middle.tags.load() == ["tag1", "tag2"]
    assert other.middle.inner.items.apop() == "deep_item"
    assert outer.middle.inner.items.load() == ["first"]


def test_deeply_nested_aincrease_and_top_level_dict(client, stored):
    outer = saved_outer()
    assert outer.middle.inner.counter.aincrease(5) == 5
    outer.data.aset_item("count", 42)
    held = stored.doc(outer.key)
    assert held["middle"]["inner"]["counter"] == 5
    assert held["data"] == {"count": 42}
    assert (outer.middle.inner.counter, outer.data) == (5, {"count": 42})


def test_deeply_nested_model_load_reads_the_whole_sub_document(client, stored):
    outer = saved_outer()
    other = OuterModel.get(outer.key)
    other.middle.inner.items.aappend("x")
    other.middle.inner.counter.aincrease(2)
    outer.middle.inner.load()
    assert outer.middle.inner.items == ["x"]
    assert outer.middle.inner.counter == 2


# -- a BaseRedisModel used as a field ------------------------------------------------------------


def test_a_redis_model_field_is_stored_inside_the_parent_document(client, stored):
    member = Member(name="Bob")
    member.save()
    member.stats.preferences.aupdate(notifications=True, dark_mode=False)
    member.stats.login_count.aincrease(10)
    member.stats.badges.aappend("early")
    assert stored.doc(member.key) == {
        "name": "Bob",
        "stats": {
            "login_count": 10,
            "preferences": {"notifications": True, "dark_mode": False},
            "badges": ["early"],
        },
    }
    assert not stored.exists(member.stats.key)
    assert len(stored.keys()) == 1


def test_a_redis_model_field_supports_every_op_and_load(client, stored):
    member = Member(name="Bob")
    member.save()
    member.stats.preferences.aset_item("email_alerts", True)
    assert member.stats.preferences.apop("email_alerts") is True
    member.stats.badges.aextend(["a", "b"])
    assert member.stats.badges.apop(0) == "a"
    other = Member.get(member.key)
    assert other.stats.badges.load() == ["b"]
    assert other.stats.preferences == {}
    assert (stored.doc(member.key))["stats"]["badges"] == ["b"]


# -- nested bytes and datetimes serialize exactly as at the top level ---------------------------

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
RAW = b"\x00\xffbinary\n"


def test_nested_bytes_and_datetimes_are_stored_like_top_level_ones(client, stored):
    vault = Vault()
    vault.save()
    # Optional fields that hold None read as None: the model's aupdate() sets them.
    vault.aupdate(data=RAW, when=WHEN)
    vault.blob.aupdate(data=RAW, when=WHEN)
    for target in (vault, vault.blob):
        target.chunks.aappend(RAW)
        target.stamps.aappend(WHEN)
        target.named.aset_item("k", RAW)
    held = stored.doc(vault.key)
    nested = held.pop("blob")
    assert nested == held
    assert isinstance(held["data"], str)  # base64 text, not a list of numbers
    other = Vault.get(vault.key)
    assert (other.blob.data, other.blob.when, other.blob.chunks) == (RAW, WHEN, [RAW])
    assert (other.blob.stamps, other.blob.named) == ([WHEN], {"k": RAW})


def test_nested_bytes_and_datetimes_pop_back_decoded(client, stored):
    vault = Vault()
    vault.save()
    vault.blob.chunks.aappend(RAW)
    vault.blob.stamps.aappend(WHEN)
    vault.blob.named.aset_item("k", RAW)
    assert vault.blob.chunks.apop() == RAW
    assert vault.blob.stamps.apop() == WHEN
    assert vault.blob.named.apop("k") == RAW


class Team(BaseRedisModel):
    members: list[UserProfile] = Field(default_factory=list)


class Shelf(BaseRedisModel):
    boxes: list[MiddleModel] = Field(default_factory=list)


def test_an_op_two_levels_below_a_model_inside_a_list_raises_runtime_error(client, stored):
    shelf = Shelf(boxes=[MiddleModel()])
    shelf.save()
    with pytest.raises(RuntimeError, match="not attached to a stored model"):
        shelf.boxes[0].inner.items.aappend("x")
    with pytest.raises(RuntimeError, match="not attached to a stored model"):
        shelf.boxes[0].inner.counter.set(1)
    assert stored.doc(shelf.key, "$.boxes") == [{"inner": {"items": [], "counter": 0}, "tags": []}]


def test_an_op_on_a_model_inside_a_list_raises_runtime_error_and_sends_nothing(client, stored):
    team = Team(members=[UserProfile(bio="a")])
    team.save()
    with pytest.raises(RuntimeError, match="not attached to a stored model"):
        team.members[0].bio.set("b")
    with pytest.raises(RuntimeError, match="not attached to a stored model"):
        team.members[0].aupdate(bio="b")
    assert stored.doc(team.key, "$.members") == [{"bio": "a", "skills": [], "settings": {}, "visits": 0}]
    assert team.members[0].bio == "a"


def test_a_plain_nested_instance_assigned_with_equals_gets_the_operations(client, stored):
    user = User(name="Ada")
    user.save()
    user.profile = UserProfile(bio="engines")  # plain assignment: local only, as for any field
    user.save()
    user.profile.skills.aappend("notes")
    assert isinstance(user.profile, UserProfile)
    assert user.profile.skills == ["notes"]
    assert stored.doc(user.key, "$.profile.bio") == "engines"
    assert stored.doc(user.key, "$.profile.skills") == ["notes"]


def test_set_replaces_a_nested_model_in_redis_and_in_place(client, stored):
    user = User(name="Ada", profile=UserProfile(bio="math", skills=["analysis"]))
    user.save()
    held = user.profile
    user.profile.set(UserProfile(bio="engines", visits=2))
    assert held.bio == "engines" and held.skills == [] and held.visits == 2
    assert stored.doc(user.key, "$.profile") == {
        "bio": "engines",
        "skills": [],
        "settings": {},
        "visits": 2,
    }
    user.profile.set({"bio": "poetry"})
    assert stored.doc(user.key, "$.profile.bio") == "poetry"


def test_set_of_a_nested_model_validates_before_sending(client, stored):
    user = User(name="Ada", profile=UserProfile(bio="math"))
    user.save()
    with pytest.raises(FieldValidationError):
        user.profile.set({"bio": 3})
    assert user.profile.bio == "math"
    assert stored.doc(user.key, "$.profile.bio") == "math"


def test_set_replaces_a_nested_stored_model(client, stored):
    member = Member(name="Ada")
    member.save()
    member.stats.set(UserStats(login_count=7))
    assert member.stats.login_count == 7
    assert stored.doc(member.key, "$.stats.login_count") == 7
