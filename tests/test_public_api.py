"""The public import paths of both faces, the error module and the packaging marker."""

from __future__ import annotations

import importlib.resources
import inspect
import os
import subprocess
import sys
import textwrap

import redis_pydantic
import redis_pydantic.base
import redis_pydantic.sync
from redis_pydantic import errors
from redis_pydantic._async.model import BaseRedisModel as AsyncModel
from redis_pydantic._sync.model import BaseRedisModel as SyncModel


def test_the_package_exports_the_asyncio_model():
    from redis_pydantic import BaseRedisModel

    assert BaseRedisModel is AsyncModel
    assert inspect.iscoroutinefunction(BaseRedisModel.save)
    assert inspect.iscoroutinefunction(BaseRedisModel.get)


def test_the_base_module_exports_the_asyncio_model():
    from redis_pydantic.base import BaseRedisModel

    assert BaseRedisModel is AsyncModel


def test_the_sync_module_exports_the_blocking_model():
    from redis_pydantic.sync import BaseRedisModel

    assert BaseRedisModel is SyncModel
    assert BaseRedisModel is not AsyncModel
    assert not inspect.iscoroutinefunction(BaseRedisModel.save)
    assert not inspect.iscoroutinefunction(BaseRedisModel.get)


def test_errors_are_importable_from_every_public_module():
    for name in errors.__all__:
        error = getattr(errors, name)
        assert getattr(redis_pydantic, name) is error
        assert getattr(redis_pydantic.sync, name) is error
        assert name in redis_pydantic.__all__
        assert name in redis_pydantic.sync.__all__


def test_the_package_ships_py_typed():
    assert importlib.resources.files("redis_pydantic").joinpath("py.typed").is_file()


def test_importing_the_package_creates_no_client():
    script = textwrap.dedent(
        """
        import redis, redis.asyncio

        made = []
        for cls in (redis.Redis, redis.asyncio.Redis):
            original = cls.__init__

            def init(self, *args, _original=original, **kwargs):
                made.append(type(self).__module__)
                _original(self, *args, **kwargs)

            cls.__init__ = init

        import redis_pydantic, redis_pydantic.base, redis_pydantic.sync
        from redis_pydantic._async import connection as async_connection
        from redis_pydantic._sync import connection as sync_connection

        class A(redis_pydantic.BaseRedisModel):
            name: str = ""

        class S(redis_pydantic.sync.BaseRedisModel):
            name: str = ""

        A(name="x"), S(name="x")
        assert made == [], made
        assert len(async_connection._defaults) == 0
        assert len(sync_connection._defaults) == 0
        sync_connection.default_client()
        assert made == ["redis.client"], made
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        # "no": the default client does not ask the (absent) server whether it is a cluster node.
        env={**os.environ, "REDIS_PYDANTIC_URL": "redis://127.0.0.1:1/0", "REDIS_PYDANTIC_CLUSTER": "no"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
