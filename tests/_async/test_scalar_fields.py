"""Scalar fields: set() and load() of every JSON-storable scalar type, and how their values behave."""

from __future__ import annotations

import base64
import datetime
import decimal
import enum
import json
import uuid
from typing import Literal

import pytest

from redis_pydantic._async.model import BaseRedisModel

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Scalars(BaseRedisModel):
    text: str = ""
    count: int = 0
    ratio: float = 0.0
    active: bool = False
    data: bytes = b""
    when: datetime.datetime = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    day: datetime.date = datetime.date(2000, 1, 1)
    ident: uuid.UUID = uuid.UUID(int=0)
    price: decimal.Decimal = decimal.Decimal("0")
    color: Color = Color.RED
    level: Level = Level.LOW
    mode: Literal["fast", "slow"] = "fast"
    maybe: int | None = None
    either: int | str = 0


class Person(BaseRedisModel):
    name: str
    age: int
    active: bool = True


UUID_VALUE = uuid.UUID("12345678-1234-5678-1234-567812345678")
WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)

# (field, value given to set(), the JSON Redis holds)
CASES = [
    ("text", "héllo ✓", "héllo ✓"),
    ("count", 42, 42),
    ("count", -(2**53), -(2**53)),
    ("ratio", 2.5, 2.5),
    ("active", True, True),
    ("data", b"\xff\x00binary", base64.b64encode(b"\xff\x00binary").decode()),
    ("when", WHEN, "2024-05-06T07:08:09.123456Z"),
    ("day", datetime.date(2024, 5, 6), "2024-05-06"),
    ("ident", UUID_VALUE, str(UUID_VALUE)),
    ("price", decimal.Decimal("12.50"), "12.50"),
    ("color", Color.GREEN, "green"),
    ("level", Level.HIGH, 2),
    ("mode", "slow", "slow"),
    ("maybe", 7, 7),
    ("either", "seven", "seven"),
    ("either", 7, 7),
]
IDS = [f"{field}-{type(value).__name__}" for field, value, _ in CASES]


async def set_field(model: BaseRedisModel, field: str, value: object) -> None:
    """``field.set(value)``; fields that read as None or an enum member are set by the model."""
    current = getattr(model, field)
    if current is None or isinstance(current, enum.Enum):
        await model.aupdate(**{field: value})
    else:
        await current.set(value)


async def load_field(model: BaseRedisModel, field: str) -> object:
    """``field.load()``; fields that read as None or an enum member are loaded with the model."""
    current = getattr(model, field)
    if current is None or isinstance(current, enum.Enum):
        await model.load()
        return getattr(model, field)
    return await current.load()


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
async def test_set_writes_redis_then_the_local_value(client, stored, field, value, stored_json):
    model = Scalars()
    await model.save()
    await set_field(model, field, value)
    assert await stored.doc(model.key, "$." + field) == stored_json
    assert getattr(model, field) == value
    assert model.model_dump()[field] == value
    assert type(model.model_dump()[field]) is type(value)


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
async def test_load_returns_and_stores_what_another_client_wrote(client, field, value, stored_json):
    model = Scalars()
    await model.save()
    await client.execute_command("JSON.SET", model.key, "$." + field, json.dumps(stored_json))
    loaded = await load_field(model, field)
    assert loaded == value
    assert getattr(model, field) == value
    assert type(model.model_dump()[field]) is type(value)


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
async def test_get_reads_every_scalar_type_back(client, field, value, stored_json):
    model = Scalars()
    await model.save()
    await set_field(model, field, value)
    loaded = await Scalars.get(model.key)
    assert getattr(loaded, field) == value
    assert type(loaded.model_dump()[field]) is type(value)


async def test_set_on_a_never_saved_instance_creates_the_document(client, stored):
    model = Scalars()
    await model.count.set(5)
    expected = {**Scalars().redis_dump(), "count": 5}
    assert await stored.doc(model.key) == expected


async def test_optional_field_holds_none_then_a_value_then_none_again(client, stored):
    model = Scalars()
    await model.save()
    assert model.maybe is None
    assert await stored.doc(model.key, "$.maybe") is None
    await model.aupdate(maybe=3)  # a None field is set by the model
    assert model.maybe == 3
    assert await stored.doc(model.key, "$.maybe") == 3
    await model.maybe.set(None)  # an int value has set()
    assert model.maybe is None
    assert model.model_dump()["maybe"] is None
    assert await stored.doc(model.key) == {**model.redis_dump(), "maybe": None}
    assert await model.load() is model and model.maybe is None


async def test_int_field_value_behaves_like_an_int(client):
    person = Person(name="Ada", age=36)
    await person.save()
    assert isinstance(person.age, int)
    assert person.age + 1 == 37
    assert type(person.age + 1) is int
    assert person.age * 2 == 72
    assert person.age > 35
    assert {person.age: "x"}[36] == "x"
    assert json.dumps({"age": person.age}) == '{"age": 36}'
    assert type(person.model_dump()["age"]) is int


