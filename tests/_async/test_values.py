"""Field values: what reading a field gives, how it leaves the model, and which document it writes."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import decimal
import enum
import json
import pickle
import uuid
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask, jsonify
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from typing_extensions import TypedDict

from redis_pydantic import plain
from redis_pydantic._async.fields import RedisBool, RedisInt
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, NotAttachedError


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Profile(BaseModel):
    bio: str = ""
    skills: list[str] = Field(default_factory=list)


WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
IDENT = uuid.UUID("12345678-1234-5678-1234-567812345678")
# Standard base64 of these bytes is "+/+/AA==": it needs "+", "/" and padding.
BINARY = b"\xfb\xff\xbf\x00"


class Values(BaseRedisModel):
    name: str = "Ada"
    count: int = 3
    ratio: float = 1.5
    data: bytes = BINARY
    price: decimal.Decimal = decimal.Decimal("1.00")
    when: datetime.datetime = WHEN
    day: datetime.date = datetime.date(2024, 5, 6)
    at: datetime.time = datetime.time(7, 8, 9)
    span: datetime.timedelta = datetime.timedelta(days=1, seconds=5)
    ident: uuid.UUID = IDENT
    pair: tuple[int, str] = (1, "a")
    frozen: frozenset[int] = frozenset({1, 2})
    tags: list[str] = ["a", "b"]
    attrs: dict[str, int] = {"x": 1}
    uniq: set[int] = {1, 2}
    active: bool = True
    nick: str | None = None
    color: Color = Color.RED
    profile: Profile = Field(default_factory=Profile)


# (field, its plain value as a saved Values reads it back, the declared type)
SUBCLASSED = [
    ("name", "Ada", str),
    ("count", 3, int),
    ("ratio", 1.5, float),
    ("data", BINARY, bytes),
    ("price", decimal.Decimal("1.00"), decimal.Decimal),
    ("when", WHEN, datetime.datetime),
    ("day", datetime.date(2024, 5, 6), datetime.date),
    ("at", datetime.time(7, 8, 9), datetime.time),
    ("span", datetime.timedelta(days=1, seconds=5), datetime.timedelta),
    ("ident", IDENT, uuid.UUID),
    ("pair", (1, "a"), tuple),
    ("frozen", frozenset({1, 2}), frozenset),
    ("tags", ["a", "b"], list),
    ("attrs", {"x": 1}, dict),
    ("uniq", {1, 2}, set),
]
SUBCLASSED_IDS = [field for field, _, _ in SUBCLASSED]
HASHABLE = [case for case in SUBCLASSED if case[2] not in (list, dict, set)]
ANNOTATIONS = {field: Values.model_fields[field].annotation for field, _, _ in SUBCLASSED}

# The JSON-friendly fields, as a saved Values reads them back.
JSON_PLAIN = {"name": "Ada", "count": 3, "ratio": 1.5, "tags": ["a", "b"], "attrs": {"x": 1}}


async def saved_values(**fields: Any) -> Values:
    """A Values saved with ``fields``, read back from Redis."""
    model = Values(**fields)
    await model.save()
    return await Values.get(model.key)


def values_of(model: Values, fields: Any) -> dict[str, Any]:
    return {name: getattr(model, name) for name in fields}


# --------------------------------------------------------------------------- subclass values


@pytest.mark.parametrize(("field", "expected", "declared"), SUBCLASSED, ids=SUBCLASSED_IDS)
async def test_value_is_a_subclass_of_the_declared_type_equal_to_the_plain_value(
    client, field, expected, declared
):
    model = await saved_values()
    value = getattr(model, field)
    assert isinstance(value, declared)
    assert type(value) is not declared
    assert value == expected
    assert expected == value
    assert not (value != expected)
    assert plain(value) == expected
    assert type(plain(value)) is declared


@pytest.mark.parametrize(("field", "expected", "declared"), HASHABLE, ids=[c[0] for c in HASHABLE])
async def test_value_hashes_like_the_plain_value(client, field, expected, declared):
    model = await saved_values()
    value = getattr(model, field)
    assert hash(value) == hash(expected)
    assert {value: "found"}[expected] == "found"
    assert value in {expected}


async def test_json_dumps_of_values_equals_json_dumps_of_plain_values(client):
    model = await saved_values()
    assert json.dumps(values_of(model, JSON_PLAIN)) == json.dumps(JSON_PLAIN)


async def test_orjson_dumps_of_values_equals_orjson_dumps_of_plain_values(client):
    model = await saved_values()
    fields = ("name", "count", "tags", "attrs")
    expected = {name: JSON_PLAIN[name] for name in fields}
    assert orjson.dumps(values_of(model, fields)) == orjson.dumps(expected)


async def test_orjson_dumps_every_value_with_plain_as_its_default(client):
    # As docs/fields.md says: orjson refuses subclasses of the other types by itself.
    model = await saved_values()
    native = ("name", "count", "ratio", "when", "day", "at", "ident", "pair", "tags", "attrs")
    with pytest.raises(TypeError):
        orjson.dumps(values_of(model, ("ratio",)))
    expected = {name: value for name, value, _ in SUBCLASSED if name in native}
    assert orjson.dumps(values_of(model, native), default=plain) == orjson.dumps(expected)


async def test_flask_jsonify_of_values_equals_jsonify_of_plain_values(client):
    model = await saved_values()
    fields = ("name", "count", "ratio", "tags", "attrs", "price", "ident")
    expected = {name: value for name, value, _ in SUBCLASSED if name in fields}
    app = Flask(__name__)
    with app.app_context():
        response = jsonify(values_of(model, fields))
        plain_response = jsonify(expected)
    assert response.get_data() == plain_response.get_data()
    assert response.get_json() == {**JSON_PLAIN, "price": "1.00", "ident": str(IDENT)}


FASTAPI_FIELDS = ("name", "count", "ratio", "tags", "attrs", "price", "when", "ident", "pair", "uniq")


class FastAPIOut(BaseModel):
    name: str
    count: int
    ratio: float
    tags: list[str]
    attrs: dict[str, int]
    price: decimal.Decimal
    when: datetime.datetime
    ident: uuid.UUID
    pair: tuple[int, str]
    uniq: set[int]


def fastapi_client(returned: dict[str, Any]) -> TestClient:
    app = FastAPI()

    @app.get("/dict")
    def as_dict() -> Any:
        return returned

    @app.get("/model", response_model=FastAPIOut)
    def as_model() -> Any:
        return returned

    return TestClient(app)


async def test_fastapi_route_returning_a_dict_of_values(client):
    model = await saved_values()
    expected = {name: value for name, value, _ in SUBCLASSED if name in FASTAPI_FIELDS}
    with fastapi_client(values_of(model, FASTAPI_FIELDS)) as http, fastapi_client(expected) as plain_http:
        response = http.get("/dict")
        plain_response = plain_http.get("/dict")
    assert response.status_code == 200
    assert response.json() == plain_response.json()
    assert response.json()["tags"] == ["a", "b"]
    assert response.json()["ident"] == str(IDENT)


async def test_fastapi_route_with_a_response_model_validates_a_dict_of_values(client):
    model = await saved_values()
    expected = {name: value for name, value, _ in SUBCLASSED if name in FASTAPI_FIELDS}
    with fastapi_client(values_of(model, FASTAPI_FIELDS)) as http:
        response = http.get("/model")
    assert response.status_code == 200, response.text
    assert response.json() == FastAPIOut(**expected).model_dump(mode="json")


@pytest.mark.parametrize("strict", [False, True], ids=["lax", "strict"])
@pytest.mark.parametrize(("field", "expected", "declared"), SUBCLASSED, ids=SUBCLASSED_IDS)
async def test_value_validates_into_another_pydantic_model(client, field, expected, declared, strict):
    other = create_model(f"Other_{field}", value=(ANNOTATIONS[field], ...))
    model = await saved_values()
    result: Any = other.model_validate({"value": getattr(model, field)}, strict=strict)
    assert result.value == expected
    assert plain(result.value) == expected
    assert result.model_dump_json() == other(value=expected).model_dump_json()


# --------------------------------------------------------------------------- leaving the model


PLAIN_COPIES = {
    "pickle": lambda value: pickle.loads(pickle.dumps(value)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}
COPIED = [*SUBCLASSED, ("active", True, bool)]


@pytest.mark.parametrize("how", list(PLAIN_COPIES))
@pytest.mark.parametrize(("field", "expected", "declared"), COPIED, ids=[c[0] for c in COPIED])
async def test_pickle_and_copies_of_a_value_are_exactly_the_plain_type(
    client, field, expected, declared, how
):
    model = await saved_values()
    copied = PLAIN_COPIES[how](getattr(model, field))
    assert type(copied) is declared
    assert copied == expected


async def test_pickle_of_values_needs_only_plain_types(client):
    model = await saved_values()
    payload = pickle.dumps(values_of(model, SUBCLASSED_IDS))
    assert b"redis_pydantic" not in payload
    assert pickle.loads(payload) == {name: value for name, value, _ in SUBCLASSED}


# --------------------------------------------------------------------------- None and enums


def describe(value: Any) -> str:
    match value:
        case None:
            return "none"
        case Color.RED:
            return "red"
        case Color.GREEN:
            return "green"
        case _:
            return "other"


async def test_none_reads_as_none_and_enum_members_as_themselves(client):
    model = await saved_values()
    assert model.nick is None
    assert model.color is Color.RED
    assert isinstance(model.color, Color)
    assert describe(model.nick) == "none"
    assert describe(model.color) == "red"


async def test_none_and_enum_fields_are_set_atomically_by_the_model(client, stored):
    model = await saved_values()
    await model.aupdate(nick="Bo", color=Color.GREEN)
    assert await stored.doc(model.key, "$.nick") == "Bo"
    assert await stored.doc(model.key, "$.color") == "green"
    assert model.nick == "Bo"
    assert model.color is Color.GREEN
    assert describe(model.color) == "green"
    await model.aupdate(nick=None, color=Color.RED)
    assert await stored.doc(model.key, "$.nick") is None
    assert await stored.doc(model.key, "$.color") == "red"
    assert model.nick is None
    assert model.color is Color.RED
    assert describe(model.nick) == "none"
    assert await stored.doc(model.key) == (await Values.get(model.key)).redis_dump()


# --------------------------------------------------------------------------- bool


async def test_bool_reads_as_a_handle_that_tests_and_compares_like_the_bool(client):
    model = await saved_values(active=True)
    active = model.active
    assert isinstance(active, RedisBool)
    assert active
    assert bool(active) is True
    assert active == True  # noqa: E712 - the comparison is what is tested
    assert active != False  # noqa: E712
    assert hash(active) == hash(True)
    assert {active: "found"}[True] == "found"
    assert (active is True) is False
    assert str(active) == "True"
    assert repr(active) == "True"


async def test_bool_handle_has_no_attribute_pass_through(client):
    model = await saved_values()
    with pytest.raises(AttributeError):
        _ = model.active.real
    with pytest.raises(AttributeError):
        _ = model.active.bit_length


async def test_plain_of_a_bool_is_the_bool_itself(client):
    model = await saved_values(active=True)
    assert plain(model.active) is True
    assert json.dumps({"a": plain(model.active)}) == '{"a": true}'


async def test_bool_set_writes_false_to_redis(client, stored):
    model = await saved_values(active=True)
    await model.active.set(False)
    assert await stored.doc(model.key, "$.active") is False
    assert not model.active
    assert model.active == False  # noqa: E712
    assert plain(model.active) is False
    assert json.dumps({"a": plain(model.active)}) == '{"a": false}'
    assert plain((await Values.get(model.key)).active) is False


class Team(BaseRedisModel):
    lead: Profile = Field(default_factory=Profile)
    members: list[Profile] = Field(default_factory=list)
    by_name: dict[str, Profile] = Field(default_factory=dict)
    inner: Values | None = None


async def test_plain_of_a_nested_model_is_a_detached_instance_of_the_users_class(client, stored):
    team = Team(lead=Profile(bio="lead", skills=["go"]), members=[Profile(bio="m")], by_name={"a": Profile()})
    await team.save()
    team = await Team.get(team.key)
    lead = plain(team.lead)
    assert type(lead) is Profile
    assert type(lead.skills) is list
    assert lead == Profile(bio="lead", skills=["go"])
    assert lead.model_dump() == team.lead.model_dump()
    assert pickle.loads(pickle.dumps(team.lead)) == lead
    assert not hasattr(lead.skills, "aappend")
    lead.skills.append("rust")  # a copy: neither the model nor Redis changes
    assert team.lead.skills == ["go"]
    assert await stored.doc(team.key, "$.lead") == {"bio": "lead", "skills": ["go"]}
    assert [type(member) for member in plain(team.members)] == [Profile]
    assert [type(member) for member in plain(team.by_name).values()] == [Profile]


async def test_plain_of_a_stored_model_class_used_as_a_field_is_a_detached_copy(client, stored):
    team = Team(inner=Values(name="Ada"))
    await team.save()
    team = await Team.get(team.key)
    copied = plain(team.inner)
    assert type(copied) is Values
    assert copied is not team.inner
    assert copied.model_dump() == team.inner.model_dump()
    copied.tags.append("local")
    assert team.inner.tags == ["a", "b"]
    assert await stored.doc(team.key, "$.inner.tags") == ["a", "b"]


class Tag(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str


class Wrapped(BaseModel):
    """A user class with its own pickle state."""

    x: int = 1

    def __getstate__(self) -> dict[Any, Any]:
        return {"version": 1, "state": super().__getstate__()}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state["state"])


class Counted(BaseRedisModel):
    z: int = 0

    @field_validator("z")
    @classmethod
    def bump(cls, value: int) -> int:  # changes the value each time it runs
        return value + 1


class Shapes(BaseRedisModel):
    grid: list[list[int]] = Field(default_factory=list)
    index: dict[str, list[int]] = Field(default_factory=dict)
    loose: Any = None
    tags: set[Tag] = Field(default_factory=set)
    wrapped: Wrapped = Field(default_factory=Wrapped)
    counted: Counted = Field(default_factory=Counted)
    counters: list[Counted] = Field(default_factory=list)


async def test_plain_shares_no_list_dict_or_model_with_the_model(client, stored):
    shapes = Shapes(
        grid=[[1]], index={"a": [1]}, loose={"a": {"b": [1]}}, tags={Tag(name="t")}, counters=[Counted()]
    )
    await shapes.save()
    shapes = await Shapes.get(shapes.key)
    _ = shapes.counted, shapes.counters  # (attaching a stored class's model validates it once)
    before = await stored.doc(shapes.key)
    local = shapes.model_dump(mode="json")
    grid, index, loose = plain(shapes.grid), plain(shapes.index), plain(shapes.loose)
    grid[0].append(2)
    index["a"].append(2)
    loose["a"]["b"].append(2)
    counted, counters = plain(shapes.counted), plain(shapes.counters)
    assert counted == shapes.counted  # not validated again
    assert counters[0] is not shapes.counters[0]
    counters[0].z = 9
    assert shapes.model_dump(mode="json") == local
    assert await stored.doc(shapes.key) == before
    assert [type(tag) for tag in plain(shapes.tags)] == [Tag]
    assert type(plain(shapes.wrapped)) is Wrapped
    assert plain(shapes.wrapped) == Wrapped()


def test_plain_returns_plain_values_and_containers_as_they_are():
    profile = Profile(bio="x")
    nested = {"a": [1, "b", None, profile], "c": (1.5, b"d")}
    assert plain(nested) is nested
    assert plain(profile) is profile
    big = list(range(1000))
    assert plain(big) is big


def test_plain_is_exported_by_both_faces():
    import redis_pydantic
    import redis_pydantic.sync

    assert redis_pydantic.plain is plain
    assert redis_pydantic.sync.plain is plain
    assert "plain" in redis_pydantic.__all__
    assert "plain" in redis_pydantic.sync.__all__


# --------------------------------------------------------------------------- binding


async def test_list_assigned_to_another_model_is_a_copy_and_ops_write_the_owner(client, stored):
    a = await saved_values(tags=["a"])
    b = await saved_values(tags=["b"])
    b.tags = a.tags
    assert b.tags == ["a"]
    await a.tags.aappend("x")
    assert await stored.doc(a.key, "$.tags") == ["a", "x"]
    assert await stored.doc(b.key, "$.tags") == ["b"]
    assert a.tags == ["a", "x"]
    assert b.tags == ["a"]


async def test_str_assigned_to_another_model_is_plain_and_set_writes_only_the_new_owner(client, stored):
    a = await saved_values(name="Ada")
    b = await saved_values(name="Bo")
    b.name = a.name
    shout = b.name + "!"
    assert type(shout) is str
    assert shout == "Ada!"
    await b.name.set("z")
    assert await stored.doc(b.key, "$.name") == "z"
    assert await stored.doc(a.key, "$.name") == "Ada"
    assert b.name == "z"
    assert a.name == "Ada"


async def test_list_held_from_before_a_replacement_acts_on_the_current_field(client, stored):
    a = await saved_values(tags=["old"])
    tags = a.tags
    a.tags = ["new"]
    await a.save()
    await tags.aappend("y")
    assert await stored.doc(a.key, "$.tags") == ["new", "y"]
    assert a.tags == ["new", "y"]
    assert a.tags == (await Values.get(a.key)).tags


async def test_scalar_held_from_before_a_replacement_acts_on_the_current_field(client, stored):
    a = await saved_values(count=1)
    count = a.count
    a.count = 10
    await a.save()
    result = await count.aincrease(1)
    assert result == 11
    assert await stored.doc(a.key, "$.count") == 11
    assert a.count == 11


async def test_nested_model_held_from_before_a_replacement_acts_on_the_current_one(client, stored):
    user = await saved_values(profile=Profile(bio="old", skills=["a"]))
    held = user.profile
    user.profile = Profile(bio="new", skills=["b"])
    await user.save()
    await held.skills.aappend("x")
    assert await stored.doc(user.key, "$.profile") == {"bio": "new", "skills": ["b", "x"]}
    assert user.profile.skills == ["b", "x"]
    assert user.profile.bio == "new"
    assert user == await Values.get(user.key)


async def test_shallow_copy_of_a_model_keeps_its_pk_and_gets_its_own_containers(client, stored):
    model = await saved_values(tags=["a"])
    assert model.tags == ["a"]  # read first: the model holds its bound list
    twin = copy.copy(model)
    assert twin.pk == model.pk
    assert twin.key == model.key
    await twin.tags.aappend("x")
    assert twin.tags == ["a", "x"]
    assert model.tags == ["a"]
    assert await stored.doc(model.key, "$.tags") == ["a", "x"]


async def test_nested_model_assigned_to_another_stored_model_is_stored_as_a_copy(client, stored):
    a = await saved_values(profile=Profile(bio="a", skills=["s"]))
    b = await saved_values(profile=Profile(bio="b"))
    b.profile = a.profile
    await b.save()
    assert await stored.doc(b.key, "$.profile") == {"bio": "a", "skills": ["s"]}
    await a.profile.skills.aappend("x")
    assert await stored.doc(a.key, "$.profile.skills") == ["s", "x"]
    assert await stored.doc(b.key, "$.profile") == {"bio": "a", "skills": ["s"]}
    assert a.profile.skills == ["s", "x"]
    assert b.profile.skills == ["s"]
    await b.profile.skills.aappend("y")
    assert await stored.doc(b.key, "$.profile.skills") == ["s", "y"]
    assert await stored.doc(a.key, "$.profile.skills") == ["s", "x"]


class Holder(BaseRedisModel):
    tags: list[str] = []
    profile: Profile = Field(default_factory=Profile)
    lists: dict[str, list[str]] = {}
    profiles: list[Profile] = []


async def put_into_containers_with_lock(b: Holder, a: Holder) -> None:
    async with b.lock() as locked:
        locked.lists["x"] = a.tags
        locked.profiles.append(a.profile)


async def put_into_containers_and_save(b: Holder, a: Holder) -> None:
    b.lists["x"] = a.tags
    b.profiles.append(a.profile)
    await b.save()


@pytest.mark.parametrize(
    "write", [put_into_containers_with_lock, put_into_containers_and_save], ids=["lock", "save"]
)
async def test_values_of_a_model_put_into_another_models_containers_are_stored_as_copies(
    client, stored, write
):
    a = Holder(tags=["a"], profile=Profile(bio="A"))
    await a.save()
    b = Holder()
    await b.save()
    await write(b, a)
    expected = {
        "tags": [],
        "profile": {"bio": "", "skills": []},
        "lists": {"x": ["a"]},
        "profiles": [{"bio": "A", "skills": []}],
    }
    assert await stored.doc(b.key) == expected
    # Operations on a change a alone, in Redis and locally: b holds copies.
    await a.tags.aappend("q")
    await a.profile.bio.set("A2")
    assert (
        await stored.doc(a.key, "$.tags") == ["a", "q"] and await stored.doc(a.key, "$.profile.bio") == "A2"
    )
    assert await stored.doc(b.key) == expected
    assert b.model_dump(mode="json") == expected
    assert b.lists["x"] is not a.tags and b.profiles[0] is not a.profile
    # A model inside a list is not bound: its operations are refused, and nothing is written.
    with pytest.raises(NotAttachedError):
        await b.profiles[0].bio.set("through b")
    assert await stored.doc(a.key, "$.profile.bio") == "A2"


# --------------------------------------------------------------------------- non-str dict keys


class Keyed(BaseRedisModel):
    by_int: dict[int, str] = {}
    by_color: dict[Color, int] = {}
    by_uuid: dict[uuid.UUID, str] = {}


async def saved_keyed() -> Keyed:
    model = Keyed()
    await model.save()
    return model


async def test_int_keyed_dict_ops_write_str_members_and_keep_int_keys(client, stored):
    model = await saved_keyed()
    await model.by_int.aset_item(2, "x")
    assert await stored.doc(model.key, "$.by_int") == {"2": "x"}
    assert model.by_int == {2: "x"}
    assert model.by_int == (await Keyed.get(model.key)).by_int

    await model.by_int.aupdate({1: "a", 3: "c"})
    assert await stored.doc(model.key, "$.by_int") == {"2": "x", "1": "a", "3": "c"}
    assert model.by_int == {2: "x", 1: "a", 3: "c"}
    assert model.by_int == (await Keyed.get(model.key)).by_int

    assert await model.by_int.apop(2) == "x"
    assert await stored.doc(model.key, "$.by_int") == {"1": "a", "3": "c"}
    assert model.by_int == {1: "a", 3: "c"}

    await model.by_int.adel_item(1)
    assert await stored.doc(model.key, "$.by_int") == {"3": "c"}
    assert model.by_int == {3: "c"}

    popped = await model.by_int.apopitem()
    assert popped == (3, "c")
    assert type(popped[0]) is int
    assert await stored.doc(model.key, "$.by_int") == {}
    assert model.by_int == {}


async def test_int_keyed_dict_refuses_a_str_key_and_writes_nothing(client, stored):
    model = await saved_keyed()
    await model.by_int.aset_item(2, "x")
    with pytest.raises(FieldValidationError):
        await model.by_int.aset_item("2", "y")
    with pytest.raises(FieldValidationError):
        await model.by_int.aupdate({"1": "a", "3": "c"})
    assert await stored.doc(model.key, "$.by_int") == {"2": "x"}
    assert model.by_int == {2: "x"}


async def test_enum_keyed_dict_ops_write_member_values_and_keep_enum_keys(client, stored):
    model = await saved_keyed()
    await model.by_color.aset_item(Color.GREEN, 5)
    assert await stored.doc(model.key, "$.by_color") == {"green": 5}
    assert model.by_color == {Color.GREEN: 5}
    assert model.by_color == (await Keyed.get(model.key)).by_color
    await model.by_color.aupdate({Color.RED: 1, Color.GREEN: 6})
    assert await stored.doc(model.key, "$.by_color") == {"green": 6, "red": 1}
    assert await model.by_color.apop(Color.RED) == 1
    key, value = await model.by_color.apopitem()
    assert key is Color.GREEN
    assert value == 6
    assert await stored.doc(model.key, "$.by_color") == {}
    assert model.by_color == {}


async def test_uuid_keyed_dict_ops_write_uuid_text_and_keep_uuid_keys(client, stored):
    model = await saved_keyed()
    other = uuid.UUID(int=7)
    await model.by_uuid.aset_item(IDENT, "u")
    await model.by_uuid.aset_item(other, "v")
    assert await stored.doc(model.key, "$.by_uuid") == {str(IDENT): "u", str(other): "v"}
    assert model.by_uuid == {IDENT: "u", other: "v"}
    assert model.by_uuid == (await Keyed.get(model.key)).by_uuid
    assert await model.by_uuid.apop(IDENT) == "u"
    await model.by_uuid.adel_item(other)
    assert await stored.doc(model.key, "$.by_uuid") == {}
    assert model.by_uuid == {}


# --------------------------------------------------------------------------- Decimal


async def test_decimal_aincrease_is_exact_and_stored_as_text(client, stored):
    model = await saved_values(price=decimal.Decimal("1.00"))
    result = await model.price.aincrease(decimal.Decimal("0.10"))
    assert result == decimal.Decimal("1.10")
    assert str(result) == "1.10"
    assert await stored.doc(model.key, "$.price") == "1.10"
    assert model.price == decimal.Decimal("1.10")
    assert str(model.price) == "1.10"


async def test_decimal_aincrease_accepts_an_int_amount(client, stored):
    model = await saved_values(price=decimal.Decimal("1.10"))
    assert await model.price.aincrease(2) == decimal.Decimal("3.10")
    assert await stored.doc(model.key, "$.price") == "3.10"
    assert model.price == decimal.Decimal("3.10")


async def test_decimal_aincrease_refuses_a_float_amount_and_writes_nothing(client, stored):
    model = await saved_values(price=decimal.Decimal("1.00"))
    with pytest.raises(FieldValidationError):
        await model.price.aincrease(0.1)
    assert await stored.doc(model.key, "$.price") == "1.00"
    assert model.price == decimal.Decimal("1.00")


async def test_decimal_increments_from_two_instances_all_count(client, stored):
    first = await saved_values(price=decimal.Decimal("1.00"))
    second = await Values.get(first.key)
    for i in range(20):
        instance = first if i % 2 == 0 else second
        await instance.price.aincrease(decimal.Decimal("0.05"))
    assert await stored.doc(first.key, "$.price") == "2.00"
    assert (await Values.get(first.key)).price == decimal.Decimal("2.00")
    assert second.price == decimal.Decimal("2.00")
    assert first.price == decimal.Decimal("1.95")


# --------------------------------------------------------------------------- Any fields


class Loose(BaseRedisModel):
    x: Any = ""
    d: dict[str, Any] = {}
    items: list[Any] = []


async def test_any_fields_hold_locally_what_get_reads_back(client, stored):
    model = Loose()
    await model.save()

    await model.x.set(b"bytes")
    assert await stored.doc(model.key, "$.x") == base64.b64encode(b"bytes").decode()
    assert model.x == (await Loose.get(model.key)).x

    await model.x.set(WHEN)
    assert await stored.doc(model.key, "$.x") == "2024-05-06T07:08:09.123456Z"
    assert model.x == (await Loose.get(model.key)).x

    await model.x.set(decimal.Decimal("1.50"))
    assert await stored.doc(model.key, "$.x") == "1.50"
    assert model.x == (await Loose.get(model.key)).x

    await model.d.aset_item("k", b"x")
    assert await stored.doc(model.key, "$.d") == {"k": "eA=="}
    assert model.d == (await Loose.get(model.key)).d

    await model.items.aappend(WHEN)
    assert await stored.doc(model.key, "$.items") == ["2024-05-06T07:08:09.123456Z"]
    assert model.items == (await Loose.get(model.key)).items

    assert model == await Loose.get(model.key)


async def test_save_many_leaves_any_fields_holding_what_get_reads_back(client, stored):
    first = Loose(x=b"\xff", items=[WHEN])
    second = Loose(x=Loose(x=decimal.Decimal("1.50")), d={"k": b"x"})
    await Loose.save_many([first, second])
    for model in (first, second):
        held = await stored.doc(model.key)
        assert model.model_dump(mode="json") == held
        assert model == await Loose.get(model.key)
    assert first.x == "/w==" and first.items == ["2024-05-06T07:08:09.123456Z"]
    assert second.x == {"x": "1.50", "d": {}, "items": []} and second.d == {"k": "eA=="}


class Ambiguous(BaseModel):
    either: str | bytes = ""


class Unions(BaseRedisModel):
    text_or_bytes: str | bytes = ""
    text_or_time: str | datetime.datetime = ""
    day_or_time: datetime.date | datetime.datetime | None = None
    items: list[str | bytes] = []
    inner: Ambiguous = Field(default_factory=Ambiguous)


UNION_WRITES = {
    "set bytes": lambda m: m.text_or_bytes.set(b"\xff\x00"),
    "set datetime": lambda m: m.text_or_time.set(WHEN),
    "aupdate": lambda m: m.aupdate(day_or_time=WHEN, text_or_bytes=b"x"),
    "aappend": lambda m: m.items.aappend(b"zz"),
    "nested set": lambda m: m.inner.either.set(b"\x01"),
    "save": lambda m: m.save(),
}


@pytest.mark.parametrize("write", sorted(UNION_WRITES))
async def test_a_union_that_json_cannot_tell_apart_holds_locally_what_get_reads_back(client, stored, write):
    model = Unions(items=[b"\xfb"], inner=Ambiguous(either=b"\xfa"))
    await model.save()
    await UNION_WRITES[write](model)
    again = await Unions.get(model.key)
    assert model == again
    assert model.model_dump(mode="json") == await stored.doc(model.key)
    assert model.items[0] == "+w==" and model.inner.either in ("+g==", "AQ==")


@dataclasses.dataclass
class Blob:
    data: bytes = b""
    extra: Any = None


class BlobDict(TypedDict):
    data: bytes
    extra: Any


class Blobs(BaseRedisModel):
    items: list[Blob] = []
    by_name: dict[str, BlobDict] = {}
    one: Blob = Blob()


BLOB_WRITES = {
    "aappend": lambda m: m.items.aappend(Blob(data=b"xyz", extra=b"\xff")),
    "aextend": lambda m: m.items.aextend([Blob(data=b"\xff\xfe"), Blob(extra=WHEN)]),
    "aset_item": lambda m: m.by_name.aset_item("k", {"data": b"hello", "extra": b"\x00"}),
    "dict aupdate": lambda m: m.by_name.aupdate(k={"data": b"\xfb", "extra": decimal.Decimal("1.50")}),
    "aupdate": lambda m: m.aupdate(one=Blob(data=b"\x01", extra=b"\x02")),
    "save": lambda m: m.save(),
}


@pytest.mark.parametrize("write", sorted(BLOB_WRITES))
async def test_bytes_and_any_in_dataclasses_and_typeddicts_are_written_as_the_model_writes_them(
    client, stored, write
):
    # Item operations used to write a dataclass's bytes as UTF-8 text, which get() refused.
    model = Blobs(items=[Blob(data=b"\xfa", extra=b"\xfa")])
    await model.save()
    await BLOB_WRITES[write](model)
    again = await Blobs.get(model.key)
    assert model == again
    held = await stored.doc(model.key)
    for item in held["items"]:
        assert base64.urlsafe_b64decode(item["data"]) in (b"", b"\xfa", b"xyz", b"\xff\xfe")
    assert [item.data for item in again.items][:1] == [b"\xfa"]
    assert model.model_dump(mode="json") == again.model_dump(mode="json")


class Note(BaseModel):
    body: Any = None


class Notebook(BaseRedisModel):
    note: Note = Field(default_factory=Note)
    notes: list[Note] = []
    by_name: dict[str, Note] = {}
    loose: dict[str, Any] = {}


async def locked_loose_date(model: Notebook) -> None:
    async with model.lock() as locked:
        locked.loose["k"] = datetime.date(2024, 5, 6)


async def saved_loose_date(model: Notebook) -> None:
    model.loose["k"] = datetime.date(2024, 5, 6)
    await model.save()


ANY_INSIDE_A_MODEL = {
    "nested model set": lambda m: m.note.set(Note(body=datetime.date(2024, 5, 6))),
    "aupdate of a nested model": lambda m: m.aupdate(note=Note(body=b"\x01")),
    "aappend of a model": lambda m: m.notes.aappend(Note(body=b"\x01")),
    "aset_item of a model": lambda m: m.by_name.aset_item("k", Note(body=decimal.Decimal("1.10"))),
    "save": saved_loose_date,
    "lock exit": locked_loose_date,
}


@pytest.mark.parametrize("write", sorted(ANY_INSIDE_A_MODEL))
async def test_any_values_inside_models_and_containers_hold_locally_what_get_reads_back(
    client, stored, write
):
    model = Notebook()
    await model.save()
    await ANY_INSIDE_A_MODEL[write](model)
    again = await Notebook.get(model.key)
    assert model == again
    assert model.model_dump(mode="json") == await stored.doc(model.key)


class Attachment(BaseModel):
    body: Any = None
    data: bytes = b""


ANY_HOLDING_A_MODEL = {
    "save": lambda m: m.save(),
    "set": lambda m: m.x.set(Attachment(body=b"\xff\x00", data=b"\xfe")),
    "aappend": lambda m: m.items.aappend(Attachment(body=[b"\xff"], data=b"ok")),
    "aset_item": lambda m: m.d.aset_item("k", {"inner": Attachment(body=b"\xfb")}),
}


@pytest.mark.parametrize("write", sorted(ANY_HOLDING_A_MODEL))
async def test_bytes_in_a_model_held_by_an_any_field_are_standard_base64(client, stored, write):
    # A plain pydantic model inside Any writes its bytes as UTF-8 text, and fails on bytes
    # that are not UTF-8: here they are standard base64, as everywhere else.
    model = Loose(x=Attachment(body=b"\xff", data=b"\xfe\xff"), items=[Attachment(body={"b": b"\xfa"})])
    await model.save()
    assert await stored.doc(model.key, "$.x") == {"body": "/w==", "data": "/v8="}
    assert await stored.doc(model.key, "$.items") == [{"body": {"b": "+g=="}, "data": ""}]
    await ANY_HOLDING_A_MODEL[write](model)
    held = await stored.doc(model.key)
    assert model.model_dump(mode="json") == held
    assert model == await Loose.get(model.key)
    if write == "set":
        assert held["x"] == {"body": "/wA=", "data": "/g=="}
    elif write == "aappend":
        assert held["items"][-1] == {"body": ["/w=="], "data": "b2s="}
    elif write == "aset_item":
        assert held["d"] == {"k": {"inner": {"body": "+w==", "data": ""}}}


# --------------------------------------------------------------------------- bytes


async def test_bytes_are_stored_as_standard_padded_base64(client, stored):
    model = Values(data=BINARY)
    await model.save()
    text = await stored.doc(model.key, "$.data")
    assert text == "+/+/AA=="
    assert base64.b64decode(text, validate=True) == BINARY
    await model.data.set(b"\xff\xfe" * 5)
    text = await stored.doc(model.key, "$.data")
    assert text == base64.b64encode(b"\xff\xfe" * 5).decode()
    assert base64.b64decode(text, validate=True) == b"\xff\xfe" * 5
    assert (await Values.get(model.key)).data == b"\xff\xfe" * 5


# --------------------------------------------------------------------------- errors


async def test_wrong_type_set_raises_a_clear_error_and_writes_nothing(client, stored):
    model = await saved_values(count=3)
    with pytest.raises(FieldValidationError) as info:
        await model.count.set("not_a_number")
    assert isinstance(info.value, TypeError)
    assert str(info.value).startswith("Value must be int"), str(info.value)
    assert await stored.doc(model.key, "$.count") == 3
    assert model.count == 3


# --------------------------------------------------------------------------- nested __eq__


class Point(BaseModel):
    x: int
    label: str = ""

    def __eq__(self, other: object) -> bool:
        # Points are equal by position; the label does not count.
        return isinstance(other, Point) and self.x == other.x

    __hash__ = None  # type: ignore[assignment]


class Shape(BaseRedisModel):
    a: Point
    b: Point


async def test_a_nested_models_own_eq_is_kept(client, stored):
    shape = Shape(a=Point(x=1, label="one"), b=Point(x=1, label="uno"))
    await shape.save()
    assert await stored.doc(shape.key, "$.a") == {"x": 1, "label": "one"}
    loaded = await Shape.get(shape.key)
    for model in (shape, loaded):
        assert isinstance(model.a, Point)
        assert model.a == model.b
        assert model.a == Point(x=1, label="other")
        assert model.a != Point(x=2, label="one")


# --------------------------------------------------------------------------- load and aincrease


async def test_load_of_a_scalar_field_returns_the_bound_value(client, stored):
    model = await saved_values(count=3)
    await client.execute_command("JSON.SET", model.key, "$.count", "7")
    loaded = await model.count.load()
    assert isinstance(loaded, RedisInt)
    assert loaded == 7
    assert model.count == 7
    await loaded.aincrease(1)
    assert await stored.doc(model.key, "$.count") == 8
    assert model.count == 8


async def test_aincrease_returns_a_plain_int(client, stored):
    model = await saved_values(count=3)
    result = await model.count.aincrease(1)
    assert type(result) is int
    assert result == 4
    assert await stored.doc(model.key, "$.count") == 4


class Ledger(BaseRedisModel):
    paid: bool = False
    extra: list[Any] = []
    by_day: dict[datetime.date, int] = {}
    total: decimal.Decimal = decimal.Decimal("0")


class Stamped(BaseRedisModel):
    day: datetime.date


async def test_values_read_from_another_model_are_written_as_the_plain_values_they_hold(client, stored):
    source = Ledger(paid=True)
    await source.save()
    target = Ledger()
    await target.save()
    await target.paid.set(source.paid)  # a bool handle
    await target.extra.aappend(source.paid)
    await target.aupdate(paid=source.paid)
    assert await stored.doc(target.key) == {"paid": True, "extra": [True], "by_day": {}, "total": "0"}
    assert target.model_dump() == (await Ledger.get(target.key)).model_dump()
    assert type(target.extra[0]) is bool


async def test_a_key_read_from_another_model_is_kept_as_the_plain_key_get_returns(client, stored):
    source = Stamped(day=datetime.date(2024, 3, 3))
    await source.save()
    ledger = Ledger()
    await ledger.save()
    await ledger.by_day.aset_item(source.day, 7)  # a date subclass read from a model
    await ledger.by_day.aupdate({source.day: 8, datetime.date(2024, 4, 4): 9})
    assert await stored.doc(ledger.key, "$.by_day") == {"2024-03-03": 8, "2024-04-04": 9}
    assert all(type(key) is datetime.date for key in ledger.by_day)
    assert ledger.model_dump() == (await Ledger.get(ledger.key)).model_dump()


async def test_decimal_sums_are_exact_beyond_28_digits(client, stored):
    ledger = Ledger(total=decimal.Decimal("103.05"))
    await ledger.save()
    exact = "103.050000000000000000000000000001"
    assert str(await ledger.total.aincrease(decimal.Decimal("1E-30"))) == exact
    assert await stored.doc(ledger.key, "$.total") == exact
    assert str(ledger.total) == exact
    assert ledger.model_dump() == (await Ledger.get(ledger.key)).model_dump()
