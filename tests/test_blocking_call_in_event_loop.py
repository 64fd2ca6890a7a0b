"""The blocking face warns, once, when it is called inside a running event loop."""

from __future__ import annotations

import asyncio
import warnings

import pytest

import redis_pydantic
import redis_pydantic.sync
from redis_pydantic import _compat
from redis_pydantic.errors import BlockingCallInEventLoopWarning
from redis_pydantic.testing import use_fake_redis


class Note(redis_pydantic.sync.BaseRedisModel):
    text: str = ""


class AsyncNote(redis_pydantic.BaseRedisModel):
    text: str = ""


@pytest.fixture(autouse=True)
def not_warned_yet(monkeypatch):
    monkeypatch.setattr(_compat, "_blocking_call_warned", False)
    with use_fake_redis() as fake:
        yield fake


async def test_a_blocking_call_inside_a_running_loop_warns_once_and_still_runs(not_warned_yet):
    note = Note(text="a")
    with pytest.warns(BlockingCallInEventLoopWarning, match="holds up the loop") as caught:
        note.save()
    assert caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        note.text.set("b")  # once per process: no second warning
    assert not_warned_yet.sync_client.json().get(note.key, "$.text") == ["b"]


def test_a_blocking_call_outside_a_loop_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        note = Note(text="a")
        note.save()
        assert Note.get(note.key).text == "a"
    assert _compat._blocking_call_warned is False


async def test_a_blocking_call_in_a_worker_thread_does_not_warn():
    def work() -> str:
        note = Note(text="thread")
        note.save()
        return Note.get(note.key).text

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await asyncio.to_thread(work) == "thread"


async def test_the_asyncio_face_inside_a_loop_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        note = AsyncNote(text="a")
        await note.save()
        assert (await AsyncNote.get(note.key)).text == "a"


def test_the_warning_is_a_runtime_warning_exported_by_both_faces():
    assert issubclass(BlockingCallInEventLoopWarning, RuntimeWarning)
    assert redis_pydantic.BlockingCallInEventLoopWarning is BlockingCallInEventLoopWarning
    assert redis_pydantic.sync.BlockingCallInEventLoopWarning is BlockingCallInEventLoopWarning
    assert "BlockingCallInEventLoopWarning" in redis_pydantic.__all__
    assert "BlockingCallInEventLoopWarning" in redis_pydantic.sync.__all__
