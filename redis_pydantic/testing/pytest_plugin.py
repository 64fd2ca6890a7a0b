"""pytest plugin of redis-pydantic: the ``redis_pydantic_fake`` fixture.

It is registered through the ``pytest11`` entry point and only acts in tests that request the
fixture. Each such test gets a new, empty in-process fake server that every model (asyncio and
blocking) uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from redis_pydantic.testing import FakeRedis, use_fake_redis


@pytest.fixture
def redis_pydantic_fake() -> Iterator[FakeRedis]:
    """Point every redis-pydantic model at a fresh in-process fake Redis for this test."""
    with use_fake_redis() as fake:
        yield fake
