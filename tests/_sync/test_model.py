# This file is generated from tests/_async/test_model.py by setup_unasync.py. Do not edit it by hand.
"""A model's identity and whole-document operations: pk, key, save, get, delete, load, redis_dump."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from typing import Any

import pytest
from pydantic import BaseModel, Field, PrivateAttr

from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import KeyNotFoundError, RedisPydanticError, WrongModelKeyError
from tests.conftest import installed

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Profile(BaseModel):
    bio: str = ""
    skills: list[str] = Field(default_factory=list)


class User(BaseRedisModel):
    name: str
    age: int
    profile: Profile = Field(default_factory=Profile)


class Badge(BaseRedisModel):
    label: str = ""

    class Meta:
        key_prefix = "badge"


class Record(BaseRedisModel):
    data: bytes = b""
    when: datetime.datetime = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    ident: uuid.UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
    price: decimal.Decimal = decimal.Decimal("12.50")
    active: bool = True
    note: str | None = None


class Recorder:
    """Passes everything to a client and records what goes through ``execute_command``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.commands: list[tuple[Any, ...]] = []
        self.pipelines = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(args)
        return self.client.execute_command(*args, **options)

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        self.pipelines += 1
        return self.client.pipeline(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def recorder(client):
    with installed(connection, Recorder(client)) as rec:
        yield rec


def raw_set(client, key, document):
    client.execute_command("JSON.SET", key, "$", json.dumps(document))


# -- pk and key ---------------------------------------------------------------------------------


def test_pk_defaults_to_a_new_unique_id():
    pks = {User(name="Ada", age=36).pk for _ in range(200)}
    assert len(pks) == 200
    user = User(name="Ada", age=36)
    assert isinstance(user.pk, str) and user.pk
    assert user.pk == user.pk  # stable once drawn


def test_pk_can_be_set(client, stored):
    user = User(name="Ada", age=36)
    user.pk = "ada"
    user.save()
    assert user.key == "User:ada"
    assert stored.doc("User:ada") == {"name": "Ada", "age": 36, "profile": {"bio": "", "skills": []}}


def test_pk_can_be_given_to_the_constructor(client, stored):
    user = User(pk="given", name="Ada", age=36)
    user.save()
    assert user.pk == "given"
    assert stored.exists("User:given")


def test_pk_must_be_a_non_empty_string():
    user = User(name="Ada", age=36)
    for bad in ("", 5, None):
        with pytest.raises(TypeError):
            user.pk = bad


def test_key_is_the_prefix_and_the_pk():
    user = User(name="Ada", age=36)
    assert user.key == f"User:{user.pk}"


def test_key_prefix_is_the_class_name_or_meta_key_prefix():
    badge = Badge()
    assert badge.key == f"badge:{badge.pk}"
    assert User.Meta.key_prefix == "User"
    assert Badge.Meta.key_prefix == "badge"


def test_setting_pk_repoints_field_operations(client, stored):
    first = User(name="Ada", age=36)
    first.save()
    other = User(name="Bob", age=1)
    other.pk = first.pk
    other.name.set("Grace")
    assert stored.doc(first.key) == {"name": "Grace", "age": 36, "profile": {"bio": "", "skills": []}}


def test_setting_pk_repoints_nested_field_operations(client, stored):
    first = User(name="Ada", age=36, profile=Profile(bio="math", skills=["analysis"]))
    first.save()
    second = User()
    second.pk = first.pk
    assert second.profile.skills.load() == ["analysis"]
    assert second.profile.skills == ["analysis"]
    second.profile.bio.set("engines")
    assert stored.doc(first.key, "$.profile") == {"bio": "engines", "skills": ["analysis"]}


# -- save and get -------------------------------------------------------------------------------


def test_save_sends_one_json_set_of_the_whole_document(client, recorder, stored):
    user = User(name="Ada", age=36, profile=Profile(skills=["math"]))
    user.save()
    assert len(recorder.commands) == 1
    name, key, path, payload = recorder.commands[0]
    assert (name, key, path) == ("JSON.SET", user.key, "$")
    assert json.loads(payload) == {"name": "Ada", "age": 36, "profile": {"bio": "", "skills": ["math"]}}
    assert recorder.pipelines == 0
    assert stored.doc(user.key) == json.loads(payload)


def test_save_overwrites_the_stored_document(client, stored):
    user = User(name="Ada", age=36)
    user.save()
    user.age = 37
    user.profile.skills.append("engines")
    user.save()
    assert stored.doc(user.key) == {
        "name": "Ada",
        "age": 37,
        "profile": {"bio": "", "skills": ["engines"]},
    }


def test_save_returns_the_model(client):
    user = User(name="Ada", age=36)
    assert user.save() is user


def test_get_returns_a_validated_instance_with_the_same_pk(client, recorder):
    user = User(name="Ada", age=36, profile=Profile(bio="math"))
    user.save()
    recorder.commands.clear()
    loaded = User.get(user.key)
    assert [c[0] for c in recorder.commands] == ["JSON.GET"]
    assert type(loaded) is User
    assert loaded.pk == user.pk
    assert loaded.key == user.key
    assert loaded.model_dump() == {"name": "Ada", "age": 36, "profile": {"bio": "math", "skills": []}}


def test_get_validates_the_stored_document(client):
    raw_set(client, "User:lax", {"name": "Ada", "age": "36"})
    loaded = User.get("User:lax")
    assert type(loaded.model_dump()["age"]) is int
    assert loaded.age == 36
    raw_set(client, "User:bad", {"name": "Ada", "age": "not a number"})
    with pytest.raises(ValueError):  # pydantic.ValidationError
        User.get("User:bad")


def test_get_of_a_missing_key_raises_key_not_found(client):
    with pytest.raises(KeyNotFoundError) as caught:
        User.get("User:missing")
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, RedisPydanticError)
    assert caught.value.key == "User:missing"
    assert "User:missing" in str(caught.value)


