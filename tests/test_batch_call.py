"""How a batch of commands becomes one call of the batch script (no Redis needed)."""

from __future__ import annotations

from redis_pydantic._scripts import (
    BATCH,
    CREATE,
    DICT_OPS,
    MAX_BATCH_COMMAND_ARGS,
    SAVE_AND_RELEASE,
    ScriptCall,
    batch_call,
)


def test_commands_are_written_as_their_length_then_their_arguments():
    call = batch_call(
        [
            ("JSON.SET", "A:1", "$.name", b'"x"'),
            ScriptCall(DICT_OPS, ("A:1",), ("set", "$.meta", "k", b'"v"')),
            ("DEL", "A:2"),
        ]
    )
    assert call is not None and call.script is BATCH
    assert call.keys == ("A:1", "A:2")
    assert call.args == (
        *(4, "JSON.SET", "A:1", "$.name", b'"x"'),
        *(7, "@dict_ops", 1, "A:1", "set", "$.meta", "k", b'"v"'),
        *(2, "DEL", "A:2"),
    )


def test_every_key_of_a_json_mset_is_declared_once():
    call = batch_call([("JSON.MSET", "A:1", "$", b"{}", "A:2", "$", b"{}", "A:1", "$.n", b"1")])
    assert call is not None and call.keys == ("A:1", "A:2")


def test_a_command_longer_than_lua_can_unpack_leaves_the_batch_to_multi_exec():
    longest = ("JSON.MSET", *("k", "$", b"{}") * ((MAX_BATCH_COMMAND_ARGS - 1) // 3))
    assert len(longest) == MAX_BATCH_COMMAND_ARGS
    assert batch_call([longest]) is not None
    assert batch_call([(*longest, "k", "$", b"{}")]) is None


def test_a_script_the_batch_does_not_contain_leaves_the_batch_to_multi_exec():
    assert batch_call([ScriptCall(SAVE_AND_RELEASE, ("lock", "doc"), ("token",))]) is None


def test_the_batch_script_contains_the_scripts_it_dispatches_to():
    assert "local function dict_ops(KEYS, ARGV)" in BATCH.source
    assert "['@dict_ops'] = dict_ops" in BATCH.source


def test_every_key_of_json_mget_and_del_is_declared():
    call = batch_call([("JSON.MGET", "A:1", "A:2", "$"), ("DEL", "A:3", "A:1"), ("PEXPIRE", "A:4", 10)])
    assert call is not None and call.keys == ("A:1", "A:2", "A:3", "A:4")


def test_the_create_script_runs_inside_the_batch():
    call = batch_call([ScriptCall(CREATE, ("A:1",), (b"{}", 1000)), ("JSON.SET", "A:1", "$.n", b"1")])
    assert call is not None and call.keys == ("A:1",)
    assert call.args[:6] == (5, "@create", 1, "A:1", b"{}", 1000)
    assert "['@create'] = create" in BATCH.source
