"""``model.pipeline()``: every write made inside the block goes out as one atomic step at the end."""

from __future__ import annotations

import pytest

from redis_pydantic import _paths
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._scripts import BATCH, MAX_BATCH_COMMAND_ARGS
from redis_pydantic.errors import CrossSlotError, PipelineError
from tests._async.conftest import recording

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class User(BaseRedisModel):
    name: str
    tags: list[str] = []
    metadata: dict[str, str] = {}
    counter: int = 0


class Team(BaseRedisModel):
    title: str
    members: list[str] = []


async def saved_user(name: str = "John", **fields) -> User:
    user = User(name=name, tags=["python"], metadata={"role": "developer"}, **fields)
    await user.save()
    return user


async def test_pipeline_sends_nothing_before_exit_and_everything_after(client, stored):
    user = await saved_user()
    before = await stored.doc(user.key)
    async with user.pipeline() as pipelined:
        await pipelined.tags.aappend("redis")
        await pipelined.tags.aextend(["async", "pydantic"])
        await pipelined.tags.ainsert(0, "first")
        await pipelined.metadata.aupdate(level="senior", department="engineering")
        await pipelined.metadata.aset_item("team", "core")
        await pipelined.metadata.adel_item("role")
        await pipelined.counter.set(100)
        await pipelined.name.set("New Name")
        assert await stored.doc(user.key) == before
    assert await stored.doc(user.key) == {
        "name": "New Name",
        "tags": ["first", "python", "redis", "async", "pydantic"],
        "metadata": {"level": "senior", "department": "engineering", "team": "core"},
        "counter": 100,
    }
    assert user.tags == ["first", "python", "redis", "async", "pydantic"]
    assert user.metadata == {"level": "senior", "department": "engineering", "team": "core"}
    assert user.counter == 100


async def test_pipeline_sends_all_writes_in_one_atomic_script_call(client, stored, monkeypatch):
    user = await saved_user()
    team = Team(title="Core", pk="{" + user.key + "}core")  # in the user's hash slot
    await team.save()
    await client.script_load(BATCH.source)
    sent, pipelines = recording(client, monkeypatch)
    async with user.pipeline() as pipelined:
        sent.clear()
        await pipelined.tags.aappend("redis")
        await pipelined.name.set("New")
        await team.members.aappend(user.pk)
        assert sent == []
    assert pipelines == []
    assert len(sent) == 1
    assert sent[0][:5] == ("EVALSHA", BATCH.sha, 2, user.key, team.key)
    assert await stored.doc(user.key, "$.tags") == ["python", "redis"]
    assert await stored.doc(user.key, "$.name") == "New"
    assert await stored.doc(team.key, "$.members") == [user.pk]


async def test_pipeline_loads_its_script_when_the_server_lacks_it(client, stored):
    user = await saved_user()
    await client.script_flush()
    async with user.pipeline() as pipelined:
        await pipelined.tags.aappend("redis")
        await pipelined.metadata.aupdate(a="1", b="2")
    assert await stored.doc(user.key, "$.tags") == ["python", "redis"]
    assert await stored.doc(user.key, "$.metadata") == {"role": "developer", "a": "1", "b": "2"}
    assert await stored.script_loaded(BATCH.sha, user.key)


async def test_pipeline_with_a_command_too_long_for_the_script_goes_by_multi_exec(
    client, stored, monkeypatch
):
    user = await saved_user()
    n = MAX_BATCH_COMMAND_ARGS // 3 + 1  # one JSON.MSET of n keys is longer than the script takes
    sent, pipelines = recording(client, monkeypatch)
    async with user.pipeline(refresh=False) as pipelined:
        copies = await pipelined.duplicate_many(n, colocate=True)  # one hash slot, even on a cluster
        await pipelined.tags.aappend("redis")
    assert pipelines == [True]
    assert sent == []
    assert await stored.doc(user.key, "$.tags") == ["python", "redis"]
    assert user.tags == ["python", "redis"]
    assert await stored.doc(copies[-1].key, "$.tags") == ["python"]
    assert await client.exists(*(copy.key for copy in copies)) == n


