# This file is generated from tests/_async/test_dict_ops.py by setup_unasync.py. Do not edit it by hand.
"""Atomic dict operations (issue #3): each changes Redis first, then the local dict."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from redis_pydantic._sync.model import BaseRedisModel
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


def saved_settings(**fields) -> Settings:
    settings = Settings(**fields)
    settings.save()
    return settings


def test_aset_item_adds_a_new_key(client, stored):
    settings = saved_settings(labels={"a": "1"})
    settings.labels.aset_item("b", "2")
    assert (stored.doc(settings.key))["labels"] == {"a": "1", "b": "2"}
    assert settings.labels == {"a": "1", "b": "2"}


def test_aset_item_replaces_an_existing_value(client, stored):
    settings = saved_settings(labels={"a": "1"})
    settings.labels.aset_item("a", "one")
    assert (stored.doc(settings.key))["labels"] == {"a": "one"}
    assert settings.labels == {"a": "one"}


def test_aupdate_sets_several_items_from_keywords(client, stored):
    settings = saved_settings(flags={"old": True})
    settings.flags.aupdate(new_ui=True, beta=False)
    assert (stored.doc(settings.key))["flags"] == {"old": True, "new_ui": True, "beta": False}
    assert settings.flags == {"old": True, "new_ui": True, "beta": False}


def test_aupdate_sets_items_from_a_mapping_and_keywords(client, stored):
    settings = saved_settings()
    settings.limits.aupdate({"a": 1, "b": 2}, c=3)
    assert (stored.doc(settings.key))["limits"] == {"a": 1, "b": 2, "c": 3}
    assert settings.limits == {"a": 1, "b": 2, "c": 3}


def test_aupdate_keywords_win_over_the_mapping(client, stored):
    settings = saved_settings()
    settings.limits.aupdate({"a": 1}, a=2)
    assert (stored.doc(settings.key))["limits"] == {"a": 2}
    assert settings.limits == {"a": 2}


def test_aupdate_accepts_keys_named_mapping_and_self(client, stored):
    settings = saved_settings()
    settings.limits.aupdate(mapping=1, self=2)
    assert (stored.doc(settings.key))["limits"] == {"mapping": 1, "self": 2}
    assert settings.limits == {"mapping": 1, "self": 2}


def test_aupdate_with_nothing_changes_nothing(client, stored):
    settings = saved_settings(limits={"a": 1})
    settings.limits.aupdate()
    settings.limits.aupdate({})
    assert (stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


def test_adel_item_removes_the_key(client, stored):
    settings = saved_settings(labels={"a": "1", "b": "2"})
    settings.labels.adel_item("a")
    assert (stored.doc(settings.key))["labels"] == {"b": "2"}
    assert settings.labels == {"b": "2"}


def test_adel_item_of_a_missing_key_raises_key_error(client, stored):
    settings = saved_settings(labels={"a": "1"})
    with pytest.raises(KeyError):
        settings.labels.adel_item("zz")
    assert (stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


def test_apop_removes_the_key_and_returns_its_value(client, stored):
    settings = saved_settings(limits={"a": 1, "b": 2})
    popped = settings.limits.apop("a")
    assert popped == 1
    assert type(popped) is int
    assert (stored.doc(settings.key))["limits"] == {"b": 2}
    assert settings.limits == {"b": 2}


def test_apop_returns_the_decoded_value(client, stored):
    settings = saved_settings(labels={"q": 'he said "hi"'})
    assert settings.labels.apop("q") == 'he said "hi"'


def test_apop_of_a_missing_key_without_default_raises_key_error(client, stored):
    settings = saved_settings(labels={"a": "1"})
    with pytest.raises(KeyError):
        settings.labels.apop("zz")
    assert (stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


def test_apop_of_a_missing_key_returns_the_default(client, stored):
    settings = saved_settings(labels={"a": "1"})
    assert settings.labels.apop("zz", "fallback") == "fallback"
    assert (stored.doc(settings.key))["labels"] == {"a": "1"}
    assert settings.labels == {"a": "1"}


def test_apop_accepts_none_as_the_default(client, stored):
    settings = saved_settings(labels={"a": "1"})
    assert settings.labels.apop("zz", None) is None
    assert settings.labels == {"a": "1"}


def test_apop_of_a_present_key_ignores_the_default(client, stored):
    settings = saved_settings(labels={"a": "1"})
    assert settings.labels.apop("a", "fallback") == "1"
    assert (stored.doc(settings.key))["labels"] == {}


def test_apop_returns_a_stored_none_value(client, stored):
    settings = saved_settings(notes={"n": None})
    assert settings.notes.apop("n", "fallback") is None
    assert (stored.doc(settings.key))["notes"] == {}
    assert settings.notes == {}


def test_apopitem_removes_and_returns_the_last_pair(client, stored):
    settings = saved_settings(limits={"a": 1, "b": 2})
    assert settings.limits.apopitem() == ("b", 2)
    assert (stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


def test_apopitem_on_an_empty_dict_raises_key_error(client, stored):
    settings = saved_settings()
    with pytest.raises(KeyError):
        settings.limits.apopitem()
    assert (stored.doc(settings.key))["limits"] == {}
    assert settings.limits == {}


def test_apopitem_empties_the_dict_one_pair_at_a_time(client, stored):
    settings = saved_settings(limits={"a": 1, "b": 2, "c": 3})
    popped = {}
    for _ in range(3):
        key, value = settings.limits.apopitem()
        popped[key] = value
    assert popped == {"a": 1, "b": 2, "c": 3}
    assert (stored.doc(settings.key))["limits"] == {}
    assert settings.limits == {}


def test_aclear_leaves_an_empty_dict_at_the_path(client, stored):
    settings = saved_settings(labels={"a": "1", "b": "2"})
    settings.labels.aclear()
    assert (stored.doc(settings.key))["labels"] == {}
    assert settings.labels == {}


def test_dict_ops_keep_working_after_aclear(client, stored):
    settings = saved_settings(labels={"a": "1"})
    settings.labels.aclear()
    settings.labels.aset_item("b", "2")
    settings.labels.aupdate(c="3", d="4")
    assert (stored.doc(settings.key))["labels"] == {"b": "2", "c": "3", "d": "4"}
    assert settings.labels.load() == {"b": "2", "c": "3", "d": "4"}
    assert (Settings.get(settings.key)).labels == {"b": "2", "c": "3", "d": "4"}


def test_load_reads_the_dict_written_by_another_instance(client, stored):
    settings = saved_settings(labels={"a": "1"})
    other = Settings.get(settings.key)
    other.labels.aupdate(b="2", c="3")
    other.labels.adel_item("a")
    assert settings.labels.load() == {"b": "2", "c": "3"}
    assert settings.labels == {"b": "2", "c": "3"}


def test_aset_item_of_a_wrong_type_raises_and_writes_nothing(client, stored):
    settings = saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError) as info:
        settings.limits.aset_item("b", "two")
    assert isinstance(info.value, TypeError)
    assert (stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


def test_aupdate_with_one_bad_value_writes_nothing(client, stored):
    settings = saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError):
        settings.limits.aupdate(b=2, c="three")
    assert (stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


def test_a_key_that_is_not_a_string_raises_and_writes_nothing(client, stored):
    settings = saved_settings(limits={"a": 1})
    with pytest.raises(FieldValidationError):
        settings.limits.aset_item(1, 2)
    assert (stored.doc(settings.key))["limits"] == {"a": 1}
    assert settings.limits == {"a": 1}


def test_dict_values_that_are_lists_are_stored_as_json(client, stored):
    settings = saved_settings()
    settings.prefs.aset_item("languages", ["python", "rust"])
    settings.prefs.aupdate(editors=["vim"], shells=[])
    assert (stored.doc(settings.key))["prefs"] == {
        "languages": ["python", "rust"],
        "editors": ["vim"],
        "shells": [],
    }
    assert settings.prefs == {"languages": ["python", "rust"], "editors": ["vim"], "shells": []}
    assert settings.prefs.apop("languages") == ["python", "rust"]


def test_a_list_value_with_a_wrong_item_raises_and_writes_nothing(client, stored):
    settings = saved_settings()
    with pytest.raises(FieldValidationError):
        settings.prefs.aset_item("languages", ["python", 3])
    assert (stored.doc(settings.key))["prefs"] == {}
    assert settings.prefs == {}


def test_dict_values_that_are_models_are_validated_and_stored_as_json(client, stored):
    settings = saved_settings()
    settings.homes.aset_item("work", Address(street="1 Main", city="Oslo"))
    settings.homes.aupdate(home={"street": "2 High", "city": "Rome"})
    assert (stored.doc(settings.key))["homes"] == {
        "work": {"street": "1 Main", "city": "Oslo"},
        "home": {"street": "2 High", "city": "Rome"},
    }
    assert settings.homes["home"].city == "Rome"
    key, value = settings.homes.apopitem()
    assert (key, value.street, value.city) == ("home", "2 High", "Rome")


def test_a_model_value_missing_a_field_raises_and_writes_nothing(client, stored):
    settings = saved_settings()
    with pytest.raises(FieldValidationError):
        settings.homes.aset_item("work", {"street": "no city"})
    assert (stored.doc(settings.key))["homes"] == {}
    assert settings.homes == {}


# -- Redis refuses: the path no longer holds a dict ---------------------------------------------


def overwrite_labels_with_a_string(client, settings: Settings) -> None:
    client.execute_command("JSON.SET", settings.key, "$.labels", '"not a dict"')


def test_aset_item_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored, backend):
    settings = saved_settings(labels={"a": "1"})
    overwrite_labels_with_a_string(client, settings)
    # fakeredis deviation: its JSON.SET crashes with a Python TypeError instead of answering nil.
    with pytest.raises(TypeError if backend == "fake" else RedisCommandError):
        settings.labels.aset_item("b", "2")
    assert (stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


def test_aupdate_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = saved_settings(labels={"a": "1"})
    overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        settings.labels.aupdate(b="2", c="3")
    assert (stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


@pytest.mark.parametrize("default", [(), ("fallback",)])
def test_apop_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored, default):
    settings = saved_settings(labels={"a": "1"})
    overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        settings.labels.apop("a", *default)
    assert (stored.doc(settings.key))["labels"] == "not a dict"
    assert settings.labels == {"a": "1"}


def test_adel_item_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = saved_settings(labels={"a": "1"})
    overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        settings.labels.adel_item("a")
    assert settings.labels == {"a": "1"}


def test_apopitem_on_a_path_that_is_no_longer_a_dict_raises_and_keeps_local(client, stored):
    settings = saved_settings(labels={"a": "1"})
    overwrite_labels_with_a_string(client, settings)
    with pytest.raises(RedisCommandError):
        settings.labels.apopitem()
    assert settings.labels == {"a": "1"}
