"""Atomic operations keep every rule of the field: nothing is written that get() would refuse.

Rules that the new value alone cannot show (lengths, bounds after an increment, a validator of
the whole list, a union of list types) are checked on the whole new value, by check-and-set.
"""

from __future__ import annotations

import enum
from typing import Annotated

import pytest
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, PipelineError

ShortKey = Annotated[str, StringConstraints(max_length=3)]


class Rules(BaseRedisModel):
    few: list[int] = Field(default=[1, 2], min_length=1, max_length=3)
    codes: dict[ShortKey, int] = {}
    sorted_values: list[int] = []
    either: list[int] | list[str] = []
    stock: int = Field(default=0, ge=0)
    rate: float = Field(default=1.0, le=10.0)
    tags: dict[str, int] = Field(default={}, max_length=2)

    @field_validator("sorted_values")
    @classmethod
    def must_be_sorted(cls, value: list[int]) -> list[int]:
        if value != sorted(value):
            raise ValueError("must be sorted")
        return value


async def saved() -> Rules:
    rules = Rules()
    await rules.save()
    return rules


async def assert_unchanged(rules: BaseRedisModel, stored, before: dict) -> None:
    assert await stored.doc(rules.key) == before
    assert (await type(rules).get(rules.key)).model_dump() == rules.model_dump()


@pytest.mark.parametrize(
    "operation",
    [
        lambda r: r.few.aappend(3) if len(r.few) == 3 else r.few.aextend([3, 4]),
        lambda r: r.few.ainsert(0, 9) if len(r.few) == 3 else r.few.aextend([5, 6, 7]),
        lambda r: r.few.aclear(),
    ],
    ids=["past max_length", "insert past max_length", "clear below min_length"],
)
async def test_list_length_rules_refuse_and_change_nothing(client, stored, operation):
    rules = await saved()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await operation(rules)
    await assert_unchanged(rules, stored, before)


async def test_apop_below_min_length_is_refused(client, stored):
    rules = Rules(few=[1])
    await rules.save()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.few.apop()
    await assert_unchanged(rules, stored, before)


async def test_operations_within_the_rules_still_work_and_match_redis(client, stored):
    rules = await saved()
    await rules.few.aappend(3)
    assert await rules.few.apop(0) == 1
    await rules.few.ainsert(1, 7)
    assert rules.few == [2, 7, 3] == await stored.doc(rules.key, "$.few")
    assert await rules.stock.aincrease(5) == 5
    assert await stored.doc(rules.key, "$.stock") == 5


async def test_dict_key_constraints_are_checked_before_sending(client, stored):
    rules = await saved()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.codes.aset_item("toolong", 1)
    with pytest.raises(FieldValidationError):
        await rules.codes.aupdate({"ok": 1, "toolong": 2})
    await assert_unchanged(rules, stored, before)
    await rules.codes.aset_item("abc", 1)
    assert await stored.doc(rules.key, "$.codes") == {"abc": 1}


async def test_dict_max_length_refuses_a_third_key(client, stored):
    rules = Rules(tags={"a": 1, "b": 2})
    await rules.save()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.tags.aset_item("c", 3)
    await assert_unchanged(rules, stored, before)
    await rules.tags.aset_item("a", 5)  # replacing a key keeps the length
    assert await stored.doc(rules.key, "$.tags") == {"a": 5, "b": 2}


async def test_a_validator_of_the_whole_list_is_applied_to_every_operation(client, stored):
    rules = Rules(sorted_values=[1, 5])
    await rules.save()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.sorted_values.aappend(2)
    with pytest.raises(FieldValidationError):
        await rules.sorted_values.ainsert(0, 9)
    await assert_unchanged(rules, stored, before)
    await rules.sorted_values.aappend(8)
    assert await stored.doc(rules.key, "$.sorted_values") == [1, 5, 8]


async def test_a_union_of_list_types_keeps_one_item_type(client, stored):
    rules = Rules(either=[1, 2])
    await rules.save()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.either.aappend("three")
    await assert_unchanged(rules, stored, before)
    await rules.either.aappend(3)
    assert await stored.doc(rules.key, "$.either") == [1, 2, 3]


async def test_aincrease_past_a_bound_raises_typed_and_changes_nothing(client, stored):
    rules = Rules(stock=3)
    await rules.save()
    before = await stored.doc(rules.key)
    with pytest.raises(FieldValidationError):
        await rules.stock.aincrease(-5)
    with pytest.raises(FieldValidationError):
        await rules.rate.aincrease(20.0)
    await assert_unchanged(rules, stored, before)
    assert rules.stock == 3


