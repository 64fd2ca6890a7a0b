"""fakeredis clients that answer like a real RedisJSON server where fakeredis differs.

fakeredis drops the outer brackets of ``JSON.GET key <path>`` when a single ``$`` path matches
one array, which makes an empty list look like a missing path. These clients ask for the path
twice, which gets the unambiguous ``{path: [matches]}`` form, and answer ``[matches]`` as
RedisJSON does.
"""

from __future__ import annotations

import json
from typing import Any

import fakeredis

__all__ = ["FakeAsyncRedis", "FakeRedis"]


def _single_path_get(args: tuple[Any, ...]) -> bool:
    return len(args) == 3 and str(args[0]).upper() == "JSON.GET" and args[2] not in ("$", b"$")


def _as_redisjson(reply: Any, path: Any) -> Any:
    if reply is None:
        return None
    name = path if isinstance(path, str) else path.decode()
    if isinstance(reply, dict):  # already decoded by a response callback (after client.json())
        return reply.get(name)
    matches = json.loads(reply)[name]
    out = json.dumps(matches, separators=(",", ":"), ensure_ascii=False)
    return out.encode() if isinstance(reply, bytes) else out


class FakeAsyncRedis(fakeredis.FakeAsyncRedis):
    """``fakeredis.FakeAsyncRedis`` whose single-path ``JSON.GET`` replies match RedisJSON's."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if _single_path_get(args):
            return _as_redisjson(await super().execute_command(*args, args[2], **options), args[2])
        return await super().execute_command(*args, **options)


class FakeRedis(fakeredis.FakeRedis):
    """``fakeredis.FakeRedis`` whose single-path ``JSON.GET`` replies match RedisJSON's."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if _single_path_get(args):
            return _as_redisjson(super().execute_command(*args, args[2], **options), args[2])
        return super().execute_command(*args, **options)
