"""The quick-start scripts in examples/ run on both backends and say which one they used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("quickstart_*.py"))


def run_example(path: Path, url: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_PYDANTIC_URL"}
    if url:
        env["REDIS_PYDANTIC_URL"] = url
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_example_runs_on_the_fake_redis_and_says_so(path):
    lines = run_example(path, None)
    assert lines[0].startswith("backend: an in-process fake Redis (fakeredis)")
    assert "name only: Ada Lovelace" in lines
    assert lines[-1] == "visits: 11"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_example_runs_on_a_real_server_and_says_so(path, real_redis_url):
    client = redis.Redis.from_url(real_redis_url)
    client.flushdb()
    try:
        lines = run_example(path, real_redis_url)
        assert lines[0] == f"backend: the Redis server at {real_redis_url} (REDIS_PYDANTIC_URL)"
        assert lines[-1] == "visits: 11"
        assert client.keys("User:*") == []  # the example deletes its user at the end
    finally:
        client.close()
