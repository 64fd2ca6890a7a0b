"""Dict keys can be any string: every dict op and get/load round-trip them unchanged."""

from __future__ import annotations

import enum
from typing import Annotated, Literal, Optional

import pytest
from pydantic import BaseModel, ConfigDict, Field

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, ValueNotSerializableError

NASTY_KEYS = {
    "dot": "a.b",
    "space": "with space",
    "leading space": " lead",
    "only spaces": "  ",
    "trailing space": "trail ",
    "single quote": "it's",
    "double quote": 'say "hi"',
    "both quotes": 'it\'s "both"',
    "brackets": "[0]",
    "bracket path": "a['b'][\"c\"]",
    "dollar": "$",
    "dollar path": "$.x",
    "star": "*",
    "backslash": "back\\slash",
    "trailing backslash": "end\\",
    "escaped quote": '\\"',
    "unicode": "ünïcødé",
    "emoji": "🎉👍🏽",
    "newline": "line1\nline2",
    "tab and cr": "a\tb\rc",
    "nul": "a\x00b",
    "empty": "",
    "colon and comma": "k:1,2",
    "braces": "{}",
    "json text": '{"a": [1, 2]}',
    "slash": "a/b",
}
KEYS = list(NASTY_KEYS.values())
IDS = list(NASTY_KEYS.keys())


class Inner(BaseModel):
    data: dict[str, str] = Field(default_factory=dict)


class Bag(BaseRedisModel):
    data: dict[str, str] = {}
    lists: dict[str, list[int]] = {}
    inner: Inner = Field(default_factory=Inner)


async def saved_bag(**fields) -> Bag:
    bag = Bag(**fields)
    await bag.save()
    return bag


