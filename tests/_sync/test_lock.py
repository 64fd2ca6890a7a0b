# This file is generated from tests/_async/test_lock.py by setup_unasync.py. Do not edit it by hand.
"""``model.lock()``: a Redis lock around a read-modify-write of one stored model."""

from __future__ import annotations

import time

import pytest
import redis.exceptions
from pydantic import BaseModel

from redis_pydantic._scripts import SAVE_AND_RELEASE
from redis_pydantic._sync import lock as lock_module
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import (
    FieldValidationError,
    InvalidArgumentError,
    KeyNotFoundError,
    LockInUseError,
    LockLostError,
    LockTimeoutError,
    PipelineError,
    RedisCommandError,
    RedisConnectionError,
    RedisPydanticError,
)
from tests._twins import sync_sleep

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Account(BaseRedisModel):
    name: str
    balance: int = 0
    transaction_count: int = 0
    tags: list[str] = []


def saved_account(**fields) -> Account:
    account = Account(name="Ada", balance=1000, **fields)
    account.save()
    return account


def lock_name(model, action: str = "default") -> str:
    """The documented name of a lock: the document key in braces, a slash, the action."""
    return "{" + model.key + "}/" + action


def refused_to_another_client(client, name: str) -> bool:
    """Whether another client taking the lock ``name`` now (SET NX, as redis-py's Lock does) is
    refused: the lock is held."""
    return client.execute_command("SET", name, "another-client", "NX", "PX", 1000) is None


def test_lock_key_exists_while_held_and_is_gone_after(client, stored):
    account = saved_account()
    lock_key = lock_name(account)
    with account.lock():
        assert stored.exists(lock_key)
    assert not stored.exists(lock_key)


def test_lock_with_an_action_uses_the_key_brace_model_key_brace_slash_action(client, stored):
    account = saved_account()
    with account.lock("transfer"):
        assert stored.exists("{Account:" + account.pk + "}/transfer")
        assert not stored.exists(lock_name(account))
    assert not stored.exists(lock_name(account, "transfer"))


#: pks that spell a lock name of the victim in the old ("<key>/<action>") or the new format.
def forged_pks(victim) -> list[str]:
    return [
        f"{victim.pk}/transfer",
        f"{victim.pk}}}/transfer",
        "{" + victim.key + "}/transfer",
        f"}}/transfer/{victim.key}",
    ]


def test_a_document_whose_pk_spells_a_lock_name_does_not_block_that_lock(client, stored):
    victim = saved_account()
    for pk in forged_pks(victim):
        forged = Account(pk=pk, name="Mallory")
        forged.save()
        assert forged.key != lock_name(victim, "transfer")
    with victim.lock("transfer", blocking_timeout=0.2) as locked:
        locked.balance = 1
    assert (stored.doc(victim.key))["balance"] == 1
    for pk in forged_pks(victim):
        assert (stored.doc(f"Account:{pk}"))["name"] == "Mallory"


def test_deleting_a_document_never_frees_a_held_lock(client, stored):
    victim = saved_account()
    for pk in forged_pks(victim):
        Account(pk=pk, name="Mallory").save()
    with victim.lock("transfer"):
        for pk in forged_pks(victim):
            assert Account.try_delete(f"Account:{pk}")
        assert refused_to_another_client(client, lock_name(victim, "transfer"))


@pytest.mark.parametrize("action", ["", "a/b", None])
def test_a_lock_action_that_cannot_name_a_lock_is_refused_and_locks_nothing(client, stored, action):
    account = saved_account()
    with pytest.raises(InvalidArgumentError, match="lock action"):
        with account.lock(action):
            pytest.fail("the body must not run")
    assert stored.keys("{*") == []


def test_lock_yields_the_model_itself(client, stored):
    account = saved_account()
    with account.lock() as locked:
        assert locked is account


def test_lock_lease_is_the_timeout(client, stored):
    account = saved_account()
    with account.lock(timeout=5.0):
        ttl = client.pttl(lock_name(account))
        assert 0 < ttl <= 5000


def test_lock_refreshes_the_model_from_redis_on_entry(client, stored):
    account = saved_account()
    other = Account.get(account.key)
    other.balance.set(7)
    other.tags.aappend("vip")
    with account.lock() as locked:
        assert locked.balance == 7
        assert locked.tags == ["vip"]


def test_lock_refresh_on_entry_is_one_round_trip(client, stored, monkeypatch):
    account = saved_account()
    calls = []
    original = client.execute_command

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    with account.lock():
        reads = [c for c in calls if str(c[0]).upper().startswith("JSON.")]
        assert reads == [("JSON.GET", account.key, "$")]


