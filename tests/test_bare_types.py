"""Values of a plain ``str``, ``int``, ``float`` or ``bool`` field skip pydantic's call when
validating them could only check their type. The answer must be pydantic's own, for any value,
whatever the field's constraints, validators and config."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_serializer,
)
from pydantic_core import PydanticSerializationError

from redis_pydantic._schema import FieldSpec, bare_type, field_specs
from redis_pydantic.errors import FieldValidationError, ValueNotSerializableError


class Color(str, enum.Enum):
    RED = "red"


class Text(str):
    pass


class Plain(BaseModel):
    name: str
    age: int = 0
    ratio: float = 1.0
    active: bool = False
    tags: list[str] = []
    counts: dict[str, int] = {}
    flags: list[bool] = []


class Shaped(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, str_to_lower=True, allow_inf_nan=False)
    name: str = ""
    ratio: float = 0.0
    tags: list[str] = []


class Limited(BaseModel):
    model_config = ConfigDict(str_max_length=3)
    name: str = ""
    tags: list[str] = []


class Constrained(BaseModel):
    name: str = Field(default="", min_length=2)
    age: int = Field(default=0, ge=0)
    shout: Annotated[str, AfterValidator(str.upper)] = ""
    tags: list[Annotated[str, Field(max_length=2)]] = []


SPECS = [spec for cls in (Plain, Shaped, Limited, Constrained) for spec in field_specs(cls).values()]
SCALARS = [spec for spec in SPECS if spec.kind not in ("list", "dict")]
CONTAINERS = [spec for spec in SPECS if spec.kind in ("list", "dict")]

anything = st.one_of(
    st.text(),
    st.text().map(Text),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
    st.just(Color.RED),
)


def pydantic_answer(validate: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", validate(value)
    except ValidationError:
        return "refused", None


def our_answer(check: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", check(value)
    except FieldValidationError:
        return "refused", None


def same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] != b[0]:
        return False
    x, y = a[1], b[1]
    if isinstance(x, float) and x != x:  # NaN
        return isinstance(y, float) and y != y
    return type(x) is type(y) and x == y


@given(st.sampled_from(SCALARS), anything)
def test_a_field_value_validates_as_pydantic_validates_it(spec: FieldSpec, value: Any) -> None:
    expected = pydantic_answer(spec.strict_validator.validate_python, value)
    assert same(our_answer(spec.validate, value), expected), (spec.qualname, value)


@given(st.sampled_from(CONTAINERS), anything)
def test_an_item_validates_as_pydantic_validates_it(spec: FieldSpec, value: Any) -> None:
    spec.item  # noqa: B018 - builds the item validator
    expected = pydantic_answer(lambda v: spec._item_validator.validate_python(v, strict=True), value)
    assert same(our_answer(spec.validate_item, value), expected), (spec.qualname, value)


def test_only_types_that_nothing_changes_skip_the_validator() -> None:
    assert bare_type({"type": "str"}, {}) is str
    assert bare_type({"type": "default", "schema": {"type": "int"}, "default": 0}, None) is int
    assert bare_type({"type": "float"}, {"allow_inf_nan": True}) is float
    assert bare_type({"type": "bool"}, {}) is bool
    assert bare_type({"type": "str", "max_length": 3}, {}) is None
    assert bare_type({"type": "str"}, {"str_strip_whitespace": True}) is None
    assert bare_type({"type": "str"}, {"str_max_length": 3}) is None
    assert bare_type({"type": "float"}, {"allow_inf_nan": False}) is None
    assert bare_type({"type": "int", "ge": 0}, {}) is None
    assert bare_type({"type": "list", "items_schema": {"type": "str"}}, {}) is None
    assert bare_type({"type": "bytes"}, {}) is None
    assert bare_type({"type": "function-after", "schema": {"type": "str"}}, {}) is None


def test_plain_fields_take_the_shortcut_and_others_do_not() -> None:
    """The shortcut is really in use for plain fields (a change that turns it off fails here)."""
    specs = {spec.qualname: spec for spec in SPECS}
    for spec in SPECS:
        spec.strict_validator  # noqa: B018 - builds the validators
        spec.item  # noqa: B018
    assert specs["Plain.name"]._exact is str
    assert specs["Plain.age"]._exact is int
    assert specs["Plain.ratio"]._exact is float
    assert specs["Plain.active"]._exact is bool
    assert specs["Plain.tags"]._item_exact is str
    assert specs["Plain.counts"]._item_exact is int
    for name in ("Shaped.name", "Shaped.ratio", "Limited.name", "Constrained.name", "Constrained.age"):
        assert specs[name]._exact is None, name
    for name in ("Shaped.tags", "Limited.tags", "Constrained.tags"):
        assert specs[name]._item_exact is None, name


@given(st.text(st.characters(exclude_categories=[])))  # lone surrogates too
@example("a\ud800")
@example('"\\\n\x00\x7f\u2028é😀')
def test_a_plain_str_is_written_as_the_text_pydantic_writes(text):
    # A plain str skips pydantic's serializer too: the JSON text must be byte for byte its own.
    name, tags = field_specs(Plain)["name"], field_specs(Plain)["tags"]
    serializer = name.serializer
    try:
        expected = serializer.to_json(text)
    except PydanticSerializationError:  # a lone surrogate: both refuse it with pydantic's error
        with pytest.raises(ValueNotSerializableError):
            name.dump_json(text)
        with pytest.raises(ValueNotSerializableError):
            tags.dump_item_json(text)
        return
    assert name.dump_json(text) == expected
    assert tags.dump_item_json(text) == expected


def test_a_str_the_schema_changes_on_the_way_out_is_written_by_pydantic():
    class Shouted(BaseModel):
        name: Annotated[str, PlainSerializer(str.upper)] = ""

    assert field_specs(Shouted)["name"].dump_json("ada") == b'"ADA"'


def test_a_field_serializer_of_a_str_field_with_a_default_is_applied():
    class Loud(BaseModel):
        name: str = ""

        @field_serializer("name")
        @staticmethod
        def shout(value: str) -> str:
            return value.upper()

    spec = field_specs(Loud)["name"]
    assert spec.dump_json(spec.validate("ada")) == b'"ADA"'
    assert Loud(name="ada").model_dump_json() == '{"name":"ADA"}'
