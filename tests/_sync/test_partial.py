# This file is generated from tests/_async/test_partial.py by setup_unasync.py. Do not edit it by hand.
"""Partial instances: a model made without its required fields, pointed at a stored document."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import FieldNotLoadedError, KeyNotFoundError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class User(BaseRedisModel):
    name: str
    age: int
    tags: list[str] = []
    score: int = 0


def saved_user():
    user = User(name="Ada", age=36, tags=["math"], score=7)
    user.save()
    return user


def test_a_partial_instance_loads_one_field(client):
    user = saved_user()
    partial = User()
    partial.pk = user.pk
    assert partial.name.load() == "Ada"
    assert partial.name == "Ada"
    assert isinstance(partial.name, str)
    assert repr(partial.age) == "<unloaded User.age>"


def test_an_unloaded_field_reads_as_an_unloaded_object():
    partial = User()
    assert repr(partial.age) == "<unloaded User.age>"
    assert repr(partial.name) == "<unloaded User.name>"


USES = {
    "str": lambda v: str(v),
    "format": lambda v: f"{v}",
    "bool": lambda v: bool(v),
    "eq": lambda v: v == 36,
    "add": lambda v: v + 1,
    "radd": lambda v: 1 + v,
    "less_than": lambda v: v < 3,
    "int": lambda v: int(v),
    "attribute": lambda v: v.real,
    "hash": lambda v: hash(v),
    "len": lambda v: len(v),
    "iter": lambda v: list(v),
}


@pytest.mark.parametrize("use", list(USES.values()), ids=list(USES))
def test_using_an_unloaded_field_raises_field_not_loaded(use):
    partial = User()
    with pytest.raises(FieldNotLoadedError, match=r"User\.age"):
        use(partial.age)


def test_field_not_loaded_is_an_attribute_error():
    partial = User()
    assert not hasattr(partial.age, "real")  # hasattr swallows AttributeError
    with pytest.raises(AttributeError):
        partial.age.bit_length()


def test_loading_an_unloaded_field_makes_it_usable(client):
    user = saved_user()
    partial = User(pk=user.pk)
    partial.age.load()
    assert partial.age + 1 == 37
    assert repr(partial.name) == "<unloaded User.name>"


def test_fields_with_defaults_are_not_unloaded(client):
    partial = User()
    assert partial.tags == []
    assert partial.score == 0


def test_setting_an_unloaded_field_writes_it(client, stored):
    user = saved_user()
    partial = User(pk=user.pk)
    partial.age.set(40)
    assert partial.age == 40
    assert stored.doc(user.key) == {"name": "Ada", "age": 40, "tags": ["math"], "score": 7}


def test_model_load_fills_a_partial_instance(client):
    user = saved_user()
    partial = User(pk=user.pk)
    partial.load()
    assert partial.model_dump() == {"name": "Ada", "age": 36, "tags": ["math"], "score": 7}


def test_saving_a_partial_instance_raises_and_writes_nothing(client, stored):
    user = saved_user()
    partial = User(pk=user.pk)
    partial.name.load()
    partial.score = 100
    with pytest.raises(ValidationError) as caught:
        partial.save()
    assert [e["loc"] for e in caught.value.errors()] == [("age",)]
    assert stored.doc(user.key) == {"name": "Ada", "age": 36, "tags": ["math"], "score": 7}


def test_saving_a_new_partial_instance_raises_and_creates_no_key(client, stored):
    partial = User()
    partial.name = "Ada"
    with pytest.raises(ValidationError):
        partial.save()
    assert not stored.exists(partial.key)


@pytest.mark.parametrize("given", [{"name": "Ada"}, {"nme": "Ada"}, {"pk": "p", "name": "Ada"}])
def test_any_other_constructor_call_validates_fully(client, given):
    with pytest.raises(ValidationError) as info:
        User(**given)
    assert {"age"} <= {e["loc"][0] for e in info.value.errors()}


def test_a_partial_instance_can_be_saved_once_complete(client, stored):
    partial = User()
    partial.name = "Ada"
    partial.age = 36
    partial.save()
    assert stored.doc(partial.key) == {"name": "Ada", "age": 36, "tags": [], "score": 0}


def test_loading_a_field_of_a_missing_document_raises_key_not_found(client):
    partial = User(pk="nobody")
    with pytest.raises(KeyNotFoundError):
        partial.name.load()
    assert repr(partial.name) == "<unloaded User.name>"


def test_setting_a_field_of_a_partial_instance_without_a_document(client, stored, backend):
    partial = User(pk="nobody")
    if backend == "fake":
        # fakeredis deviation: JSON.SET of a non-root path on a missing key answers OK and
        # writes nothing (Redis refuses it), so the library cannot tell and keeps the value.
        partial.name.set("Ada")
        assert not stored.exists(partial.key)
        return
    with pytest.raises(KeyNotFoundError):
        partial.name.set("Ada")
    assert not stored.exists(partial.key)
    assert repr(partial.name) == "<unloaded User.name>"
