# This file is generated from tests/_async/test_scalar_fields.py by setup_unasync.py. Do not edit it by hand.
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

from redis_pydantic._sync.model import BaseRedisModel

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


def set_field(model: BaseRedisModel, field: str, value: object) -> None:
    """``field.set(value)``; fields that read as None or an enum member are set by the model."""
    current = getattr(model, field)
    if current is None or isinstance(current, enum.Enum):
        model.aupdate(**{field: value})
    else:
        current.set(value)


def load_field(model: BaseRedisModel, field: str) -> object:
    """``field.load()``; fields that read as None or an enum member are loaded with the model."""
    current = getattr(model, field)
    if current is None or isinstance(current, enum.Enum):
        model.load()
        return getattr(model, field)
    return current.load()


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
def test_set_writes_redis_then_the_local_value(client, stored, field, value, stored_json):
    model = Scalars()
    model.save()
    set_field(model, field, value)
    assert stored.doc(model.key, "$." + field) == stored_json
    assert getattr(model, field) == value
    assert model.model_dump()[field] == value
    assert type(model.model_dump()[field]) is type(value)


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
def test_load_returns_and_stores_what_another_client_wrote(client, field, value, stored_json):
    model = Scalars()
    model.save()
    client.execute_command("JSON.SET", model.key, "$." + field, json.dumps(stored_json))
    loaded = load_field(model, field)
    assert loaded == value
    assert getattr(model, field) == value
    assert type(model.model_dump()[field]) is type(value)


@pytest.mark.parametrize(("field", "value", "stored_json"), CASES, ids=IDS)
def test_get_reads_every_scalar_type_back(client, field, value, stored_json):
    model = Scalars()
    model.save()
    set_field(model, field, value)
    loaded = Scalars.get(model.key)
    assert getattr(loaded, field) == value
    assert type(loaded.model_dump()[field]) is type(value)


def test_set_on_a_never_saved_instance_creates_the_document(client, stored):
    model = Scalars()
    model.count.set(5)
    expected = {**Scalars().redis_dump(), "count": 5}
    assert stored.doc(model.key) == expected


def test_optional_field_holds_none_then_a_value_then_none_again(client, stored):
    model = Scalars()
    model.save()
    assert model.maybe is None
    assert stored.doc(model.key, "$.maybe") is None
    model.aupdate(maybe=3)  # a None field is set by the model
    assert model.maybe == 3
    assert stored.doc(model.key, "$.maybe") == 3
    model.maybe.set(None)  # an int value has set()
    assert model.maybe is None
    assert model.model_dump()["maybe"] is None
    assert stored.doc(model.key) == {**model.redis_dump(), "maybe": None}
    assert model.load() is model and model.maybe is None


def test_int_field_value_behaves_like_an_int(client):
    person = Person(name="Ada", age=36)
    person.save()
    assert isinstance(person.age, int)
    assert person.age + 1 == 37
    assert type(person.age + 1) is int
    assert person.age * 2 == 72
    assert person.age > 35
    assert {person.age: "x"}[36] == "x"
    assert json.dumps({"age": person.age}) == '{"age": 36}'
    assert type(person.model_dump()["age"]) is int


def test_str_field_value_behaves_like_a_str(client):
    person = Person(name="x", age=1)
    person.save()
    assert isinstance(person.name, str)
    assert person.name == "x"
    assert f"{person.name}" == "x"
    assert f"{person.name:>3}" == "  x"
    assert person.name.upper() == "X"
    assert person.name + "y" == "xy"
    assert type(person.model_dump()["name"]) is str


def test_model_dump_gives_plain_values(client):
    person = Person(name="Ada", age=36)
    person.save()
    loaded = Person.get(person.key)
    for model in (person, loaded):
        dump = model.model_dump()
        assert dump == {"name": "Ada", "age": 36, "active": True}
        assert type(dump["name"]) is str
        assert type(dump["age"]) is int
        assert dump["active"] is True
        assert model.model_dump_json() == '{"name":"Ada","age":36,"active":true}'


