"""``send_during``: duplicate_many's copies are built while Redis stores the documents.

The executor takes a connection from the pool, has redis-py write the command, runs the work,
then has redis-py read the reply. These tests run both faces against the real server.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis.exceptions

from redis_pydantic._async.executor import send_during as async_send_during
from redis_pydantic._sync.executor import send_during as sync_send_during
from redis_pydantic.errors import RedisCommandError
from tests._twins import SyncRedis
from tests.conftest import installed


class Model:
    """Stands for a model class: the installed test client answers for every class."""


def in_use(client: Any) -> int:
    return len(client.connection_pool._in_use_connections)


@pytest.fixture
def observer(real_redis_url: str):
    """A second client, which reads from inside the work."""
    client = SyncRedis.from_url(real_redis_url)
    yield client
    client.close()


# Redis serves commands in the order they arrive: the observer sees the increment from inside
# the work only if the command was written before the work began.


async def test_asyncio_face_writes_the_command_before_the_work(real_async_client, observer):
    await real_async_client.ping()
    seen: list[Any] = []
    reply, done = await async_send_during(
        Model, ("INCR", "overlap:n"), lambda: seen.append(observer.get("overlap:n")) or "built", overlap=True
    )
    assert (reply, done, seen) == (1, "built", [b"1"])
    assert in_use(real_async_client) == 0


def test_blocking_face_writes_the_command_before_the_work(real_sync_client, observer):
    seen: list[Any] = []
    reply, done = sync_send_during(
        Model, ("INCR", "overlap:n"), lambda: seen.append(observer.get("overlap:n")) or "built", overlap=True
    )
    assert (reply, done, seen) == (1, "built", [b"1"])
    assert in_use(real_sync_client) == 0


def test_without_overlap_the_work_runs_first(real_sync_client, observer):
    seen: list[Any] = []
    assert (
        sync_send_during(
            Model, ("INCR", "overlap:n"), lambda: seen.append(observer.get("overlap:n")), overlap=False
        )[0]
        == 1
    )
    assert seen == [None]


async def test_asyncio_face_reads_the_reply_before_raising_the_work_error(real_async_client):
    def work() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await async_send_during(Model, ("INCR", "overlap:n"), work, overlap=True)
    assert in_use(real_async_client) == 0
    assert await real_async_client.get("overlap:n") == b"1"  # the command had been sent
    assert await real_async_client.incr("overlap:n") == 2  # and the pool's connections are clean


def test_blocking_face_reads_the_reply_before_raising_the_work_error(real_sync_client):
    def work() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        sync_send_during(Model, ("INCR", "overlap:n"), work, overlap=True)
    assert in_use(real_sync_client) == 0
    assert real_sync_client.get("overlap:n") == b"1"
    assert real_sync_client.incr("overlap:n") == 2


def test_an_error_reply_is_raised_as_the_library_error_and_keeps_the_connection(real_sync_client):
    real_sync_client.set("overlap:text", "not a number")
    with pytest.raises(RedisCommandError, match="not an integer"):
        sync_send_during(Model, ("INCR", "overlap:text"), lambda: None, overlap=True)
    assert in_use(real_sync_client) == 0
    assert real_sync_client.incr("overlap:n") == 1


def test_a_lost_reply_is_sent_again_through_execute_command(real_sync_client, monkeypatch):
    original = real_sync_client.parse_response
    calls: list[str] = []

    def lose_the_first_reply(connection: Any, command_name: str, **options: Any) -> Any:
        calls.append(command_name)
        if len(calls) == 1:
            connection.disconnect()
            raise redis.exceptions.ConnectionError("connection lost")
        return original(connection, command_name, **options)

    monkeypatch.setattr(real_sync_client, "parse_response", lose_the_first_reply)
    reply, done = sync_send_during(Model, ("SET", "overlap:k", "v"), lambda: "built", overlap=True)
    assert (reply, done) == (True, "built")
    assert calls == ["SET", "SET"]  # once on the taken connection, once by execute_command
    assert real_sync_client.get("overlap:k") == b"v"
    assert in_use(real_sync_client) == 0


def test_a_single_connection_client_runs_the_work_first(real_redis_url, observer):
    from redis_pydantic._sync import connection

    client = SyncRedis.from_url(real_redis_url, single_connection_client=True)
    with installed(connection, client):
        client.delete("overlap:n")
        seen: list[Any] = []
        sync_send_during(
            Model, ("INCR", "overlap:n"), lambda: seen.append(observer.get("overlap:n")), overlap=True
        )
    client.close()
    assert seen == [None]