async def test_pipeline_with_a_command_at_the_script_limit_is_still_one_script_call(
    client, stored, monkeypatch
):
    user = await saved_user()
    n = (MAX_BATCH_COMMAND_ARGS - 1) // 3  # JSON.MSET of n keys: exactly the longest command
    sent, pipelines = recording(client, monkeypatch)
    async with user.pipeline(refresh=False) as pipelined:
        copies = await pipelined.duplicate_many(n, colocate=True)  # one hash slot, even on a cluster
        await pipelined.tags.aappend("redis")
    assert pipelines == []
    assert sent[-1][:2] in (("EVALSHA", BATCH.sha), ("EVAL", BATCH.source))
    assert await client.exists(*(copy.key for copy in copies)) == n
    assert await stored.doc(user.key, "$.tags") == ["python", "redis"]


async def test_pipeline_of_thousands_of_ops_is_one_call(client, stored, monkeypatch):
    user = await saved_user()
    sent, pipelines = recording(client, monkeypatch)
    async with user.pipeline(refresh=False) as pipelined:
        for i in range(3000):
            await pipelined.tags.aappend(str(i))
    assert pipelines == [] and len(sent) in (1, 2)  # EVALSHA, then EVAL if the server lacked it
    assert await stored.doc(user.key, "$.tags") == ["python", *map(str, range(3000))]
    assert user.tags == ["python", *map(str, range(3000))]


async def test_pipeline_local_values_change_only_after_exit(client, stored):
    user = await saved_user()
    async with user.pipeline() as pipelined:
        await pipelined.tags.aappend("redis")
        await pipelined.counter.set(5)
        assert user.tags == ["python"]
        assert user.counter == 0
    assert user.tags == ["python", "redis"]
    assert user.counter == 5


async def test_pipeline_batches_save_delete_and_class_level_try_delete(client, stored):
    user = await saved_user()
    doomed = await saved_user("Doomed")
    also_doomed = await saved_user("Also doomed")
    new = User(name="New")
    async with user.pipeline():
        await new.save()
        await doomed.delete()
        await User.try_delete(also_doomed.key)
        user.counter = 3
        await user.save()
        assert not await stored.exists(new.key)
        assert await stored.exists(doomed.key)
        assert await stored.exists(also_doomed.key)
        assert (await stored.doc(user.key))["counter"] == 0
    assert await stored.doc(new.key) == {"name": "New", "tags": [], "metadata": {}, "counter": 0}
    assert not await stored.exists(doomed.key)
    assert not await stored.exists(also_doomed.key)
    assert (await stored.doc(user.key))["counter"] == 3


