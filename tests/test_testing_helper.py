"""redis_pydantic.testing, used the way an application's own test suite uses it."""

from __future__ import annotations

import textwrap

import pytest
import redis

import redis_pydantic
import redis_pydantic.sync
from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from redis_pydantic.testing import fake_async_client, fake_sync_client, use_fake_redis

pytest_plugins = ["pytester"]


class AsyncCart(redis_pydantic.BaseRedisModel):
    items: list[str] = []
    total: int = 0


class SyncCart(redis_pydantic.sync.BaseRedisModel):
    items: list[str] = []
    total: int = 0


class Elsewhere(redis_pydantic.sync.BaseRedisModel):
    name: str = ""

    class Meta:
        # A port nothing listens on: reaching it would fail, so the test proves the redirect.
        redis = redis.Redis(port=1, socket_connect_timeout=0.2)


def test_use_fake_redis_serves_the_blocking_face():
    with use_fake_redis() as fake:
        cart = SyncCart()
        cart.save()
        cart.items.aappend("lamp")
        assert cart.total.aincrease(3) == 3
        assert SyncCart.get(cart.key).items == ["lamp"]
        assert fake.sync_client.exists(cart.key) == 1


async def test_use_fake_redis_serves_the_asyncio_face():
    with use_fake_redis() as fake:
        cart = AsyncCart()
        await cart.save()
        await cart.items.aappend("lamp")
        assert (await AsyncCart.get(cart.key)).items == ["lamp"]
        assert await fake.async_client.exists(cart.key) == 1
        assert fake.sync_client.exists(cart.key) == 1  # both clients share one fake server


def test_use_fake_redis_overrides_a_model_meta_client():
    with use_fake_redis() as fake:
        model = Elsewhere(name="x")
        model.save()
        assert fake.sync_client.exists(model.key) == 1


def test_use_fake_redis_restores_the_previous_clients_and_drops_the_data():
    before = (async_connection.override_client(None), sync_connection.override_client(None))
    async_connection.override_client(before[0])
    sync_connection.override_client(before[1])
    with use_fake_redis() as first:
        cart = SyncCart()
        cart.save()
        key = cart.key
    assert async_connection._override is before[0]
    assert sync_connection._override is before[1]
    with use_fake_redis() as second:
        assert second.server is not first.server
        assert second.sync_client.exists(key) == 0


def test_use_fake_redis_passes_client_options_to_both_clients():
    with use_fake_redis(decode_responses=True) as fake:
        cart = SyncCart(items=["b\xe9cher"])
        cart.save()
        assert isinstance(fake.sync_client.execute_command("JSON.GET", cart.key, "$"), str)
        assert SyncCart.get(cart.key).items == ["b\xe9cher"]


def test_flush_empties_the_fake_server():
    with use_fake_redis() as fake:
        SyncCart().save()
        fake.flush()
        assert fake.sync_client.dbsize() == 0


def test_fake_clients_can_share_a_server():
    first = fake_sync_client()
    second = fake_sync_client(server=first.connection_pool.connection_kwargs["server"])
    first.set("k", "v")
    assert second.get("k") == b"v"
    assert fake_async_client() is not None


def test_the_fixture_isolates_each_test(redis_pydantic_fake):
    assert redis_pydantic_fake.sync_client.dbsize() == 0
    SyncCart().save()
    assert redis_pydantic_fake.sync_client.dbsize() == 1


def test_the_fixture_isolates_each_test_again(redis_pydantic_fake):
    assert redis_pydantic_fake.sync_client.dbsize() == 0


async def test_the_fixture_works_in_async_tests(redis_pydantic_fake):
    cart = AsyncCart()
    await cart.items.aextend(["a", "b"])  # never saved: the first write creates the document
    assert await redis_pydantic_fake.async_client.exists(cart.key) == 1


@pytest.mark.parametrize("face", ["redis_pydantic", "redis_pydantic.sync"])
def test_an_application_suite_gets_the_fixture_from_the_installed_plugin(pytester, face):
    # A separate pytest run, as in an application that only installed the package: the
    # fixture comes from the pytest11 entry point, with nothing in conftest.py.
    is_async = face == "redis_pydantic"
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    aw = "await " if is_async else ""
    pytester.makepyfile(
        test_app=textwrap.dedent(
            f"""
            from {face} import BaseRedisModel

            class Note(BaseRedisModel):
                text: str

            {"async " if is_async else ""}def test_save_then_get(redis_pydantic_fake):
                note = Note(text="hello")
                {aw}note.save()
                assert ({aw}Note.get(note.key)).text == "hello"

            {"async " if is_async else ""}def test_each_test_starts_empty(redis_pydantic_fake):
                client = redis_pydantic_fake.{"async_client" if is_async else "sync_client"}
                assert ({aw}client.dbsize()) == 0
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