def value_for(key: str) -> str:
    return "value of " + key


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_aset_item_stores_the_key_exactly(client, stored, key):
    bag = await saved_bag(data={"plain": "p"})
    await bag.data.aset_item(key, value_for(key))
    assert (await stored.doc(bag.key))["data"] == {"plain": "p", key: value_for(key)}
    assert bag.data == {"plain": "p", key: value_for(key)}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_aset_item_replaces_the_value_of_an_existing_key(client, stored, key):
    bag = await saved_bag(data={key: "old", "plain": "p"})
    await bag.data.aset_item(key, "new")
    assert (await stored.doc(bag.key))["data"] == {key: "new", "plain": "p"}
    assert bag.data == {key: "new", "plain": "p"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_aupdate_stores_the_key_next_to_a_plain_one(client, stored, key):
    bag = await saved_bag()
    await bag.data.aupdate({key: value_for(key), "plain": "p"})
    assert (await stored.doc(bag.key))["data"] == {key: value_for(key), "plain": "p"}
    assert bag.data == {key: value_for(key), "plain": "p"}


async def test_aupdate_stores_every_nasty_key_at_once(client, stored):
    bag = await saved_bag(data={"plain": "p"})
    expected = {"plain": "p", **{key: value_for(key) for key in KEYS}}
    await bag.data.aupdate({key: value_for(key) for key in KEYS})
    assert (await stored.doc(bag.key))["data"] == expected
    assert bag.data == expected
    assert (await Bag.get(bag.key)).data == expected


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_apop_returns_the_value_of_the_key(client, stored, key):
    bag = await saved_bag(data={key: value_for(key), "plain": "p"})
    assert await bag.data.apop(key) == value_for(key)
    assert (await stored.doc(bag.key))["data"] == {"plain": "p"}
    assert bag.data == {"plain": "p"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_apop_of_the_missing_key_returns_the_default(client, stored, key):
    bag = await saved_bag(data={"plain": "p"})
    assert await bag.data.apop(key, "default") == "default"
    with pytest.raises(KeyError):
        await bag.data.apop(key)
    assert (await stored.doc(bag.key))["data"] == {"plain": "p"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_adel_item_removes_only_the_key(client, stored, key):
    bag = await saved_bag(data={"plain": "p", key: value_for(key)})
    await bag.data.adel_item(key)
    assert (await stored.doc(bag.key))["data"] == {"plain": "p"}
    assert bag.data == {"plain": "p"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_apopitem_returns_the_key_exactly(client, stored, key):
    bag = await saved_bag(data={"plain": "p", key: value_for(key)})
    assert await bag.data.apopitem() == (key, value_for(key))
    assert (await stored.doc(bag.key))["data"] == {"plain": "p"}
    assert bag.data == {"plain": "p"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_aclear_removes_the_key(client, stored, key):
    bag = await saved_bag(data={key: value_for(key)})
    await bag.data.aclear()
    assert (await stored.doc(bag.key))["data"] == {}
    assert bag.data == {}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_the_key_round_trips_through_get_and_load(client, stored, key):
    bag = await saved_bag()
    await bag.data.aset_item(key, value_for(key))
    assert (await Bag.get(bag.key)).data == {key: value_for(key)}
    other = await Bag.get(bag.key)
    await bag.data.aset_item(key, "changed")
    assert await other.data.load() == {key: "changed"}
    await other.load()
    assert other.data == {key: "changed"}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_the_key_works_in_a_dict_of_lists(client, stored, key):
    bag = await saved_bag()
    await bag.lists.aset_item(key, [1, 2])
    assert (await stored.doc(bag.key))["lists"] == {key: [1, 2]}
    assert await bag.lists.apop(key) == [1, 2]
    assert bag.lists == {}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_the_key_works_in_a_nested_dict(client, stored, key):
    bag = await saved_bag()
    await bag.inner.data.aset_item(key, value_for(key))
    await bag.inner.data.aupdate({key + "2": "second"})
    assert (await stored.doc(bag.key))["inner"]["data"] == {key: value_for(key), key + "2": "second"}
    assert await bag.inner.data.apop(key) == value_for(key)
    assert await bag.inner.data.apopitem() == (key + "2", "second")
    assert (await stored.doc(bag.key))["inner"]["data"] == {}


@pytest.mark.parametrize("key", KEYS, ids=IDS)
async def test_the_value_can_hold_the_same_nasty_text(client, stored, key):
    bag = await saved_bag()
    await bag.data.aupdate({key: key, "x": key})
    assert (await stored.doc(bag.key))["data"] == {key: key, "x": key}
    assert await bag.data.apop(key) == key
    assert await bag.data.apop("x") == key


class Color(str, enum.Enum):
    RED = "red"


class Text(str):
    pass


@pytest.mark.parametrize(
    "key", [pytest.param(Color.RED, id="str-enum-member"), pytest.param(Text("red"), id="str-subclass")]
)
async def test_a_str_subclass_key_is_stored_as_its_text_as_pydantic_stores_it(client, stored, key):
    # str() of a str-mixin enum member is "Color.RED"; the model itself stores its value.
    assert Bag(data={key: "v"}).model_dump()["data"] == {"red": "v"}
    bag = await saved_bag()
    await bag.data.aset_item(key, "one")
    assert (await stored.doc(bag.key))["data"] == {"red": "one"}
    await bag.data.aupdate({key: "two", "plain": "p"})
    assert (await stored.doc(bag.key))["data"] == {"red": "two", "plain": "p"}
    assert bag.data == {"red": "two", "plain": "p"}
    assert [type(k) for k in bag.data] == [str, str]
    assert (await Bag.get(bag.key)).data == bag.data


async def test_aupdate_with_one_key_given_twice_keeps_the_last_value_and_its_first_place(client, stored):
    bag = await saved_bag(data={"a": "0"})
    await bag.data.aupdate({Text("k"): "first", "m": "middle", Color.RED: "r"}, k="last")
    expected = {"a": "0", "k": "last", "m": "middle", "red": "r"}
    assert (await stored.doc(bag.key))["data"] == expected
    assert bag.data == expected
    assert list(bag.data) == list((await Bag.get(bag.key)).data) == ["a", "k", "m", "red"]


class Level(enum.Enum):
    ONE = 1
    TWO = 2


class Unreadable(BaseRedisModel):
    """Keys whose JSON member names pydantic does not read back as the keys (save() refuses
    them too)."""

    by_level: dict[Level, str] = {}
    by_literal: dict[Literal[1, 2], str] = {}
    by_optional: dict[Optional[int], str] = {}  # noqa: UP045 - the annotation under test


@pytest.mark.parametrize(
    ("field", "key"),
    [("by_level", Level.TWO), ("by_literal", 1), ("by_optional", None)],
    ids=["enum", "literal", "none"],
)
async def test_a_key_that_get_could_not_read_back_is_refused_and_changes_nothing(client, stored, field, key):
    model = Unreadable()
    await model.save()
    before = await stored.doc(model.key)
    with pytest.raises(FieldValidationError, match="key"):
        await getattr(model, field).aset_item(key, "x")
    with pytest.raises(FieldValidationError, match="key"):
        await getattr(model, field).aupdate({key: "x", 2: "y"})
    assert await stored.doc(model.key) == before
    assert (await Unreadable.get(model.key)).model_dump() == model.model_dump() == Unreadable().model_dump()


class ShapedKeys(BaseRedisModel):
    model_config = ConfigDict(str_strip_whitespace=True, str_to_lower=True, str_max_length=8)
    counts: dict[Annotated[str, Field(min_length=1)], int] = {}


async def test_annotated_str_keys_follow_the_models_config(client, stored):
    model = ShapedKeys()
    await model.save()
    await model.counts.aset_item(" KEY ", 1)
    await model.counts.aupdate({"B ": 2, " C": 3})
    assert await stored.doc(model.key, "$.counts") == model.counts == {"key": 1, "b": 2, "c": 3}
    before = await stored.doc(model.key)
    for bad in ("K" * 20, "  "):
        with pytest.raises(FieldValidationError):
            await model.counts.aset_item(bad, 4)
        with pytest.raises(FieldValidationError):
            await model.counts.aupdate({bad: 4, "d": 5})
    assert await stored.doc(model.key) == before
    assert (await ShapedKeys.get(model.key)).model_dump() == model.model_dump()


class FrozenKeys(BaseRedisModel):
    by_set: dict[frozenset[int], int] = {}


async def test_a_key_that_json_cannot_hold_raises_a_typed_error_and_changes_nothing(client, stored):
    model = FrozenKeys()
    await model.save()
    before = await stored.doc(model.key)
    with pytest.raises(ValueNotSerializableError):
        await model.by_set.aset_item(frozenset({1}), 1)
    with pytest.raises(ValueNotSerializableError):
        await model.by_set.aupdate({frozenset({1}): 1, frozenset({2}): 2})
    assert await stored.doc(model.key) == before
    assert model.by_set == {}


async def test_a_str_key_that_utf8_cannot_encode_raises_a_typed_error_and_changes_nothing(client, stored):
    bag = await saved_bag(data={"a": "1"})
    before = await stored.doc(bag.key)
    lone = "x\ud800"
    for operation in (
        lambda: bag.data.aset_item(lone, "v"),
        lambda: bag.data.aupdate({lone: "v", "b": "2"}),
        lambda: bag.data.aupdate({"ü": "v", lone: "w"}),
        lambda: bag.data.adel_item(lone),
    ):
        with pytest.raises(ValueNotSerializableError):
            await operation()
    assert await stored.doc(bag.key) == before
    assert bag.data == {"a": "1"}
    await bag.data.aset_item("ünï", "ok")  # other text that is not ASCII is fine
    assert await stored.doc(bag.key, "$.data") == bag.data == {"a": "1", "ünï": "ok"}