async def test_pipeline_batches_writes_of_other_models(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    async with user.pipeline():
        await team.members.aappend(user.pk)
        await team.title.set("Platform")
        await user.tags.aappend("core")
        assert await stored.doc(team.key) == {"title": "Core", "members": []}
    assert await stored.doc(team.key) == {"title": "Platform", "members": [user.pk]}
    assert (await stored.doc(user.key))["tags"] == ["python", "core"]


async def test_pipeline_deletes_two_users_atomically(client, stored):
    user = await saved_user()
    user1 = User(name="John", tags=["python"], metadata={"role": "developer"})
    user2 = User(name="John", tags=["python"], metadata={"role": "developer2"})
    await user1.save()
    await user2.save()
    async with user.pipeline():
        await user1.delete()
        await user2.delete()
        assert await stored.exists(user1.key)
        assert await stored.exists(user2.key)
    assert not await stored.exists(user1.key)
    assert not await stored.exists(user2.key)
    assert await stored.exists(user.key)


async def test_pipeline_refreshes_the_model_on_entry(client, stored):
    user = await saved_user()
    other = await User.get(user.key)
    await other.name.set("Changed elsewhere")
    await other.tags.aappend("elsewhere")
    async with user.pipeline() as pipelined:
        assert pipelined is user
        assert pipelined.name == "Changed elsewhere"
        assert pipelined.tags == ["python", "elsewhere"]


async def test_pipeline_get_inside_reads_redis_immediately(client, stored):
    user = await saved_user()
    async with user.pipeline():
        await user.tags.aappend("queued")
        await client.execute_command("JSON.SET", user.key, "$.counter", "9")
        fresh = await User.get(user.key)
        assert fresh.tags == ["python"]
        assert fresh.counter == 9
    assert (await stored.doc(user.key))["tags"] == ["python", "queued"]


async def test_pipeline_model_load_inside_reads_redis_immediately(client, stored):
    user = await saved_user()
    other = await User.get(user.key)
    async with user.pipeline():
        await other.counter.set(4)
        await client.execute_command("JSON.SET", user.key, "$.name", '"Direct"')
        await other.load()
        assert other.name == "Direct"
        assert other.counter == 0
    assert (await stored.doc(user.key))["counter"] == 4


async def test_pipeline_field_load_inside_reads_redis_immediately(client, stored):
    user = await saved_user()
    async with user.pipeline():
        await client.execute_command("JSON.SET", user.key, "$.name", '"Direct"')
        assert await user.name.load() == "Direct"
        assert user.name == "Direct"


async def test_pipeline_nested_inside_another_joins_the_outer_one(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    async with user.pipeline():
        await user.tags.aappend("outer")
        async with team.pipeline():
            await team.members.aappend("inner")
        assert await stored.doc(team.key) == {"title": "Core", "members": []}
        assert (await stored.doc(user.key))["tags"] == ["python"]
    assert await stored.doc(team.key) == {"title": "Core", "members": ["inner"]}
    assert (await stored.doc(user.key))["tags"] == ["python", "outer"]


async def test_pipeline_body_raising_sends_nothing_and_clears_the_pipeline(client, stored):
    user = await saved_user()
    before = await stored.doc(user.key)
    with pytest.raises(ValueError, match="went wrong"):
        async with user.pipeline() as pipelined:
            await pipelined.tags.aappend("temp_tag")
            await pipelined.metadata.aset_item("temp", "value")
            raise ValueError("Something went wrong")
    assert await stored.doc(user.key) == before
    assert user.tags == ["python"]
    await user.tags.aappend("after")
    assert (await stored.doc(user.key))["tags"] == ["python", "after"]


@pytest.mark.parametrize(
    "operation",
    ["list.apop", "dict.apop", "dict.apopitem", "aincrease"],
)
async def test_value_returning_ops_raise_pipeline_error_and_queue_nothing(client, stored, operation):
    user = await saved_user(counter=1)
    before = await stored.doc(user.key)
    async with user.pipeline():
        with pytest.raises(PipelineError, match=r"not supported inside pipeline\(\)"):
            if operation == "list.apop":
                await user.tags.apop()
            elif operation == "dict.apop":
                await user.metadata.apop("role")
            elif operation == "dict.apopitem":
                await user.metadata.apopitem()
            else:
                await user.counter.aincrease(5)
    assert await stored.doc(user.key) == before
    assert user.tags == ["python"]
    assert user.metadata == {"role": "developer"}
    assert user.counter == 1


async def test_pipeline_exec_failure_raises_pipeline_error_listing_it_and_not_applying_it(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    with pytest.raises(PipelineError) as raised:
        async with user.pipeline():
            await user.tags.aappend("redis")
            await user.counter.set(7)
            await team.title.set("Platform")
            # Another client turns the list into a string, so JSON.ARRAPPEND fails in EXEC.
            await client.execute_command("JSON.SET", user.key, "$.tags", '"not a list"')
    failures = raised.value.failures
    assert len(failures) == 1
    assert failures[0][1][0] == "JSON.ARRAPPEND"
    assert "JSON.ARRAPPEND" in str(raised.value)
    # Redis has no rollback: the other commands ran.
    assert await stored.doc(user.key) == {
        "name": "John",
        "tags": "not a list",
        "metadata": {"role": "developer"},
        "counter": 7,
    }
    assert await stored.doc(team.key) == {"title": "Platform", "members": []}
    # The failed append was not applied locally; the commands that ran were.
    assert user.tags == ["python"]
    assert user.counter == 7
    assert team.title == "Platform"


class Board(BaseRedisModel):
    title: str
    items: list[str] | None = []


async def test_pipeline_exec_failure_reloads_the_models_involved(client, stored):
    board = Board(title="Plan", items=["a"])
    await board.save()
    with pytest.raises(PipelineError) as raised:
        async with board.pipeline():
            await board.items.aappend("b")
            # Another client empties the list field and renames the board before EXEC.
            await client.execute_command("JSON.SET", board.key, "$.items", "null")
            await client.execute_command("JSON.SET", board.key, "$.title", '"Renamed"')
    assert len(raised.value.failures) == 1
    assert await stored.doc(board.key) == {"title": "Renamed", "items": None}
    assert board.title == "Renamed"
    assert board.model_dump() == {"title": "Renamed", "items": None}


async def test_pipeline_exec_error_reply_raises_pipeline_error_and_reloads(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    with pytest.raises(PipelineError) as raised:
        async with user.pipeline():
            await user.counter.set(3)
            await team.members.aappend("ada")
            await client.execute_command("JSON.SET", user.key, "$.name", '"Direct"')
            # Another client deletes the team: appending to a list of a missing key is refused.
            await client.delete(team.key)
    failures = raised.value.failures
    assert len(failures) == 1
    assert failures[0][1][:2] == ("JSON.ARRAPPEND", team.key)
    assert not await stored.exists(team.key)
    assert team.members == []
    assert await stored.doc(user.key) == {
        "name": "Direct",
        "tags": ["python"],
        "metadata": {"role": "developer"},
        "counter": 3,
    }
    assert user.name == "Direct"
    assert user.counter == 3


async def test_an_atomic_pipeline_refuses_a_write_in_another_hash_slot_on_every_deployment(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    with pytest.raises(CrossSlotError) as raised:
        async with user.pipeline(atomic=True):
            await user.counter.set(1)
            await team.title.set("Platform")  # another key, another hash slot
    assert isinstance(raised.value, PipelineError)
    assert set(raised.value.slots) == {_paths.hash_slot(user.key), _paths.hash_slot(team.key)}
    assert (await stored.doc(user.key))["counter"] == 0  # the block raised: nothing was sent
    assert await stored.doc(team.key, "$.title") == "Core"


async def test_an_atomic_pipeline_over_models_sharing_a_hash_tag_is_sent_whole(client, stored):
    user = User(pk="{acme}ada", name="Ada")
    team = Team(pk="{acme}core", title="Core")
    await user.save()
    await team.save()
    async with user.pipeline(atomic=True):
        await user.tags.aappend("core")
        await team.members.aappend(user.pk)
        fresh = Team(pk="{acme}new", title="New")
        await fresh.save()
    assert await stored.doc(user.key, "$.tags") == ["core"]
    assert await stored.doc(team.key, "$.members") == ["{acme}ada"]
    assert await stored.doc(fresh.key, "$.title") == "New"


async def test_an_atomic_pipeline_joining_another_makes_the_whole_batch_one_slot(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    with pytest.raises(CrossSlotError):
        async with user.pipeline():
            await user.counter.set(1)
            await team.title.set("Platform")
            async with team.pipeline(atomic=True):  # the outer batch already spans two slots
                pytest.fail("the inner block must not run")
    assert (await stored.doc(user.key))["counter"] == 0
    assert await stored.doc(team.key, "$.title") == "Core"


async def test_a_write_refused_by_an_atomic_pipeline_is_not_queued_and_the_others_are_sent(client, stored):
    user = await saved_user()
    team = Team(title="Core")
    await team.save()
    async with user.pipeline(atomic=True):
        await user.counter.set(1)
        with pytest.raises(CrossSlotError):
            await team.title.set("Platform")
        await user.name.set("Still queued")
    assert (await stored.doc(user.key))["counter"] == 1
    assert (await stored.doc(user.key))["name"] == "Still queued"
    assert await stored.doc(team.key, "$.title") == "Core"
    assert team.title == "Core"
