# This file is generated from tests/_async/test_errors.py by setup_unasync.py. Do not edit it by hand.
"""Errors at the edges: unstorable field types, a server without JSON, an unreachable server."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from redis_pydantic import errors
from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import (
    RedisConnectionError,
    RedisJSONNotAvailableError,
    RedisPydanticError,
    UnsupportedFieldTypeError,
)
from tests._twins import SyncRedis
from tests.redis_server import free_port

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Opaque:
    """A class pydantic can hold (arbitrary_types_allowed) but cannot write as JSON."""


class Note(BaseRedisModel):
    text: str = ""


@pytest.fixture
def use_client():
    """Install clients made by the test as every model's client; close them afterwards."""
    made = []
    previous = connection.override_client(None)

    def install(redis_client):
        made.append(redis_client)
        connection.override_client(redis_client)
        return redis_client

    try:
        yield install
    finally:
        connection.override_client(previous)
        for redis_client in made:
            redis_client.close()


# -- unsupported field types --------------------------------------------------------------------


def test_a_field_type_that_cannot_be_stored_is_refused_at_class_definition():
    with pytest.raises(UnsupportedFieldTypeError, match=r"Holder\.thing") as caught:

        class Holder(BaseRedisModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            name: str = ""
            thing: Opaque

    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, RedisPydanticError)


@pytest.mark.parametrize("setting", ["ser_json_bytes", "val_json_bytes"])
def test_a_config_that_stores_bytes_other_than_as_base64_is_refused_at_class_definition(setting):
    with pytest.raises(UnsupportedFieldTypeError, match=setting):

        class Blob(BaseRedisModel):
            model_config = ConfigDict(**{setting: "hex"})
            data: bytes = b""


def test_an_unstorable_type_inside_a_container_is_refused():
    with pytest.raises(UnsupportedFieldTypeError, match=r"Shelf\.things"):

        class Shelf(BaseRedisModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            things: list[Opaque] = []


def test_an_unstorable_type_inside_a_nested_model_is_refused():
    class Inner(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        thing: Opaque | None = None

    with pytest.raises(UnsupportedFieldTypeError, match=r"thing"):

        class Outer(BaseRedisModel):
            inner: Inner = Inner()


# -- a server without the JSON module -----------------------------------------------------------


def assert_json_module_message(error):
    message = str(error)
    assert "rejson.so" in message
    assert "Redis Stack" in message
    assert "Redis 8" in message
    assert isinstance(error, RedisPydanticError)


def test_save_on_a_server_without_json_raises_json_not_available(plain_redis_url, use_client):
    use_client(SyncRedis.from_url(plain_redis_url))
    with pytest.raises(RedisJSONNotAvailableError) as caught:
        Note(text="x").save()
    assert_json_module_message(caught.value)


def test_get_on_a_server_without_json_raises_json_not_available(plain_redis_url, use_client):
    use_client(SyncRedis.from_url(plain_redis_url, decode_responses=True))
    with pytest.raises(RedisJSONNotAvailableError) as caught:
        Note.get("Note:x")
    assert_json_module_message(caught.value)


def test_field_set_on_a_server_without_json_raises_json_not_available(plain_redis_url, use_client):
    use_client(SyncRedis.from_url(plain_redis_url))
    with pytest.raises(RedisJSONNotAvailableError) as caught:
        Note().text.set("x")
    assert_json_module_message(caught.value)


def test_a_pipeline_on_a_server_without_json_raises_and_applies_nothing(plain_redis_url, use_client):
    client = SyncRedis.from_url(plain_redis_url)
    use_client(client)
    client.set("Note:other", "kept")
    note = Note()
    with pytest.raises(RedisJSONNotAvailableError) as caught:
        with note.pipeline():
            note.delete("Note:other")  # a plain command first, then JSON commands
            note.text.set("x")
    assert_json_module_message(caught.value)
    assert client.get("Note:other") == b"kept"
    client.delete("Note:other")


# -- an unreachable server ----------------------------------------------------------------------


def unreachable_url():
    port = free_port()
    return port, f"redis://user:s3cret@127.0.0.1:{port}/0"


def test_an_unreachable_server_raises_redis_connection_error(use_client):
    port, url = unreachable_url()
    use_client(SyncRedis.from_url(url))
    with pytest.raises(RedisConnectionError) as caught:
        Note(text="x").save()
    error = caught.value
    assert isinstance(error, ConnectionError)
    assert isinstance(error, RedisPydanticError)
    assert f"127.0.0.1:{port}" in str(error)
    assert "s3cret" not in str(error)
    assert "s3cret" not in repr(error)


def test_every_operation_maps_connection_failures(use_client):
    port, url = unreachable_url()
    use_client(SyncRedis.from_url(url, decode_responses=True))
    note = Note()
    attempts = [
        lambda: Note.get("Note:x"),
        lambda: Note.try_delete("Note:x"),
        lambda: note.text.set("x"),
        lambda: note.text.load(),
        lambda: note.load(),
        lambda: note.delete(),
    ]
    for attempt in attempts:
        with pytest.raises(RedisConnectionError) as caught:
            attempt()
        assert f"127.0.0.1:{port}" in str(caught.value)
        assert "s3cret" not in str(caught.value)


def test_mask_url_hides_the_password():
    assert errors.mask_url("redis://user:s3cret@host:1/0") == "redis://user:***@host:1/0"
    assert errors.mask_url("rediss://:s3cret@host:1") == "rediss://:***@host:1"
    assert errors.mask_url("redis://host:1/0") == "redis://host:1/0"


# -- the exception hierarchy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (errors.KeyNotFoundError, KeyError),
        (errors.WrongModelKeyError, ValueError),
        (errors.FieldValidationError, TypeError),
        (errors.UnsupportedFieldTypeError, TypeError),
        (errors.FieldNotLoadedError, AttributeError),
        (errors.RedisConnectionError, ConnectionError),
        (errors.LockTimeoutError, TimeoutError),
    ],
)
def test_library_errors_are_also_the_matching_builtin(error, builtin):
    assert issubclass(error, builtin)
    assert issubclass(error, RedisPydanticError)


def test_every_public_error_derives_from_redis_pydantic_error():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), RedisPydanticError)


def test_key_not_found_message_is_not_quoted_like_a_key_error():
    error = errors.KeyNotFoundError("User:x")
    assert str(error) == "no document is stored at key 'User:x'"
    assert error.key == "User:x"