async def test_a_checked_operation_sees_what_another_client_wrote(client, stored):
    rules = await saved()
    other = await Rules.get(rules.key)
    await other.few.aappend(3)  # now at max_length, but rules's local list does not know
    with pytest.raises(FieldValidationError):
        await rules.few.aappend(4)
    assert await stored.doc(rules.key, "$.few") == [1, 2, 3]


async def test_a_checked_operation_is_refused_inside_a_pipeline(client, stored):
    rules = await saved()
    with pytest.raises(PipelineError, match="reads the value first"):
        async with rules.pipeline():
            await rules.few.aappend(3)
    assert await stored.doc(rules.key, "$.few") == [1, 2]


class Shaped(BaseRedisModel):
    """Config settings that change or refuse plain str and float values."""

    model_config = ConfigDict(
        str_strip_whitespace=True, str_to_lower=True, str_max_length=5, allow_inf_nan=False
    )
    name: str = ""
    words: list[str] = []
    labels: dict[str, str] = {}
    ratio: float = 0.0


async def test_config_settings_shape_every_written_str(client, stored):
    shaped = Shaped()
    await shaped.save()
    await shaped.name.set("  Ada ")
    await shaped.words.aappend(" HI ")
    await shaped.words.aextend(["Yo ", " X"])
    await shaped.labels.aset_item(" K", " V ")
    await shaped.labels.aupdate({"A ": "B ", "c": " D"})
    doc = await stored.doc(shaped.key)
    assert doc["name"] == shaped.name == "ada"
    assert doc["words"] == shaped.words == ["hi", "yo", "x"]
    assert doc["labels"] == shaped.labels == {"k": "v", "a": "b", "c": "d"}
    assert (await Shaped.get(shaped.key)).model_dump() == shaped.model_dump()


async def test_config_settings_refuse_and_change_nothing(client, stored):
    shaped = Shaped()
    await shaped.save()
    before = await stored.doc(shaped.key)
    for operation in (
        lambda: shaped.name.set("too long"),
        lambda: shaped.words.aappend("too long"),
        lambda: shaped.labels.aset_item("k", "too long"),
        lambda: shaped.labels.aset_item("too long", "v"),
        lambda: shaped.labels.aupdate({"a": "b", "c": "too long"}),
        lambda: shaped.labels.aupdate({"a": "b", "too long": "d"}),
        lambda: shaped.ratio.set(float("inf")),
        lambda: shaped.ratio.set(float("nan")),
    ):
        with pytest.raises(FieldValidationError):
            await operation()
    await assert_unchanged(shaped, stored, before)


async def test_save_writes_and_keeps_what_get_reads_with_config_settings(client, stored):
    shaped = Shaped()
    shaped.name = "  ADA "
    shaped.words = [" HI "]
    shaped.labels = {" K ": " V "}
    await shaped.save()
    doc = await stored.doc(shaped.key)
    assert doc == shaped.model_dump() == (await Shaped.get(shaped.key)).model_dump()
    assert doc["name"] == "ada" and doc["words"] == ["hi"] and doc["labels"] == {"k": "v"}
    other = Shaped()
    other.name = " BOB"
    await Shaped.save_many([other])
    assert await stored.doc(other.key, "$.name") == other.name == "bob"
    async with shaped.lock() as locked:
        locked.name = " EVE "
    assert await stored.doc(shaped.key, "$.name") == shaped.name == "eve"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class Leveled(BaseRedisModel):
    model_config = ConfigDict(use_enum_values=True)
    level: Level = Level.LOW
    lowered: Annotated[str, StringConstraints(to_lower=True)] = "a"


async def test_values_that_validation_changes_are_kept_as_get_reads_them_after_save(client, stored):
    leveled = Leveled()
    await leveled.save()  # the default member was never validated: get() reads its value
    assert (
        leveled.model_dump() == (await Leveled.get(leveled.key)).model_dump() == {"level": 1, "lowered": "a"}
    )
    leveled.level = Level.HIGH
    leveled.lowered = "ABC"
    await leveled.save()
    assert await stored.doc(leveled.key) == {"level": 2, "lowered": "abc"}
    assert (
        leveled.model_dump()
        == (await Leveled.get(leveled.key)).model_dump()
        == {"level": 2, "lowered": "abc"}
    )