def test_bool_field_compares_and_tests_truthiness_like_a_bool(client, stored):
    person = Person(name="Ada", age=36, active=False)
    person.save()
    assert person.active == False  # noqa: E712 - this comparison is the behaviour under test
    assert not person.active
    assert person.active != True  # noqa: E712
    assert stored.doc(person.key, "$.active") is False
    person.active.set(True)
    assert person.active == True  # noqa: E712
    assert person.active
    assert bool(person.active) is True
    assert f"{person.active}" == "True"
    assert stored.doc(person.key, "$.active") is True
    assert person.model_dump()["active"] is True


def test_bool_field_refuses_a_non_bool(client, stored):
    person = Person(name="Ada", age=36)
    person.save()
    with pytest.raises(TypeError):
        person.active.set(1)
    assert stored.doc(person.key, "$.active") is True


def test_enum_field_value_passes_attribute_access_through(client):
    model = Scalars(color=Color.GREEN)
    model.save()
    assert model.color == Color.GREEN
    assert model.color.name == "GREEN"
    assert model.color.value == "green"
    loaded = Scalars.get(model.key)
    assert loaded.model_dump()["color"] is Color.GREEN


# -- bytes ---------------------------------------------------------------------------------------

RAW = b"\xff\x00\xfe binary \x80"


class Blob(BaseRedisModel):
    data: bytes = b""
    chunks: list[bytes] = []


def test_bytes_are_stored_as_base64_text(client, stored):
    blob = Blob(data=RAW)
    blob.save()
    text = stored.doc(blob.key, "$.data")
    assert isinstance(text, str)
    assert base64.b64decode(text, validate=True) == RAW


def test_bytes_come_back_as_bytes_from_get(client):
    blob = Blob(data=RAW)
    blob.save()
    loaded = Blob.get(blob.key)
    assert loaded.data == RAW
    assert type(loaded.model_dump()["data"]) is bytes


def test_bytes_come_back_as_bytes_from_model_load(client):
    blob = Blob(data=RAW)
    blob.save()
    Blob(pk=blob.pk, data=b"other").data.set(b"\x00\x01")
    blob.load()
    assert blob.data == b"\x00\x01"
    assert type(blob.model_dump()["data"]) is bytes


def test_bytes_come_back_as_bytes_from_field_load(client):
    blob = Blob()
    blob.save()
    client.execute_command("JSON.SET", blob.key, "$.data", json.dumps(base64.b64encode(RAW).decode()))
    assert blob.data.load() == RAW
    assert isinstance(blob.data, bytes)
    assert blob.data == RAW


def test_bytes_set_writes_base64_and_keeps_bytes_locally(client, stored):
    blob = Blob()
    blob.save()
    blob.data.set(RAW)
    assert base64.b64decode(stored.doc(blob.key, "$.data"), validate=True) == RAW
    assert blob.data == RAW
    assert isinstance(blob.data, bytes)


def test_bytes_inside_a_list_are_stored_as_base64_text(client, stored):
    blob = Blob(chunks=[RAW, b""])
    blob.save()
    chunks = (stored.doc(blob.key))["chunks"]
    assert [base64.b64decode(c, validate=True) for c in chunks] == [RAW, b""]
    assert (Blob.get(blob.key)).chunks == [RAW, b""]


def test_bytes_are_standard_padded_base64_and_url_safe_text_still_loads(client, stored):
    value = b"\xfb\xff\xfe"  # standard "+//+", URL-safe "-__-"
    blob = Blob(data=value, chunks=[value])
    blob.save()
    assert stored.doc(blob.key, "$.data") == "+//+"
    assert stored.doc(blob.key, "$.chunks") == ["+//+"]
    blob.chunks.aappend(b"\xfb")
    assert stored.doc(blob.key, "$.chunks[1]") == "+w=="
    # Documents written with the URL-safe alphabet (by earlier versions) read the same.
    client.execute_command("JSON.SET", blob.key, "$.data", '"-__-"')
    assert (Blob.get(blob.key)).data == value
    assert blob.data.load() == value
