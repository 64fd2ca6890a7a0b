"""``lock()`` when Redis misbehaves: stalls, a stopped server, and many short-lived locks.

Each test starts its own server (``fault_server``), so stalling or stopping it disturbs no other
test.
"""

from __future__ import annotations

import gc
import sys
import time

import pytest

from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._lease import AsyncLeaseKeeper
from redis_pydantic.errors import LockLostError, LockReleaseError, RedisConnectionError
from tests._twins import AsyncRedis, async_sleep
from tests.conftest import installed
from tests.faults import stall


class Account(BaseRedisModel):
    name: str
    balance: int = 0


async def test_a_renewal_that_times_out_is_tried_again_until_the_lock_is_kept(fault_server):
    client = AsyncRedis.from_url(fault_server.url, socket_timeout=0.15)
    try:
        with installed(connection, client):
            account = Account(name="Ada")
            await account.save()
            started = time.monotonic()
            async with account.lock(timeout=0.9) as locked:  # renewed every 0.3 s
                # The renewal due at 0.3 s times out; the server still runs it when it wakes up
                # (at 0.6 s), which keeps the lease until 1.5 s. Only renewals tried after the
                # failed one keep it beyond.
                stall(fault_server.url, 0.5)
                await async_sleep(1.9 - (time.monotonic() - started))
                locked.balance = 7
            assert (await Account.get(account.key)).balance == 7
    finally:
        await client.aclose()


async def test_a_stalled_server_does_not_delay_the_renewals_of_locks_on_another_server(
    fault_server, real_redis_url
):
    healthy_client = AsyncRedis.from_url(real_redis_url)
    stalled_client = AsyncRedis.from_url(fault_server.url)

    class OnHealthy(BaseRedisModel):
        name: str

        class Meta:
            redis = healthy_client

    class OnStalled(BaseRedisModel):
        name: str

        class Meta:
            redis = stalled_client

    healthy, stalled = OnHealthy(name="healthy"), OnStalled(name="stalled")
    try:
        with installed(connection, None):
            await healthy.save()
            await stalled.save()
            # The stalled server cannot keep its own lease: it sleeps longer than the lease.
            with pytest.raises(LockLostError):
                async with stalled.lock(timeout=0.6):
                    async with healthy.lock(timeout=0.6) as locked:  # renewed every 0.2 s
                        stall(fault_server.url, 1.0)  # the other lock's renewal hangs meanwhile
                        await async_sleep(1.2)
                        locked.name = "kept"
            assert (await OnHealthy.get(healthy.key)).name == "kept"
    finally:
        await healthy_client.delete(healthy.key)
        await healthy_client.aclose()
        await stalled_client.aclose()


async def test_a_released_lock_leaves_nothing_queued_for_renewal(real_async_client):
    account = Account(name="Ada")
    await account.save()
    for _ in range(300):
        async with account.lock(timeout=3600):
            pass
    gc.collect()
    # A released lock once stayed queued until its next renewal was due: 20 minutes here.
    assert [obj for obj in gc.get_objects() if type(obj) is AsyncLeaseKeeper] == []


async def test_a_failed_release_after_the_block_raised_keeps_the_blocks_exception(fault_server):
    client = AsyncRedis.from_url(fault_server.url)
    try:
        with installed(connection, client):
            account = Account(name="Ada")
            await account.save()
            with pytest.raises(ValueError, match="boom") as raised:
                async with account.lock(timeout=5):
                    fault_server.stop()  # Redis goes away: the release cannot reach it
                    raise ValueError("boom")
    finally:
        await client.aclose()
    release_error = raised.value.lock_release_error
    assert isinstance(release_error, LockReleaseError)
    assert release_error.lock_key == "{" + account.key + "}/default"
    assert isinstance(release_error.__cause__, RedisConnectionError)
    if sys.version_info >= (3, 11):
        assert any("could not be released" in note for note in raised.value.__notes__)
