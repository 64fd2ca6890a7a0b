"""Atomic dict operations (issue #3): each changes Redis first, then the local dict."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisCommandError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Address(BaseModel):
    street: str
    city: str


class Settings(BaseRedisModel):
    flags: dict[str, bool] = {}
    labels: dict[str, str] = {}
    limits: dict[str, int] = {}
    prefs: dict[str, list[str]] = {}
    homes: dict[str, Address] = {}
    notes: dict[str, str | None] = {}


async def saved_settings(**fields) -> Settings:
    settings = Settings(**fields)
    await settings.save()
    return settings


async def test_aset_item_adds_a_new_key(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await settings.labels.aset_item("b", "2")
    assert (await stored.doc(settings.key))["labels"] == {"a": "1", "b": "2"}
    assert settings.labels == {"a": "1", "b": "2"}


async def test_aset_item_replaces_an_existing_value(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await settings.labels.aset_item("a", "one")
    assert (await stored.doc(settings.key))["labels"] == {"a": "one"}
    assert settings.labels == {"a": "one"}


async def test_aupdate_sets_several_items_from_keywords(client, stored):
    settings = await saved_settings(flags={"old": True})
    await settings.flags.aupdate(new_ui=True, beta=False)
    assert (await stored.doc(settings.key))["flags"] == {"old": True, "new_ui": True, "beta": False}
    assert settings.flags == {"old": True, "new_ui": True, "beta": False}


async def test_aupdate_sets_items_from_a_mapping_and_keywords(client, stored):
    settings = await saved_settings()
    await settings.limits.aupdate({"a": 1, "b": 2}, c=3)
    assert (await stored.doc(settings.key))["limits"] == {"a": 1, "b": 2, "c": 3}
    assert settings.limits == {"a": 1, "b": 2, "c": 3}


async def test_aupdate_keywords_win_over_the_mapping(client, stored):
    settings = await saved_settings()
    await settings.limits.aupdate({"a": 1}, a=2)
    assert (await stored.doc(settings.key))["limits"] == {"a": 2}
    assert settings.limits == {"a": 2}


async def test_aupdate_accepts_keys_named_mapping_and_self(client, stored):
    settings = await saved_settings()
    await settings.limits.aupdate(mapping=1, self=2)
    assert (await stored.doc(settings.key))["limits"] == {"mapping": 1, "self": 2}
    assert settings.limits == {"mapping": 1, "self": 2}


async def test_aupdate_with_nothing_changes_nothing(client, stored):
    settings = await saved_settings(limits={"a": 1})
    await settings.limits.aupdate()
    await settings.limits.aupdate({})
    assert (await stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


async def test_adel_item_removes_the_key(client, stored):
    settings = await saved_settings(labels={"a": "1", "b": "2"})
    await settings.labels.adel_item("a")
    assert (await stored.doc(settings.key))["labels"] == {"b": "2"}
    assert settings.labels == {"b": "2"}


async def test_adel_item_of_a_missing_key_raises_key_error(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    with pytest.raises(KeyError):
        await settings.labels.adel_item("zz")
    assert (await stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


async def test_apop_removes_the_key_and_returns_its_value(client, stored):
    settings = await saved_settings(limits={"a": 1, "b": 2})
    popped = await settings.limits.apop("a")
    assert popped == 1
    assert type(popped) is int
    assert (await stored.doc(settings.key))["limits"] == {"b": 2}
    assert settings.limits == {"b": 2}


async def test_apop_returns_the_decoded_value(client, stored):
    settings = await saved_settings(labels={"q": 'he said "hi"'})
    assert await settings.labels.apop("q") == 'he said "hi"'


async def test_apop_of_a_missing_key_without_default_raises_key_error(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    with pytest.raises(KeyError):
        await settings.labels.apop("zz")
    assert (await stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


async def test_apop_of_a_missing_key_returns_the_default(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    assert await settings.labels.apop("zz", "fallback") == "fallback"
    assert (await stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


async def test_apop_accepts_none_as_the_default(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    assert await settings.labels.apop("zz", None) is None
    assert settings.labels == {"a": "1"}


async def test_apop_of_a_present_key_ignores_the_default(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    assert await settings.labels.apop("a", "fallback") == "1"
    assert (await stored.doc(settings.key))["labels"] == {}


async def test_apop_returns_a_stored_none_value(client, stored):
    settings = await saved_settings(notes={"n": None})
    assert await settings.notes.apop("n", "fallback") is None
    assert (await stored.doc(settings.key))["notes"] == {}
    assert settings.notes == {}


async def test_apopitem_removes_and_returns_the_last_pair(client, stored):
    settings = await saved_settings(limits={"a": 1, "b": 2})
    assert await settings.limits.apopitem() == ("b", 2)
    assert (await stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


async def test_apopitem_on_an_empty_dict_raises_key_error(client, stored):
    settings = await saved_settings()
    with pytest.raises(KeyError):
        await settings.limits.apopitem()
    assert (await stored.doc(settings.key))["limits"] == {}
    assert settings.limits == {}


async def test_apopitem_empties_the_dict_one_pair_at_a_time(client, stored):
    settings = await saved_settings(limits={"a": 1, "b": 2, "c": 3})
    popped = {}
    for _ in range(3):
        key, value = await settings.limits.apopitem()
        popped[key] = value
    assert popped == {"a": 1, "b": 2, "c": 3}
    assert (await stored.doc(settings.key))["limits"] == {}
    assert settings.limits == {}


async def test_aclear_leaves_an_empty_dict_at_the_path(client, stored):
    settings = await saved_settings(labels={"a": "1", "b": "2"})
    await settings.labels.aclear()
    assert (await stored.doc(settings.key))["labels"] == {}
    assert settings.labels == {}


async def test_dict_ops_keep_working_after_aclear(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await settings.labels.aclear()
    await settings.labels.aset_item("b", "2")
    await settings.labels.aupdate(c="3", d="4")
    assert (await stored.doc(settings.key))["labels"] == {"b": "2", "c": "3", "d": "4"}
    assert await settings.labels.load() == {"b": "2", "c": "3", "d": "4"}
    assert (await Settings.get(settings.key)).labels == {"b": "2", "c": "3", "d": "4"}


async def test_load_reads_the_dict_written_by_another_instance(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    other = await Settings.get(settings.key)
    await other.labels.aupdate(b="2", c="3")
    await other.labels.adel_item("a")
    assert await settings.labels.load() == {"b": "2", "c": "3"}
    assert settings.labels == {"b": "2", "c": "3"}


async def test_aset_item_of_a_wrong_type_raises_and_writes_nothing(client, stored):
    settings = await saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError) as info:
        await settings.limits.aset_item("b", "two")
    assert isinstance(info.value, TypeError)
    assert (await stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


async def test_aupdate_with_one_bad_value_writes_nothing(client, stored):
    settings = await saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError):
        await settings.limits.aupdate(b=2, c="three")
    assert (await stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


async def test_a_key_that_is_not_a_string_raises_and_writes_nothing(client, stored):
    settings = await saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError):
        await settings.limits.aset_item(1, 2)
    assert (await stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


async def test_dict_values_that_are_lists_are_stored_as_json(client, stored):
    settings = await saved_settings()
    await settings.prefs.aset_item("languages", ["python", "rust"])
    await settings.prefs.aupdate(editors=["vim"], shells=[])
    assert (await stored.doc(settings.key))["prefs"] == {
        "languages": ["python", "rust"],
        "editors": ["vim"],
        "shells": [],
    }
    assert settings.prefs == {"languages": ["python", "rust"], "editors": ["vim"], "shells": []}
    assert await settings.prefs.apop("languages") == ["python", "rust"]


async def test_a_list_value_with_a_wrong_item_raises_and_writes_nothing(client, stored):
    settings = await saved_settings()
    with pytest.raises(FieldValidationError):
        await settings.prefs.aset_item("languages", ["python", 3])
    assert (await stored.doc(settings.key))["prefs"] == {}
    assert settings.prefs == {}


async def test_dict_values_that_are_models_are_validated_and_stored_as_json(client, stored):
    settings = await saved_settings()
    await settings.homes.aset_item("work", Address(street="1 Main", city="Oslo"))
    await settings.homes.aupdate(home={"street": "2 High", "city": "Rome"})
    assert (await stored.doc(settings.key))["homes"] == {
        "work": {"street": "1 Main", "city": "Oslo"},
        "home": {"street": "2 High", "city": "Rome"},
    }
    assert settings.homes["home"].city == "Rome"
    key, value = await settings.homes.apopitem()
    assert (key, value.street, value.city) == ("home", "2 High", "Rome")


async def test_a_model_value_missing_a_field_raises_and_writes_nothing(client, stored):
    settings = await saved_settings()
    with pytest.raises(FieldValidationError):
        await settings.homes.aset_item("work", {"street": "no city"})
    assert (await stored.doc(settings.key))["homes"] == {}
    assert settings.homes == {}


# -- Redis refuses: the path no longer holds a dict ---------------------------------------------


async def overwrite_labels_with_a_string(client, settings: Settings) -> None:
    await client.execute_command("JSON.SET", settings.key, "$.labels", '"not a dict"')


async def test_aset_item_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored, backend):
    settings = await saved_settings(labels={"a": "1"})
    await overwrite_labels_with_a_string(client, settings)
    # fakeredis deviation: its JSON.SET crashes with a Python TypeError instead of answering nil.
    with pytest.raises(TypeError if backend == "fake" else RedisCommandError):
        await settings.labels.aset_item("b", "2")
    assert (await stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


async def test_aupdate_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        await settings.labels.aupdate(b="2", c="3")
    assert (await stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


@pytest.mark.parametrize("default", [(), ("fallback",)])
async def test_apop_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored, default):
    settings = await saved_settings(labels={"a": "1"})
    await overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        await settings.labels.apop("a", *default)
    assert (await stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


async def test_adel_item_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        await settings.labels.adel_item("a")
    assert settings.labels == {"a": "1"}


async def test_apopitem_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = await saved_settings(labels={"a": "1"})
    await overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        await settings.labels.apopitem()
    assert settings.labels == {"a": "1"}
