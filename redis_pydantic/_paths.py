"""JSON paths and Redis keys: the single place where they are built.

Model fields are Python identifiers and appear in paths as ``.name``. Dict keys can be any
string. RedisJSON's path parser takes a bracketed key verbatim between quotes and does not
unescape backslash sequences, so a key is written inside whichever quote character it does not
contain. A key that holds a backslash or both quote characters, or starts with a space, cannot
be written in a path at all (nor, for fakeredis's sake, the key ``*``): :func:`is_path_safe_key` reports that, and the callers then use a
Lua script that edits the object without a path to the key.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

PathPart = str | int

ROOT = "$"


def is_path_safe_key(key: str) -> bool:
    """Whether ``key`` can be addressed as ``$..["key"]`` on RedisJSON.

    The path parser drops spaces that open a bracketed key (``[" a"]`` addresses ``"a"``), so a
    key starting with a space is not path safe either.
    """
    # fakeredis with jsonpath-ng before 1.16 (the newest on Python 3.10) reads ``["*"]`` as a
    # wildcard and would change every key, so the one-character key ``*`` goes the Lua way too.
    return "\\" not in key and not ('"' in key and "'" in key) and not key.startswith(" ") and key != "*"


def key_segment(key: str) -> str:
    """The bracketed path segment for the dict key ``key`` (which must be path safe)."""
    if '"' in key:
        return "['" + key + "']"
    return '["' + key + '"]'


@functools.lru_cache(maxsize=4096)
def _cached_path(parts: tuple[PathPart, ...]) -> str:
    return _build_path(parts)


def json_path_for(parts: Iterable[PathPart]) -> str:
    """The RedisJSON path of a field: ``("profile", "skills")`` -> ``$.profile.skills``.

    Parts are field names (ASCII identifiers are written as ``.name``, anything else is
    bracketed) or list indexes (ints).
    """
    if type(parts) is tuple:
        return _cached_path(parts)
    return _build_path(tuple(parts))


def _build_path(parts: tuple[PathPart, ...]) -> str:
    out = [ROOT]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier() and part.isascii():
            out.append("." + part)
        else:
            out.append(key_segment(part))
    return "".join(out)


def new_pk() -> str:
    """A new random primary key."""
    # The 128 random bits of uuid4, without building a UUID object (several times faster).
    return os.urandom(16).hex()


def new_pks(n: int) -> list[str]:
    """``n`` new random primary keys, drawn from the OS in one call."""
    digits = os.urandom(16 * n).hex()
    return [digits[i : i + 32] for i in range(0, 32 * n, 32)]
