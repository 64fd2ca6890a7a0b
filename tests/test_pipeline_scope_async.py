"""``pipeline()`` is ambient per asyncio task: other tasks' writes go straight to Redis."""

from __future__ import annotations

import asyncio
import json

from redis_pydantic._async.model import BaseRedisModel
from tests._twins import AsyncRedis


class Note(BaseRedisModel):
    text: str
    tags: list[str] = []
    views: int = 0


async def doc(client: AsyncRedis, key: str) -> dict:
    return json.loads(await client.execute_command("JSON.GET", key, "$"))[0]


async def test_a_concurrent_task_outside_the_block_writes_straight_through(real_async_client):
    note = await Note(text="draft").save()
    other = await Note.get(note.key)
    go = asyncio.Event()
    written = asyncio.Event()

    async def outsider() -> None:
        await go.wait()
        await other.views.set(5)
        written.set()

    task = asyncio.create_task(outsider())
    async with note.pipeline():
        await note.tags.aappend("queued")
        go.set()
        await asyncio.wait_for(written.wait(), timeout=5)
        assert await doc(real_async_client, note.key) == {"text": "draft", "tags": [], "views": 5}
    await task
    assert await doc(real_async_client, note.key) == {"text": "draft", "tags": ["queued"], "views": 5}


async def test_pipelines_of_two_concurrent_tasks_stay_separate(real_async_client):
    first = await Note(text="first").save()
    second = await Note(text="second").save()
    first_done = asyncio.Event()

    async def body(note: Note, tag: str) -> None:
        async with note.pipeline():
            await note.tags.aappend(tag)
            if note is second:
                await first_done.wait()
                # the first task's pipeline was sent; ours is still pending
                assert (await doc(real_async_client, first.key))["tags"] == ["one"]
                assert (await doc(real_async_client, second.key))["tags"] == []
        if note is first:
            first_done.set()

    await asyncio.gather(body(first, "one"), body(second, "two"))
    assert (await doc(real_async_client, first.key))["tags"] == ["one"]
    assert (await doc(real_async_client, second.key))["tags"] == ["two"]


async def test_a_task_started_inside_the_block_that_writes_after_it_is_not_lost(real_async_client):
    note = await Note(text="draft").save()
    release = asyncio.Event()

    async def late_writer() -> None:
        await release.wait()
        await note.text.set("late")

    async with note.pipeline():
        task = asyncio.create_task(late_writer())  # inherits the block's context
        await note.tags.aappend("queued")
    release.set()
    await asyncio.wait_for(task, timeout=5)
    assert await doc(real_async_client, note.key) == {"text": "late", "tags": ["queued"], "views": 0}
