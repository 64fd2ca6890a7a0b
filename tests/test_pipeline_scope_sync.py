"""``pipeline()`` is ambient per thread in the blocking face: other threads write straight through."""

from __future__ import annotations

import json
import threading

from redis_pydantic._sync.model import BaseRedisModel
from tests._twins import SyncRedis


class Note(BaseRedisModel):
    text: str
    tags: list[str] = []
    views: int = 0


def doc(client: SyncRedis, key: str) -> dict:
    return json.loads(client.execute_command("JSON.GET", key, "$"))[0]


def test_a_concurrent_thread_outside_the_block_writes_straight_through(real_sync_client):
    note = Note(text="draft").save()
    other = Note.get(note.key)
    go = threading.Event()
    errors: list[BaseException] = []

    def outsider() -> None:
        try:
            go.wait(5)
            other.views.set(5)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=outsider)
    thread.start()
    with note.pipeline():
        note.tags.aappend("queued")
        go.set()
        thread.join(5)
        assert not errors
        assert doc(real_sync_client, note.key) == {"text": "draft", "tags": [], "views": 5}
    assert doc(real_sync_client, note.key) == {"text": "draft", "tags": ["queued"], "views": 5}


def test_a_thread_started_inside_the_block_writes_straight_through(real_sync_client):
    note = Note(text="draft").save()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            note.views.set(7)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    with note.pipeline():
        note.tags.aappend("queued")
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(5)
        assert not errors
        assert doc(real_sync_client, note.key) == {"text": "draft", "tags": [], "views": 7}
    assert doc(real_sync_client, note.key) == {"text": "draft", "tags": ["queued"], "views": 7}


def test_pipelines_of_two_concurrent_threads_stay_separate(real_sync_client):
    first = Note(text="first").save()
    second = Note(text="second").save()
    first_sent = threading.Event()
    seen: list[list[str]] = []
    errors: list[BaseException] = []

    def body(note: Note, tag: str) -> None:
        try:
            with note.pipeline():
                note.tags.aappend(tag)
                if note is second:
                    first_sent.wait(5)
                    seen.append(doc(real_sync_client, first.key)["tags"])
                    seen.append(doc(real_sync_client, second.key)["tags"])
            if note is first:
                first_sent.set()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=args) for args in ((first, "one"), (second, "two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert seen == [["one"], []]
    assert doc(real_sync_client, first.key)["tags"] == ["one"]
    assert doc(real_sync_client, second.key)["tags"] == ["two"]
