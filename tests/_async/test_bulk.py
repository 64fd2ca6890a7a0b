"""``get_many``, ``save_many`` and ``delete_many``: many documents in bounded batches, one round
trip per batch."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._bulk import MAX_KEYS_PER_COMMAND
from redis_pydantic._scripts import BATCH, WRITE_DOCUMENTS
from redis_pydantic.errors import (
    DocumentValidationError,
    FieldValidationError,
    InvalidArgumentError,
    KeyNotFoundError,
)
from tests._async.conftest import recording


class Address(BaseModel):
    city: str = "Paris"


class Item(BaseRedisModel):
    name: str
    qty: int = Field(default=0, ge=0)
    tags: list[str] = []
    address: Address = Field(default_factory=Address)


class Token(BaseRedisModel):
    value: str = "t"

    class Meta:
        ttl = 600


class Fresh(BaseRedisModel):
    value: str = "f"

    class Meta:
        ttl = 600
        refresh_ttl = True


class SpecialItem(Item):
    """Its own prefix ("SpecialItem") and its own expiry."""

    class Meta:
        ttl = 30


@pytest.fixture
async def loaded(client):
    await client.script_load(BATCH.source)
    await client.script_load(WRITE_DOCUMENTS.source)
    return client


def mgets(sent) -> list[list[str]]:
    """The keys of each JSON.MGET sent."""
    return [list(c[1:-1]) for c in sent if c[0] == "JSON.MGET"]


async def saved_items(n: int) -> list[Item]:
    return await Item.save_many([Item(name=f"n{i}", qty=i, pk=f"{i:03}") for i in range(n)])


# -- get_many -----------------------------------------------------------------------------------


async def test_get_many_reads_every_document_in_the_order_given_in_one_round_trip(client, monkeypatch):
    items = await saved_items(5)
    keys = [items[3].key, items[0].key, items[4].key]
    sent, pipelines = recording(client, monkeypatch)
    got = await Item.get_many(keys)
    assert [g.name for g in got] == ["n3", "n0", "n4"]
    assert [g.key for g in got] == keys and [g.pk for g in got] == ["003", "000", "004"]
    assert mgets(sent) == [keys] and len(sent) == 1 and pipelines == []


async def test_get_many_takes_pks_and_keys_alike_and_repeats(client):
    items = await saved_items(2)
    got = await Item.get_many(["000", items[1].key, "000"])
    assert [g.pk for g in got] == ["000", "001", "000"]
    assert got[0] is not got[2]


async def test_get_many_gives_models_that_field_operations_act_on(client, stored):
    await saved_items(1)
    (item,) = await Item.get_many(["000"])
    await item.tags.aappend("x")
    assert (await stored.doc(item.key))["tags"] == ["x"]
    assert item.address.city == "Paris"


async def test_get_many_raises_for_a_missing_document(client):
    await saved_items(2)
    with pytest.raises(KeyNotFoundError) as info:
        await Item.get_many(["000", "404", "001"])
    assert info.value.key == "Item:404"


async def test_get_many_gives_none_for_a_missing_document_when_asked(client):
    await saved_items(2)
    got = await Item.get_many(["000", "404", "001"], missing="none")
    assert [g.pk if g else None for g in got] == ["000", None, "001"]


async def test_get_many_of_nothing_sends_nothing(client, monkeypatch):
    sent, _ = recording(client, monkeypatch)
    assert await Item.get_many([]) == []
    assert sent == []


async def test_get_many_sends_bounded_batches_and_reports_progress(client, monkeypatch):
    await saved_items(25)
    keys = [f"Item:{i:03}" for i in range(25)]
    sent, _ = recording(client, monkeypatch)
    done: list[int] = []
    got = await Item.get_many(keys, batch=10, progress=done.append)
    assert [g.key for g in got] == keys
    assert mgets(sent) == [keys[:10], keys[10:20], keys[20:]] and len(sent) == 3
    assert done == [10, 10, 5]


async def test_get_many_keeps_each_command_under_the_byte_limit(client, monkeypatch):
    await saved_items(12)
    keys = [f"Item:{i:03}" for i in range(12)]
    sent, _ = recording(client, monkeypatch)
    got = await Item.get_many(keys, max_command_bytes=len(keys[0]) * 5)
    assert [g.key for g in got] == keys
    assert [len(batch) for batch in mgets(sent)] == [5, 5, 2]


async def test_a_batch_larger_than_the_script_limit_is_split(client, monkeypatch):
    sent, _ = recording(client, monkeypatch)
    keys = [f"p{i}" for i in range(MAX_KEYS_PER_COMMAND + 1)]
    got = await Item.get_many(keys, missing="none", batch=MAX_KEYS_PER_COMMAND * 2)
    assert got == [None] * (MAX_KEYS_PER_COMMAND + 1)
    assert [len(batch) for batch in mgets(sent)] == [MAX_KEYS_PER_COMMAND, 1]


async def test_get_many_raises_for_a_document_that_does_not_fit_the_model(client):
    await client.execute_command("JSON.SET", "Item:bad", "$", '{"name": 5}')
    with pytest.raises(DocumentValidationError) as info:
        await Item.get_many(["bad"])
    assert info.value.key == "Item:bad"


async def test_get_many_with_refresh_ttl_extends_every_expiry_in_the_same_round_trip(
    loaded, client, monkeypatch
):
    fresh = await Fresh.save_many([Fresh(), Fresh()])
    for model in fresh:
        await client.pexpire(model.key, 5000)
    sent, pipelines = recording(client, monkeypatch)
    got = await Fresh.get_many([m.key for m in fresh] + ["Fresh:missing"], missing="none")
    assert [g.key if g else None for g in got] == [fresh[0].key, fresh[1].key, None]
    assert len(sent) == 1 and sent[0][1] == BATCH.sha and pipelines == []
    for model in fresh:
        assert 595_000 < await client.pttl(model.key) <= 600_000
    assert not await client.exists("Fresh:missing")


BAD_GET_MANY = {
    "batch of 0": lambda: Item.get_many(["a"], batch=0),
    "batch not an int": lambda: Item.get_many(["a"], batch="10"),
    "byte limit of 0": lambda: Item.get_many(["a"], max_command_bytes=0),
    "missing not raise or none": lambda: Item.get_many(["a"], missing="skip"),
    "progress not callable": lambda: Item.get_many(["a"], progress=5),
    "a key that is not a str": lambda: Item.get_many(["a", 5]),
    "an empty key": lambda: Item.get_many([""]),
    "a single str": lambda: Item.get_many("Item:1"),
}


@pytest.mark.parametrize("call", BAD_GET_MANY.values(), ids=BAD_GET_MANY.keys())
async def test_get_many_refuses_bad_arguments_before_sending_anything(client, monkeypatch, call):
    sent, _ = recording(client, monkeypatch)
    with pytest.raises(InvalidArgumentError):
        await call()
    assert sent == []


# -- save_many ----------------------------------------------------------------------------------


async def test_save_many_writes_every_document_in_one_json_mset(client, stored, monkeypatch):
    items = [Item(name=f"n{i}", qty=i, tags=["a"]) for i in range(3)]
    sent, pipelines = recording(client, monkeypatch)
    returned = await Item.save_many(items)
    assert returned == items and returned[0] is items[0]
    assert len(sent) == 1 and sent[0][0] == "JSON.MSET" and pipelines == []
    for item in items:
        assert await stored.doc(item.key) == {
            "name": item.name,
            "qty": item.qty,
            "tags": ["a"],
            "address": {"city": "Paris"},
        }
        assert await client.pttl(item.key) == -1


async def test_save_many_applies_meta_ttl_in_the_same_atomic_call(loaded, client, monkeypatch):
    tokens = [Token(value=str(i)) for i in range(4)]
    sent, pipelines = recording(client, monkeypatch)
    await Token.save_many(tokens)
    # One script call: the four documents, then their expiries.
    assert len(sent) == 1 and sent[0][1] == WRITE_DOCUMENTS.sha and pipelines == []
    assert sent[0][2:7] == (4, *(token.key for token in tokens)) and sent[0][-4:] == (600_000,) * 4
    for token in tokens:
        assert 595_000 < await client.pttl(token.key) <= 600_000


async def test_save_many_writes_each_model_at_its_key_with_its_class_expiry(client, stored):
    plain, special = Item(name="plain"), SpecialItem(name="special")
    await Item.save_many([plain, special])
    assert special.key.startswith("SpecialItem:")
    assert (await stored.doc(special.key))["name"] == "special"
    assert await client.pttl(plain.key) == -1
    assert 25_000 < await client.pttl(special.key) <= 30_000


async def test_save_many_marks_the_models_saved(client, stored):
    (item,) = await Item.save_many([Item(name="a")])
    await item.delete()
    with pytest.raises(KeyNotFoundError):
        await item.tags.aappend("x")  # a saved model's operations never create its document again
    assert not await stored.exists(item.key)


async def test_save_many_sends_bounded_batches_and_reports_progress(client, stored, monkeypatch):
    items = [Item(name=f"n{i}") for i in range(7)]
    sent, _ = recording(client, monkeypatch)
    done: list[int] = []
    await Item.save_many(items, batch=3, progress=done.append)
    assert [(len(c) - 1) // 3 for c in sent if c[0] == "JSON.MSET"] == [3, 3, 1]
    assert done == [3, 3, 1]
    for item in items:
        assert await stored.exists(item.key)


async def test_save_many_keeps_each_command_under_the_byte_limit(client, stored, monkeypatch):
    items = [Item(name="x" * 100, pk=f"{i}") for i in range(4)]
    one = len(items[0].key) + len(Item.__pydantic_serializer__.to_json(items[0])) + 1
    sent, _ = recording(client, monkeypatch)
    await Item.save_many(items, max_command_bytes=one * 2 + one // 2)
    msets = [c for c in sent if c[0] == "JSON.MSET"]
    assert [(len(c) - 1) // 3 for c in msets] == [2, 2]
    for item in items:
        assert await stored.exists(item.key)


async def test_a_model_larger_than_the_byte_limit_goes_alone(client, stored, monkeypatch):
    items = [Item(name="small"), Item(name="x" * 1000), Item(name="small")]
    sent, _ = recording(client, monkeypatch)
    await Item.save_many(items, max_command_bytes=500)
    assert [(len(c) - 1) // 3 for c in sent if c[0] == "JSON.MSET"] == [1, 1, 1]
    for item in items:
        assert await stored.exists(item.key)


async def test_save_many_writes_nothing_when_one_model_does_not_validate(client, monkeypatch):
    items = [Item(name=f"n{i}") for i in range(5)]
    items[3].qty = -1  # breaks ge=0: assigned values are not validated by pydantic
    sent, _ = recording(client, monkeypatch)
    with pytest.raises(FieldValidationError):
        await Item.save_many(items, batch=2)
    assert sent == []
    assert await client.keys("*") == []


async def test_save_many_writes_nothing_when_one_model_is_partial(client, monkeypatch):
    items = [Item(name="a"), Item(pk="partial")]
    sent, _ = recording(client, monkeypatch)
    with pytest.raises(ValidationError):
        await Item.save_many(items)
    assert sent == []


@pytest.mark.parametrize(
    "models",
    [[Item(name="a"), Token()], [Item(name="a"), {"name": "b"}], Item(name="a"), "Item:1"],
    ids=["another model class", "a dict", "a single model", "a str"],
)
async def test_save_many_refuses_what_is_not_a_list_of_its_models(client, monkeypatch, models):
    sent, _ = recording(client, monkeypatch)
    with pytest.raises(InvalidArgumentError):
        await Item.save_many(models)
    assert sent == []
    assert await client.keys("*") == []


async def test_save_many_of_nothing_sends_nothing(client, monkeypatch):
    sent, _ = recording(client, monkeypatch)
    assert await Item.save_many([]) == []
    assert sent == []


# -- delete_many --------------------------------------------------------------------------------


async def test_delete_many_returns_how_many_documents_existed(client, stored):
    await saved_items(3)
    assert await Item.delete_many(["000", "Item:002", "404"]) == 2
    assert not await stored.exists("Item:000") and not await stored.exists("Item:002")
    assert await stored.exists("Item:001")


async def test_delete_many_sends_bounded_batches(client, monkeypatch):
    await saved_items(5)
    sent, _ = recording(client, monkeypatch)
    done: list[int] = []
    assert await Item.delete_many([f"{i:03}" for i in range(5)], batch=2, progress=done.append) == 5
    assert [len(c) - 1 for c in sent if c[0] == "DEL"] == [2, 2, 1]
    assert done == [2, 2, 1]


async def test_delete_many_refuses_bad_keys_before_deleting_anything(client, stored, monkeypatch):
    await saved_items(1)
    sent, _ = recording(client, monkeypatch)
    with pytest.raises(InvalidArgumentError):
        await Item.delete_many(["000", None])
    assert sent == []
    assert await stored.exists("Item:000")


# -- what is validated again --------------------------------------------------------------------


class Checked(BaseRedisModel):
    """Counts how often its ``name`` validator runs."""

    name: str
    tags: list[str] = Field(default=[], max_length=2)

    @field_validator("name")
    @classmethod
    def count_calls(cls, value: str) -> str:
        VALIDATIONS.append(value)
        return value


VALIDATIONS: list[str] = []


async def test_a_model_unchanged_since_it_was_read_or_written_is_not_validated_again(client, backend):
    await Checked.save_many([Checked(name="a", pk="1"), Checked(name="b", pk="2")])
    models = await Checked.get_many(["1", "2"])
    VALIDATIONS.clear()
    await Checked.save_many(models)
    # Read as the bytes the model writes (RedisJSON's compact JSON): nothing to validate again.
    # A client that decodes replies to str, and fakeredis (which adds spaces), give other text:
    # those models are validated once when written, and not again after that.
    assert VALIDATIONS == ([] if backend == "real" else ["a", "b"])
    await models[0].save()
    await Checked.save_many(models)
    assert VALIDATIONS == ([] if backend == "real" else ["a", "b"])


async def test_a_model_changed_in_place_after_it_was_read_is_validated_again(client, stored):
    await Checked(name="a", pk="1").save()
    (model,) = await Checked.get_many(["1"])
    model.tags.extend(["x", "y", "z"])  # local only, and breaks max_length=2
    with pytest.raises(FieldValidationError):
        await Checked.save_many([model])
    with pytest.raises(FieldValidationError):
        await model.save()
    assert (await stored.doc(model.key))["tags"] == []
    VALIDATIONS.clear()
    model.tags.clear()
    model.name = "renamed"
    await Checked.save_many([model])
    assert VALIDATIONS == ["renamed"]
