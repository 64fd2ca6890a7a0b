"""Lock keys: never a document key, and always in the document's Redis Cluster hash slot.

Slots are checked against a real cluster-enabled server (``CLUSTER KEYSLOT``), so the hash tag
rules are Redis's own, not our reading of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from redis_pydantic import _paths
from redis_pydantic.errors import InvalidArgumentError
from redis_pydantic.sync import BaseRedisModel

#: Document keys that a pk (or a prefix) with braces can produce: no tag, a tag in the prefix,
#: a tag made by the pk, an empty tag, a "}" before any "{", unclosed braces, non-ASCII text.
TRICKY_KEYS = [
    "Account:0123abcd",
    "Account:victim/transfer",
    "Account:a}b",
    "Account:}",
    "Account:{}x}",
    "Account:{}",
    "Account:{a}}",
    "Account:a{b",
    "Account:{x}/transfer",
    "Account:{{x}}",
    "app:{tenant}:Account:1",
    "app:{tenant}:Account:}{",
    "Compte:é}ü{",
    "Account:slot-1}",
]


@pytest.fixture(scope="module")
def keyslot(cluster_node_url: str) -> Iterator[redis.Redis]:
    """A client of a cluster-mode server, which answers CLUSTER KEYSLOT."""
    client = redis.Redis.from_url(cluster_node_url)
    try:
        yield client
    finally:
        client.close()


def server_slots(client: redis.Redis, keys: list[str]) -> list[int]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("CLUSTER", "KEYSLOT", key)
    return [int(slot) for slot in pipe.execute()]


@pytest.mark.parametrize("action", ["default", "transfer", "{x}", "a}b"])
def test_a_lock_key_is_in_the_slot_of_its_document(keyslot, action):
    locks = [_paths.lock_key_for(key, action) for key in TRICKY_KEYS]
    assert server_slots(keyslot, locks) == server_slots(keyslot, TRICKY_KEYS)


def test_the_local_slot_computation_agrees_with_redis(keyslot):
    keys = TRICKY_KEYS + [_paths.lock_key_for(key, "default") for key in TRICKY_KEYS]
    assert [_paths.hash_slot(key) for key in keys] == server_slots(keyslot, keys)


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.text(st.sampled_from("Ab:{}/é"), min_size=1, max_size=6).filter(lambda p: p[0] != "{"),
    pk=st.text(st.sampled_from("xy{}/:é"), min_size=1, max_size=8),
)
def test_any_document_key_gets_a_lock_key_in_its_slot(keyslot, prefix, pk):
    key = f"{prefix}:{pk}"
    lock = _paths.lock_key_for(key, "transfer")
    assert server_slots(keyslot, [lock]) == server_slots(keyslot, [key])
    assert lock.startswith("{")  # a document key never does: see the prefix rule
    assert lock != key


def test_a_plain_document_key_gives_the_documented_name():
    assert _paths.lock_key_for("Account:0123abcd", "transfer") == "{Account:0123abcd}/transfer"


def test_a_document_key_with_its_own_hash_tag_keeps_that_tag():
    assert _paths.lock_key_for("app:{tenant}:Account:1", "audit") == "{tenant}/audit/app:{tenant}:Account:1"


@settings(max_examples=200, deadline=None)
@given(
    first=st.tuples(st.text(st.sampled_from("Ab:{}/"), min_size=1, max_size=8), st.text("ab{}", min_size=1)),
    second=st.tuples(st.text(st.sampled_from("Ab:{}/"), min_size=1, max_size=8), st.text("ab{}", min_size=1)),
)
def test_two_different_locks_never_share_a_key(first, second):
    if first != second:
        assert _paths.lock_key_for(*first) != _paths.lock_key_for(*second)


@pytest.mark.parametrize("action", ["", "a/b", "/", None, 3])
def test_a_lock_action_must_be_a_non_empty_str_without_a_slash(action):
    with pytest.raises(InvalidArgumentError, match="lock action"):
        _paths.check_lock_action(action)


def test_a_key_prefix_starting_with_a_brace_is_refused_at_class_definition():
    with pytest.raises(InvalidArgumentError, match="key_prefix") as raised:

        class Forged(BaseRedisModel):
            name: str = ""

            class Meta:
                key_prefix = "{Account"

    assert isinstance(raised.value, ValueError)


def test_a_key_prefix_may_hold_a_hash_tag_after_its_first_character():
    class Tenant(BaseRedisModel):
        name: str = ""

        class Meta:
            key_prefix = "app:{tenant}:Account"

    model = Tenant(pk="1")
    assert model.key == "app:{tenant}:Account:1"
    assert _paths.hash_slot(_paths.lock_key_for(model.key, "default")) == _paths.hash_slot("{tenant}")
