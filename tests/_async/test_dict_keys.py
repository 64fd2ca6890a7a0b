"""Dict keys can be any string: every dict op and get/load round-trip them unchanged."""

from __future__ import annotations

import enum

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._async.model import BaseRedisModel

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
