"""Mutual exclusion of ``lock()`` in the asyncio face: many tasks, one counter, real Redis."""

from __future__ import annotations

import asyncio
import json

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import LockInUseError
from tests._twins import AsyncRedis

WORKERS = 6
ROUNDS = 15


class Counter(BaseRedisModel):
    value: int = 0


async def stored_value(client: AsyncRedis, key: str) -> int:
    return int((await client.execute_command("JSON.GET", key, "$.value"))[1:-1])


async def locked_worker(pk: str, rounds: int) -> None:
    mine = Counter(pk=pk)  # each worker has its own instance of the same document
    for _ in range(rounds):
        async with mine.lock("count", blocking_timeout=30) as locked:
            current = int(locked.value)
            await asyncio.sleep(0.001)  # let the other tasks run mid-update
            locked.value = current + 1


async def unlocked_worker(pk: str, rounds: int) -> None:
    mine = Counter(pk=pk)
    for _ in range(rounds):
        await mine.load()
        current = int(mine.value)
        await asyncio.sleep(0.001)
        await mine.value.set(current + 1)


async def test_tasks_incrementing_under_the_lock_lose_no_update(real_async_client):
    counter = await Counter().save()
    await asyncio.gather(*(locked_worker(counter.pk, ROUNDS) for _ in range(WORKERS)))
    assert await stored_value(real_async_client, counter.key) == WORKERS * ROUNDS
    assert not await real_async_client.exists("{" + counter.key + "}/count")


async def test_tasks_incrementing_under_the_lock_on_a_cluster_lose_no_update(cluster_async_client):
    counter = await Counter().save()
    await asyncio.gather(*(locked_worker(counter.pk, ROUNDS) for _ in range(WORKERS)))
    assert await stored_value(cluster_async_client, counter.key) == WORKERS * ROUNDS
    assert not await cluster_async_client.exists("{" + counter.key + "}/count")


async def test_tasks_incrementing_without_the_lock_lose_updates(real_async_client):
    # The control experiment: the same read-modify-write without the lock does race.
    counter = await Counter().save()
    await asyncio.gather(*(unlocked_worker(counter.pk, ROUNDS) for _ in range(WORKERS)))
    assert await stored_value(real_async_client, counter.key) < WORKERS * ROUNDS


async def test_waiting_task_gets_the_lock_when_the_holder_releases(real_async_client):
    counter = await Counter().save()
    order = []

    async def holder() -> None:
        async with Counter(pk=counter.pk).lock() as locked:
            order.append("holder in")
            await asyncio.sleep(0.3)
            locked.value = 1
            order.append("holder out")

    async def waiter() -> None:
        await asyncio.sleep(0.05)
        async with Counter(pk=counter.pk).lock(blocking_timeout=5) as locked:
            order.append(f"waiter sees {int(locked.value)}")
            locked.value = int(locked.value) + 1

    await asyncio.gather(holder(), waiter())
    assert order == ["holder in", "holder out", "waiter sees 1"]
    assert await stored_value(real_async_client, counter.key) == 2


class Pair(BaseRedisModel):
    a: int = 0
    b: int = 0


async def test_tasks_sharing_an_instance_cannot_open_blocks_of_two_actions_at_once(real_async_client):
    # The second block is refused even while the first is still reading the model on entry.
    shared = await Pair().save()
    entered = []

    async def block(action: str, field: str) -> None:
        try:
            async with shared.lock(action) as locked:
                entered.append(action)
                await asyncio.sleep(0.05)
                setattr(locked, field, 1)
        except LockInUseError:
            entered.append(f"{action} refused")

    await asyncio.gather(block("x", "a"), block("y", "b"))
    assert sorted(entered) == ["x", "y refused"]
    assert json.loads(await real_async_client.execute_command("JSON.GET", shared.key, "$"))[0] == {
        "a": 1,
        "b": 0,
    }
    assert shared.a == 1 and shared.b == 0


async def test_tasks_sharing_an_instance_take_turns_on_one_action(real_async_client):
    shared = await Pair().save()

    async def block() -> None:
        async with shared.lock("same", blocking_timeout=5) as locked:
            current = int(locked.a)
            await asyncio.sleep(0.02)
            locked.a = current + 1

    await asyncio.gather(block(), block(), block())
    assert json.loads(await real_async_client.execute_command("JSON.GET", shared.key, "$"))[0]["a"] == 3
