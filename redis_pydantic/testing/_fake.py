"""fakeredis clients that answer like a real RedisJSON server where fakeredis differs.

- fakeredis drops the outer brackets of ``JSON.GET key <path>`` when a single ``$`` path matches
  one array, which makes an empty list look like a missing path. These clients ask for the path
  twice, which gets the unambiguous ``{path: [matches]}`` form, and answer ``[matches]`` as
  RedisJSON does; inside the library's batch script too.
- fakeredis cannot name the type of a JSON key (``TYPE`` fails), so ``SCAN ... TYPE ReJSON-RL``
  fails as soon as it meets one. These clients scan without ``TYPE`` and keep the JSON keys.
"""

from __future__ import annotations

import json
from typing import Any

import fakeredis
import redis.exceptions

from redis_pydantic._scripts import BATCH

__all__ = ["FakeAsyncRedis", "FakeRedis"]

_JSON_TYPE = b"rejson-rl"


def _single_path_get(args: tuple[Any, ...] | list[Any]) -> bool:
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _json_scan(args: tuple[Any, ...]) -> list[Any] | None:
    """``SCAN`` arguments without ``TYPE ReJSON-RL``, when they ask for that type."""
    if not args or _text(args[0]).upper() != "SCAN":
        return None
    for i in range(2, len(args) - 1):
        if _text(args[i]).upper() == "TYPE" and _text(args[i + 1]).lower() == _JSON_TYPE.decode():
            return [*args[:i], *args[i + 2 :]]
    return None


def _batch_call(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[tuple[int, Any]]] | None:
    """A call of the library's batch script with its single-path JSON.GET commands asking for
    their path twice, and the positions (and paths) of their replies; ``None`` for other calls."""
    if len(args) < 3 or _text(args[0]).upper() not in ("EVALSHA", "EVAL"):
        return None
    if _text(args[1]) not in (BATCH.sha, BATCH.source):
        return None
    start = 3 + int(args[2])
    argv = args[start:]
    out: list[Any] = []
    fixed: list[tuple[int, Any]] = []
    i = index = 0
    while i < len(argv):
        count = int(argv[i])
        command = list(argv[i + 1 : i + 1 + count])
        if _single_path_get(command):
            fixed.append((index, command[2]))
            command.append(command[2])
        out += (len(command), *command)
        i += count + 1
        index += 1
    if not fixed:
        return None
    return (*args[:start], *out), fixed


def _fix_batch_reply(reply: Any, fixed: list[tuple[int, Any]]) -> Any:
    for index, path in fixed:
        if not isinstance(reply[index], Exception):
            reply[index] = _as_redisjson(reply[index], path)
    return reply


def _is_json(kind: Any) -> bool:
    return _text(kind).lower() == _JSON_TYPE.decode()


class FakeAsyncRedis(fakeredis.FakeAsyncRedis):
    """``fakeredis.FakeAsyncRedis`` whose JSON replies and JSON scans match RedisJSON's."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if _single_path_get(args):
            return _as_redisjson(await super().execute_command(*args, args[2], **options), args[2])
        scan = _json_scan(args)
        if scan is not None:
            cursor, keys = await super().execute_command(*scan, **options)
            return cursor, [key for key in keys if await self._is_json_key(key)]
        batch = _batch_call(args)
        if batch is not None:
            return _fix_batch_reply(await super().execute_command(*batch[0], **options), batch[1])
        return await super().execute_command(*args, **options)

    async def _is_json_key(self, key: Any) -> bool:
        try:
            return _is_json(await super().execute_command("TYPE", key))
        except (AssertionError, redis.exceptions.ResponseError):
            # fakeredis cannot name the type of a JSON key (and only of those): an assertion
            # inside it fails.
            return True


class FakeRedis(fakeredis.FakeRedis):
    """``fakeredis.FakeRedis`` whose JSON replies and JSON scans match RedisJSON's."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if _single_path_get(args):
            return _as_redisjson(super().execute_command(*args, args[2], **options), args[2])
        scan = _json_scan(args)
        if scan is not None:
            cursor, keys = super().execute_command(*scan, **options)
            return cursor, [key for key in keys if self._is_json_key(key)]
        batch = _batch_call(args)
        if batch is not None:
            return _fix_batch_reply(super().execute_command(*batch[0], **options), batch[1])
        return super().execute_command(*args, **options)

    def _is_json_key(self, key: Any) -> bool:
        try:
            return _is_json(super().execute_command("TYPE", key))
        except (AssertionError, redis.exceptions.ResponseError):
            # fakeredis cannot name the type of a JSON key (and only of those): an assertion
            # inside it fails.
            return True