def test_get_of_another_models_key_raises_wrong_model_key(client):
    badge = Badge(label="gold")
    badge.save()
    for key in (badge.key, "Users:x", "User:", "nonsense"):
        with pytest.raises(WrongModelKeyError) as caught:
            User.get(key)
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, RedisPydanticError)


# -- delete -------------------------------------------------------------------------------------


def test_delete_removes_the_document(client, stored):
    user = User(name="Ada", age=36)
    user.save()
    assert user.delete() is True
    assert not stored.exists(user.key)
    assert user.delete() is False


def test_delete_with_a_key_removes_that_document(client, stored):
    kept = User(name="Ada", age=36)
    gone = User(name="Bob", age=40)
    kept.save()
    gone.save()
    loaded = User.get(gone.key)
    assert loaded.delete(gone.key) is True
    assert not stored.exists(gone.key)
    assert kept.delete(gone.key) is False
    assert stored.exists(kept.key)


def test_delete_refuses_a_key_of_another_model(client, stored):
    badge = Badge()
    badge.save()
    user = User(name="Ada", age=36)
    with pytest.raises(WrongModelKeyError):
        user.delete(badge.key)
    assert stored.exists(badge.key)


def test_try_delete_tells_whether_the_key_existed(client, stored):
    user = User(name="Ada", age=36)
    user.save()
    assert User.try_delete(user.key) is True
    assert not stored.exists(user.key)
    assert User.try_delete(user.key) is False
    with pytest.raises(WrongModelKeyError):
        User.try_delete("badge:x")


# -- load ---------------------------------------------------------------------------------------


def test_load_refreshes_the_whole_model(client):
    user = User(name="Ada", age=36)
    user.save()
    raw_set(client, user.key, {"name": "Grace", "age": 85, "profile": {"bio": "navy", "skills": ["cobol"]}})
    assert user.load() is user
    assert user.model_dump() == {"name": "Grace", "age": 85, "profile": {"bio": "navy", "skills": ["cobol"]}}
    assert user.profile.skills == ["cobol"]


class Session(BaseRedisModel):
    name: str
    #: Local state, never stored.
    _cache: dict[str, int] = PrivateAttr(default_factory=dict)


def test_load_and_lock_keep_the_models_private_attributes(client, stored):
    session = Session(name="Ada")
    session.save()
    session._cache["hits"] = 3
    raw_set(client, session.key, {"name": "Grace"})
    assert session.load() is session
    assert session.name == "Grace"
    assert session._cache == {"hits": 3}
    with session.lock() as locked:  # reloads the model on entry
        assert locked._cache == {"hits": 3}
        locked.name = "Joan"
    assert stored.doc(session.key) == {"name": "Joan"}
    assert session._cache == {"hits": 3}
    # A model read with get() is a new instance: its private attributes have their defaults.
    assert (Session.get(session.key))._cache == {}


def test_load_of_a_missing_document_raises_key_not_found(client):
    user = User(name="Ada", age=36)
    user.save()
    User.try_delete(user.key)
    with pytest.raises(KeyNotFoundError):
        user.load()
    assert user.name == "Ada"


# -- redis_dump ---------------------------------------------------------------------------------


def test_redis_dump_equals_the_stored_json(client, stored):
    record = Record(data=b"\xff\x00bin")
    record.save()
    dump = record.redis_dump()
    assert dump == stored.doc(record.key)
    assert json.loads(json.dumps(dump)) == dump
    # Standard padded base64 (RFC 4648 section 4): validate=True refuses the URL-safe alphabet.
    assert base64.b64decode(dump["data"], validate=True) == b"\xff\x00bin"
    assert dump["ident"] == "12345678-1234-5678-1234-567812345678"
    assert dump["active"] is True
    assert dump["note"] is None


def test_a_pickled_model_keeps_its_pk_and_its_field_operations(client, stored):
    import pickle

    user = User(name="Ada", age=36, profile=Profile(skills=["math"]))
    user.save()
    user.profile.skills.aappend("engines")
    copy = pickle.loads(pickle.dumps(user))
    assert copy.pk == user.pk and copy.key == user.key
    assert copy.model_dump() == user.model_dump()
    copy.age.aincrease(1)
    copy.profile.skills.aappend("poetry")
    assert stored.doc(user.key, "$.age") == 37
    assert stored.doc(user.key, "$.profile.skills") == ["math", "engines", "poetry"]


@pytest.mark.filterwarnings("ignore:Field name .* shadows an attribute")
@pytest.mark.parametrize(
    "name",
    ["key", "save", "get", "load", "delete", "try_delete", "lock", "pipeline", "duplicate"]
    + ["duplicate_many", "aupdate", "redis_dump", "pk", "Meta"],
)
def test_a_field_that_shadows_the_model_api_is_refused_when_the_class_is_defined(name):
    from pydantic import create_model

    from redis_pydantic.errors import ReservedFieldNameError

    with pytest.raises(ReservedFieldNameError, match=repr(name)):
        create_model("Shadowing", __base__=BaseRedisModel, **{name: (int, 0)})


def test_a_nested_model_field_that_shadows_its_operations_is_refused():
    from pydantic import BaseModel

    from redis_pydantic.errors import ReservedFieldNameError

    class Shadowing(BaseModel):
        set: int = 0

    with pytest.raises(ReservedFieldNameError, match="'set'"):

        class Holder(BaseRedisModel):
            inner: Shadowing = Shadowing()