def test_lock_saves_the_changed_fields_on_exit_and_releases(client, stored):
    account = saved_account()
    with account.lock() as locked:
        locked.balance -= 50
        locked.transaction_count += 1
        assert (stored.doc(account.key))["balance"] == 1000
    assert stored.doc(account.key) == {
        "name": "Ada",
        "balance": 950,
        "transaction_count": 1,
        "tags": [],
    }
    assert not stored.exists(lock_name(account))


def test_lock_exit_writes_only_changed_fields_so_concurrent_change_to_another_field_survives(client, stored):
    account = saved_account(tags=["a"])
    other = Account.get(account.key)
    with account.lock() as locked:
        locked.balance = 1
        other.tags.aappend("from-other")
    assert stored.doc(account.key) == {
        "name": "Ada",
        "balance": 1,
        "transaction_count": 0,
        "tags": ["a", "from-other"],
    }


def test_lock_body_raising_saves_nothing_releases_and_propagates(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    with pytest.raises(ValueError, match="boom"):
        with account.lock() as locked:
            locked.balance = 0
            locked.name = "Changed"
            raise ValueError("boom")
    assert stored.doc(account.key) == before
    assert account.model_dump(mode="json") == before  # nothing saved: the model was read again
    assert not stored.exists(lock_name(account))


def test_lock_waiting_longer_than_blocking_timeout_raises_lock_timeout_error(client, stored):
    account = saved_account()
    # Held by another process: its token, with a lease longer than the wait.
    client.execute_command("SET", lock_name(account), "another-process", "PX", 30000)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as raised:
        with account.lock(blocking_timeout=0.2):
            pytest.fail("the lock is held by another process")
    assert time.monotonic() - started < 3
    assert isinstance(raised.value, TimeoutError)
    assert isinstance(raised.value, RedisPydanticError)
    held = client.execute_command("GET", lock_name(account))
    assert held in (b"another-process", "another-process")  # untouched


def test_a_block_nested_in_one_of_the_same_action_raises_at_once_instead_of_waiting_for_itself(
    client, stored
):
    account = saved_account()
    other = Account.get(account.key)  # another instance of the same document
    with pytest.raises(LockInUseError, match="would wait for itself"):
        with account.lock("transfer") as locked:
            locked.balance = 1
            # Without the check this would wait the whole blocking_timeout, then raise
            # LockTimeoutError: the lock it waits for is its own block's.
            with other.lock("transfer", blocking_timeout=30):
                pytest.fail("the nested block must not open")
    assert (stored.doc(account.key))["balance"] == 1000  # the outer block raised: nothing written
    assert not stored.exists(lock_name(account, "transfer"))
    with other.lock("transfer") as locked:  # once the first block has ended
        locked.balance = 5
    assert (stored.doc(account.key))["balance"] == 5


def test_lock_on_a_different_action_does_not_wait(client, stored):
    account = saved_account()
    other = Account.get(account.key)
    with account.lock("transfer"):
        with other.lock("audit", blocking_timeout=0.2) as locked:
            locked.transaction_count = 5
    assert (stored.doc(account.key))["transaction_count"] == 5


def test_lock_body_longer_than_the_lease_keeps_the_lock_when_extend_is_true(client, stored):
    account = saved_account()
    # Renewed every 0.4 s: a busy machine may stall this process for up to 0.8 s without the
    # lease running out, and the body still outlives the lease it started with.
    with account.lock(timeout=1.2) as locked:
        sync_sleep(1.6)
        assert refused_to_another_client(client, lock_name(account))
        locked.balance = 42
    assert (stored.doc(account.key))["balance"] == 42
    assert not stored.exists(lock_name(account))


def test_lock_body_longer_than_the_lease_without_extend_raises_lock_lost_and_saves_nothing(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    with pytest.raises(LockLostError):
        with account.lock(timeout=0.2, extend=False) as locked:
            locked.balance = 0
            sync_sleep(0.5)
    assert stored.doc(account.key) == before
    assert account.model_dump(mode="json") == before  # nothing saved: the model was read again
    assert not stored.exists(lock_name(account))


def test_lock_taken_by_another_holder_raises_lock_lost_and_saves_nothing(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    lock_key = lock_name(account)
    thief = client.lock(lock_key, timeout=10)
    with pytest.raises(LockLostError):
        with account.lock(timeout=0.2, extend=False) as locked:
            locked.balance = 0
            sync_sleep(0.5)
            assert thief.acquire(blocking=False)
    assert stored.doc(account.key) == before
    assert account.model_dump(mode="json") == before  # nothing saved: the model was read again
    # The other holder still owns its lock: releasing it checks its token.
    assert stored.exists(lock_key)
    thief.release()
    assert not stored.exists(lock_key)


def test_lock_overwritten_while_extending_raises_lock_lost_and_saves_nothing(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    lock_key = lock_name(account)
    with pytest.raises(LockLostError):
        with account.lock(timeout=0.3) as locked:
            locked.balance = 0
            client.set(lock_key, "someone-else", px=10000)
            sync_sleep(0.5)
    assert stored.doc(account.key) == before
    assert account.model_dump(mode="json") == before  # nothing saved: the model was read again
    assert stored.exists(lock_key)


def test_lock_on_a_missing_document_raises_key_not_found_and_releases(client, stored):
    account = Account(name="Ghost")
    with pytest.raises(KeyNotFoundError):
        with account.lock():
            pytest.fail("the body must not run")
    assert not stored.exists(lock_name(account))
    assert not stored.exists(account.key)


def test_lock_field_ops_inside_the_body_go_to_redis_immediately(client, stored):
    account = saved_account()
    with account.lock() as locked:
        locked.tags.aappend("now")
        assert (stored.doc(account.key))["tags"] == ["now"]
    assert (stored.doc(account.key))["tags"] == ["now"]


def test_a_save_that_cannot_reach_redis_on_exit_still_frees_the_lock(client, stored, monkeypatch):
    account = saved_account()
    before = stored.doc(account.key)
    original = lock_module.execute

    def unreachable(redis_client, command, *options):
        if getattr(command, "script", None) is SAVE_AND_RELEASE:
            raise redis.exceptions.ConnectionError("the connection dropped")
        return original(redis_client, command, *options)

    monkeypatch.setattr(lock_module, "execute", unreachable)
    with pytest.raises(RedisConnectionError, match="the connection dropped"):
        with account.lock() as locked:
            locked.balance = 1
    # Whether the save ran is unknown, so the lock is released if it is still ours: it does not
    # stay held until its lease runs out.
    assert not stored.exists(lock_name(account))
    assert stored.doc(account.key) == before


def test_lock_exit_refusing_an_invalid_value_leaves_the_model_as_redis_holds_it(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    with pytest.raises(FieldValidationError):
        with account.lock() as locked:
            locked.name = "Changed"
            locked.balance = "not a number"
    assert stored.doc(account.key) == before
    assert account.model_dump(mode="json") == before
    assert not stored.exists(lock_name(account))


def test_lock_inside_a_pipeline_is_refused_and_locks_nothing(client, stored):
    account = saved_account()
    before = stored.doc(account.key)
    with pytest.raises(PipelineError, match="lock\\(\\) cannot be used inside pipeline"):
        with account.pipeline():
            account.name.set("queued")
            with account.lock() as locked:
                locked.balance = 7
    assert stored.doc(account.key) == before
    assert not stored.exists(lock_name(account))


def test_a_pipeline_inside_a_lock_is_sent_before_the_lock_exit(client, stored):
    account = saved_account()
    with account.lock() as locked:
        with locked.pipeline():
            locked.tags.aappend("queued")
            locked.transaction_count.set(3)
        locked.balance = 7
    held = stored.doc(account.key)
    assert held["tags"] == ["queued"] and held["transaction_count"] == 3 and held["balance"] == 7
    assert account.model_dump(mode="json") == held


class Bio(BaseModel):
    text: str = ""


class Member(BaseRedisModel):
    bio: Bio | None = Bio()
    name: str = "m"


def test_lock_exit_into_a_nested_model_another_client_set_to_null_raises_and_writes_nothing(client, stored):
    member = Member()
    member.save()
    with pytest.raises(RedisCommandError, match=r"\$\.bio\.text cannot be written"):
        with member.lock() as locked:
            client.execute_command("JSON.SET", member.key, "$.bio", "null")
            locked.bio.text = "mine"
            locked.name = "also mine"
    assert stored.doc(member.key) == {"bio": None, "name": "m"}  # nothing written
    assert member.bio is None and member.name == "m"  # read again: what Redis holds
    assert not stored.exists(lock_name(member))


def test_a_second_lock_block_open_on_the_same_instance_raises_and_changes_nothing(client, stored):
    account = saved_account()
    with pytest.raises(LockInUseError, match="another lock\\(\\) block is open"):
        with account.lock("transfer") as locked:
            locked.balance = 1
            with account.lock("audit") as again:
                again.name = "never"
    assert (stored.doc(account.key))["name"] == "Ada"
    assert (stored.doc(account.key))["balance"] == 1000  # the outer block raised: nothing written
    assert not stored.exists(lock_name(account, "transfer"))
    assert not stored.exists(lock_name(account, "audit"))
    with account.lock("audit") as locked:  # once the first block has ended
        locked.name = "later"
    assert (stored.doc(account.key))["name"] == "later"
