"""The I/O-free half of Redis Cluster support: slot groups, their calls, replies in queue order,
and what the installed redis-py can do."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.crc import key_slot

from redis_pydantic import _cluster, _paths
from redis_pydantic._scripts import BATCH, DICT_OPS, MAX_BATCH_COMMAND_ARGS, ScriptCall, command_keys
from redis_pydantic.errors import RedisClusterError


def test_the_slot_of_a_key_is_redis_pys():
    for key in ["User:1", "User:{acme}1", "{acme}/edit/User:{acme}1", "a}b", "{}x", "é{ü}"]:
        assert _paths.hash_slot(key) == key_slot(key.encode())


def test_commands_are_grouped_per_slot_in_the_order_slots_first_appear():
    commands = [
        ("JSON.SET", "{b}1", "$", "1"),
        ("JSON.SET", "{a}1", "$", "1"),
        ScriptCall(DICT_OPS, ("{b}2",), ("set", "$", "k", "1")),
        ("DEL", "{a}2"),
    ]
    groups = _cluster.group_by_slot(commands)
    assert [group.slot for group in groups] == [_paths.hash_slot("b"), _paths.hash_slot("a")]
    assert [group.positions for group in groups] == [[0, 2], [1, 3]]
    assert [group.commands for group in groups] == [[commands[0], commands[2]], [commands[1], commands[3]]]


def test_a_group_of_one_command_is_sent_as_it_is_and_a_larger_one_as_one_batch_script_call():
    single, pair = _cluster.group_by_slot(
        [("JSON.SET", "{x}1", "$", "1"), ("JSON.SET", "{y}1", "$", "1"), ("DEL", "{y}2")]
    )
    assert single.call() == ("JSON.SET", "{x}1", "$", "1")
    call = pair.call()
    assert isinstance(call, ScriptCall) and call.script is BATCH
    assert call.keys == ("{y}1", "{y}2")


def test_a_group_with_a_command_too_long_for_the_script_has_no_call():
    long = (
        "JSON.MSET",
        *(part for i in range(MAX_BATCH_COMMAND_ARGS // 3 + 1) for part in (f"{{t}}{i}", "$", "1")),
    )
    (group,) = _cluster.group_by_slot([long, ("DEL", "{t}x")])
    assert group.call() is None


def test_a_command_over_several_slots_is_refused_before_anything_is_sent():
    with pytest.raises(RedisClusterError, match="2 hash slots"):
        _cluster.group_by_slot([("JSON.MSET", "{a}1", "$", "1", "{b}1", "$", "1")])


def test_replies_go_back_to_the_positions_of_their_commands():
    commands = [("JSON.SET", "{b}1"), ("JSON.SET", "{a}1"), ("JSON.SET", "{b}2"), ("JSON.SET", "{c}1")]
    groups = _cluster.group_by_slot(commands)
    failure = ConnectionError("node down")
    replies = [
        _cluster.group_replies(groups[0], ["b1", "b2"]),
        _cluster.group_replies(groups[1], "a1"),
        _cluster.group_replies(groups[2], failure),
    ]
    assert _cluster.in_queue_order(4, groups, replies) == ["b1", "a1", "b2", failure]


def test_the_keys_of_a_command_are_the_ones_it_touches():
    assert command_keys(("JSON.MSET", "k1", "$", "1", "k2", "$.a", "2")) == ("k1", "k2")
    assert command_keys(("JSON.ARRAPPEND", "k", "$.tags", '"x"')) == ("k",)
    assert command_keys(ScriptCall(DICT_OPS, ("k",), ("pop", "$.d", "x"))) == ("k",)


def test_cluster_clients_of_both_faces_are_recognised_without_connecting():
    assert _cluster.is_cluster(redis.cluster.RedisCluster.__new__(redis.cluster.RedisCluster))
    assert _cluster.is_cluster(redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=1))
    assert not _cluster.is_cluster(redis.Redis())
    assert not _cluster.is_cluster(redis.asyncio.Redis())


def test_a_redis_py_without_cluster_transactions_is_refused_per_face(monkeypatch):
    blocking = redis.cluster.RedisCluster.__new__(redis.cluster.RedisCluster)
    asyncio_client = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=1)
    monkeypatch.setattr(_cluster, "REDIS_PY_VERSION", (6, 1))
    _cluster.check_transactions(blocking, "this")  # 6.1 is enough for the blocking face
    with pytest.raises(RedisClusterError, match=r"from 6\.2 on in the asyncio face"):
        _cluster.check_transactions(asyncio_client, "this")
    monkeypatch.setattr(_cluster, "REDIS_PY_VERSION", (5, 0))
    with pytest.raises(RedisClusterError, match=r"from 6\.1 on in the blocking face"):
        _cluster.check_transactions(blocking, "this")
    _cluster.check_transactions(redis.Redis(), "this")  # a single Redis needs nothing more


def test_the_installed_redis_py_version_is_read():
    assert _cluster.REDIS_PY_VERSION == tuple(int(part) for part in redis.__version__.split(".")[:2])
