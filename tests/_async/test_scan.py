"""``scan``, ``scan_keys`` and ``count``: the documents of one class, found with SCAN."""

from __future__ import annotations

import warnings

import pytest
from pydantic import BaseModel, Field

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import InvalidArgumentError
from tests._async.conftest import recording


class Note(BaseRedisModel):
    text: str = ""
    n: int = 0


class Memo(Note):
    """A subclass with its own prefix ("Memo"): never mixed in with Note's documents."""


class NoteAdmin(BaseRedisModel):
    """Its keys ("Note:admin:<pk>") look like keys of Note."""

    text: str = ""

    class Meta:
        key_prefix = "Note:admin"


class Weird(BaseRedisModel):
    text: str = ""

    class Meta:
        key_prefix = "we*ir?d[1]\\"


async def saved_notes(n: int) -> list[Note]:
    return await Note.save_many([Note(text=f"t{i}", n=i, pk=f"{i:03}") for i in range(n)])


def intercept(client, monkeypatch, before_mget=None, on_scan=None):
    """Run ``before_mget(args)`` before each JSON.MGET, pass SCAN replies through ``on_scan``."""
    original = client.execute_command

    async def execute_command(*args, **kwargs):
        if args[0] == "JSON.MGET" and before_mget is not None:
            await before_mget(original, args)
        reply = await original(*args, **kwargs)
        if args[0] == "SCAN" and on_scan is not None:
            reply = on_scan(reply)
        return reply

    monkeypatch.setattr(client, "execute_command", execute_command)


async def test_scan_gives_every_document_of_the_class_once(client):
    notes = await saved_notes(30)
    found = [note async for note in Note.scan(batch=7)]
    assert sorted(n.pk for n in found) == [n.pk for n in notes]
    assert {n.key: n.text for n in found} == {n.key: n.text for n in notes}


async def test_scan_gives_models_that_field_operations_act_on(client, stored):
    await saved_notes(1)
    async for note in Note.scan():
        await note.n.aincrease(5)
    assert (await stored.doc("Note:000"))["n"] == 5


async def test_scan_keys_and_count(client):
    notes = await saved_notes(12)
    assert sorted([key async for key in Note.scan_keys(batch=5)]) == [n.key for n in notes]
    assert await Note.count() == 12
    assert await Note.count(batch=3) == 12


async def test_an_empty_class_scans_nothing(client):
    assert [n async for n in Note.scan()] == []
    assert await Note.count() == 0


async def test_scan_sends_scan_with_match_type_and_count_then_one_json_mget_per_batch(client, monkeypatch):
    await saved_notes(25)
    sent, pipelines = recording(client, monkeypatch)
    done: list[int] = []
    found = [n async for n in Note.scan(batch=10, progress=done.append)]
    assert len(found) == 25 and pipelines == []
    scans = [c for c in sent if c[0] == "SCAN"]
    assert all(c[2:] == ("MATCH", "Note:*", "TYPE", "ReJSON-RL", "COUNT", 10) for c in scans)
    assert scans[0][1] == 0
    mgets = [len(c) - 2 for c in sent if c[0] == "JSON.MGET"]
    assert mgets == [10, 10, 5]
    assert done == [10, 10, 5]
    assert len(sent) == len(scans) + 3


async def test_scan_keys_reports_progress_per_scan_call(client):
    await saved_notes(9)
    done: list[int] = []
    keys = [k async for k in Note.scan_keys(batch=4, progress=done.append)]
    assert sum(done) == len(keys) == 9


async def test_scan_leaves_out_subclasses_with_their_own_prefix_and_other_types(client):
    await saved_notes(3)
    await Memo(text="memo").save()
    await client.set("Note:plain-string", "x")
    await client.hset("Note:hash", "a", "1")
    found = [n async for n in Note.scan()]
    assert sorted(n.pk for n in found) == ["000", "001", "002"]
    assert [m.text async for m in Memo.scan()] == ["memo"]


async def test_scan_leaves_out_the_documents_of_a_class_whose_prefix_extends_its_own(client):
    await saved_notes(2)
    await NoteAdmin(text="admin", pk="7").save()
    assert sorted(n.pk for n in [n async for n in Note.scan()]) == ["000", "001"]
    assert await Note.count() == 2
    assert [n.key async for n in NoteAdmin.scan()] == ["Note:admin:7"]


async def test_glob_characters_in_the_prefix_are_matched_literally(client):
    weird = await Weird(text="w", pk="1").save()
    await client.execute_command("JSON.SET", "weXirYd1\\:2", "$", '{"text": "other"}')
    await client.execute_command("JSON.SET", "we*ir?d1:3", "$", '{"text": "other"}')
    assert [w.key async for w in Weird.scan()] == [weird.key]
    assert await Weird.count() == 1


async def test_a_document_deleted_between_scan_and_mget_is_skipped(client, monkeypatch):
    await saved_notes(6)
    deleted: list[str] = []

    async def delete_one(send, args):
        if not deleted:
            deleted.append(args[1])
            await send("DEL", args[1])

    intercept(client, monkeypatch, before_mget=delete_one)
    found = [n.key async for n in Note.scan(batch=3)]
    assert len(deleted) == 1 and deleted[0] not in found
    assert sorted(found + deleted) == [f"Note:{i:03}" for i in range(6)]


async def test_a_key_scan_returns_twice_is_given_once_unless_unique_is_off(client, monkeypatch):
    await saved_notes(4)
    intercept(client, monkeypatch, on_scan=lambda reply: (reply[0], list(reply[1]) * 2))
    assert sorted([n.pk async for n in Note.scan()]) == ["000", "001", "002", "003"]
    assert await Note.count() == 4
    twice = sorted([n.pk async for n in Note.scan(unique=False)])
    assert twice == ["000", "000", "001", "001", "002", "002", "003", "003"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: Note.scan(batch=0),
        lambda: Note.scan(batch="5"),
        lambda: Note.scan(progress="bar"),
        lambda: Note.scan_keys(batch=-1),
    ],
    ids=["batch 0", "batch str", "progress not callable", "scan_keys batch -1"],
)
async def test_scan_refuses_bad_arguments_when_called(client, call):
    with pytest.raises(InvalidArgumentError):
        call()


async def test_count_refuses_a_bad_batch(client):
    with pytest.raises(InvalidArgumentError):
        await Note.count(batch=0)


# -- a field named count ------------------------------------------------------------------------


def test_a_field_may_be_named_count_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Counter(BaseRedisModel):
            count: int = 0

        class Required(BaseRedisModel):
            count: int

        class Redeclared(Counter):
            count: int = 5

    assert Counter(count=3).count == 3
    assert Required.model_fields["count"].is_required()
    assert Redeclared().count == 5


async def test_a_model_with_a_count_field_still_counts_its_documents(client, stored):
    class Tally(BaseRedisModel):
        count: int = 0

    tally = Tally()
    await tally.count.set(42)
    assert (await stored.doc(tally.key))["count"] == 42
    await Tally(count=1).save()
    assert await Tally.count() == 2
    assert tally.count == 42


def test_a_model_defined_in_a_function_finds_the_local_names_of_its_annotations():
    class Local(BaseModel):
        x: int = 1

    class Holder(BaseRedisModel):
        local: Local = Field(default_factory=Local)
        count: int = 0

    assert Holder.__pydantic_complete__
    assert Holder(count=2).local.x == 1
