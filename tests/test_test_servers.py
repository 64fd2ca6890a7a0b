"""The test harness gives each backend the server and the protocol it claims."""

from __future__ import annotations

import os

import pytest
import redis

from tests import conftest
from tests.conftest import REAL_SERVER, real_client_options

EXPECTED_MAJOR = {"redis7": "7.", "redis8": "8."}


def client_info(url: str, **options: object) -> dict[str, str]:
    client = redis.Redis.from_url(url, **options)
    try:
        raw = client.execute_command("CLIENT", "INFO")
    finally:
        client.close()
    text = raw.decode() if isinstance(raw, bytes) else raw
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


@pytest.mark.skipif(
    bool(os.environ.get("REDIS_PYDANTIC_TEST_URL")), reason="REDIS_PYDANTIC_TEST_URL names the server"
)
def test_the_real_server_is_the_kind_asked_for(real_redis_url):
    client = redis.Redis.from_url(real_redis_url, decode_responses=True)
    try:
        version = client.info("server")["redis_version"]
        modules = {entry["name"] for entry in client.module_list()}
    finally:
        client.close()
    assert version.startswith(EXPECTED_MAJOR[REAL_SERVER])
    assert "ReJSON" in modules


@pytest.mark.parametrize(("backend", "resp"), [("real", "3"), ("real-resp2", "2")])
def test_each_real_backend_speaks_its_protocol(real_redis_url, backend, resp):
    assert client_info(real_redis_url, **real_client_options(backend))["resp"] == resp


def test_the_search_server_indexes_and_finds_json_documents(search_redis_url):
    client = redis.Redis.from_url(search_redis_url, decode_responses=True, protocol=2)
    try:
        client.flushdb()
        client.execute_command(
            "FT.CREATE",
            "idx:people",
            "ON",
            "JSON",
            "PREFIX",
            "1",
            "Person:",
            "SCHEMA",
            "$.age",
            "AS",
            "age",
            "NUMERIC",
        )
        client.execute_command("JSON.SET", "Person:1", "$", '{"age": 36}')
        client.execute_command("JSON.SET", "Person:2", "$", '{"age": 12}')
        found = client.execute_command("FT.SEARCH", "idx:people", "@age:[18 +inf]", "NOCONTENT")
        version = client.info("server")["redis_version"]
    finally:
        client.flushdb()
        client.close()
    assert found == [1, "Person:1"]
    assert version.startswith("8.")


@pytest.fixture
def recorded_unavailable():
    yield
    conftest._UNAVAILABLE.pop("test server", None)  # not a real outage: keep the summary quiet


def test_a_server_that_cannot_start_fails_under_ci(monkeypatch, recorded_unavailable):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs the test server: no binary"):
        conftest._unavailable("test server", "no binary")


def test_a_server_that_cannot_start_is_skipped_loudly_outside_ci(monkeypatch, recorded_unavailable):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"REAL REDIS BACKEND SKIPPED \(test server\): no binary"):
        conftest._unavailable("test server", "no binary")
    assert conftest._UNAVAILABLE["test server"] == "no binary"  # shouted again in the summary


@pytest.mark.parametrize(
    ("value", "backends"),
    [
        ("", ["real", "real-resp2", "fake"]),
        ("fake, real", ["real", "fake"]),
        ("real,real-resp2", ["real", "real-resp2"]),
    ],
)
def test_the_backends_of_a_run_are_the_ones_named(monkeypatch, value, backends):
    monkeypatch.setenv("REDIS_PYDANTIC_TEST_BACKENDS", value)
    assert conftest._chosen_backends() == backends


@pytest.mark.parametrize("value", ["real,redis", "real,real", "cluster"])
def test_an_unknown_or_repeated_backend_is_refused(monkeypatch, value):
    monkeypatch.setenv("REDIS_PYDANTIC_TEST_BACKENDS", value)
    with pytest.raises(pytest.UsageError, match="REDIS_PYDANTIC_TEST_BACKENDS"):
        conftest._chosen_backends()


def test_this_run_uses_the_backends_named():
    named = os.environ.get("REDIS_PYDANTIC_TEST_BACKENDS", "").strip()
    expected = [b for b in conftest.ALL_BACKENDS if not named or b in named.replace(" ", "").split(",")]
    assert conftest.BACKENDS == expected
