# This file is generated from tests/_async/test_client_kinds.py by setup_unasync.py. Do not edit it by hand.
"""Every kind of redis-py client gives the same results.

RESP2 or RESP3, decoded replies or bytes, a subclass of redis-py's client, and a client whose
``.json()`` was called before or after the models used it (redis-py then registers response
callbacks for the JSON commands on that client object).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import KeyNotFoundError
from tests._twins import SyncRedis
from tests.conftest import installed


class Profile(BaseRedisModel):
    title: str = ""


class Player(BaseRedisModel):
    name: str
    score: int = 0
    ratio: float = 0.5
    tags: list[str] = []
    labels: dict[str, int] = {}
    data: bytes = b""
    profile: Profile = Profile()


class SubclassedRedis(SyncRedis):
    """A user's own client class: every command goes through its execute_command."""

    sent = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        type(self).sent += 1
        return super().execute_command(*args, **options)


KINDS = [
    pytest.param(
        cls, protocol, decode, json_call, id=f"{cls.__name__}-resp{protocol}-decode{decode}-json{json_call}"
    )
    for cls in (SyncRedis, SubclassedRedis)
    for protocol in (2, 3)
    for decode in (False, True)
    for json_call in ("never", "before", "after")
]


@pytest.fixture
def plain(real_redis_url):
    """A client that reads what Redis holds."""
    reader = SyncRedis.from_url(real_redis_url)
    reader.flushdb()
    yield reader
    reader.close()


def doc(reader: Any, key: str) -> Any:
    raw = reader.execute_command("JSON.GET", key, "$")
    return None if raw is None else json.loads(raw)[0]


def scenario(player: Player, reader: Any) -> None:
    """Reads, writes, a pipeline and a lock; each checked against what Redis holds."""
    player.save()
    loaded = Player.get(player.key)
    assert loaded == player
    assert loaded.data == b"\x00\xff"
    player.score.set(5)
    assert player.score.aincrease(2) == 7
    player.ratio.set(1.25)
    player.tags.aextend(["a", "b", "c"])
    assert player.tags.apop() == "c"
    assert player.tags.apop(0) == "a"
    player.labels.aset_item("x", 1)
    player.labels.aupdate({"y": 2, "z": 3})
    assert player.labels.apop("z") == 3
    player.profile.title.set("captain")
    assert player.name.load() == "Ada"
    assert player.profile.title.load() == "captain"
    with player.pipeline() as batch:
        batch.tags.aappend("d")
        batch.score.set(9)
    with player.lock("edit") as locked:
        locked.name = "Grace"
    fresh = Player(name="?")
    fresh.pk = player.pk
    fresh.load()
    assert fresh == player
    expected = {
        "name": "Grace",
        "score": 9,
        "ratio": 1.25,
        "tags": ["b", "d"],
        "labels": {"x": 1, "y": 2},
        "data": "AP8=",
        "profile": {"title": "captain"},
    }
    assert doc(reader, player.key) == expected
    assert (Player.get(player.key)).model_dump(mode="json") == expected
    copy = player.duplicate()
    assert doc(reader, copy.key) == expected
    assert copy.delete() is True
    with pytest.raises(KeyNotFoundError):
        Player.get(copy.key)


@pytest.mark.parametrize(("cls", "protocol", "decode", "json_call"), KINDS)
def test_every_kind_of_client_reads_and_writes_the_same(
    real_redis_url, plain, cls, protocol, decode, json_call
):
    client = cls.from_url(real_redis_url, protocol=protocol, decode_responses=decode)
    sent_before = SubclassedRedis.sent
    try:
        with installed(connection, client):
            if json_call == "before":
                client.json()
            first = Player(name="Ada", data=b"\x00\xff")
            first.save()
            if json_call == "after":
                client.json()
            scenario(Player(name="Ada", data=b"\x00\xff"), plain)
            assert (Player.get(first.key)).name == "Ada"
            # The client's own JSON commands still answer the way redis-py documents them.
            if json_call != "never":
                assert client.json().get(first.key, "$.name") == ["Ada"]
    finally:
        client.close()
    if cls is SubclassedRedis and json_call == "never":
        assert SubclassedRedis.sent > sent_before  # the user's client class was used


def test_client_json_registers_callbacks_where_the_library_looks_for_them(real_redis_url):
    """connection.raw_replies relies on this; if redis-py moves its callbacks, this test fails."""
    client = SyncRedis.from_url(real_redis_url)
    try:
        assert connection.raw_replies(client) is client
        assert "JSON.GET" not in client.response_callbacks
        client.json()
        assert "JSON.GET" in client.response_callbacks
        companion = connection.raw_replies(client)
        assert companion is not client
        assert companion.connection_pool is client.connection_pool
        assert "JSON.GET" not in companion.response_callbacks
        assert connection.raw_replies(client) is companion  # made once per client
    finally:
        client.close()
