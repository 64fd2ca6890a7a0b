"""The twins that run client-side work while Redis handles a command (used by duplicate_many)."""

from __future__ import annotations

import asyncio

import pytest

from redis_pydantic._overlap import async_while_sending, sync_while_sending
from tests._twins import SyncRedis


def test_asyncio_twin_runs_the_work_after_the_command_left_and_before_its_reply():
    events: list[str] = []

    async def send() -> str:
        events.append("sent")
        await asyncio.sleep(0.01)  # the reply takes a while
        events.append("replied")
        return "OK"

    def work() -> int:
        events.append("work")
        return 42

    assert asyncio.run(async_while_sending(send, work)) == ("OK", 42)
    assert events == ["sent", "work", "replied"]


def test_asyncio_twin_waits_for_the_reply_before_raising_the_work_error():
    events: list[str] = []

    async def send() -> str:
        await asyncio.sleep(0.01)
        events.append("replied")
        return "OK"

    def work() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(async_while_sending(send, work))
    assert events == ["replied"]


def test_asyncio_twin_raises_the_send_error_after_the_work_finished():
    events: list[str] = []

    async def send() -> str:
        raise ConnectionError("down")

    def work() -> int:
        events.append("work")
        return 1

    with pytest.raises(ConnectionError, match="down"):
        asyncio.run(async_while_sending(send, work))
    assert events == ["work"]


async def test_asyncio_twin_writes_a_real_redis_command_before_the_work_starts(
    real_async_client, real_redis_url
):
    # redis-py awaits a few times before it writes; the twin's turns of the loop must cover them,
    # or duplicate_many builds its copies before its JSON.MSET leaves (slower, still correct).
    # A second client reads from inside the work: Redis serves commands in the order they
    # arrive, so it sees the increment only if the command was written before the work began.
    await real_async_client.ping()  # a connection exists, as in a running application
    observer = SyncRedis.from_url(real_redis_url)
    try:
        seen: list[bytes | None] = []
        reply, _ = await async_while_sending(
            lambda: real_async_client.incr("overlap:counter"),
            lambda: seen.append(observer.get("overlap:counter")),
        )
    finally:
        observer.close()
    assert reply == 1
    assert seen == [b"1"]


def test_blocking_twin_runs_the_work_first_and_sends_nothing_when_it_fails():
    events: list[str] = []

    def send() -> str:
        events.append("sent")
        return "OK"

    assert sync_while_sending(send, lambda: events.append("work") or 7) == ("OK", 7)
    assert events == ["work", "sent"]

    def failing() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        sync_while_sending(send, failing)
    assert events == ["work", "sent"]
