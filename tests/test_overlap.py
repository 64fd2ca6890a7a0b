"""The twins that run client-side work while Redis handles a command (used by duplicate_many)."""

from __future__ import annotations

import asyncio

import pytest

from redis_pydantic._overlap import async_while_sending, sync_while_sending


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