async def test_str_field_value_behaves_like_a_str(client):
    person = Person(name="x", age=1)
    await person.save()
    assert isinstance(person.name, str)
    assert person.name == "x"
    assert f"{person.name}" == "x"
    assert f"{person.name:>3}" == "  x"
    assert person.name.upper() == "X"
    assert person.name + "y" == "xy"
    assert type(person.model_dump()["name"]) is str


async def test_model_dump_gives_plain_values(client):
    person = Person(name="Ada", age=36)
    await person.save()
    loaded = await Person.get(person.key)
    for model in (person, loaded):
        dump = model.model_dump()
        assert dump == {"name": "Ada", "age": 36, "active": True}
        assert type(dump["name"]) is str
        assert type(dump["age"]) is int
        assert dump["active"] is True
        assert model.model_dump_json() == '{"name":"Ada","age":36,"active":true}'


async def test_bool_field_compares_and_tests_truthiness_like_a_bool(client, stored):
    person = Person(name="Ada", age=36, active=False)
    await person.save()
    assert person.active == False  # noqa: E712 - this comparison is the behaviour under test
    assert not person.active
    assert person.active != True  # noqa: E712
    assert await stored.doc(person.key, "$.active") is False
    await person.active.set(True)
    assert person.active == True  # noqa: E712
    assert person.active
    assert bool(person.active) is True
    assert f"{person.active}" == "True"
    assert await stored.doc(person.key, "$.active") is True
    assert person.model_dump()["active"] is True


async def test_bool_field_refuses_a_non_bool(client, stored):
    person = Person(name="Ada", age=36)
    await person.save()
    with pytest.raises(TypeError):
        await person.active.set(1)
    assert await stored.doc(person.key, "$.active") is True


async def test_enum_field_value_passes_attribute_access_through(client):
    model = Scalars(color=Color.GREEN)
    await model.save()
    assert model.color == Color.GREEN
    assert model.color.name == "GREEN"
    assert model.color.value == "green"
    loaded = await Scalars.get(model.key)
    assert loaded.model_dump()["color"] is Color.GREEN


# -- bytes ---------------------------------------------------------------------------------------

RAW = b"\xff\x00\xfe binary \x80"


class Blob(BaseRedisModel):
    data: bytes = b""
    chunks: list[bytes] = []


async def test_bytes_are_stored_as_base64_text(client, stored):
    blob = Blob(data=RAW)
    await blob.save()
    text = await stored.doc(blob.key, "$.data")
    assert isinstance(text, str)
    assert base64.b64decode(text, validate=True) == RAW


async def test_bytes_come_back_as_bytes_from_get(client):
    blob = Blob(data=RAW)
    await blob.save()
    loaded = await Blob.get(blob.key)
    assert loaded.data == RAW
    assert type(loaded.model_dump()["data"]) is bytes


async def test_bytes_come_back_as_bytes_from_model_load(client):
    blob = Blob(data=RAW)
    await blob.save()
    await Blob(pk=blob.pk, data=b"other").data.set(b"\x00\x01")
    await blob.load()
    assert blob.data == b"\x00\x01"
    assert type(blob.model_dump()["data"]) is bytes


async def test_bytes_come_back_as_bytes_from_field_load(client):
    blob = Blob()
    await blob.save()
    await client.execute_command("JSON.SET", blob.key, "$.data", json.dumps(base64.b64encode(RAW).decode()))
    assert await blob.data.load() == RAW
    assert isinstance(blob.data, bytes)
    assert blob.data == RAW


async def test_bytes_set_writes_base64_and_keeps_bytes_locally(client, stored):
    blob = Blob()
    await blob.save()
    await blob.data.set(RAW)
    assert base64.b64decode(await stored.doc(blob.key, "$.data"), validate=True) == RAW
    assert blob.data == RAW
    assert isinstance(blob.data, bytes)


async def test_bytes_inside_a_list_are_stored_as_base64_text(client, stored):
    blob = Blob(chunks=[RAW, b""])
    await blob.save()
    chunks = (await stored.doc(blob.key))["chunks"]
    assert [base64.b64decode(c, validate=True) for c in chunks] == [RAW, b""]
    assert (await Blob.get(blob.key)).chunks == [RAW, b""]


async def test_bytes_are_standard_padded_base64_and_url_safe_text_still_loads(client, stored):
    value = b"\xfb\xff\xfe"  # standard "+//+", URL-safe "-__-"
    blob = Blob(data=value, chunks=[value])
    await blob.save()
    assert await stored.doc(blob.key, "$.data") == "+//+"
    assert await stored.doc(blob.key, "$.chunks") == ["+//+"]
    await blob.chunks.aappend(b"\xfb")
    assert await stored.doc(blob.key, "$.chunks[1]") == "+w=="
    # Documents written with the URL-safe alphabet (by earlier versions) read the same.
    await client.execute_command("JSON.SET", blob.key, "$.data", '"-__-"')
    assert (await Blob.get(blob.key)).data == value
    assert await blob.data.load() == value
